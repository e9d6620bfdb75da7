"""The GraphStore contract, run against every backend: the embedded OxigraphStore, and the remote
SPARQL store over a real `oxigraph serve` and a real Virtuoso, both started here.

Each test gets its own graphs (under a fresh IRI prefix) and drops them afterwards, so the
servers are started once per session.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Triple,
    parse,
)
from rdflib import Dataset as RdflibDataset
from rdflib import Graph
from rdflib.compare import isomorphic

from graph_store.changeset import Changeset
from graph_store.errors import BackendError, InputError, SemcatError
from graph_store.oxigraph_store import OxigraphStore
from graph_store.protocol import Dataset, GraphStore
from graph_store.remote_servers import (
    RunningServer,
    ServerUnavailable,
    start_oxigraph,
    start_virtuoso,
)
from graph_store.remote_store import RemoteStore
from graph_store.remote_terms import DEFAULT_GRAPH
from graph_store.results import QueryResult

XSD = "http://www.w3.org/2001/XMLSchema#"
EX = "http://example.org/vocab/"
BACKENDS = ["embedded", "oxigraph", "virtuoso"]


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"under CI every store server must start: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningServer | str]]:
    """Started on first use, stopped at the end of the session; a value that is a string is
    why that server could not start."""
    started: dict[str, RunningServer | str] = {}
    root = tmp_path_factory.mktemp("sparql-servers")

    class Lazy(dict[str, RunningServer | str]):
        def __missing__(self, name: str) -> RunningServer | str:
            start = start_oxigraph if name == "oxigraph" else start_virtuoso
            try:
                self[name] = started[name] = start(Path(root) / name)
            except ServerUnavailable as e:
                self[name] = str(e)
            return self[name]

    yield Lazy()
    for server in started.values():
        if isinstance(server, RunningServer):
            server.stop()


class Fixture:
    """A store and the IRIs a test may use: its graphs are ``g(name)``, its projection graphs
    ``inferred(name)``."""

    def __init__(self, store: GraphStore, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def g(self, name: str) -> NamedNode:
        return NamedNode(f"{self.prefix}/graph/{name}")

    def inferred(self, name: str) -> NamedNode:
        return NamedNode(f"{self.prefix}/inferred/{name}")

    def iri(self, name: str) -> NamedNode:
        return NamedNode(f"{self.prefix}/id/{name}")

    def add(self, *quads: Quad) -> None:
        self.store.apply(Changeset("test", "add", "", (), quads))

    def remove(self, *quads: Quad) -> None:
        self.store.apply(Changeset("test", "remove", "", quads, ()))

    def mine(self) -> set[Quad]:
        """Every quad of this test's subjects, in any graph but the projections."""
        return {q for q in self.store.quads() if isinstance(q.subject, BlankNode)
                or getattr(q.subject, "value", "").startswith(self.prefix)}


@pytest.fixture(params=BACKENDS)
def fx(request: pytest.FixtureRequest, servers: dict[str, RunningServer | str]) -> Iterator[Fixture]:
    prefix = f"http://example.org/t{uuid.uuid4().hex[:10]}"
    derived = f"{prefix}/inferred"
    if request.param == "embedded":
        store: GraphStore = OxigraphStore(None, derived=derived)
        yield Fixture(store, prefix)
        store.close()
        return
    server = servers[request.param]
    if isinstance(server, str):
        unavailable(server)
        return
    remote = RemoteStore(server.endpoints, derived=derived)
    try:
        yield Fixture(remote, prefix)
    finally:
        drops = [f"DROP SILENT GRAPH {g}" for g in remote.named_graphs()
                 if isinstance(g, NamedNode) and g.value.startswith(prefix)]
        remote._update(" ;\n".join([*drops, f"DROP SILENT GRAPH <{DEFAULT_GRAPH.value}>"]))
        remote.close()


