"""Terms on their way to and from a remote SPARQL server.

A remote store cannot name a blank node: in a query or a DELETE DATA, ``_:b`` is a fresh
variable or a fresh node, and servers answer with labels of their own. So blank nodes are
skolemised (RDF 1.1, section 3.5) into IRIs under ``SKOLEM`` on the way out and turned back on
the way in, which keeps their labels, lets a changeset that removes one be one DELETE DATA,
and keeps ``quads(subject=blank)`` answerable. Likewise the SPARQL protocol names graphs only
by IRI (and Virtuoso has no default graph of its own), so the default graph lives in the named
graph ``DEFAULT_GRAPH``.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple

SKOLEM = "urn:x-semcat:genid:"
# Virtuoso keeps typed literals by value and writes booleans back as 1 and 0 (other types come
# back in their canonical forms, so write canonical forms: XSD's, as pyoxigraph and rdflib do)
BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_BOOLEANS = {"1": "true", "0": "false"}
DEFAULT_GRAPH = NamedNode("urn:x-semcat:default-graph")
OP_LIMIT = 500


def out(term: Any) -> str:
    """``term`` as SPARQL writes it, blank nodes skolemised (a triple term is ``<<( s p o )>>``)."""
    if isinstance(term, BlankNode):
        return f"<{SKOLEM}{term.value}>"
    if isinstance(term, Triple):
        return f"<<( {out(term.subject)} {out(term.predicate)} {out(term.object)} )>>"
    return str(term)


def graph_out(graph: Any) -> str:
    return out(DEFAULT_GRAPH if isinstance(graph, DefaultGraph) else graph)


def back(term: Any) -> Any:
    """A term from the server, skolem IRIs back to the blank nodes they stand for."""
    if isinstance(term, NamedNode) and term.value.startswith(SKOLEM):
        return BlankNode(term.value[len(SKOLEM):])
    if isinstance(term, Literal) and term.value in _BOOLEANS and term.datatype.value == BOOLEAN:
        return Literal(_BOOLEANS[term.value], datatype=term.datatype)
    if isinstance(term, Triple) and _skolemised(term):
        return Triple(back(term.subject), term.predicate, back(term.object))
    return term


INTEGERS = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in (
    "integer", "long", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
    "negativeInteger", "unsignedLong")}


def beyond_narrow_integers(term: Any) -> bool:
    """An integer literal Virtuoso 7.2 cannot hold as one: beyond ±2^60 it reads back as
    xsd:decimal, from 2^63 wrapped around (within ±2^59 it is measured to hold)."""
    if not isinstance(term, Literal) or term.datatype.value not in INTEGERS:
        return False
    try:
        return not -(2**59) <= int(term.value) <= 2**59
    except ValueError:
        return False


def back_or(found: Any, given: Any) -> Any:
    """The term a pattern gave, else the one the server found."""
    return given if given is not None else back(found)


def graph_back(graph: Any) -> Any:
    return DefaultGraph() if graph == DEFAULT_GRAPH else back(graph)


def quad_back(q: Quad) -> Quad:
    return Quad(back(q.subject), q.predicate, back(q.object), graph_back(q.graph_name))


def _skolemised(t: Triple) -> bool:
    return any((isinstance(x, NamedNode) and x.value.startswith(SKOLEM))
               or (isinstance(x, Triple) and _skolemised(x)) for x in (t.subject, t.object))


def data_ops(verb: str, quads: list[Quad] | tuple[Quad, ...]) -> list[str]:
    """``INSERT DATA`` / ``DELETE DATA`` operations, one per graph and OP_LIMIT quads: Virtuoso
    7.2 misses some quads of a DELETE DATA that spans several graphs (a unicode literal beside
    others), and refuses one whose SQL translation passes 10,000 lines (about 1,500 quads)."""
    ops = []
    for g, lines in _by_graph(quads).items():
        for i in range(0, len(lines), OP_LIMIT):
            ops.append(f"{verb} {{ GRAPH {g} {{ {' '.join(lines[i:i + OP_LIMIT])} }} }}")
    return ops


def templates(quads: list[Quad] | tuple[Quad, ...]) -> list[str]:
    """The quads as the ``GRAPH`` blocks of a DELETE or INSERT template (ground terms only:
    blank nodes are skolemised, which a DELETE template needs)."""
    return [f"GRAPH {g} {{ {' '.join(lines)} }}" for g, lines in _by_graph(quads).items()]


def turtle_by_graph(quads: list[Quad]) -> dict[str, bytes]:
    """Each graph's quads as a Turtle document (N-Triples lines), for a Graph Store POST."""
    return {g[1:-1]: "\n".join(lines).encode() for g, lines in _by_graph(quads).items()}


def _by_graph(quads: list[Quad] | tuple[Quad, ...]) -> dict[str, list[str]]:
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        by_graph.setdefault(graph_out(q.graph_name), []).append(
            f"{out(q.subject)} {q.predicate} {out(q.object)} .")
    return by_graph


def json_back(node: dict[str, Any]) -> dict[str, Any]:
    """A SPARQL JSON results term with skolem IRIs turned back into blank nodes."""
    kind = node.get("type")
    if kind == "uri" and node["value"].startswith(SKOLEM):
        return {"type": "bnode", "value": node["value"][len(SKOLEM):]}
    if node.get("datatype") == BOOLEAN and node["value"] in _BOOLEANS:
        return {**node, "value": _BOOLEANS[node["value"]]}
    if kind == "triple":
        return {"type": "triple", "value": {k: json_back(v) for k, v in node["value"].items()}}
    return node
