"""OWL 2 RL materialisation on a small hand-made catalog: each rule family the catalog relies on,
where inferences live, what ``infer=false`` hides, and that asserted data is never touched."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from catalog import Catalog, Settings
from graph_store.errors import InputError
from reasoning.junk import JunkFilter
from sparql_api import create_app
from tests.conftest import ROOT

BASE = "http://127.0.0.1:8000"
ID = f"{BASE}/id/"
INFERRED = f"{BASE}/graph/inferred"
PREFIXES = """PREFIX semcat: <https://w3id.org/semcat#>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
RAW, V1, V2 = (f"<{ID}acme/table/pg/db.s.raw>", f"<{ID}acme/view/pg/db.s.v1>",
               f"<{ID}acme/view/pg/db.s.v2>")
WS = {"workspace": "acme", "platform": "platform/pg"}


def lineage() -> list[dict[str, object]]:
    """raw <- v1 <- v2: a table and two views, each derived from the one before."""
    return [
        {"type": "Database", "qualifiedName": "db", "name": "db", **WS},
        {"type": "Schema", "qualifiedName": "db.s", "name": "s", "partOf": "acme/database/pg/db",
         **WS},
        {"type": "Table", "qualifiedName": "db.s.raw", "name": "raw",
         "partOf": "acme/schema/pg/db.s", **WS},
        {"type": "View", "qualifiedName": "db.s.v1", "name": "v1", "partOf": "acme/schema/pg/db.s",
         "derivedFrom": ["acme/table/pg/db.s.raw"], **WS},
        {"type": "View", "qualifiedName": "db.s.v2", "name": "v2", "partOf": "acme/schema/pg/db.s",
         "derivedFrom": ["acme/view/pg/db.s.v1"], **WS},
    ]


@pytest.fixture
def cat(catalog: Catalog) -> Catalog:
    catalog.assets.upsert_many(lineage(), actor="t")
    return catalog


@pytest.fixture
def reasoned(cat: Catalog) -> Catalog:
    cat.reason()
    return cat


def ask(cat: Catalog, pattern: str, *, infer: bool = True) -> bool:
    return bool(cat.sparql.query(f"{PREFIXES} ASK {{ {pattern} }}", infer=infer).raw)


def entailed_only(cat: Catalog, pattern: str) -> bool:
    """True when the pattern holds with inference and not without."""
    return ask(cat, pattern) and not ask(cat, pattern, infer=False)


def inferred_quads(cat: Catalog) -> list[Quad]:
    return [q for g in cat.reasoner.graphs() for q in cat.store.quads(None, None, None, g)]


# -- rule families -------------------------------------------------------------------------------
def test_subclass(reasoned: Catalog) -> None:
    assert ask(reasoned, f"{V1} a semcat:View", infer=False)
    assert entailed_only(reasoned, f"{V1} a semcat:Table")
    assert entailed_only(reasoned, f"{V1} a dcat:Dataset")
    assert entailed_only(reasoned, f"{RAW} a semcat:DataAsset")


def test_subproperty(reasoned: Catalog) -> None:
    assert ask(reasoned, f"{V1} semcat:derivedFrom {RAW}", infer=False)
    assert entailed_only(reasoned, f"{V1} prov:wasDerivedFrom {RAW}")
    assert entailed_only(reasoned, f"{V1} semcat:upstream {RAW}")


def test_inverse(reasoned: Catalog) -> None:
    assert entailed_only(reasoned, f"{RAW} semcat:derivesInto {V1}")
    assert entailed_only(reasoned, f"{RAW} semcat:downstream {V1}")


def test_transitive_lineage(reasoned: Catalog) -> None:
    assert entailed_only(reasoned, f"{V2} semcat:upstream {RAW}")
    assert entailed_only(reasoned, f"{RAW} semcat:downstream {V2}")
    assert not ask(reasoned, f"{V2} semcat:derivedFrom {RAW}")  # derivedFrom is direct only
    rows = reasoned.sparql.query(f"{PREFIXES} SELECT ?u WHERE {{ {V2} semcat:upstream ?u }}").rows()
    assert {r["u"].value for r in rows} == {V1[1:-1], RAW[1:-1]}


def test_domain_and_range(catalog: Catalog) -> None:
    """x derivedFrom y, neither typed: the domain and range make both data assets. x sits in the
    default workspace's graph, so its inferences go to that graph's twin; y has no asserted graph
    at all, so its inferences go to inferred/default."""
    catalog.sparql.update(f"{PREFIXES} INSERT DATA {{ <http://example.org/x> semcat:derivedFrom "
                          "<http://example.org/y> }", actor="t")
    catalog.reason()
    assert entailed_only(catalog, "<http://example.org/x> a semcat:DataAsset")
    assert entailed_only(catalog, "<http://example.org/y> a semcat:DataAsset")
    assert ask(catalog, f"GRAPH <{INFERRED}/default/general> "
                        "{ <http://example.org/x> a semcat:DataAsset }")
    assert ask(catalog, f"GRAPH <{INFERRED}/default> {{ <http://example.org/y> a semcat:DataAsset }}")


