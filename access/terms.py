"""The vocabulary the access modules share: the catalog terms they read and the helpers over
them, in one place so that the directory, routing and authorisation agree on them."""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import NamedNode, Quad

from graph_store.layout import DATA_KINDS
from ontology.namespaces import RDF_TYPE, SEMCAT


def lexical(term: object) -> str:
    """A term's lexical value (subjects and objects here are never quoted triples)."""
    return str(getattr(term, "value", term))


def by_subject(quads: Iterable[Quad]) -> dict[object, set[Quad]]:
    out: dict[object, set[Quad]] = {}
    for q in quads:
        out.setdefault(q.subject, set()).add(q)
    return out


def semcat_term(local: str) -> NamedNode:
    return NamedNode(SEMCAT + local)


TYPE = NamedNode(RDF_TYPE)
MEMBER_OF, HAS_ROLE, GRANTS = semcat_term("memberOf"), semcat_term("hasRole"), semcat_term("grants")
WORKSPACE, EMAIL = semcat_term("workspace"), semcat_term("email")
NAME, OWNER = semcat_term("name"), semcat_term("owner")
CLASSIFICATION, SHARED_WITH, ACCESS_POLICY = semcat_term("classification"), semcat_term("sharedWith"), \
    semcat_term("AccessPolicy")
PART_OF = semcat_term("partOf")
MAX_VISITS = 8  # routing revisits an asset while what it depends on settles; a bound for cycles
POLICY_TERMS = {semcat_term(p) for p in ("effect", "action", "targetClassification", "targetWorkspace",
                                 "callerMemberOf", "callerProperty", "callerValue",
                                 "exceptOwners")}
# Resources whose writes change who may do what: managing them needs manage-access.
ACCESS_TYPES = frozenset(semcat_term(c) for c in ("User", "Team", "Role", "Permission", "AccessPolicy",
                                          "Workspace"))
DATA_KIND_SEGMENTS = frozenset(DATA_KINDS.values())
TEAM = semcat_term("Team")
WATCHED = {MEMBER_OF, HAS_ROLE, GRANTS, EMAIL, SHARED_WITH, *POLICY_TERMS}
