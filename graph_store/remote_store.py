"""A store on a remote SPARQL 1.1 server (``oxigraph serve``, Virtuoso, any conforming one).

Reads are SPARQL queries and the Graph Store protocol, writes SPARQL updates: a changeset is one
update request (DELETE DATA then INSERT DATA), so it is atomic wherever the server makes an
update request atomic. Query results come back as pyoxigraph's result objects, so callers and
``graph_store.results`` treat them as the embedded store's. The store keeps no state the server
does not hold, except the list of graphs, refreshed by this process's own writes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx
import orjson
from opentelemetry import trace
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
    serialize,
)

from graph_store.changeset import Changeset
from graph_store.errors import BackendError, InputError, QuerySyntaxError
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import Dataset, GraphName, Object, Subject
from graph_store.remote_terms import (
    BOOLEAN,
    DEFAULT_GRAPH,
    OP_LIMIT,
    SKOLEM,
    back_or,
    beyond_narrow_integers,
    data_ops,
    graph_back,
    graph_out,
    json_back,
    out,
    quad_back,
    templates,
    turtle_by_graph,
)
from graph_store.sparql_guard import blank_non_code

tracer = trace.get_tracer("semcat")
# Up to this many quads a changeset is one update request; a larger one is sent in requests of
# this size (not atomic for readers, as the embedded store's bulk path; the log keeps it safe).
ATOMIC_LIMIT = 5_000
# Where a store shared by several nodes keeps the last log position applied to it
LOG_POSITION = NamedNode("https://w3id.org/semcat#logPosition")
# Graphs a server keeps for itself, never the catalog's (Virtuoso's system graphs).
SERVER_GRAPHS = ("http://www.openlinksw.com/", "http://localhost:8890/", "http://localuriqaserver/",
                 "http://www.w3.org/ns/ldp", "http://www.w3.org/2002/07/owl",
                 "urn:activitystreams-owl:map")
EMPTY = NamedNode("urn:x-semcat:no-graph")
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_FROM_CLAUSE = re.compile(r"(?<![\w:?$])FROM\s+(?:NAMED\s+)?", re.IGNORECASE)
_GRAPH_TYPES = {"application/n-triples": RdfFormat.N_TRIPLES, "text/plain": RdfFormat.N_TRIPLES,
                "text/turtle": RdfFormat.TURTLE, "application/n-quads": RdfFormat.N_QUADS}


@dataclass(frozen=True)
class Endpoints:
    """Where a server answers queries, updates and the Graph Store protocol (None: dump by
    CONSTRUCT). ``of`` guesses Oxigraph's layout from a query URL ending in ``/query``."""

    query: str
    update: str
    graph: str | None = None

    @classmethod
    def of(cls, query: str, update: str | None = None, graph: str | None = None) -> Endpoints:
        root = query.removesuffix("/query") if query.endswith("/query") else None
        return cls(query, update or (root + "/update" if root else query),
                   graph or (root + "/store" if root else None))


def open_store(endpoints: Endpoints | None, data: Path | None, *,
               derived: str) -> OxigraphStore | RemoteStore:
    """The catalog's store: the remote one when configured (SEMCAT_STORE_URL), else embedded."""
    if endpoints is None:
        return OxigraphStore(data / "store" if data else None, derived=derived)
    return RemoteStore(endpoints, derived=derived)


