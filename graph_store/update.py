"""SPARQL 1.1 Update evaluated into a changeset instead of into the store.

Every write must become one changeset before anything touches the store (DESIGN.md, principle 3),
so an update is evaluated by rdflib's SPARQL Update engine over an *overlay* of the store: reads
see the store plus the pending changes, writes only record them. pyoxigraph checks the syntax
first, so errors carry its parser's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import pyoxigraph as ox
import rdflib.plugins.sparql
from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID, Graph
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Update
from rdflib.plugins.sparql.update import evalUpdate
from rdflib.store import Store
from rdflib.term import Node

from graph_store.errors import InputError, QuerySyntaxError, QueryTimeout, SemcatError
from graph_store.interrupt import deadline
from graph_store.protocol import GraphStore
from graph_store.rdflib_bridge import to_oxigraph, to_rdflib
from graph_store.sparql_errors import readable_syntax_error
from graph_store.sparql_guard import blank_non_code, refuse_outbound
from graph_store.sparql_limits import SparqlLimits, check_sparql

# rdflib fetches USING / USING NAMED IRIs over HTTP (and writes USING NAMED data into the
# dataset) unless this is off; off, USING reads the named graph from the store as the spec says.
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

Triple = tuple[Node, Node, Node]
Router = Callable[[ox.NamedNode | ox.BlankNode], ox.NamedNode]


class _Overlay(Store):
    """An rdflib store that reads through to a GraphStore and records writes as a delta."""

    context_aware = True
    graph_aware = True
    formula_aware = False
    transaction_aware = False

    def __init__(self, base: GraphStore, graphs: list[ox.NamedNode], route: Router,
                 readable: frozenset[str] | None = None) -> None:
        super().__init__()
        self.base = base
        self.graphs = graphs  # the graphs the default graph stands for, and GRAPH may name
        self.route = route
        # What GRAPH, USING and WITH may read (None: everything): a hidden graph reads as
        # empty, as in a query, so no refusal can quote its data back
        self.readable = readable
        self.added: set[ox.Quad] = set()
        self.removed: set[ox.Quad] = set()

    def _graph_names(self, context: Any) -> list[ox.NamedNode] | None:
        ident = getattr(context, "identifier", context)
        if ident is None or ident == DATASET_DEFAULT_GRAPH_ID:
            return None
        return [ox.NamedNode(str(ident))]

    def _may_read(self, graph: ox.NamedNode) -> bool:
        return self.readable is None or graph.value in self.readable or graph in self.graphs

    def _open(self, graph: ox.NamedNode) -> None:
        """Later operations read ``graph``, written to by this update, if its caller may read
        it or it is new."""
        if graph not in self.graphs and (self._may_read(graph) or next(
                iter(self.base.quads(None, None, None, graph)), None) is None):
            self.graphs.append(graph)

    def _match(self, s: Node | None, p: Node | None, o: Node | None,
               graphs: list[ox.NamedNode] | None) -> Iterator[ox.Quad]:
        ts, tp, to = (to_oxigraph(t) if t is not None else None for t in (s, p, o))
        if graphs is not None:
            graphs = [g for g in graphs if self._may_read(g)]
        allowed = {g.value for g in (graphs if graphs is not None else self.graphs)}
        for g in graphs if graphs is not None else [None]:
            for q in self.base.quads(ts, tp, to, g):  # type: ignore[arg-type]
                if getattr(q.graph_name, "value", "") in allowed and q not in self.removed:
                    yield q
        for q in list(self.added):
            if (getattr(q.graph_name, "value", "") in allowed and (ts is None or q.subject == ts)
                    and (tp is None or q.predicate == tp) and (to is None or q.object == to)):
                yield q

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        s, p, o = triple_pattern
        graphs = self._graph_names(context)
        seen: dict[tuple[Any, ...], list[ox.Quad]] = {}
        for q in self._match(s, p, o, graphs):
            seen.setdefault((q.subject, q.predicate, q.object), []).append(q)
        for quads in seen.values():
            q = quads[0]
            triple = (to_rdflib(q.subject), to_rdflib(q.predicate),  # type: ignore[arg-type]
                      to_rdflib(q.object))  # type: ignore[arg-type]
            yield triple, iter([Graph(self, identifier=URIRef(x.graph_name.value))  # type: ignore[union-attr]
                                for x in quads])

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        s, p, o = (to_oxigraph(t) for t in triple)
        graphs = self._graph_names(context)
        graph = graphs[0] if graphs else self.route(s)  # type: ignore[arg-type]
        q = ox.Quad(s, p, o, graph)  # type: ignore[arg-type]
        if q in self.removed:
            self.removed.discard(q)
        elif not self._may_read(graph) or next(  # a hidden graph's statements look absent
                iter(self.base.quads(s, p, o, graph)), None) is None:  # type: ignore[arg-type]
            self.added.add(q)
        self._open(graph)  # type: ignore[arg-type]

    def addN(self, quads: Iterable[Any]) -> None:
        for s, p, o, c in quads:
            self.add((s, p, o), c)

    def remove(self, triple: Any, context: Any = None) -> None:
        s, p, o = triple
        for q in list(self._match(s, p, o, self._graph_names(context))):
            if q in self.added:
                self.added.discard(q)
            else:
                self.removed.add(q)

    def contexts(self, triple: Any = None) -> Generator[Graph, None, None]:
        for g in self.graphs:
            yield Graph(self, identifier=URIRef(g.value))

    def __len__(self, context: Any = None) -> int:
        return sum(1 for _ in self._match(None, None, None, self._graph_names(context)))

    def add_graph(self, graph: Graph) -> None:
        self._open(ox.NamedNode(str(graph.identifier)))

    def remove_graph(self, graph: Graph) -> None:
        self.remove((None, None, None), graph)

    def bind(self, prefix: str, namespace: Any, override: bool = True) -> None:
        pass

    def namespace(self, prefix: str) -> None:
        return None

    def prefix(self, namespace: Any) -> None:
        return None

    def namespaces(self) -> Iterator[tuple[str, URIRef]]:
        return iter(())


class _Dataset(Dataset):
    """rdflib 7.6's ``Dataset.__iadd__`` takes only quads, but its SPARQL Update adds triples
    to the default graph with ``+=`` (INSERT DATA, ADD ... TO DEFAULT): take both."""

    def __iadd__(self, other: Iterable[Any]) -> _Dataset:  # type: ignore[override, misc]
        self.addN((*t, self.default_graph) if len(t) == 3 else t for t in other)
        return self


def check_update_syntax(text: str, base_iri: str | None = None) -> None:
    """Raise QuerySyntaxError with pyoxigraph's parser message if ``text`` is not an update.

    It runs on an empty scratch store, so it costs little; callers refuse LOAD/SERVICE first."""
    try:
        ox.Store().update(text, base_iri=base_iri)
    except SyntaxError as e:
        raise readable_syntax_error(e, text) from e
    except (RuntimeError, OSError):  # parsed, then failed against the empty scratch store
        pass  # (DROP/CLEAR GRAPH of a graph only the real store has): not a syntax error


def _apply_using(algebra: Any, using: list[str], using_named: list[str]) -> None:
    """The protocol's using-graph-uri / using-named-graph-uri, as USING clauses of every
    operation with a WHERE clause; 400 when such an operation names its own dataset."""
    clauses = [CompValue("UsingClause", default=URIRef(g)) for g in using] + \
        [CompValue("UsingClause", named=URIRef(g)) for g in using_named]
    for op in algebra.algebra:
        if op.name != "Modify":
            continue
        if op.using or op.withClause:
            raise InputError("using-graph-uri/using-named-graph-uri conflict with the USING or "
                             "WITH in the update; give the dataset one way only")
        op["using"] = clauses


def evaluate_update(
    text: str, store: GraphStore, *, graphs: list[ox.NamedNode], route: Router,
    base_iri: str | None = None, using: list[str] | None = None,
    using_named: list[str] | None = None, outbound: bool = False,
    limits: SparqlLimits = SparqlLimits(), readable: frozenset[str] | None = None,
    timeout_s: float = 30.0,
) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The (removed, added) quads that ``text`` would cause, computed without writing;
    SERVICE and LOAD only with ``outbound``; graphs named in it read as empty unless in
    ``graphs`` or ``readable``; QueryTimeout once its WHERE clauses run past ``timeout_s``."""
    check_sparql(text, limits, what="update")
    if not outbound:
        refuse_outbound(text)
    check_update_syntax(text, base_iri)
    overlay = _Overlay(store, list(graphs), route, readable)
    data = _data_operations(text)
    if data is not None and not (using or using_named):
        for kind, insert in data:
            _apply_data(overlay, kind, insert, base_iri)
        return sorted(overlay.removed, key=str), sorted(overlay.added, key=str)
    try:
        parsed = parseUpdate(text)
        algebra = translateUpdate(parsed, base=base_iri)
    except Exception as e:  # pyparsing's and rdflib's errors: all are the client's input
        raise QuerySyntaxError(f"SPARQL update could not be parsed: {e}") from e
    if using or using_named:
        _apply_using(algebra, using or [], using_named or [])
    dataset = _Dataset(store=overlay, default_union=True)
    try:
        with deadline(timeout_s, _PastDeadline):
            _evaluate(algebra, dataset, overlay)
    except _PastDeadline:
        raise QueryTimeout(f"the update ran past the {timeout_s:g} s deadline and was stopped; "
                           "nothing was written. Narrow its WHERE clause") from None
    except SemcatError:
        raise
    except Exception as e:  # rdflib raises bare Exception too (e.g. unsupported operations)
        raise InputError(f"SPARQL update could not be evaluated: {e}") from e
    return sorted(overlay.removed, key=str), sorted(overlay.added, key=str)


