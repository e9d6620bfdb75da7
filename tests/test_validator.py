"""The compiled validator (shapes/) gives exactly the results pySHACL's corpus expects, and
stops bad writes on every write path with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pyoxigraph import NamedNode, RdfFormat, Store, parse

from catalog import Catalog
from ontology import ontology_turtle
from ontology.namespaces import RDF_TYPE
from shapes import StoreView, Validator, compile_shapes, core_shapes_turtle
from tests.test_core_shapes import case_files, expectations

G = NamedNode("http://example.org/g")


class Quads:
    """A bare pyoxigraph store under the one GraphStore method the validator reads with."""

    def __init__(self, store: Store) -> None:
        self.quads = store.quads_for_pattern


def validate_file(path: Path) -> set[tuple[str, str, str, str]]:
    store = Store()
    store.load(path.read_bytes(), format=RdfFormat.TURTLE, to_graph=G)
    store.load(ontology_turtle(), format=RdfFormat.TURTLE, to_graph=G)
    shapes = list(parse(core_shapes_turtle(), format=RdfFormat.TURTLE))
    ontology = list(parse(ontology_turtle(), format=RdfFormat.TURTLE))
    nodes = list(dict.fromkeys(q.subject for q in store.quads_for_pattern(
        None, NamedNode(RDF_TYPE), None, None)))
    view = StoreView(Quads(store))  # type: ignore[arg-type]
    report = Validator(compile_shapes(shapes, ontology)).validate(nodes, view)
    return {(r.severity, r.focus, r.path, r.constraint) for r in report.results}


@pytest.mark.parametrize("path", case_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compiled_validator_agrees_with_the_corpus(path: Path) -> None:
    assert validate_file(path) == expectations(path)


def test_a_violation_through_rest_is_422_with_shacl_results_and_writes_nothing(
        http: httpx.Client) -> None:
    column = {"type": "Column", "workspace": "acme", "platform": "platform/pg",
              "qualifiedName": "db.s.t.c", "name": "c", "dataType": "TEXT",
              "partOf": "acme/table/pg/db.s.nope"}
    r = http.post("/api/v1/assets", json=column)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    results = r.json()["errors"]
    violation = next(e for e in results if e["severity"] == "Violation")
    assert violation["focusNode"].endswith("/id/acme/column/pg/db.s.t.c")
    assert violation["path"] == "https://w3id.org/semcat#partOf"
    assert violation["constraint"] == "ClassConstraintComponent" and violation["message"]
    assert http.get("/api/v1/assets/acme/column/pg/db.s.t.c").status_code == 404


def test_every_write_path_refuses_a_violation(http: httpx.Client, tmp_path: Path) -> None:
    iri = "http://127.0.0.1:8000/id/acme/table/pg/db.s.orphan"
    semcat = "https://w3id.org/semcat#"
    turtle = (f'<{iri}> a <{semcat}Table> ; <{semcat}name> "orphan" ; '
              f'<{semcat}qualifiedName> "db.s.orphan" ; <{semcat}workspace> '
              '<http://127.0.0.1:8000/id/acme> .')  # no schema: violates Table-partOf
    before = http.get("/healthz").json()["appliedSeq"]
    bulk = http.post("/api/v1/assets:bulk", json=[{
        "type": "Table", "workspace": "acme", "platform": "platform/pg",
        "qualifiedName": "db.s.orphan", "name": "orphan"}])
    assert bulk.status_code == 422
    update = http.post("/update", data={"update": f"INSERT DATA {{ {turtle} }}"})
    assert update.status_code == 422 and "partOf" in update.text
    gsp = http.post("/store", params={"default": ""}, content=turtle,
                    headers={"Content-Type": "text/turtle"})
    assert gsp.status_code == 422 and any(e["path"] == semcat + "partOf"
                                          for e in gsp.json()["errors"])
    assert http.get("/healthz").json()["appliedSeq"] == before
    ask = http.get("/sparql", params={"query": f"ASK {{ <{iri}> ?p ?o }}"},
                   headers={"Accept": "application/json"})
    assert ask.json()["boolean"] is False


def test_semcat_load_refuses_a_violating_file(catalog: Catalog, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix semcat: <https://w3id.org/semcat#> .\n'
                   '<http://127.0.0.1:8000/id/acme/column/pg/x.y.z> a semcat:Column ; '
                   'semcat:name "z" .\n')
    from graph_store.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as e:
        catalog.load([bad])
    paths = {r["path"].rsplit("#")[-1] for r in e.value.report if r["severity"] == "Violation"}
    assert {"partOf", "dataType", "qualifiedName", "workspace"} <= paths
    assert catalog.validate().conforms


def test_validate_reports_the_demo_conforms_and_finds_planted_problems(
        demo_catalog: Catalog) -> None:
    report = demo_catalog.validate()
    assert report.conforms and report.focus_nodes > 1800
    assert json.loads(json.dumps(report.to_json()))["conforms"] is True
    turtle = demo_catalog.serialize_report(report, "text/turtle")
    assert b"ValidationReport" in turtle
