"""The RDF and DCAT connector (issue 14): a small DCAT-AP catalog written here (checked against
the official DCAT-AP 3.0.1 shapes) in Turtle, RDF/XML and JSON-LD, the official DCAT-AP example,
and the same catalog from a real `oxigraph serve` SPARQL endpoint. Re-runs change nothing, a
removed dataset is removed, and bad configs, malformed RDF and unreachable endpoints write
nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib

from catalog import Catalog
from graph_store.errors import InputError
from graph_store.keys import encode_segment
from search.model import SearchRequest
from tests.conftest import SHARED, free_port

DCAT_AP = SHARED / "data" / "dcat-ap"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
EX = "https://data.example.org/"

CATALOG_TTL = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://data.example.org/> .
@prefix ds: <https://data.example.org/dataset/> .
@prefix dist: <https://data.example.org/distribution/> .

ex:catalog a dcat:Catalog ;
  dct:title "Example City open data"@en , "Open data van Voorbeeldstad"@nl ;
  dct:description "Open data published by Example City."@en ;
  dct:publisher ex:city ;
  foaf:homepage <https://www.example.org/> ;
  dcat:dataset ds:air-quality , ds:parking .

ex:city a foaf:Agent ; foaf:name "Example City"@en .
<https://www.example.org/> a foaf:Document .

<http://publications.europa.eu/resource/authority/data-theme/ENVI> a skos:Concept ;
  skos:prefLabel "Environment"@en .

ds:air-quality a dcat:Dataset ;
  dct:title "Air quality measurements"@en , "Luchtkwaliteit"@nl ;
  dct:description "Hourly NO2 and PM10 readings from twelve stations."@en ;
  dcat:keyword "air"@en , "pollution"@en , "lucht"@nl ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/ENVI> ;
  dct:identifier "AQ-2024" ;
  dct:issued "2024-01-15"^^xsd:date ;
  dct:publisher ex:city ;
  dcat:contactPoint [ a vcard:Kind ; vcard:fn "Data desk" ;
                      vcard:hasEmail <mailto:data@example.org> ] ;
  dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2024-01-01"^^xsd:date ] ;
  dcat:distribution dist:air-quality-csv , dist:air-quality-api .

dist:air-quality-csv a dcat:Distribution ;
  dcat:accessURL <https://data.example.org/files/air-quality.csv> ;
  dcat:downloadURL <https://data.example.org/files/air-quality.csv> ;
  dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
  dcat:byteSize "52480"^^xsd:nonNegativeInteger .

dist:air-quality-api a dcat:Distribution ;
  dcat:accessURL <https://api.example.org/air> ;
  dct:format <http://publications.europa.eu/resource/authority/file-type/JSON> .

<http://publications.europa.eu/resource/authority/file-type/CSV> a dct:MediaTypeOrExtent .
<http://publications.europa.eu/resource/authority/file-type/JSON> a dct:MediaTypeOrExtent .

ds:parking a dcat:Dataset ;
  dct:title "Parking garages"@en ;
  dct:description "Occupancy of the city's parking garages, every five minutes."@en ;
  dcat:keyword "parking"@en .
"""


def table(iri: str, platform: str = "dcat") -> str:
    return f"acme/table/{platform}/{encode_segment(iri)}"


def run_config(**config: Any) -> dict[str, Any]:
    return {"connector": "dcat", "workspace": "acme", "config": config}


@pytest.fixture
def ttl(tmp_path: Path) -> Path:
    path = tmp_path / "city.ttl"
    path.write_text(CATALOG_TTL, encoding="utf-8")
    return path