def sample(fx: Fixture) -> list[Quad]:
    """IRIs, a blank node, literals with language, datatypes, escapes and unicode, in two graphs
    and the default graph."""
    s, g1, g2 = fx.iri("s"), fx.g("one"), fx.g("two")
    b = BlankNode("addr1")
    p = lambda n: NamedNode(EX + n)  # noqa: E731
    return [
        Quad(s, p("label"), Literal("étiquette", language="fr"), g1),
        Quad(s, p("label"), Literal("Bestellungen Übersicht 注文 🚀", language="de-CH"), g1),
        Quad(s, p("count"), Literal("42", datatype=NamedNode(XSD + "integer")), g1),
        Quad(s, p("when"), Literal("2026-12-07T01:02:03Z", datatype=NamedNode(XSD + "dateTime")), g1),
        Quad(s, p("flag"), Literal("true", datatype=NamedNode(XSD + "boolean")), g1),
        Quad(s, p("ratio"), Literal("0.25", datatype=NamedNode(XSD + "decimal")), g1),
        Quad(s, p("code"), Literal("CC-12", datatype=NamedNode(EX + "CostCenter")), g1),
        Quad(s, p("note"), Literal('a "quoted"\nline\\ and tab\t'), g1),
        Quad(s, p("address"), b, g1),
        Quad(b, p("city"), Literal("Zürich"), g1),
        Quad(fx.iri("Bestellungen_Übersicht"), p("partOf"), s, g2),
        Quad(s, p("inDefault"), Literal("plain"), DefaultGraph()),
    ]


# -- apply and quads -----------------------------------------------------------------------------
def test_apply_adds_and_removes_every_kind_of_term(fx: Fixture) -> None:
    quads = sample(fx)
    fx.add(*quads)
    assert fx.mine() == set(quads)
    fx.add(*quads)  # idempotent: replaying the log changes nothing
    assert fx.mine() == set(quads)
    fx.remove(*quads[:4], quads[8], quads[9])
    assert fx.mine() == set(quads) - {*quads[:4], quads[8], quads[9]}
    fx.remove(*quads)
    assert fx.mine() == set()


def test_one_changeset_removes_and_adds(fx: Fixture) -> None:
    s, p, g = fx.iri("a"), NamedNode(EX + "v"), fx.g("one")
    fx.add(Quad(s, p, Literal("1"), g))
    fx.store.apply(Changeset("t", "m", "", (Quad(s, p, Literal("1"), g),),
                             (Quad(s, p, Literal("2"), g),)))
    assert list(fx.store.quads(s)) == [Quad(s, p, Literal("2"), g)]


