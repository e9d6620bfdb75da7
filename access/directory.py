"""The access directory: users, teams, roles, policies and sharing, read from the store into a
snapshot, and the caller a principal resolves to by it. Plain functions over the store, so the
service can cache their result and rebuild it after access edits."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad

from access.identity import Principal
from access.model import EVERY_WORKSPACE, STANDARD_ROLES, Caller, Policy
from access.terms import (
    ACCESS_POLICY,
    EMAIL,
    GRANTS,
    HAS_ROLE,
    MEMBER_OF,
    NAME,
    POLICY_TERMS,
    SHARED_WITH,
    TYPE,
    WORKSPACE,
    by_subject,
    lexical,
    semcat_term,
)
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import SEMCAT


@dataclass
class Directory:
    """A snapshot of users, teams, roles, policies and sharing, rebuilt after access edits."""

    user_teams: dict[str, set[str]] = field(default_factory=dict)
    agent_roles: dict[str, set[str]] = field(default_factory=dict)
    role_grants: dict[str, frozenset[str]] = field(default_factory=dict)
    role_workspace: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)      # lower-cased e-mail -> user IRI
    team_names: dict[str, str] = field(default_factory=dict)  # lower-cased name -> team IRI
    policies: tuple[Policy, ...] = ()
    shared_from: dict[str, set[str]] = field(default_factory=dict)  # ws -> readers' workspaces
    subjects: set[str] = field(default_factory=set)  # every resource read into the snapshot


def read_directory(store: GraphStore, layout: GraphLayout) -> Directory:
    """The directory as the store holds it now."""
    d = Directory()
    quads = store.quads
    for q in quads(None, MEMBER_OF, None, None):
        d.user_teams.setdefault(lexical(q.subject), set()).add(lexical(q.object))
    for q in quads(None, HAS_ROLE, None, None):
        d.agent_roles.setdefault(lexical(q.subject), set()).add(lexical(q.object))
    grants: dict[str, set[str]] = {}
    for q in quads(None, GRANTS, None, None):
        grants.setdefault(lexical(q.subject), set()).add(lexical(q.object).rsplit("/", 1)[-1])
    for q in quads(None, TYPE, semcat_term("Role"), None):
        role = lexical(q.subject)
        slug = role.rsplit("/", 1)[-1]
        d.role_grants[role] = frozenset(grants.get(role) or STANDARD_ROLES.get(slug) or ())
        for w in quads(q.subject, WORKSPACE, None, None):  # type: ignore[arg-type]
            d.role_workspace[role] = layout.key(lexical(w.object))
    for q in quads(None, EMAIL, None, None):
        d.emails[lexical(q.object).lower()] = lexical(q.subject)
    for q in quads(None, TYPE, semcat_term("Team"), None):
        for n in quads(q.subject, NAME, None, None):  # type: ignore[arg-type]
            d.team_names[lexical(n.object).lower()] = lexical(q.subject)
        d.team_names.setdefault(layout.key(lexical(q.subject)).lower(), lexical(q.subject))
    d.policies = tuple(read_policies(store, layout))
    for q in quads(None, SHARED_WITH, None, None):
        d.shared_from.setdefault(layout.key(lexical(q.subject)), set()).add(
            layout.key(lexical(q.object)))
    users = {lexical(q.subject) for q in quads(None, TYPE, semcat_term("User"), None)}
    d.subjects = {*users, *d.user_teams, *d.agent_roles, *d.role_grants,
                  *d.emails.values(), *d.team_names.values(), *(p.iri for p in d.policies)}
    return d

def resolve(store: GraphStore, layout: GraphLayout, principal: Principal,
        snap: Directory) -> Caller:
    """The caller ``principal`` is, by the directory: their user, teams, attributes, grants
    (a delegated key's grants only)."""
    user = None if principal.delegated else user_for(store, layout, principal.subject, snap)
    teams = set(snap.user_teams.get(user, ())) if user else set()
    for group in () if principal.delegated else principal.groups:
        team = snap.team_names.get(group.lower()) or snap.team_names.get(
            f"team/{group}".lower())
        if team:
            teams.add(team)
    permissions: dict[str, set[str]] = {}
    for agent in (user, *teams):
        for role in snap.agent_roles.get(agent or "", ()):
            scope = snap.role_workspace.get(role, EVERY_WORKSPACE)
            permissions.setdefault(scope, set()).update(snap.role_grants.get(role, ()))
    for ws, name in principal.grants:
        permissions.setdefault(ws, set()).update(role_named(layout, ws, name, snap))
    attributes: dict[str, set[str]] = {}
    if user:
        for q in store.quads(NamedNode(user), None, None, None):
            if isinstance(q.object, Literal | NamedNode):
                attributes.setdefault(q.predicate.value, set()).add(lexical(q.object))
    return Caller(principal, user, frozenset(teams),
                  {k: frozenset(v) for k, v in attributes.items()},
                  {k: frozenset(v) for k, v in permissions.items()})

def user_for(store: GraphStore, layout: GraphLayout, subject: str,
         snap: Directory) -> str | None:
    if "@" in subject and "/" not in subject:
        return snap.emails.get(subject.lower())
    iri = layout.iri(subject)
    if next(iter(store.quads(NamedNode(iri), TYPE, semcat_term("User"), None)), None):
        return iri
    return None

def role_named(layout: GraphLayout, workspace: str, name: str,
           snap: Directory) -> frozenset[str]:
    for key in (f"{workspace}/role/{name}", f"role/{name}"):
        grants = snap.role_grants.get(layout.iri(key))
        if grants:
            return grants
    return STANDARD_ROLES.get(name, frozenset())


def read_policies(store: GraphStore, layout: GraphLayout,
              removed: set[Quad] = frozenset(),  # type: ignore[assignment]
              added: set[Quad] = frozenset()) -> list[Policy]:  # type: ignore[assignment]
    """The access policies as they are (or will be, after removed/added)."""
    subjects = {q.subject for q in store.quads(None, TYPE, ACCESS_POLICY, None)}
    subjects |= {q.subject for q in (*removed, *added) if q.predicate in POLICY_TERMS
                 or (q.predicate == TYPE and q.object == ACCESS_POLICY)}
    added_by = by_subject(q for q in added if q.subject in subjects)
    policies = []
    for s in subjects:
        quads = (set(store.quads(s, None, None, None))  # type: ignore[arg-type]
                 - removed) | added_by.get(s, set())
        props: dict[str, str] = {}
        typed = False
        for q in quads:
            if q.predicate == TYPE and q.object == ACCESS_POLICY:
                typed = True
            elif q.predicate.value.startswith(SEMCAT):
                props[q.predicate.value[len(SEMCAT):]] = lexical(q.object)
        if not typed:
            continue
        ws = props.get("targetWorkspace") or props.get("workspace")
        policies.append(Policy(
            lexical(s), props.get("effect", "deny").lower(), props.get("action", "read"),
            props.get("targetClassification"),
            layout.key(ws) if ws else None, props.get("callerMemberOf"),
            props.get("callerProperty"), props.get("callerValue"),
            props.get("exceptOwners", "false").lower() in ("true", "1")))
    return sorted(policies, key=lambda p: p.iri)