def assert_city_catalog(cat: Catalog, platform: str = "dcat") -> None:
    db = cat.assets.get(f"acme/database/{platform}/{encode_segment(EX + 'catalog')}")
    assert db["type"] == "Database" and db["name"] == "Example City open data"
    assert db["description"] == "Open data published by Example City."
    schema = cat.assets.get(f"acme/schema/{platform}/{encode_segment(EX + 'catalog')}")
    assert schema["partOf"] == db["id"]
    air = cat.assets.get(table(EX + "dataset/air-quality", platform))
    assert air["type"] == "Table" and air["partOf"] == schema["id"]
    assert air["name"] == "Air quality measurements"  # the English title
    assert air["qualifiedName"] == EX + "dataset/air-quality"
    assert air["description"] == "Hourly NO2 and PM10 readings from twelve stations."
    assert {k["@value"] for k in air[DCAT + "keyword"]} == {"air", "pollution"}  # not "lucht"
    assert air[DCAT + "theme"] == [
        {"@id": "http://publications.europa.eu/resource/authority/data-theme/ENVI"}]
    assert air[DCT + "identifier"] == [{"@value": "AQ-2024"}]
    assert air[DCT + "issued"] == [{"@value": "2024-01-15",
                                    "@type": "http://www.w3.org/2001/XMLSchema#date"}]
    # both distributions' access URLs and formats, flattened onto the dataset
    assert {v["@id"] for v in air[DCAT + "accessURL"]} == {
        "https://data.example.org/files/air-quality.csv", "https://api.example.org/air"}
    assert {v["@id"].rsplit("/", 1)[-1] for v in air[DCT + "format"]} == {"CSV", "JSON"}
    assert air[DCAT + "downloadURL"] == [{"@id": "https://data.example.org/files/air-quality.csv"}]
    parking = cat.assets.get(table(EX + "dataset/parking", platform))
    assert parking["name"] == "Parking garages" and DCAT + "accessURL" not in parking


def assert_city_warnings(warnings: list[str]) -> None:
    text = "\n".join(warnings)
    assert "2 catalogs, datasets or distributions name a dct:publisher" in text, text
    assert "1 catalogs, datasets or distributions name a dcat:contactPoint" in text, text
    summary = [w for w in warnings if "have no term in semcat" in w]
    assert len(summary) == 1, text  # one summary, not one warning per triple
    for unmapped in ("foaf:homepage x1", "dct:temporal x1", "dcat:byteSize x1"):
        assert unmapped in summary[0], summary[0]


def test_a_dcat_ap_catalog_arrives(ttl: Path, catalog: Catalog) -> None:
    report = catalog.ingestion.run(run_config(path=str(ttl)))
    assert report.ok and report.failed == 0, report.to_json()
    assert (report.added, report.updated, report.removed) == (4, 0, 0), report.to_json()
    assert report.source == f"dcat:{ttl.resolve()}"
    assert_city_catalog(catalog)
    assert_city_warnings(report.warnings)
    # the datasets are queryable with their DCAT properties
    rows = catalog.sparql.query(
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT ?k WHERE { ?d dcat:keyword ?k }").rows()
    assert sorted(r["k"].value for r in rows) == ["air", "parking", "pollution"]  # type: ignore[index]


def test_the_test_catalog_is_dcat_ap(ttl: Path) -> None:
    """The catalog above conforms to the official DCAT-AP 3.0.1 shapes (mandatory and range)."""
    from pyshacl import validate

    shapes = rdflib.Graph()
    for name in ("shapes.ttl", "range.ttl"):
        shapes.parse(DCAT_AP / name, format="turtle")
    conforms, _, text = validate(rdflib.Graph().parse(ttl, format="turtle"), shacl_graph=shapes)
    assert conforms, text


@pytest.mark.parametrize("fmt,suffix", [("xml", ".rdf"), ("json-ld", ".jsonld"),
                                        ("nt", ".nt")])
def test_rdf_xml_json_ld_and_n_triples_read_the_same(fmt: str, suffix: str, ttl: Path,
                                                     catalog: Catalog) -> None:
    path = ttl.with_suffix(suffix)
    rdflib.Graph().parse(ttl, format="turtle").serialize(path, format=fmt, encoding="utf-8")
    report = catalog.ingestion.run(run_config(path=path.as_uri()))
    assert report.ok and report.added == 4, report.to_json()
    assert_city_catalog(catalog)
    assert_city_warnings(report.warnings)


def test_the_official_dcat_ap_example(catalog: Catalog) -> None:
    """A dataset in no catalog goes to a default catalog named after the file."""
    path = DCAT_AP / "example-bee-population.ttl"
    report = catalog.ingestion.run(run_config(path=str(path)))
    assert report.ok and report.added == 3, report.to_json()
    bees = catalog.assets.get(table("https://data.gov.gr/id/dataset/BeePopulation"))
    assert bees["name"] == "Bee population"
    assert bees["description"] == "A dataset about bee population in Greece"
    assert bees["partOf"] == "acme/schema/dcat/example-bee-population"
    assert catalog.assets.get("acme/database/dcat/example-bee-population")["type"] == "Database"
    assert any("dct:publisher" in w for w in report.warnings), report.warnings


def test_rerun_changes_nothing_and_a_removed_dataset_is_removed(ttl: Path,
                                                                catalog: Catalog) -> None:
    config = run_config(path=str(ttl))
    assert catalog.ingestion.run(config).added == 4
    seq = catalog.journal.applied_seq
    again = catalog.ingestion.run(config)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 4)
    assert catalog.journal.applied_seq == seq  # not one changeset
    # parking leaves the catalog, air quality gets a new title
    text = CATALOG_TTL.replace(" , ds:parking .", " .").replace(
        '"Air quality measurements"@en', '"Air quality"@en')
    text = text[:text.index("ds:parking a dcat:Dataset")]
    ttl.write_text(text, encoding="utf-8")
    report = catalog.ingestion.run(config)
    assert (report.removed, report.updated, report.added) == (1, 1, 0), report.to_json()
    with pytest.raises(Exception, match="deleted"):
        catalog.assets.get(table(EX + "dataset/parking"))
    assert catalog.assets.get(table(EX + "dataset/air-quality"))["name"] == "Air quality"