class RemoteStore:
    def __init__(self, endpoints: Endpoints, *, derived: str | None = None,
                 timeout_s: float = 120.0) -> None:
        """``derived`` as for ``OxigraphStore``: the IRI under which projection graphs live."""
        self.endpoints = endpoints
        self._derived_root = derived
        self._http = httpx.Client(timeout=timeout_s)
        self._lock = threading.Lock()
        self._graphs: tuple[NamedNode | BlankNode, ...] | None = None
        self._epoch = 0
        self._log_graph: NamedNode | None = None  # where a shared log's position is kept
        self._log_mark: NamedNode | None = None
        # oxigraph serve takes a per-request union default graph; elsewhere (Virtuoso, whose
        # union holds its system graphs) the union is the explicit list of the catalog's graphs
        server = self._probe().lower()
        self.union_param = "oxigraph" in server
        # Virtuoso reads integers beyond ±2^60 back as decimals and wraps them from 2^63 (the core
        # shapes' bound on versions comes back negative): refuse them rather than corrupt them
        self.narrow_integers = "virtuoso" in server

    def _probe(self) -> str:
        r = self._send("GET", self.endpoints.query, params={"query": "ASK {}"},
                       headers={"Accept": "application/sparql-results+json"})
        return r.headers.get("server", "")

    # -- HTTP ----------------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, query: bool = True, **kwargs: Any) -> httpx.Response:
        """A 400 is the caller's query at fault; an update is ours, so any refusal of one is a
        BackendError."""
        try:
            r = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as e:
            raise BackendError(f"the SPARQL store at {url} is unreachable ({e}); check "
                               "SEMCAT_STORE_URL and that the server runs") from e
        if r.status_code == 400 and query:
            raise QuerySyntaxError(f"the SPARQL store refused the request: {r.text[:500]}")
        if r.status_code >= 300 and not (method == "GET" and r.status_code == 404):
            raise BackendError(f"the SPARQL store at {url} answered {r.status_code}: "
                               f"{r.text[:500]}")
        return r

    def _dataset_params(self, dataset: Dataset) -> list[tuple[str, str]]:
        """The protocol's dataset: ``default-graph-uri`` / ``named-graph-uri`` (which replace
        a query's FROM clauses, as the embedded store's dataset argument does). The protocol
        cannot say "no graphs", so an empty list names ``EMPTY``, a graph nobody writes."""
        params: list[tuple[str, str]] = []
        if dataset.default is None and self.union_param:
            params.append(("union-default-graph", ""))
        else:
            default = self._all_graphs() if dataset.default is None else dataset.default
            params += [("default-graph-uri", graph_out(g)[1:-1]) for g in default or (EMPTY,)]
        if dataset.named is not None or dataset.default is not None or not self.union_param:
            named = [g for g in self._all_graphs() if g != DEFAULT_GRAPH] \
                if dataset.named is None else dataset.named
            params += [("named-graph-uri", graph_out(g)[1:-1]) for g in named or (EMPTY,)]
        return params

    def _all_graphs(self) -> list[NamedNode]:
        return [*self.named_graphs(), DEFAULT_GRAPH]  # type: ignore[list-item]

    def _select(self, text: str, params: Sequence[tuple[str, str]] = ()) -> list[dict[str, Any]]:
        r = self._send("POST", self.endpoints.query, data=_form(("query", text), *params),
                       headers={"Accept": "application/sparql-results+json"})
        return r.json()["results"]["bindings"]  # type: ignore[no-any-return]

    def _update(self, text: str) -> None:
        self._send("POST", self.endpoints.update, query=False, data={"update": text})

    # -- queries -------------------------------------------------------------------------------
    @tracer.start_as_current_span("store.query")
    def query(self, sparql: str, /, *, dataset: Dataset, base_iri: str | None = None) -> object:
        """pyoxigraph's QuerySolutions, QueryBoolean or QueryTriples, as the embedded store."""
        form = _FORM.search(blank_non_code(sparql))
        graph = form is not None and form.group(1).upper() in ("CONSTRUCT", "DESCRIBE")
        text = _without_from(sparql)
        text = f"BASE <{base_iri}>\n{text}" if base_iri else text
        r = self._send("POST", self.endpoints.query,
                       data=_form(("query", text), *self._dataset_params(dataset)),
                       headers={"Accept": "application/n-triples, text/turtle;q=0.9" if graph
                                else "application/sparql-results+json"})
        if graph:
            return _as_triples(r)
        content = r.content
        if SKOLEM.encode() in content or BOOLEAN.encode() in content:  # else as it came
            body = orjson.loads(content)
            for row in body.get("results", {}).get("bindings", []):
                for k, v in row.items():
                    row[k] = json_back(v)
            content = orjson.dumps(body)
        return parse_query_results(content, format=QueryResultsFormat.JSON)

    def quads(self, subject: Subject | None = None, predicate: NamedNode | None = None,
              object: Object | None = None, graph: GraphName | None = None) -> Iterator[Quad]:
        """Without a graph: the asserted graphs (not the projections nor the server's own)."""
        keep = "" if graph is not None else self._graph_filter(derived=False)
        return iter(self._match(subject, predicate, object, graph, keep))

    def derived(self, subject: Subject | None = None, predicate: NamedNode | None = None,
                object: Object | None = None) -> Iterator[Quad]:
        if subject is None and object is None:
            raise ValueError("derived() reads about a subject or of an object")
        if self._derived_root is None:
            return iter(())
        return iter(self._match(subject, predicate, object, None,
                                self._graph_filter(derived=True)))

    def _graph_filter(self, *, derived: bool | None) -> str:
        """Which graphs ``?g`` may be: never the server's own; with ``derived`` True only the
        projections, with False none of them, with None either."""
        keep = [f'!STRSTARTS(STR(?g), "{p}")' for p in SERVER_GRAPHS]
        root = self._derived_root
        if root is not None and derived is not None:
            inside = f'(STR(?g) = "{root}" || STRSTARTS(STR(?g), "{root}/"))'
            keep = [inside] if derived else [*keep, "!" + inside]
        return f"FILTER({' && '.join(keep)})"

    def _match(self, s: Any, p: Any, o: Any, g: Any, keep: str) -> list[Quad]:
        terms = [out(t) if t is not None else f"?{v}" for t, v in ((s, "s"), (p, "p"), (o, "o"))]
        where = f"GRAPH {graph_out(g) if g is not None else '?g'} {{ {' '.join(terms)} }}"
        rows = parse_query_results(self._send(
            "POST", self.endpoints.query, data={"query": f"SELECT * WHERE {{ {where} {keep} }}"},
            headers={"Accept": "application/sparql-results+json"}).content,
            format=QueryResultsFormat.JSON)
        found = []
        for row in rows:  # type: ignore[union-attr]
            found.append(Quad(back_or(row["s"], s), back_or(row["p"], p), back_or(row["o"], o),
                              graph_back(row["g"]) if g is None else g))
        return found

    def named_graphs(self) -> list[NamedNode | BlankNode]:
        """The graphs holding quads (a server lists no emptied graph), kept between this
        process's writes that may add or drop one."""
        graphs = self._graphs
        if graphs is None:
            epoch = self._epoch
            rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                                f"{self._graph_filter(derived=None)} }}")
            graphs = tuple(graph_back(NamedNode(r["g"]["value"])) for r in rows
                           if r["g"]["value"] != DEFAULT_GRAPH.value)
            with self._lock:
                if epoch == self._epoch:
                    self._graphs = graphs
        return list(graphs)

    def _regraph(self) -> None:
        with self._lock:
            self._epoch += 1
            self._graphs = None

    # -- writes --------------------------------------------------------------------------------
    @tracer.start_as_current_span("store.apply")
    def apply(self, changeset: Changeset, /) -> None:
        """Idempotent, as the embedded store's: DELETE DATA of what is absent and INSERT DATA
        of what is present change nothing."""
        try:
            self._write(list(changeset.removed), list(changeset.added))
        finally:
            self._regraph()

    def share_log(self, stream: str, head: int, graph: NamedNode) -> None:
        """This store is shared by the nodes of the log ``stream``, which ends at ``head``:
        from now on it keeps, in ``graph``, the last position of that log applied to it, so
        that each changeset lands once and in order (``apply_logged``)."""
        self._log_graph = graph
        self._log_mark = NamedNode(f"{graph.value}/{quote(stream, safe='')}")
        found = self._positions()
        if not found:
            # the updates below move a position that exists (Virtuoso 7.2 skips an update
            # whose pattern is only an OPTIONAL or a NOT EXISTS)
            self._update(f"INSERT DATA {{ GRAPH <{graph.value}> {{ <{self._log_mark.value}> "
                         f"{LOG_POSITION} 0 }} }}")
        position = max(found, default=0)
        if position > head:
            raise BackendError(
                f"the store holds changesets of stream {stream} up to {position}, but the stream "
                f"ends at {head}: it is another or a recreated stream. Clear the store (or its "
                f"<{self._log_mark.value}> position) to apply this one")

    def log_position(self) -> int:
        """The last changeset of the shared log applied to this store (0: none, or no log)."""
        return max(self._positions(), default=0)

    def _positions(self) -> list[int]:
        if self._log_mark is None or self._log_graph is None:
            return []
        found = self._match(self._log_mark, LOG_POSITION, None, self._log_graph, "")
        return [int(getattr(q.object, "value", 0)) for q in found]

    @tracer.start_as_current_span("store.apply_logged")
    def apply_logged(self, changeset: Changeset, /) -> None:
        """On a shared log, a changeset at or below the store's position (a node replaying what
        another applied) is skipped by the server, in the same update that would apply it and
        move the position; a changeset too large for one request (ATOMIC_LIMIT quads) is
        checked, then sent in parts. Otherwise (one node) as ``apply``."""
        seq, mark, graph = changeset.seq, self._log_mark, self._log_graph
        if mark is None or graph is None or seq is None:
            self.apply(changeset)
            return
        removed, added = list(changeset.removed), list(changeset.added)
        self._refuse_wide(added)
        old = f"GRAPH <{graph.value}> {{ <{mark.value}> {LOG_POSITION} ?old }}"
        new = f"GRAPH <{graph.value}> {{ <{mark.value}> {LOG_POSITION} {seq} }}"
        # every position below seq is replaced (two nodes that shared the log at once on a
        # fresh store may each have put a 0 there)
        reached = (f"FILTER NOT EXISTS {{ GRAPH <{graph.value}> {{ <{mark.value}> {LOG_POSITION} "
                   f"?r FILTER(?r >= {seq}) }} }}")
        where = f"WHERE {{ {old} {reached} }}"
        try:
            if len(removed) + len(added) > ATOMIC_LIMIT:
                if self.log_position() < seq:
                    self._write(removed, added)
                    self._update(f"DELETE {{ {old} }} INSERT {{ {new} }} {where}")
                return
            # operations of at most OP_LIMIT quads (Virtuoso's limit on one), each under the
            # same condition, and the position moved by the last: one request, one transaction
            ops = []
            for i in range(0, max(len(removed), len(added)), OP_LIMIT):
                gone, come = templates(removed[i:i + OP_LIMIT]), templates(added[i:i + OP_LIMIT])
                ops.append((f"DELETE {{ {' '.join(gone)} }}\n" if gone else "") +
                           (f"INSERT {{ {' '.join(come)} }}\n" if come else "") + where)
            ops.append(f"DELETE {{ {old} }} INSERT {{ {new} }} {where}")
            self._update(" ;\n".join(ops))
        finally:
            self._regraph()

    def _refuse_wide(self, added: list[Quad]) -> None:
        wide = next((q for q in added if self.narrow_integers
                     and beyond_narrow_integers(q.object)), None)
        if wide is not None:
            raise BackendError(f"the store (Virtuoso) cannot hold the integer {wide.object} of "
                               f"{wide.subject} {wide.predicate}: it keeps integers within "
                               "±2^59; nothing was written. Use Oxigraph, or another server.")

    def _write(self, removed: list[Quad], added: list[Quad]) -> None:
        """One request when small enough (all its operations are one transaction on Oxigraph
        and Virtuoso), else requests of ATOMIC_LIMIT quads, deletions first."""
        self._refuse_wide(added)
        if len(removed) + len(added) <= ATOMIC_LIMIT:
            ops = data_ops("DELETE DATA", removed) + data_ops("INSERT DATA", added)
            if ops:
                self._update(" ;\n".join(ops))
            return
        for i in range(0, len(removed), ATOMIC_LIMIT):
            self._update(" ;\n".join(data_ops("DELETE DATA", removed[i:i + ATOMIC_LIMIT])))
        for i in range(0, len(added), ATOMIC_LIMIT):
            chunk = added[i:i + ATOMIC_LIMIT]
            if self.endpoints.graph is None:
                self._update(" ;\n".join(data_ops("INSERT DATA", chunk)))
                continue
            for graph, body in turtle_by_graph(chunk).items():  # parsed, not compiled: faster
                self._send("POST", self.endpoints.graph, query=False, params={"graph": graph},
                           content=body, headers={"Content-Type": "text/turtle"})

    def replace_graphs(self, graphs: Iterable[NamedNode], quads: Sequence[Quad], /) -> None:
        """As the embedded store's: only the difference is sent, outside the change log."""
        targets = set(graphs)
        new = set(quads)
        stray = next((q for q in new if q.graph_name not in targets), None)
        if stray is not None:
            raise ValueError(f"{stray} lies outside the graphs being replaced")
        try:
            old = {q for g in targets for q in self._match(None, None, None, g, "")}
            self._write(list(old - new), list(new - old))
        finally:
            self._regraph()

    # -- whole graphs --------------------------------------------------------------------------
    def dump(self, output: IO[bytes], format: RdfFormat, graph: GraphName | None = None) -> None:
        """One graph by the Graph Store protocol where the server has it, else every quad."""
        if graph is None:
            quads = [q for g in [*self.named_graphs(), DefaultGraph()]
                     for q in self._match(None, None, None, g, "")]
        elif self.endpoints.graph is not None:
            r = self._send("GET", self.endpoints.graph, params={"graph": graph_out(graph)[1:-1]},
                           headers={"Accept": "application/n-triples"})
            triples: Iterable[Quad] = [] if r.status_code == 404 else parse(
                r.content, format=_rdf_format(r))
            quads = [quad_back(Quad(t.subject, t.predicate, t.object, DEFAULT_GRAPH))
                     for t in triples]
        else:
            quads = self._match(None, None, None, graph, "")
        if not format.supports_datasets:
            if graph is None:
                raise ValueError(f"{format.name} holds one graph: name the graph to dump")
            serialize([q.triple for q in quads], output, format=format)
        else:
            serialize(quads, output, format=format)

    def backup(self, target: Path, *, attempts: int = 1) -> None:
        raise InputError("the catalog's store is a remote SPARQL server (SEMCAT_STORE_URL): "
                         "back it up with the server's own tools")

    def flush(self) -> None:
        """The server makes its writes durable before it answers."""

    def close(self) -> None:
        self._http.close()