@pytest.mark.parametrize("n", [1_200, 6_000])
def test_large_changesets(fx: Fixture, n: int) -> None:
    """Past one update operation's size (split per graph) and past one request's (sent in parts,
    by the Graph Store protocol where the server has it)."""
    p, g = NamedNode(EX + "n"), fx.g("bulk")
    quads = [Quad(fx.iri(f"s{i}"), p, Literal(f"wert {i} ü"), g) for i in range(n)]
    quads.append(Quad(fx.iri("s0"), p, Literal("other"), fx.g("side")))
    fx.add(*quads)
    assert len(list(fx.store.quads(None, p, None, g))) == n
    fx.store.apply(Changeset("t", "m", "", tuple(quads[: n // 2]),
                             (Quad(fx.iri("s0"), p, Literal("neu"), g),)))
    left = {q.object.value for q in fx.store.quads(None, p, None, g)}
    assert len(left) == n - n // 2 + 1 and "neu" in left and "wert 0 ü" not in left


def test_quads_by_pattern_and_graph(fx: Fixture) -> None:
    quads = sample(fx)
    fx.add(*quads)
    s, g1, g2 = fx.iri("s"), fx.g("one"), fx.g("two")
    label = NamedNode(EX + "label")
    assert set(fx.store.quads(s, label)) == set(quads[:2])
    assert set(fx.store.quads(None, None, Literal("étiquette", language="fr"))) == {quads[0]}
    assert set(fx.store.quads(None, None, s)) == {quads[10]}
    assert set(fx.store.quads(None, None, None, g2)) == {quads[10]}
    assert set(fx.store.quads(s, None, None, DefaultGraph())) == {quads[11]}
    assert set(fx.store.quads(BlankNode("addr1"))) == {quads[9]}
    assert set(fx.store.quads(None, NamedNode(EX + "address"), BlankNode("addr1"), g1)) == {quads[8]}
    assert list(fx.store.quads(s, None, None, fx.g("missing"))) == []
    assert list(fx.store.quads(fx.iri("nobody"))) == []


def test_projection_graphs_are_read_only_by_name_or_derived(fx: Fixture) -> None:
    s, p = fx.iri("s"), NamedNode(EX + "p")
    asserted = Quad(s, p, Literal("asserted"), fx.g("one"))
    inferred = Quad(s, p, Literal("inferred"), fx.inferred("owl"))
    fx.add(asserted)
    fx.store.replace_graphs([fx.inferred("owl")], [inferred])
    assert set(fx.store.quads(s)) == {asserted}
    assert set(fx.store.quads(s, None, None, fx.inferred("owl"))) == {inferred}
    assert set(fx.store.derived(s)) == {inferred}
    assert set(fx.store.derived(None, None, Literal("inferred"))) == {inferred}
    assert set(fx.store.derived(s, NamedNode(EX + "other"))) == set()
    with pytest.raises(ValueError):
        fx.store.derived()


def test_named_graphs_follow_writes(fx: Fixture) -> None:
    s, p = fx.iri("s"), NamedNode(EX + "p")
    a, b = Quad(s, p, Literal("a"), fx.g("one")), Quad(s, p, Literal("b"), fx.g("two"))
    fx.add(a, b, Quad(s, p, Literal("c"), DefaultGraph()))
    graphs = set(fx.store.named_graphs())
    assert {fx.g("one"), fx.g("two")} <= graphs
    assert DefaultGraph() not in graphs and DEFAULT_GRAPH not in graphs
    fx.remove(b)
    graphs = set(fx.store.named_graphs())
    assert fx.g("one") in graphs and fx.g("two") not in graphs  # an emptied graph is gone


def test_replace_graphs_makes_them_hold_exactly_the_quads(fx: Fixture) -> None:
    s, p = fx.iri("s"), NamedNode(EX + "p")
    g1, g2, other = fx.inferred("a"), fx.inferred("b"), fx.g("other")
    keep = Quad(s, p, Literal("keep"), other)
    fx.add(keep)
    fx.store.replace_graphs([g1, g2], [Quad(s, p, Literal(str(i)), g1) for i in range(5)]
                            + [Quad(s, p, Literal("b"), g2)])
    fx.store.replace_graphs([g1, g2], [Quad(s, p, Literal(str(i)), g1) for i in range(3, 8)])
    assert {q.object.value for q in fx.store.quads(None, None, None, g1)} == {
        str(i) for i in range(3, 8)}
    assert list(fx.store.quads(None, None, None, g2)) == []
    assert g2 not in fx.store.named_graphs()
    assert set(fx.store.quads(s)) == {keep}  # graphs not named are untouched
    with pytest.raises(ValueError, match="outside"):
        fx.store.replace_graphs([g1], [Quad(s, p, Literal("x"), g2)])
    assert len(list(fx.store.quads(None, None, None, g1))) == 5


# -- queries -------------------------------------------------------------------------------------
def test_select_ask_construct_return_pyoxigraph_results(fx: Fixture) -> None:
    quads = sample(fx)
    fx.add(*quads)
    s = fx.iri("s")
    rows = fx.store.query(f"SELECT ?o WHERE {{ <{s.value}> <{EX}label> ?o }} ",
                          dataset=Dataset())
    assert isinstance(rows, QuerySolutions)
    assert {r["o"] for r in rows} == {quads[0].object, quads[1].object}
    ask = fx.store.query(f"ASK {{ <{s.value}> <{EX}count> 42 }}", dataset=Dataset())
    assert isinstance(ask, QueryBoolean) and bool(ask)
    graph = fx.store.query(f"CONSTRUCT WHERE {{ ?b <{EX}city> ?c }}", dataset=Dataset())
    assert isinstance(graph, QueryTriples)
    triples = list(graph)
    assert [(t.subject, t.object) for t in triples] == [(BlankNode("addr1"), Literal("Zürich"))]
    # the blank node a query returns names the stored one: it reads back
    row = next(iter(fx.store.query(f"SELECT ?b WHERE {{ <{s.value}> <{EX}address> ?b }}",
                                   dataset=Dataset())))
    assert {q.object for q in fx.store.quads(row["b"])} == {Literal("Zürich")}


def test_results_serialise_as_the_embedded_stores(fx: Fixture) -> None:
    fx.add(*sample(fx))
    s = fx.iri("s").value
    sel = QueryResult(fx.store.query(f"SELECT ?p ?o WHERE {{ <{s}> ?p ?o }}", dataset=Dataset()))
    assert sel.kind == "solutions" and sel.variables == ["p", "o"]
    body = sel.serialize("application/sparql-results+json", timeout_s=10, max_bytes=10**6)
    assert "Übersicht 注文 🚀".encode() in body
    graph = QueryResult(fx.store.query(f"CONSTRUCT {{ <{s}> ?p ?o }} WHERE {{ <{s}> ?p ?o }}",
                                       dataset=Dataset()))
    assert graph.kind == "graph"
    nt = graph.serialize("application/n-triples", timeout_s=10, max_bytes=10**6)
    assert len(list(parse(nt, format=RdfFormat.N_TRIPLES))) == 10


def _count(fx: Fixture, text: str, dataset: Dataset) -> int:
    rows = list(fx.store.query(text, dataset=dataset))  # type: ignore[call-overload]
    return int(rows[0]["n"].value)


def test_datasets_restrict_default_and_named_graphs(fx: Fixture) -> None:
    """The access-partitioned datasets: a caller reads the union of the graphs it may read, and
    GRAPH ?g ranges over those only; FROM clauses in the text are replaced, as the embedded
    store's dataset argument replaces them."""
    s, p = fx.iri("s"), NamedNode(EX + "p")
    g1, g2, g3 = fx.g("public"), fx.g("finance"), fx.g("hr")
    fx.add(Quad(s, p, Literal("1"), g1), Quad(s, p, Literal("2"), g2),
           Quad(s, p, Literal("3"), g3), Quad(s, p, Literal("0"), DefaultGraph()))
    mine = f"FILTER(?s = <{s.value}>)"
    flat = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o {mine} }}"
    named = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o {mine} }} }}"
    assert _count(fx, flat, Dataset()) == 4  # the union of all graphs
    assert _count(fx, flat, Dataset(default=(g1,), named=())) == 1
    assert _count(fx, flat, Dataset(default=(g1, g2), named=())) == 2
    assert _count(fx, flat, Dataset(default=(g1, DefaultGraph()), named=(g1,))) == 2
    assert _count(fx, named, Dataset(default=(g1,), named=(g2, g3))) == 2
    assert _count(fx, named, Dataset(default=(g1, g2, g3), named=(g1,))) == 1
    assert _count(fx, named, Dataset(default=(), named=())) == 0
    from_text = f"SELECT (COUNT(*) AS ?n) FROM <{g3.value}> WHERE {{ ?s ?p ?o {mine} }}"
    assert _count(fx, from_text, Dataset(default=(g1,), named=())) == 1
    graphs = {r["g"] for r in fx.store.query(  # type: ignore[attr-defined]
        f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{s.value}> ?p ?o }} }}",
        dataset=Dataset(default=(g1,), named=(g1, g2)))}
    assert graphs == {g1, g2}