def test_creators_are_agents_by_range(reasoned: Catalog) -> None:
    assert entailed_only(reasoned, f"<{ID}user/t> a prov:Agent")


# -- where inferences live -----------------------------------------------------------------------
def test_inferences_follow_their_subjects_partition(reasoned: Catalog) -> None:
    assert ask(reasoned, f"GRAPH <{INFERRED}/acme/general> {{ {V1} a dcat:Dataset }}")
    graphs = {g.value for g in reasoned.reasoner.graphs()}
    assert f"{INFERRED}/acme/general" in graphs and f"{INFERRED}/ontology" in graphs
    assert all(g == INFERRED or g.startswith(INFERRED + "/") for g in graphs)


def test_asserted_triples_are_never_repeated_as_inferred(reasoned: Catalog) -> None:
    asserted = {(q.subject, q.predicate, q.object) for q in reasoned.store.quads()}
    assert asserted  # the store's unnamed read is the asserted data only
    inferred = [(q.subject, q.predicate, q.object) for q in inferred_quads(reasoned)]
    assert inferred and not asserted & set(inferred)
    assert len(inferred) == len(set(inferred))  # and each inference is stored once


def test_no_junk_is_stored(reasoned: Catalog) -> None:
    assert not ask(reasoned, "?x a owl:Thing")
    assert not ask(reasoned, "?x owl:sameAs ?x")
    assert not ask(reasoned, "?x a ?c FILTER(isBlank(?c))")
    assert not ask(reasoned, "?c rdfs:subClassOf ?c")
    assert not ask(reasoned, "?s ?p ?o FILTER(STRSTARTS(STR(?s), STR(owl:)))")


def test_infer_false_hides_inferred_graphs_from_graph_patterns(reasoned: Catalog) -> None:
    query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{INFERRED}')) }}"
    assert reasoned.sparql.query(query).rows()
    assert not reasoned.sparql.query(query, infer=False).rows()
    named = f"SELECT * FROM <{INFERRED}/acme/general> WHERE {{ ?s ?p ?o }} LIMIT 1"
    assert reasoned.sparql.query(named).rows()
    assert not reasoned.sparql.query(named, infer=False).rows()


def test_status_records_the_log_position(cat: Catalog) -> None:
    assert cat.reasoner.inferred_up_to() == cat.journal.applied_seq  # maintained from the start
    report = cat.reason()
    assert report.seq == cat.journal.applied_seq == cat.reasoner.inferred_up_to()
    assert report.inferred == len(inferred_quads(cat)) - 3  # the root graph holds the status
    assert report.asserted > report.inferred > 0 and report.seconds >= report.reasoner_seconds
    assert report.dropped == sum(report.dropped_by_rule.values())
    with pytest.raises(AttributeError):
        report.inferred = 0  # type: ignore[misc]


# -- rematerialisation ---------------------------------------------------------------------------
def test_rematerialising_after_a_delete_removes_stale_inferences(reasoned: Catalog) -> None:
    assert ask(reasoned, f"{V2} semcat:upstream {RAW}")
    reasoned.assets.delete("acme/view/pg/db.s.v1", actor="t")
    assert not any(str(q.subject) == V1 for q in reasoned.store.quads())
    reasoned.reason()
    assert not ask(reasoned, f"{V2} semcat:upstream {RAW}")
    assert not ask(reasoned, f"{RAW} semcat:derivesInto ?x")
    assert not ask(reasoned, f"{V1} a dcat:Dataset")
    assert not ask(reasoned, f"{V1} semcat:upstream ?u")
    # v2 still says it is derived from v1: v1 is a data asset by the range, and nothing more
    assert entailed_only(reasoned, f"{V1} a semcat:DataAsset")
    assert ask(reasoned, f"{V2} a dcat:Dataset")


def test_rematerialising_is_idempotent(reasoned: Catalog) -> None:
    before = set(inferred_quads(reasoned))
    reasoned.reason()
    after = set(inferred_quads(reasoned))
    status = {q for q in before ^ after if q.graph_name.value == INFERRED}  # type: ignore[union-attr]
    assert before ^ after == status  # only the generation time may differ


# -- the asserted world is untouched -------------------------------------------------------------
def test_asset_documents_show_asserted_data_only(reasoned: Catalog) -> None:
    doc = reasoned.assets.get("acme/view/pg/db.s.v1")
    assert doc["type"] == "View" and "upstream" not in doc and "derivesInto" not in doc