class _PastDeadline(BaseException):
    """Raised into the evaluating thread; a BaseException, so rdflib's handlers let it by."""


def _evaluate(algebra: Any, dataset: Any, overlay: _Overlay) -> None:
    """Each operation in order: each sees the ones before it."""
    for op in algebra.algebra:
        if op.name == "Create":  # rdflib has none; a graph exists while it holds triples
            graph = [ox.NamedNode(str(op.graphiri))]
            if next(overlay._match(None, None, None, graph), None) and not op.silent:
                raise InputError(f"CREATE GRAPH: {op.graphiri} already exists")
            continue
        evalUpdate(dataset, Update(algebra.prologue, [op]))


_PROLOGUE = re.compile(r"\s*(?:PREFIX\s+[\w.-]*:|BASE)", re.IGNORECASE)
_DATA = re.compile(r"\s*(INSERT|DELETE)\s+DATA\s*\{", re.IGNORECASE)


def _data_operations(text: str) -> list[tuple[str, str]] | None:
    """An update made only of INSERT DATA / DELETE DATA operations, as (kind, the operation
    rewritten as INSERT DATA after the prologue); None for any other update.

    rdflib reorders a block's triples in quadratic time (5,000 triples: minutes), pointless for
    ground data, so these go through pyoxigraph's parser instead."""
    code = blank_non_code(text)
    at = 0
    while (m := _PROLOGUE.match(code, at)) is not None:  # PREFIX p: <iri> / BASE <iri>
        iri = re.compile(r"\s*<").match(text, m.end())
        if iri is None:
            return None
        at = text.index(">", iri.end()) + 1
    prologue, operations = text[:at], []
    while at < len(code) and code[at:].strip():
        m = _DATA.match(code, at)
        if m is None:
            return None
        depth, end = 1, m.end()
        while depth and end < len(code):
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            end += 1
        if depth:
            return None
        operations.append((m.group(1).upper(), f"{prologue}\nINSERT DATA {{{text[m.end():end]}"))
        separator = re.compile(r"\s*;?").match(code, end)
        at = separator.end() if separator else end
    return operations or None


def _apply_data(overlay: _Overlay, kind: str, insert: str, base_iri: str | None) -> None:
    scratch = ox.Store()
    try:
        scratch.update(insert, base_iri=base_iri)
    except SyntaxError as e:  # checked already as a whole; kept for the message's sake
        raise readable_syntax_error(e, insert) from e
    for q in scratch.quads_for_pattern(None, None, None, None):
        triple = (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))  # type: ignore[arg-type]
        context = None if isinstance(q.graph_name, ox.DefaultGraph) else URIRef(
            q.graph_name.value)  # type: ignore[union-attr]
        if kind == "INSERT":
            overlay.add(triple, context)
        else:
            overlay.remove(triple, context)