def test_a_bad_query_is_the_callers_input_error(fx: Fixture) -> None:
    with pytest.raises(InputError):
        fx.store.query("SELECT ?x WHERE { ?x }", dataset=Dataset())


# -- dumps ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [RdfFormat.N_TRIPLES, RdfFormat.TURTLE, RdfFormat.RDF_XML])
def test_dump_one_graph(fx: Fixture, fmt: RdfFormat) -> None:
    quads = sample(fx)
    fx.add(*quads)
    out = io.BytesIO()
    fx.store.dump(out, fmt, fx.g("one"))
    expected = Graph()
    expected.parse(data="\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads
                                  if q.graph_name == fx.g("one")), format="nt")
    got = Graph().parse(data=out.getvalue(), format={
        RdfFormat.N_TRIPLES: "nt", RdfFormat.TURTLE: "turtle", RdfFormat.RDF_XML: "xml"}[fmt])
    assert isomorphic(got, expected)


def test_dump_the_default_graph_and_the_whole_dataset(fx: Fixture) -> None:
    quads = sample(fx)
    fx.add(*quads)
    out = io.BytesIO()
    fx.store.dump(out, RdfFormat.N_TRIPLES, DefaultGraph())
    triples = [q.triple for q in parse(out.getvalue(), format=RdfFormat.N_TRIPLES)]
    assert quads[11].triple in triples
    whole = io.BytesIO()
    fx.store.dump(whole, RdfFormat.N_QUADS)
    dumped = RdflibDataset().parse(data=whole.getvalue(), format="nquads")
    expected = RdflibDataset().parse(data="\n".join(
        f"{q.subject} {q.predicate} {q.object} {q.graph_name} ." if q.graph_name != DefaultGraph()
        else f"{q.subject} {q.predicate} {q.object} ." for q in quads), format="nquads")
    mine = {t for t in dumped.quads() if str(t[0]).startswith(fx.prefix) or str(t[2]) == "Zürich"}
    assert len(mine) == len(set(expected.quads())) == len(quads)
    with pytest.raises(ValueError):
        fx.store.dump(io.BytesIO(), RdfFormat.TURTLE)  # one graph's format for a dataset