def test_without_incremental_reasoning_a_delete_leaves_inferred_graphs_alone() -> None:
    with Catalog.open(Settings(data=None, incremental_reasoning=False)) as cat:
        cat.assets.upsert_many(lineage(), actor="t")
        cat.reason()
        before = set(inferred_quads(cat))
        result = cat.assets.delete("acme/view/pg/db.s.v2", actor="t")
        assert result.status == "deleted"
        assert set(inferred_quads(cat)) == before  # stale now, until the next reason()


def test_with_incremental_reasoning_a_delete_takes_its_inferences(reasoned: Catalog) -> None:
    reasoned.assets.delete("acme/view/pg/db.s.v2", actor="t")
    assert not ask(reasoned, f"{V2} ?p ?o") and not ask(reasoned, f"{V1} semcat:derivesInto ?x")
    assert reasoned.reasoner.inferred_up_to() == reasoned.journal.applied_seq


def test_validation_ignores_inferred_types(cat: Catalog) -> None:
    """``user/t`` is a prov:Agent only by inference (the range of createdBy): as an owner it
    draws the same SHACL warning before and after reasoning, since SHACL checks what is
    asserted (with inferred types visible, every sh:class on a ranged property would pass)."""
    table = {"type": "Table", "qualifiedName": "db.s.owned", "name": "owned",
             "partOf": "acme/schema/pg/db.s", "owners": ["user/t"], **WS}
    cat.assets.upsert(table, actor="t")
    before = cat.validate()
    assert any(r.constraint.endswith("ClassConstraintComponent") for r in before.warnings)
    cat.reason()
    assert entailed_only(cat, f"<{ID}user/t> a prov:Agent")
    assert cat.validate() == before


def test_writes_to_inferred_graphs_are_refused(reasoned: Catalog, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="inferred graph"):
        reasoned.sparql.update(f"INSERT DATA {{ GRAPH <{INFERRED}/acme/general> "
                               "{ <http://example.org/a> <http://example.org/b> 1 } }", actor="t")
    with pytest.raises(InputError, match="inferred graph"):
        reasoned.sparql.update(f"DELETE WHERE {{ GRAPH <{INFERRED}/acme/general> {{ ?s ?p ?o }} }}",
                               actor="t")
    with pytest.raises(InputError, match="inferred graph"):
        reasoned.sparql.put_graph(f"{INFERRED}/acme/general", b"<http://a> <http://b> \"1\" .",
                                  "application/n-triples", actor="t")
    with pytest.raises(InputError, match="inferred graph"):
        reasoned.sparql.delete_graph(f"{INFERRED}/acme/general", actor="t")
    nt = tmp_path / "x.nt"
    nt.write_text("<http://example.org/a> <http://example.org/b> 1 .\n")
    with pytest.raises(InputError, match="inferred graph"):
        reasoned.load([nt], graph=f"{INFERRED}/default")
    # an update over the default graph never reaches into inferred graphs
    reasoned.sparql.update(f"{PREFIXES} DELETE WHERE {{ {V2} semcat:upstream ?u }}", actor="t")
    assert ask(reasoned, f"{V2} semcat:upstream {RAW}")


def test_export_is_asserted_data_unless_asked(reasoned: Catalog) -> None:
    plain, full = io.BytesIO(), io.BytesIO()
    reasoned.export(plain)
    reasoned.export(full, inferred=True)
    assert INFERRED.encode() not in plain.getvalue()
    assert f"<{INFERRED}/acme/general>".encode() in full.getvalue()


def test_replace_graphs_refuses_quads_outside_the_graphs(catalog: Catalog) -> None:
    g = NamedNode(f"{INFERRED}/x")
    q = Quad(NamedNode("http://a"), NamedNode("http://b"), Literal("c"), NamedNode(f"{INFERRED}/y"))
    with pytest.raises(ValueError, match="outside"):
        catalog.store.replace_graphs([g], [q])