def _without_from(text: str) -> str:
    """``text`` with its FROM / FROM NAMED clauses blanked out: the dataset replaces them (as
    the protocol says, and as the embedded store does), but Virtuoso merges the two."""
    code = blank_non_code(text)
    spans = []
    for m in _FROM_CLAUSE.finditer(code):
        at = m.end()
        if text.startswith("<", at):
            end = text.index(">", at) + 1
        else:
            name = re.match(r"[^\s{]*", text[at:])
            end = at + (len(name.group()) if name else 0)
        spans.append((m.start(), end))
    for start, end in reversed(spans):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _form(*fields: tuple[str, str]) -> dict[str, list[str]]:
    """A form body with repeated fields, as httpx takes one."""
    form: dict[str, list[str]] = {}
    for k, v in fields:
        form.setdefault(k, []).append(v)
    return form


def _rdf_format(r: httpx.Response) -> RdfFormat:
    media = r.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = _GRAPH_TYPES.get(media)
    if fmt is None:
        raise BackendError(f"the SPARQL store answered a graph as {media!r}")
    return fmt


def _as_triples(r: httpx.Response) -> object:
    """A CONSTRUCT's answer as pyoxigraph's QueryTriples: loaded into a scratch store and read
    back, the only way pyoxigraph makes one."""
    scratch = Store()
    scratch.extend(quad_back(Quad(t.subject, t.predicate, t.object, DefaultGraph()))
                   for t in parse(r.content, format=_rdf_format(r)))
    return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")
