"""The access model as values: actions, standard roles, policies, partitions and callers.

Pure functions over these values decide who may do what; ``access.service`` reads them from the
store. Policies may only test what an asset's partition graph records (its workspace, the
policy-tested classifications it carries and, where a policy needs it, its owners), so a
decision for a partition holds for every asset in it and a caller's readable dataset is a short
list of graphs (DESIGN.md principle 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from access.identity import Principal

ACTIONS = ("read", "write", "delete", "manage-attributes", "manage-ontology", "manage-rules",
           "manage-access", "run-ingestion")
EVERY_WORKSPACE = "*"  # the scope of roles held without a workspace: instance-wide
GENERAL = "general"    # the partition of assets no policy tests

# Roles by name, used when the directory has no Role resource of that name (or it grants
# nothing): the same set as the demo's directory.
STANDARD_ROLES: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "editor": frozenset({"read", "write"}),
    "steward": frozenset({"read", "write", "manage-attributes", "manage-rules"}),
    "ingestion-operator": frozenset({"read", "run-ingestion"}),
    "governance-admin": frozenset(set(ACTIONS) - {"run-ingestion"}),
    "workspace-admin": frozenset(ACTIONS),
}


@dataclass(frozen=True)
class Policy:
    iri: str
    effect: str                        # allow | deny
    action: str
    target: str | None = None          # classification IRI; None: every asset in scope
    workspace: str | None = None       # workspace key; None: every workspace
    member_of: str | None = None       # team IRI the caller must belong to
    caller_property: str | None = None
    caller_value: str | None = None
    except_owners: bool = False


@dataclass(frozen=True)
class Partition:
    """What policies may test about the assets of one partition graph."""

    workspace: str
    targets: frozenset[str] = frozenset()  # policy-tested classification IRIs the assets carry
    owners: frozenset[str] = frozenset()   # owner IRIs, kept only where a policy tests owners

    def label(self, id_base: str) -> str:
        """The graph name's last segment: ``general``, or the tested classifications' keys
        joined by ``+``, then ``~`` and the owners' keys."""
        if not self.targets:
            return GENERAL
        def keys(iris: Iterable[str]) -> str:
            return "+".join(sorted(quote(_key(i, id_base), safe="/") for i in iris))
        return keys(self.targets) + (f"~{keys(self.owners)}" if self.owners else "")

    @classmethod
    def parse(cls, workspace: str, label: str, id_base: str) -> Partition:
        if label == GENERAL:
            return cls(workspace)
        targets, _, owners = label.partition("~")
        def iris(part: str) -> frozenset[str]:
            return frozenset(_iri(unquote(k), id_base) for k in part.split("+") if k)
        return cls(workspace, iris(targets), iris(owners))


def _key(iri: str, id_base: str) -> str:
    return iri[len(id_base):] if iri.startswith(id_base) else iri


def _iri(key: str, id_base: str) -> str:
    return key if "://" in key or key.startswith("urn:") else id_base + key


@dataclass(frozen=True)
class PartitionConfig:
    """Which classifications partition the data: those policies target, plus PII always."""

    targets: frozenset[str]
    owner_scoped: frozenset[str]  # targets of policies that exempt owners

    def partition(self, workspace: str, classifications: Iterable[str],
                  owners: Iterable[str], teams: frozenset[str] = frozenset()) -> Partition:
        """Owning teams stand for their assets' owners where there are any (``teams`` are
        the known team IRIs): one partition per team, not per team-and-person pair."""
        cs = tuple(classifications)
        matched = frozenset(t for t in self.targets
                            if any(c == t or c.startswith(t + "/") for c in cs))
        kept: frozenset[str] = frozenset()
        if matched & self.owner_scoped:
            every = frozenset(owners)
            kept = (every & teams) or every
        return Partition(workspace, matched, kept)


@dataclass(frozen=True)
class Caller:
    """A principal resolved against the directory: its user, teams and permissions."""

    principal: Principal
    user: str | None = None
    teams: frozenset[str] = frozenset()
    attributes: dict[str, frozenset[str]] = field(default_factory=dict)
    permissions: dict[str, frozenset[str]] = field(default_factory=dict)  # workspace -> actions

    @property
    def admin(self) -> bool:
        return self.principal.admin

    def can(self, action: str, workspace: str) -> bool:
        return self.admin or action in self.permissions.get(EVERY_WORKSPACE, ()) or \
            action in self.permissions.get(workspace, ())

    def can_anywhere(self, action: str) -> bool:
        return self.admin or any(action in acts for acts in self.permissions.values())

    def owns(self, owners: frozenset[str]) -> bool:
        return (self.user is not None and self.user in owners) or bool(self.teams & owners)

    def matches(self, policy: Policy) -> bool:
        if policy.member_of is not None and policy.member_of not in self.teams:
            return False
        if policy.caller_property is not None:
            return (policy.caller_value or "") in self.attributes.get(policy.caller_property, ())
        return True


def decide(caller: Caller, action: str, partition: Partition, policies: Iterable[Policy],
           shared_from: Iterable[str] = ()) -> bool:
    """Role grants and matching allow policies permit; any matching deny overrides both.
    ``shared_from``: workspaces whose readers may also read this one."""
    if caller.admin:
        return True
    ws = partition.workspace
    allowed = caller.can(action, ws) or (action == "read" and any(
        caller.can("read", other) for other in shared_from))
    for p in policies:
        if p.action != action or (p.workspace is not None and p.workspace != ws):
            continue
        if p.target is not None and p.target not in partition.targets:
            continue
        if not caller.matches(p) or (p.except_owners and caller.owns(partition.owners)):
            continue
        if p.effect == "deny":
            return False
        allowed = True
    return allowed