# -- the junk rules, one by one ------------------------------------------------------------------
def test_junk_rules() -> None:
    owl, rdfs = "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2000/01/rdf-schema#"
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    x, c = NamedNode("http://example.org/x"), NamedNode("http://example.org/C")
    restriction, data_node = BlankNode("r"), BlankNode("d")
    junk = JunkFilter()
    junk.note_blank_subject(restriction, NamedNode(owl + "onProperty"), x)
    junk.note_blank_subject(data_node, NamedNode("http://example.org/p"), x)
    cases = {
        (Literal("a"), NamedNode(owl + "sameAs"), Literal("a")): "literal subject",
        (x, NamedNode(owl + "sameAs"), x): "owl:sameAs self",
        (x, rdf_type, NamedNode(owl + "Thing")): "rdf:type owl:Thing",
        (NamedNode(owl + "Thing"), rdf_type, NamedNode(owl + "Class")): "built-in vocabulary",
        (c, NamedNode(rdfs + "subClassOf"), c): "reflexive schema",
        (c, NamedNode(owl + "equivalentClass"), c): "reflexive schema",
        (c, NamedNode(rdfs + "subClassOf"), NamedNode(owl + "Thing")): "reflexive schema",
        (x, rdf_type, restriction): "anonymous class expression",
        (x, rdf_type, BlankNode("other")): "anonymous class expression",
        (restriction, rdf_type, NamedNode(owl + "Class")): "anonymous class expression",
        (x, rdf_type, c): None,
        (x, rdf_type, NamedNode(owl + "Nothing")): None,  # an inconsistency: kept, to report
        (data_node, rdf_type, c): None,
        (x, NamedNode("http://example.org/p"), data_node): None,
        (x, NamedNode(owl + "sameAs"), NamedNode("http://example.org/y")): None,
    }
    for (s, p, o), rule in cases.items():
        assert junk.rule(s, p, o) == rule, (s, p, o)


# -- the HTTP parameter and the CLI --------------------------------------------------------------
def test_sparql_endpoint_infer_parameter(reasoned: Catalog) -> None:
    query = f"{PREFIXES} ASK {{ {V1} a dcat:Dataset }}"
    accept = {"Accept": "application/sparql-results+json"}
    with TestClient(create_app(reasoned)) as client:
        def answer(**params: str) -> bool:
            r = client.get("/sparql", params={"query": query, **params}, headers=accept)
            assert r.status_code == 200, r.text
            return bool(r.json()["boolean"])

        assert answer() and answer(infer="true") and not answer(infer="false")
        r = client.post("/sparql", data={"query": query, "infer": "false"}, headers=accept)
        assert r.status_code == 200 and r.json()["boolean"] is False
        r = client.post("/sparql?infer=false", content=query, headers={
            **accept, "Content-Type": "application/sparql-query"})
        assert r.status_code == 200 and r.json()["boolean"] is False
        r = client.get("/sparql", params={"query": query, "infer": "maybe"})
        assert r.status_code == 400 and "infer" in r.text


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with Catalog.open(Settings(data=tmp_path / "cat")) as cat:
        cat.assets.upsert_many(lineage(), actor="t")
    yield tmp_path / "cat"


def test_cli_reason_then_query_with_and_without_inference(data_dir: Path) -> None:
    def semcat(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "semcat", *args, "--data", str(data_dir)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})

    r = semcat("reason")
    assert r.returncode == 0, r.stderr
    assert "inferred triples" in r.stderr and " s " in r.stderr
    query = f"{PREFIXES} SELECT ?u WHERE {{ {V2} semcat:upstream ?u }}"
    r = semcat("query", query, "--format", "csv")
    assert r.returncode == 0 and r.stdout.count("\n") == 3, r.stderr  # header + v1 + raw
    r = semcat("query", query, "--format", "csv", "--no-infer")
    assert r.returncode == 0 and r.stdout.count("\n") == 1, r.stderr


def test_replace_graphs_writes_the_difference(catalog: Catalog) -> None:
    g, h = NamedNode(f"{INFERRED}/x"), NamedNode(f"{INFERRED}/y")
    a, p = NamedNode("http://example.org/a"), NamedNode("http://example.org/p")
    keep, gone, new = (Quad(a, p, Literal(v), g) for v in ("keep", "gone", "new"))
    catalog.store.replace_graphs([g, h], [keep, gone, Quad(a, p, Literal("h"), h)])
    catalog.store.replace_graphs([g, h], [keep, new, new])
    assert set(catalog.store.quads(None, None, None, g)) == {keep, new}
    assert h not in catalog.store.named_graphs()  # emptied graphs are dropped
    assert not list(catalog.store.quads(a))  # and none of it is asserted data


def test_functional_property_with_two_values_entails_same_as(catalog: Catalog) -> None:
    """Reasoning runs without the functional declarations first (see materialise.py); a
    clash must still give the reasoner's owl:sameAs."""
    catalog.sparql.update(f"{PREFIXES} INSERT DATA {{ <http://example.org/a> semcat:workspace "
                          "<http://example.org/w1>, <http://example.org/w2> }", actor="t")
    catalog.reason()
    assert ask(catalog, "<http://example.org/w1> owl:sameAs <http://example.org/w2>")
    catalog.sparql.update(f"{PREFIXES} DELETE DATA {{ <http://example.org/a> semcat:workspace "
                          "<http://example.org/w2> }", actor="t")
    catalog.reason()
    assert not ask(catalog, "<http://example.org/w1> owl:sameAs ?x")
