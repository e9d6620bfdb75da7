"""The vocabulary the access modules share: the catalog terms they read and the helpers over
them, in one place so that the directory, routing and authorisation agree on them."""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import NamedNode, Quad

from graph_store.layout import DATA_KINDS
from ontology.namespaces import RDF_TYPE, SEMCAT


def _v(term: object) -> str:
    """A term's lexical value (subjects and objects here are never quoted triples)."""
    return str(getattr(term, "value", term))


def _by_subject(quads: Iterable[Quad]) -> dict[object, set[Quad]]:
    out: dict[object, set[Quad]] = {}
    for q in quads:
        out.setdefault(q.subject, set()).add(q)
    return out


def _t(local: str) -> NamedNode:
    return NamedNode(SEMCAT + local)


TYPE = NamedNode(RDF_TYPE)
MEMBER_OF, HAS_ROLE, GRANTS = _t("memberOf"), _t("hasRole"), _t("grants")
WORKSPACE, EMAIL, NAME, OWNER = _t("workspace"), _t("email"), _t("name"), _t("owner")
CLASSIFICATION, SHARED_WITH, ACCESS_POLICY = _t("classification"), _t("sharedWith"), \
    _t("AccessPolicy")
PART_OF = _t("partOf")
MAX_VISITS = 8  # routing revisits an asset while what it depends on settles; a bound for cycles
_POLICY_TERMS = {_t(p) for p in ("effect", "action", "targetClassification", "targetWorkspace",
                                 "callerMemberOf", "callerProperty", "callerValue",
                                 "exceptOwners")}
# Resources whose writes change who may do what: managing them needs manage-access.
ACCESS_TYPES = frozenset(_t(c) for c in ("User", "Team", "Role", "Permission", "AccessPolicy",
                                          "Workspace"))
_DATA_KIND_SEGMENTS = frozenset(DATA_KINDS.values())
_TEAM = _t("Team")
_WATCHED = {MEMBER_OF, HAS_ROLE, GRANTS, EMAIL, SHARED_WITH, *_POLICY_TERMS}
