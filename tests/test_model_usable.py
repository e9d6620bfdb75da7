"""Issue 10, item 7: the model is usable as documented.

Classes and properties added through /api/v1/ontology, and custom attributes, are usable by
short name in REST bodies, list and search filters and the JSON-LD context as soon as they are
defined; unknown-property errors list what applies to the type; SHACL messages name the
constraint and the expected value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rdflib import Graph, URIRef

from catalog import Catalog, Settings
from graph_store.errors import ValidationFailed

BASE = "http://127.0.0.1:8000"
NS = f"{BASE}/ontology#"
LD = "application/ld+json"


@pytest.fixture(scope="module")
def api(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.post("/api/v1/ontology/classes", json={
            "name": "Sensor", "label": "Sensor", "parent": "DataAsset",
            "comment": "A device that emits readings."})
        assert r.status_code == 201, r.text
        r = client.post("/api/v1/ontology/properties", json={
            "name": "firmware", "label": "Firmware", "kind": "datatype", "domain": "Sensor",
            "range": "xsd:string"})
        assert r.status_code == 201, r.text
        r = client.post("/api/v1/ontology/properties", json={
            "name": "samplingHz", "label": "Sampling rate", "kind": "datatype",
            "domain": "Sensor", "range": "xsd:integer"})
        assert r.status_code == 201, r.text
        r = client.post("/api/v1/ontology/properties", json={
            "name": "feeds", "label": "Feeds", "kind": "object", "domain": "Sensor",
            "range": "Table"})
        assert r.status_code == 201, r.text
        yield client


def sensor(name: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"acme/sensor/{name}", "type": "Sensor", "workspace": "acme", "name": name,
            "qualifiedName": f"plant.{name}", **extra}


def test_a_new_class_is_an_asset_type_by_short_name(api: httpx.Client) -> None:
    r = api.post("/api/v1/assets", json=sensor("s1", description="Hall 3 thermometer"))
    assert r.status_code == 201, r.text
    doc = api.get("/api/v1/assets/acme/sensor/s1").json()
    assert doc["type"] == "Sensor"
    # the published context maps the short name to the class IRI
    ctx = api.get("/api/v1/context.jsonld").json()["@context"]
    assert ctx["Sensor"] in (NS + "Sensor", {"@id": NS + "Sensor"})
    expanded = Graph().parse(data=_with_context(doc, ctx), format="json-ld")
    assert (URIRef(f"{BASE}/id/acme/sensor/s1"), URIRef("http://www.w3.org/1999/02/22-rdf-"
            "syntax-ns#type"), URIRef(NS + "Sensor")) in expanded
    # list filters: by the class and by a superclass
    for t in ("Sensor", "DataAsset"):
        items = api.get("/api/v1/assets", params={"type": t}).json()["items"]
        assert "acme/sensor/s1" in [i["id"] for i in items], t
    # search filters
    found = api.get("/api/v1/search", params={"q": "thermometer", "type": "Sensor",
                                              "mode": "keyword", "wait": "true"})
    assert found.status_code == 200, found.text
    assert [h["id"] for h in found.json()["hits"]] == ["acme/sensor/s1"]


def test_new_properties_are_usable_by_short_name(api: httpx.Client) -> None:
    api.post("/api/v1/assets:bulk", json=[
        {"type": "Database", "workspace": "acme", "platform": "platform/pg",
         "qualifiedName": "plant", "name": "plant"},
        {"type": "Schema", "workspace": "acme", "platform": "platform/pg",
         "qualifiedName": "plant.raw", "name": "raw", "partOf": "acme/database/pg/plant"},
        {"type": "Table", "workspace": "acme", "platform": "platform/pg",
         "qualifiedName": "plant.raw.readings", "name": "readings",
         "partOf": "acme/schema/pg/plant.raw"}])
    r = api.post("/api/v1/assets", json=sensor("s2", firmware="4.1.0", samplingHz=50,
                                                feeds=["acme/table/pg/plant.raw.readings"]))
    assert r.status_code == 201, r.text
    doc = api.get("/api/v1/assets/acme/sensor/s2").json()
    assert doc["firmware"] in ("4.1.0", ["4.1.0"])
    assert doc["samplingHz"] in (50, [50])
    assert doc["feeds"] in ("acme/table/pg/plant.raw.readings",
                            ["acme/table/pg/plant.raw.readings"])
    ctx = api.get("/api/v1/context.jsonld").json()["@context"]
    assert ctx["firmware"]["@id"] == NS + "firmware"
    assert ctx["samplingHz"]["@type"] == "xsd:integer"
    assert ctx["feeds"]["@type"] == "@id"
    ask = api.get("/sparql", headers={"Accept": "application/json"}, params={"query": (
        f'ASK {{ <{BASE}/id/acme/sensor/s2> <{NS}firmware> "4.1.0" ; <{NS}samplingHz> 50 ; '
        f'<{NS}feeds> <{BASE}/id/acme/table/pg/plant.raw.readings> }}')})
    assert ask.json()["boolean"] is True
    # a value of the wrong shape is refused, like a built-in property's
    bad = api.post("/api/v1/assets", json=sensor("s3", samplingHz="fast"))
    assert bad.status_code == 422 and "samplingHz" in bad.text
    # the full IRI keeps working
    r = api.post("/api/v1/assets", json=sensor("s4", **{NS + "firmware": "1.0"}))
    assert r.status_code == 201, r.text
    assert api.get("/api/v1/assets/acme/sensor/s4").json()["firmware"] in ("1.0", ["1.0"])


def test_unknown_property_errors_list_what_applies_to_the_type(api: httpx.Client) -> None:
    r = api.post("/api/v1/assets", json=sensor("s5", colour="red"))
    assert r.status_code == 422, r.text
    message = next(e["message"] for e in r.json()["errors"] if "colour" in e["message"])
    assert "firmware" in message and "feeds" in message and "name" in message
    assert "email" not in message and "effect" not in message and "dataType" not in message
    r = api.post("/api/v1/assets", json={"type": "Tag", "id": "tag/x", "name": "x",
                                        "firmware": "1"})
    assert r.status_code == 422
    message = next(e["message"] for e in r.json()["errors"] if "firmware" in e["message"])
    assert "inheritable" in message and "firmware" not in message.split("known")[-1]


def test_unknown_types_are_400_listing_the_known_ones(api: httpx.Client) -> None:
    for path in ("/api/v1/assets", "/api/v1/search"):
        r = api.get(path, params={"type": "Sensr"})
        assert r.status_code == 400, (path, r.text)
        assert "Sensor" in r.json()["detail"] and "Table" in r.json()["detail"]
    r = api.post("/api/v1/assets", json={**sensor("s6"), "type": "Sensr"})
    assert r.status_code == 422 and "Sensor" in r.text


def test_attributes_apply_to_new_classes(api: httpx.Client) -> None:
    r = api.post("/api/v1/attributes", json={
        "name": "calibratedBy", "label": "Calibrated by", "datatype": "string",
        "appliesTo": ["Sensor"], "pattern": "^LAB-[0-9]+$"})
    assert r.status_code == 201, r.text
    assert api.get("/api/v1/attributes/calibratedBy").json()["appliesTo"] == ["Sensor"]
    assert api.post("/api/v1/assets", json=sensor("s7", calibratedBy="LAB-7")).status_code == 201
    bad = api.post("/api/v1/assets", json=sensor("s8", calibratedBy="me"))
    assert bad.status_code == 422
    message = bad.json()["errors"][0]["message"]
    assert "^LAB-[0-9]+$" in message and "pattern" in message


def test_names_that_clash_with_rest_keys_are_refused(api: httpx.Client) -> None:
    r = api.post("/api/v1/ontology/properties", json={
        "name": "owners", "label": "Owners", "kind": "object"})
    assert r.status_code == 409, r.text
    r = api.post("/api/v1/attributes", json={
        "name": "firmware", "label": "Firmware", "datatype": "string", "appliesTo": ["Table"]})
    assert r.status_code == 409, r.text
    # prefixes of the context are names too: a term "xsd" would redefine xsd:integer
    for path, body in (("/api/v1/ontology/properties", {"name": "xsd", "label": "X",
                                                        "kind": "datatype"}),
                       ("/api/v1/attributes", {"name": "xsd", "label": "X",
                                               "datatype": "string", "appliesTo": ["Table"]})):
        r = api.post(path, json=body)
        assert r.status_code == 409, (path, r.text)
    assert api.get("/api/v1/context.jsonld").json()["@context"]["xsd"].startswith("http")


def _with_context(doc: dict[str, Any], ctx: dict[str, Any]) -> str:
    import json

    return json.dumps({**doc, "@context": [ctx, {"@base": f"{BASE}/id/"}]})


# -- SHACL messages --------------------------------------------------------------------------
@pytest.fixture
def catalog() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as cat:
        yield cat


def _violations(cat: Catalog, item: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as e:
        cat.assets.upsert(item, actor="t")
    return list(e.value.report)  # type: ignore[attr-defined]


def test_shacl_messages_name_the_constraint_and_the_expected_value(catalog: Catalog) -> None:
    from catalog.attributes import AttributeSpec

    for spec in (
        AttributeSpec(name="costCenter", label="Cost center", datatype="string",
                      appliesTo=["Tag"], pattern="^CC-[0-9]+$"),
        AttributeSpec(name="tier", label="Tier", datatype="string", appliesTo=["Tag"],
                      values=["gold", "silver"]),
        AttributeSpec(name="retentionDays", label="Retention", datatype="integer",
                      appliesTo=["Tag"], minInclusive=1, maxInclusive=3650),
    ):
        catalog.attributes.define(spec, actor="t", create=True)
    tag = {"type": "Tag", "id": "tag/t1", "name": "t1"}
    messages = {v["path"].rsplit("/", 1)[-1]: v["message"] for v in _violations(catalog, {
        **tag, "costCenter": "X-1", "tier": "bronze", "retentionDays": 9999})}
    assert "pattern" in messages["costCenter"] and "^CC-[0-9]+$" in messages["costCenter"]
    assert "gold" in messages["tier"] and "silver" in messages["tier"]
    assert "3650" in messages["retentionDays"] and "maxInclusive" in messages["retentionDays"]
    # core shapes too: the constraint and what it expects
    core = _violations(catalog, {"type": "Table", "id": "acme/x", "workspace": "acme",
                                 "name": "x", "partOf": "tag/t0"})
    class_message = next(v["message"] for v in core if v["constraint"] ==
                         "ClassConstraintComponent")
    assert "class" in class_message and "Schema" in class_message


def test_search_filters_take_ids_in_either_spelling(api: httpx.Client) -> None:
    assert api.post("/api/v1/assets", json={"type": "Tag", "id": "tag/hall 3",
                                           "name": "hall 3"}).status_code == 201
    r = api.post("/api/v1/assets", json=sensor("s9", description="humidity probe",
                                                tags=["tag/hall 3"]))
    assert r.status_code == 201, r.text
    assert api.get("/api/v1/assets/acme/sensor/s9").json()["tags"] == ["tag/hall%203"]
    for tag in ("tag/hall 3", "tag/hall%203"):
        found = api.get("/api/v1/search", params={"q": "humidity", "tag": tag, "type": "Sensor",
                                                  "mode": "keyword", "wait": "true"})
        assert [h["id"] for h in found.json()["hits"]] == ["acme/sensor/s9"], tag
        listed = api.get("/api/v1/assets", params={"tag": tag}).json()["items"]
        assert [i["id"] for i in listed] == ["acme/sensor/s9"], tag