def test_what_people_add_is_kept(ttl: Path, catalog: Catalog) -> None:
    assert catalog.ingestion.run(run_config(path=str(ttl))).ok
    catalog.assets.upsert_many([{"id": "tag/gold", "type": "Tag", "name": "gold"}], actor="ana")
    air = table(EX + "dataset/air-quality")
    catalog.assets.patch(air, {"tags": ["tag/gold"]}, actor="ana")
    report = catalog.ingestion.run(run_config(path=str(ttl)))
    assert report.unchanged == 4, report.to_json()
    assert catalog.assets.get(air)["tags"] == ["tag/gold"]


# --- a real SPARQL endpoint ------------------------------------------------------------------


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    """`oxigraph serve` (the PyPI `oxigraph` package) on 127.0.0.1, the catalog in its default
    graph and in the named graph <https://data.example.org/graph/dcat>; stopped afterwards."""
    binary = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or \
        shutil.which("oxigraph")
    assert binary, "the oxigraph server is a dev dependency (pip install -e .[dev])"
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--location", str(tmp_path / "oxigraph"),
                             "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("oxigraph serve did not start") from None
                time.sleep(0.1)
        for target in ("default", f"graph={EX}graph/dcat"):
            r = httpx.post(f"{url}/store?{target}", content=CATALOG_TTL.encode(),
                           headers={"Content-Type": "text/turtle"}, timeout=10)
            assert r.status_code in (200, 201, 204), r.text
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_a_sparql_endpoint_is_read_with_construct(endpoint: str, catalog: Catalog) -> None:
    config = run_config(endpoint=endpoint + "/query")
    report = catalog.ingestion.run(config)
    assert report.ok and report.added == 4, report.to_json()
    assert report.source == f"dcat:{endpoint}/query"
    assert_city_catalog(catalog)
    # the endpoint answers only for catalogs, datasets and distributions: the publisher and
    # contact point are still counted, the agent's own triples are not fetched
    assert any("dct:publisher" in w for w in report.warnings), report.warnings
    seq = catalog.journal.applied_seq
    again = catalog.ingestion.run(config)
    assert (again.unchanged, again.added, again.updated, again.removed) == (4, 0, 0, 0)
    assert catalog.journal.applied_seq == seq
    # a dataset deleted at the endpoint is removed on the next run
    r = httpx.post(endpoint + "/update", data={"update": (
        f"DELETE WHERE {{ <{EX}dataset/parking> ?p ?o }};"
        f"DELETE WHERE {{ <{EX}catalog> <{DCAT}dataset> <{EX}dataset/parking> }}")}, timeout=10)
    assert r.status_code in (200, 204), r.text
    report = catalog.ingestion.run(config)
    assert (report.removed, report.unchanged) == (1, 3), report.to_json()