# -- what not every server can hold --------------------------------------------------------------
def test_integers_beyond_64_bits_round_trip_or_are_refused(fx: Fixture) -> None:
    """2^63 bounds semcat's versions in the core shapes. Virtuoso reads integers beyond ±2^60
    back as decimals and wraps them from 2^63: there the write is refused whole, never stored
    wrong."""
    s, p, g = fx.iri("big"), NamedNode(EX + "bound"), fx.g("one")
    big = Quad(s, p, Literal(str(2**63), datatype=NamedNode(XSD + "integer")), g)
    small = Quad(s, p, Literal(str(-(2**59)), datatype=NamedNode(XSD + "integer")), g)
    if isinstance(fx.store, RemoteStore) and fx.store.narrow_integers:
        with pytest.raises(BackendError, match="2\\^59"):
            fx.add(small, big)
        assert list(fx.store.quads(s)) == []
        fx.add(small)
        assert list(fx.store.quads(s)) == [small]
        return
    fx.add(small, big)
    assert set(fx.store.quads(s)) == {small, big}


def test_triple_terms_where_the_server_speaks_rdf_1_2(fx: Fixture) -> None:
    """Statement provenance (SEMCAT_PROVENANCE) writes RDF 1.2 triple terms; Virtuoso 7 has none,
    so there the write fails with an error and leaves nothing behind."""
    s, p, g = fx.iri("s"), NamedNode(EX + "p"), fx.g("prov")
    stated = Triple(s, p, Literal("ö"))
    reifier = Quad(fx.iri("r"), NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#reifies"),
                   stated, g)
    if isinstance(fx.store, RemoteStore) and fx.store.narrow_integers:
        with pytest.raises(SemcatError):
            fx.add(reifier)
        assert list(fx.store.quads(fx.iri("r"))) == []
        return
    fx.add(reifier)
    assert list(fx.store.quads(None, None, stated)) == [reifier]
    rows = list(fx.store.query(  # type: ignore[call-overload]
        f"SELECT ?t WHERE {{ <{fx.iri('r').value}> ?p ?t }}", dataset=Dataset()))
    assert [r["t"] for r in rows] == [stated]
    fx.remove(reifier)
    assert list(fx.store.quads(None, None, stated)) == []
