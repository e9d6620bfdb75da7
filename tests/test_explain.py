"""Explanations of inferred facts, on the small hand-made lineage of test_reasoning (raw <- v1 <-
v2, reasoned with the real ``reasonable``): each answer names its rules and ends in asserted
quads; absent statements are 404; the REST endpoint on a real server and the CLI agree."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from catalog import Catalog, Settings
from graph_store.errors import InputError, NotFound
from reasoning import Explanation
from reasoning.explain import UNTRACED
from tests.conftest import ROOT, Server
from tests.test_reasoning import ID, lineage

SEMCAT = "https://w3id.org/semcat#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RAW, V1, V2 = "acme/table/pg/db.s.raw", "acme/view/pg/db.s.v1", "acme/view/pg/db.s.v2"


@pytest.fixture(scope="module")
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        c.assets.upsert_many(lineage(), actor="t")
        c.reason()
        yield c


def one(cat: Catalog, s: str, p: str, o: str) -> Explanation:
    [found] = cat.explain(s, p, o)
    return found


def nodes(e: Explanation) -> Iterator[Explanation]:
    yield e
    for p in e.premises:
        yield from nodes(p)


def grounded(e: Explanation) -> bool:
    """Every leaf asserted, every inner node inferred by a named rule from its premises."""
    return all(n.asserted and n.rule == "asserted" and n.graph and not n.premises
               if not n.premises else not n.asserted and n.rule != UNTRACED
               for n in nodes(e))


def test_view_is_a_dataset_via_the_class_hierarchy(cat: Catalog) -> None:
    e = one(cat, V1, "rdf:type", "dcat:Dataset")
    assert e.statement == (ID + V1, RDF_TYPE, "http://www.w3.org/ns/dcat#Dataset")
    assert not e.asserted and e.graph == "http://127.0.0.1:8000/graph/inferred/acme/general"
    assert e.rule == "cax-sco: semcat:Table ⊑ dcat:Dataset"
    [table] = e.premises
    assert table.statement[2] == SEMCAT + "Table" and table.rule == "cax-sco: semcat:View ⊑ semcat:Table"
    [view] = table.premises
    assert view.statement == (ID + V1, RDF_TYPE, SEMCAT + "View")
    assert view.asserted and view.rule == "asserted" and view.premises == ()
    assert view.graph == "http://127.0.0.1:8000/graph/acme/general"


def test_transitive_upstream_is_a_chain_of_asserted_derived_from_edges(cat: Catalog) -> None:
    e = one(cat, V2, "semcat:upstream", RAW)
    assert e.rule == "prp-trp: semcat:upstream is transitive"
    assert [p.statement for p in e.premises] == [(ID + V2, SEMCAT + "upstream", ID + V1),
                                                 (ID + V1, SEMCAT + "upstream", ID + RAW)]
    assert all(p.rule == "prp-spo1: semcat:derivedFrom ⊑ semcat:upstream" for p in e.premises)
    leaves = list(e.leaves())
    assert [leaf.statement for leaf in leaves] == [(ID + V2, SEMCAT + "derivedFrom", ID + V1),
                                                   (ID + V1, SEMCAT + "derivedFrom", ID + RAW)]
    assert all(leaf.asserted for leaf in leaves)


def test_derives_into_by_inverse(cat: Catalog) -> None:
    e = one(cat, RAW, f"{SEMCAT}derivesInto", f"{ID}{V1}")  # full IRIs work as well as keys
    assert e.rule == "prp-inv: semcat:derivesInto is the inverse of semcat:derivedFrom"
    [premise] = e.premises
    assert premise.statement == (ID + V1, SEMCAT + "derivedFrom", ID + RAW) and premise.asserted
    # downstream: transitive over derivesInto edges, each from an asserted derivedFrom
    down = one(cat, RAW, "semcat:downstream", V2)
    assert down.rule == "prp-trp: semcat:downstream is transitive" and grounded(down)
    assert {leaf.statement[1] for leaf in down.leaves()} == {SEMCAT + "derivedFrom"}


def test_domain_and_subproperty(cat: Catalog) -> None:
    e = one(cat, V2, "prov:wasDerivedFrom", V1)
    assert e.rule == "prp-spo1: semcat:derivedFrom ⊑ prov:wasDerivedFrom" and grounded(e)
    e = one(cat, RAW, "rdf:type", "semcat:DataAsset")  # raw derives nothing from anything
    assert e.rule in {"cax-sco: semcat:Table ⊑ semcat:DataAsset",
                      "prp-rng: semcat:derivedFrom has range semcat:DataAsset"} and grounded(e)


def test_every_inferred_statement_about_every_asset_ends_in_asserted_facts(cat: Catalog) -> None:
    for key in (RAW, V1, V2):
        found = cat.explain(key)
        assert found and all(not e.asserted for e in found)
        for e in found:
            assert grounded(e), e
            assert len({n.statement for n in nodes(e)} & {e.statement}) == 1  # no cycle
    ups = {e.statement[2] for e in cat.explain(V2, "semcat:upstream")}
    assert ups == {ID + V1, ID + RAW}  # with a predicate: asserted-or-inferred, all objects


def test_an_asserted_fact_is_its_own_leaf(cat: Catalog) -> None:
    e = one(cat, V1, "semcat:derivedFrom", RAW)
    assert e.asserted and e.rule == "asserted" and e.premises == ()
    assert list(e.leaves()) == [e]
    assert e.to_json() == {
        "statement": {"subject": ID + V1, "predicate": SEMCAT + "derivedFrom",
                      "object": ID + RAW},
        "asserted": True, "graph": "http://127.0.0.1:8000/graph/acme/general",
        "rule": "asserted", "premises": []}


def test_absent_statements_are_not_found(cat: Catalog) -> None:
    with pytest.raises(NotFound, match="neither asserts nor infers"):
        cat.explain(V2, "semcat:derivedFrom", RAW)  # derivedFrom is direct only
    with pytest.raises(NotFound):
        cat.explain(RAW, "semcat:upstream", V1)  # the wrong way round
    with pytest.raises(NotFound, match="nothing is known"):
        cat.explain("acme/table/pg/no.such.table")
    with pytest.raises(InputError, match="predicate"):
        cat.explain(V1, None, RAW)  # an object needs a predicate


def test_before_reasoning_only_asserted_facts_explain() -> None:
    with Catalog.open(Settings(data=None, incremental_reasoning=False)) as catalog:
        catalog.assets.upsert_many(lineage(), actor="t")
        assert catalog.explain(V1) == []
        with pytest.raises(NotFound, match="semcat reason"):
            catalog.explain(V1, "rdf:type", "dcat:Dataset")
        assert one(catalog, V1, "rdf:type", "semcat:View").asserted


# -- over HTTP, on a real server, and from the CLI -----------------------------------------------
@pytest.fixture(scope="module")
def reasoned_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("explain") / "cat"
    with Catalog.open(Settings(data=data)) as c:
        c.assets.upsert_many(lineage(), actor="t")
        c.reason()
    return data


@pytest.fixture(scope="module")
def reasoned_server(reasoned_dir: Path) -> Iterator[Server]:
    srv = Server(reasoned_dir).start()
    yield srv
    srv.stop()


def test_rest_explain(reasoned_server: Server) -> None:
    with httpx.Client(base_url=reasoned_server.url, timeout=30) as http:
        r = http.get(f"/api/v1/assets/{V2}/explain",
                     params={"predicate": "semcat:upstream", "object": RAW})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["id"] == V2
        [e] = body["explanations"]
        assert e["rule"] == "prp-trp: semcat:upstream is transitive" and not e["asserted"]
        assert [p["premises"][0]["statement"]["predicate"] for p in e["premises"]] == \
            [SEMCAT + "derivedFrom"] * 2
        r = http.get(f"/api/v1/assets/{V1}/explain")
        assert r.status_code == 200 and len(r.json()["explanations"]) > 5
        r = http.get(f"/api/v1/assets/{V2}/explain",
                     params={"predicate": "semcat:derivedFrom", "object": RAW})
        assert r.status_code == 404 and r.headers["content-type"].startswith(
            "application/problem+json")
        assert http.get("/api/v1/assets/acme/table/pg/nothing/explain").status_code == 404
        assert http.get(f"/api/v1/assets/{V2}").status_code == 200  # the plain GET still works


def test_cli_explain(reasoned_dir: Path, reasoned_server: Server) -> None:
    reasoned_server.stop()  # the store is single-process: free it for the CLI
    r = subprocess.run([sys.executable, "-m", "semcat", "explain", V1, "--data", str(reasoned_dir),
                        "--predicate", "rdf:type", "--object", "dcat:Dataset"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and lines[0].endswith("[cax-sco: semcat:Table ⊑ dcat:Dataset]")
    assert lines[2].startswith("    ") and "asserted in" in lines[2]
    r = subprocess.run([sys.executable, "-m", "semcat", "explain", V2, "--data", str(reasoned_dir),
                        "--predicate", "semcat:derivedFrom", "--object", RAW],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and "neither asserts nor infers" in r.stderr