def test_a_named_graph_of_the_endpoint(endpoint: str, catalog: Catalog) -> None:
    report = catalog.ingestion.run(run_config(endpoint=endpoint + "/query",
                                              graph=f"{EX}graph/dcat", platform="city"))
    assert report.ok and report.added == 4, report.to_json()
    assert report.source == f"dcat:{endpoint}/query#graph={EX}graph/dcat"
    assert_city_catalog(catalog, platform="city")
    empty = run_config(endpoint=endpoint + "/query", graph=f"{EX}graph/none")
    seq = catalog.journal.applied_seq
    with pytest.raises(InputError, match="no dcat:Catalog and no dcat:Dataset"):
        catalog.ingestion.run(empty)
    assert catalog.journal.applied_seq == seq


# --- refusals ---------------------------------------------------------------------------------


def refused(cat: Catalog, config: dict[str, Any], *needles: str) -> str:
    seq = cat.journal.applied_seq
    with pytest.raises(InputError) as e:
        cat.ingestion.run(config)
    for needle in needles:
        assert needle in e.value.detail, e.value.detail
    assert cat.journal.applied_seq == seq, "nothing may be written"
    return str(e.value.detail)


def test_bad_configs_and_sources_write_nothing(tmp_path: Path, ttl: Path,
                                              catalog: Catalog) -> None:
    refused(catalog, run_config(), "either path", "or endpoint")
    refused(catalog, run_config(path=str(ttl), endpoint="http://127.0.0.1/sparql"), "either")
    refused(catalog, run_config(path=str(ttl), graph="https://x/g"), "give endpoint too")
    refused(catalog, run_config(endpoint="ftp://host/sparql"), "config.endpoint", "http://")
    refused(catalog, run_config(endpoint="http://u:pw@127.0.0.1/sparql"), "credentials")
    refused(catalog, run_config(path="https://example.org/catalog.ttl"), "config.path")
    refused(catalog, run_config(path=str(ttl), format="rdfa"), "config.format")
    refused(catalog, run_config(path=str(ttl), pth="x"), "config.pth: unknown field")
    refused(catalog, run_config(path=str(tmp_path / "missing.ttl")), "cannot read",
            "missing.ttl")
    odd = tmp_path / "catalog.data"
    odd.write_text(CATALOG_TTL)
    refused(catalog, run_config(path=str(odd)), "config.format", "cannot tell")
    assert catalog.ingestion.run(run_config(path=str(odd), format="turtle")).added == 4


def test_malformed_rdf_writes_nothing(tmp_path: Path, catalog: Catalog) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(CATALOG_TTL.replace("ds:parking a dcat:Dataset ;", "ds:parking a dcat:Dataset"))
    message = refused(catalog, run_config(path=str(bad)), "bad.ttl is not valid Turtle",
                      "nothing was ingested")
    assert "line" in message
    xml = tmp_path / "bad.rdf"
    xml.write_text("<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><oops")
    refused(catalog, run_config(path=str(xml)), "is not valid RDF/XML")
    remote = tmp_path / "remote.jsonld"
    remote.write_text('{"@context": "https://example.org/dcat.jsonld", "@id": "https://x/d", '
                      '"@type": "Dataset"}')
    refused(catalog, run_config(path=str(remote)), "inline the @context")
    other = tmp_path / "other.ttl"
    other.write_text("<https://x/a> <https://x/b> <https://x/c> .")
    refused(catalog, run_config(path=str(other)), "no dcat:Catalog and no dcat:Dataset")


def test_an_unreachable_or_wrong_endpoint_writes_nothing(endpoint: str,
                                                         catalog: Catalog) -> None:
    port = free_port()  # nothing listens there
    refused(catalog, run_config(endpoint=f"http://127.0.0.1:{port}/sparql", timeout=5),
            "cannot reach", f"127.0.0.1:{port}")
    refused(catalog, run_config(endpoint=endpoint + "/nope"), "answered 404")


def test_keywords_find_their_datasets(ttl: Path, catalog: Catalog) -> None:
    """A DCAT keyword is search text: "pollution" is in no title or description."""
    assert catalog.ingestion.run(run_config(path=str(ttl))).ok
    catalog.search.wait(vectors=False)
    hits = catalog.search.run(SearchRequest(q="pollution", mode="keyword")).to_json()["hits"]
    assert [h["id"] for h in hits][:1] == [table(EX + "dataset/air-quality", "dcat")]
