"""Issue 10, item 12 (and item 11's id/IRI 500s): every legal source name is a legal asset.

Ids and IRIs come from names by one reversible encoding (graph_store/keys.py, README "Ids");
the encoded and the unencoded forms of an id are the same asset everywhere, and ``name`` and
``qualifiedName`` stay exactly as the source spells them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import NamedNode

from catalog import Catalog, Settings
from graph_store.errors import InputError
from graph_store.keys import canonical_key, decode_segment, encode_segment
from graph_store.layout import GraphLayout

SCHEMA = "acme/schema/pg/shop.sales"
SCAFFOLD = [
    {"type": "Database", "workspace": "acme", "platform": "platform/pg", "qualifiedName": "shop",
     "name": "shop"},
    {"type": "Schema", "workspace": "acme", "platform": "platform/pg",
     "qualifiedName": "shop.sales", "name": "sales", "partOf": "acme/database/pg/shop"},
]
# What real connectors meet: a quoted SQL identifier, a German table name, dots and quotes.
NAMES = ["Bestellungen_Übersicht", 'eg "Agree" Objectives', "order.lines", "O'Brien's <data>",
         "100% / total", "注文", "..", "a%20b"]


def url(key: str) -> str:
    """An id in a URL path, percent-encoded as any client does for a path."""
    return "/api/v1/assets/" + quote(key, safe="/")


def table(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": f"shop.sales.{name}", "name": name, "partOf": SCHEMA, **extra}


@pytest.fixture(scope="module")
def api(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/api/v1/assets:bulk", json=SCAFFOLD).status_code == 200
        yield client


# -- the encoding ------------------------------------------------------------------------------
# any name a source could spell, but a blank one (a name must say something: 422)
NO_NUL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                 min_size=1, max_size=40).filter(lambda s: s.strip() != "")


@settings(max_examples=400, deadline=None)
@given(NO_NUL)
def test_any_unicode_name_round_trips_through_its_id_segment(name: str) -> None:
    segment = encode_segment(name)
    assert decode_segment(segment) == name
    assert "/" not in segment and segment not in (".", "..")
    assert canonical_key(segment) == segment  # the encoded form is canonical
    iri = GraphLayout("http://example.org").iri(f"acme/table/pg/{segment}")
    assert NamedNode(iri).value == iri  # always a valid IRI
    # letters of any script stay as they are
    assert all(c in segment for c in name if c.isalpha() and not c.isspace())
    # the unencoded form names the same asset, unless it reads as a path or an escape
    if "/" not in name and not re.search(r"%[0-9A-Fa-f]{2}", name) and name not in (".", ".."):
        assert canonical_key(name) == segment


def test_the_encoding_keeps_unicode_and_escapes_what_a_path_segment_cannot_hold() -> None:
    assert encode_segment("Bestellungen_Übersicht") == "Bestellungen_Übersicht"
    assert encode_segment('eg "Agree" Objectives') == "eg%20%22Agree%22%20Objectives"
    assert encode_segment("db.s.order.lines") == "db.s.order.lines"
    assert encode_segment("100% / total") == "100%25%20%2F%20total"
    assert encode_segment("..") == "%2E%2E"
    assert canonical_key("acme/%ZZ") == "acme/%25ZZ"  # a stray % is a literal percent sign
    assert canonical_key("acme/a%2fb") == "acme/a%2Fb"
    for bad in ("acme/a\x00b", "acme//x", "", "acme/\ud800"):
        with pytest.raises(InputError):
            canonical_key(bad)
    with pytest.raises(InputError):
        encode_segment("a\x00b")


@settings(max_examples=25, deadline=None)
@given(NO_NUL)
def test_any_name_is_stored_and_read_back_exactly(name: str) -> None:
    with Catalog.open(Settings(data=None)) as cat:
        result = cat.assets.upsert({"type": "Database", "workspace": "acme",
                                    "platform": "platform/pg", "qualifiedName": name,
                                    "name": name}, actor="t")
        assert result.id == f"acme/database/pg/{encode_segment(name)}"
        doc = cat.assets.get(result.id)
        assert doc["name"] == name and doc["qualifiedName"] == name
        assert doc["id"] == result.id


# -- over REST ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_legal_names_are_assets_with_exact_names(api: httpx.Client, name: str) -> None:
    r = api.post("/api/v1/assets", json=table(name))
    assert r.status_code in (200, 201), r.text
    key = r.json()["id"]
    assert key == f"acme/table/pg/{encode_segment('shop.sales.' + name)}"
    assert api.get(r.headers["location"]).status_code == 200
    doc = api.get(url(key)).json()
    assert doc["name"] == name and doc["qualifiedName"] == f"shop.sales.{name}"
    assert doc["id"] == key
    # the id pasted into a URL as it is (its %2F a slash within the name, not a separator)
    if not re.search(r"%[0-9A-Fa-f]{2}", name):
        assert api.get("/api/v1/assets/" + key).json()["name"] == name
        assert api.get(f"/api/v1/assets/{key}/versions").json()["id"] == key
    # stored under the IRI that the id names (JSON-LD @base resolution keeps it)
    q = f'ASK {{ <http://127.0.0.1:8000/id/{key}> <https://w3id.org/semcat#name> ?n }}'
    ask = api.get("/sparql", params={"query": q}, headers={"Accept": "application/json"})
    assert ask.json()["boolean"] is True


def test_encoded_and_unencoded_ids_are_the_same_asset(api: httpx.Client) -> None:
    name = "eg Agree Objectives"
    parent = table("Bestellungen_Übersicht")
    assert api.post("/api/v1/assets", json=parent).status_code in (200, 201)
    encoded_parent = "acme/table/pg/shop.sales.Bestellungen_Übersicht"
    column = {"type": "Column", "workspace": "acme", "platform": "platform/pg",
              "qualifiedName": f"shop.sales.Bestellungen_Übersicht.{name}", "name": name,
              "dataType": "text", "partOf": encoded_parent}
    # the id given unencoded, as the source spells it
    raw = f"acme/column/pg/shop.sales.Bestellungen_Übersicht.{name}"
    encoded = raw.replace(" ", "%20")
    r = api.post("/api/v1/assets", json={**column, "id": raw})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == encoded
    # the same asset, whichever form the body gives
    again = api.post("/api/v1/assets", json={**column, "id": encoded})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert api.post("/api/v1/assets", json=column).json()["status"] == "unchanged"
    # in URLs: the encoded id quoted as a path, or the name as is (httpx quotes the space)
    for path in (url(encoded), "/api/v1/assets/" + raw):
        got = api.get(path)
        assert got.status_code == 200, (path, got.text)
        assert got.json()["name"] == name
    assert api.patch(url(encoded), json={"description": "agreed"}).status_code == 200
    assert api.patch("/api/v1/assets/" + raw, json={"description": "agreed twice"}).status_code == 200
    assert [v["version"] for v in api.get(url(encoded) + "/versions").json()["versions"]] == \
        [1, 2, 3]
    assert api.get("/api/v1/assets/" + raw + "/versions").status_code == 200
    diff = api.get("/api/v1/assets/" + raw + "/diff", params={"from": 2, "to": 3}).json()
    assert diff["added"]["description"] == "agreed twice"
    put = api.put("/api/v1/assets/" + raw, json={**column, "description": "put"})
    assert put.status_code == 200, put.text
    # references and filters take either form
    listed = api.get("/api/v1/assets", params={"partOf": "acme/table/pg/shop.sales.Bestellungen_Übersicht"})
    assert [i["name"] for i in listed.json()["items"]] == [name]
    assert api.get(f"/api/v1/assets/{raw}/explain").status_code in (200, 404)
    assert api.delete("/api/v1/assets/" + raw).status_code == 204
    assert api.get(url(encoded)).status_code == 404


def test_an_id_that_does_not_match_its_natural_key_is_refused(api: httpx.Client) -> None:
    r = api.post("/api/v1/assets", json={**table("x y"), "id": "acme/table/pg/shop.sales.x%20z"})
    assert r.status_code == 422 and "natural key" in r.text


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/assets?type=a%20b", 400),
    ("GET", "/api/v1/assets/a%20b/explain", 404),
    ("GET", "/api/v1/assets/acme/%25ZZ", 404),
    ("GET", "/api/v1/attributes/a%20b", 404),
    ("GET", "/api/v1/assets?partOf=a%00b", 400),
    ("GET", "/api/v1/assets/a%00b", 400),
])
def test_odd_ids_in_urls_are_precise_4xx(api: httpx.Client, method: str, path: str,
                                         status: int) -> None:
    r = api.request(method, path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_nul_is_refused_and_angle_brackets_are_stored(api: httpx.Client) -> None:
    for field in ("qualifiedName", "name", "description"):
        r = api.post("/api/v1/assets", json={**table("nul"), field: "a\x00b"})
        assert r.status_code == 422, r.text
        assert "NUL" in r.text
    r = api.post("/api/v1/assets", json=table("<weird>"))
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "acme/table/pg/shop.sales.%3Cweird%3E"
    assert api.get(url(r.json()["id"])).json()["name"] == "<weird>"
