"""A whole catalog on a remote store: `oxigraph serve`, started here, holds the graphs; the data
directory keeps the change log and the indexes. Writes go through the catalog's write path and
land on the server; SPARQL and REST read them back; a reopened catalog finds them there."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import RdfFormat, parse

from catalog import Catalog
from catalog.settings import Settings
from graph_store.errors import BackendError, InputError
from graph_store.remote_servers import (
    RunningServer,
    ServerUnavailable,
    free_port,
    start_oxigraph,
    start_virtuoso,
)
from graph_store.remote_store import Endpoints, RemoteStore
from sparql_api.app import create_app

BASE = "http://127.0.0.1:8000"
WS = {"workspace": "acme", "platform": "platform/pg"}


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    start = start_oxigraph if request.param == "oxigraph" else start_virtuoso
    try:
        server = start(tmp_path_factory.mktemp(request.param))
    except ServerUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI the {request.param} server must start: {e}")
        pytest.skip(str(e))
    yield server
    server.stop()


def settings(data: Path, server: RunningServer) -> Settings:
    return Settings(data=data, store_url=server.endpoints.query,
                    store_update_url=server.endpoints.update,
                    store_graph_url=server.endpoints.graph, background_projections=False)


def on_server(server: RunningServer, query: str) -> list[dict[str, Any]]:
    """Asked of the server itself, not through semcat."""
    r = httpx.post(server.endpoints.query, data={"query": query, "union-default-graph": ""},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.json()["results"]["bindings"]  # type: ignore[no-any-return]


def test_settings_name_the_endpoints() -> None:
    oxigraph = Settings(data=None, store_url="http://h:7878/query").store_endpoints()
    assert oxigraph == Endpoints("http://h:7878/query", "http://h:7878/update",
                                 "http://h:7878/store")
    virtuoso = Settings(data=None, store_url="http://h:8890/sparql",
                        store_graph_url="http://h:8890/sparql-graph-crud").store_endpoints()
    assert virtuoso == Endpoints("http://h:8890/sparql", "http://h:8890/sparql",
                                 "http://h:8890/sparql-graph-crud")
    assert Settings(data=None).store_endpoints() is None


def test_a_catalog_writes_and_reads_through_the_remote_store(tmp_path: Path,
                                                              server: RunningServer) -> None:
    if server.name == "virtuoso":  # the core shapes bound versions by 2^63 (xsd:integer)
        with pytest.raises(BackendError, match="2\\^59"):
            Catalog.open(settings(tmp_path, server))
        return
    with Catalog.open(settings(tmp_path, server)) as cat:
        assert isinstance(cat.store, RemoteStore)
        assert cat.queries is None  # queries run on the server, not in snapshot workers
        cat.assets.upsert_many([
            {"type": "Database", "qualifiedName": "shop", "name": "shop", **WS},
            {"type": "Schema", "qualifiedName": "shop.sales", "name": "sales",
             "partOf": "acme/database/pg/shop", **WS},
            {"type": "Table", "qualifiedName": "shop.sales.Bestellungen_Übersicht",
             "name": "Bestellungen_Übersicht", "description": "Bestellungen je Kunde 注文",
             "partOf": "acme/schema/pg/shop.sales", **WS}], actor="t")
        key = "acme/table/pg/shop.sales.Bestellungen_Übersicht"
        iri = f"{BASE}/id/{key}"
        # on the server, in the workspace's partition graph
        rows = on_server(server, f"SELECT ?g ?name WHERE {{ GRAPH ?g {{ <{iri}> "
                                   f"<https://w3id.org/semcat#name> ?name }} }}")
        assert [(r["g"]["value"], r["name"]["value"]) for r in rows] == [
            (f"{BASE}/graph/acme/general", "Bestellungen_Übersicht")]
        # through semcat's SPARQL, with the inferences the catalog materialised on the server
        found = cat.sparql.query(f"ASK {{ <{iri}> a <http://www.w3.org/ns/dcat#Dataset> }}")
        assert found.kind == "boolean" and bool(found.raw)
        # through REST
        r = TestClient(create_app(cat)).get(f"/api/v1/assets/{key}")
        assert r.status_code == 200, r.text
        assert r.json()["description"] == "Bestellungen je Kunde 注文"
        cat.assets.patch(key, {"description": "geändert"}, actor="t")
        assert [r["d"]["value"] for r in on_server(  # dct:description: inferred, on the server
            server, f"SELECT ?d WHERE {{ <{iri}> <http://purl.org/dc/terms/description> ?d }}")
        ] == ["geändert"]
        out = io.BytesIO()
        cat.export(out)  # read from the server, graph by graph
        exported = {(q.subject.value, q.object.value)  # type: ignore[union-attr]
                    for q in parse(out.getvalue(), format=RdfFormat.N_QUADS)
                    if q.predicate.value == "https://w3id.org/semcat#description"}
        assert (iri, "geändert") in exported
        with pytest.raises(InputError, match="remote"):
            cat.backup(tmp_path / "backup")
    # a catalog opened again over the same server and data directory finds it all there
    with Catalog.open(settings(tmp_path, server)) as cat:
        assert cat.assets.get(key)["description"] == "geändert"  # type: ignore[index]


def test_an_unreachable_store_fails_the_open_saying_what_to_check(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
    with pytest.raises(BackendError, match=r"unreachable.*SEMCAT_STORE_URL"):
        Catalog.open(Settings(data=tmp_path, store_url=url))
    assert not (tmp_path / "changelog.sqlite").exists()  # nothing was opened before it
