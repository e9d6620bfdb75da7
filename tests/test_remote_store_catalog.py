"""A whole catalog on a remote store: `oxigraph serve`, started here, holds the graphs; the data
directory keeps the change log and the indexes. Writes go through the catalog's write path and
land on the server; SPARQL and REST read them back; a reopened catalog finds them there."""

from __future__ import annotations

import io
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from catalog import Catalog
from catalog.settings import Settings
from graph_store import remote_store
from graph_store.changeset import Changeset
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
DESCRIPTION = NamedNode("https://w3id.org/semcat#description")


def started(name: str, root: Path) -> Iterator[RunningServer]:
    """``oxigraph`` or ``virtuoso``, started in ``root`` (skipped where it cannot start,
    failed under CI=true)."""
    start = start_oxigraph if name == "oxigraph" else start_virtuoso
    try:
        server = start(root)
    except ServerUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI the {name} server must start: {e}")
        pytest.skip(str(e))
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from started(request.param, tmp_path_factory.mktemp(request.param))


def settings(data: Path, server: RunningServer, **extra: Any) -> Settings:
    return Settings(data=data, store_url=server.endpoints.query,
                    store_update_url=server.endpoints.update,
                    store_graph_url=server.endpoints.graph, background_projections=False,
                    **extra)


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


# -- several nodes sharing one store -------------------------------------------------------------
def _described(store: RemoteStore, s: NamedNode) -> set[str]:
    return {q.object.value for q in store.quads(s, DESCRIPTION, None, None)}  # type: ignore[union-attr]


def test_nodes_sharing_a_store_apply_each_changeset_once_and_in_order(
        server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = "SHARED" + uuid.uuid4().hex[:6].upper()
    store = RemoteStore(server.endpoints, derived=f"{BASE}/graph/inferred")
    positions = NamedNode(f"{BASE}/graph/inferred/log-positions")
    store.share_log(stream, head=0, graph=positions)
    s, g = NamedNode(f"{BASE}/id/acme/table/pg/shared-{stream}"), NamedNode(f"{BASE}/graph/acme/general")

    def change(seq: int, old: str | None, new: str) -> Changeset:
        return Changeset("t", "m", "", (Quad(s, DESCRIPTION, Literal(old), g),) if old else (),
                         (Quad(s, DESCRIPTION, Literal(new), g),), seq=seq)

    log = [change(1, None, "v1"), change(2, "v1", "v2"), change(3, "v2", "v3")]
    for cs in log[:2]:
        store.apply_logged(cs)
    for cs in log[:2]:  # another node, behind, replays them: nothing goes back
        store.apply_logged(cs)
        assert _described(store, s) == {"v2"}
    assert store.log_position() == 2
    store.apply_logged(log[2])
    assert _described(store, s) == {"v3"} and store.log_position() == 3
    monkeypatch.setattr(remote_store, "ATOMIC_LIMIT", 1)  # too large for one request: in parts
    store.apply_logged(change(4, "v3", "v4"))
    store.apply_logged(change(3, "v4", "v3"))  # replayed: checked first, skipped
    assert _described(store, s) == {"v4"} and store.log_position() == 4
    monkeypatch.setattr(remote_store, "ATOMIC_LIMIT", 5_000)
    monkeypatch.setattr(remote_store, "OP_LIMIT", 1)  # one request of several operations
    two = Changeset("t", "m", "", (Quad(s, DESCRIPTION, Literal("v4"), g),),
                    (Quad(s, DESCRIPTION, Literal("v5"), g), Quad(s, DESCRIPTION, Literal("w5"), g)),
                    seq=5)
    store.apply_logged(two)
    store.apply_logged(change(4, "v5", "v4"))
    assert _described(store, s) == {"v5", "w5"} and store.log_position() == 5
    # a stream that ends before the store's position is another one, or was made again
    with pytest.raises(BackendError, match="recreated"):
        RemoteStore(server.endpoints, derived=f"{BASE}/graph/inferred").share_log(
            stream, head=4, graph=positions)
    # a store no log is shared on applies as it is told (one node: its log is the order)
    alone = RemoteStore(server.endpoints, derived=f"{BASE}/graph/inferred")
    alone.apply_logged(change(1, "v5", "v1"))
    assert _described(alone, s) == {"v1", "w5"}


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Oxigraph alone: Virtuoso cannot hold a catalog (its integers, above)."""
    yield from started("oxigraph", tmp_path_factory.mktemp("oxigraph-shared"))


def test_a_node_that_replays_the_log_never_writes_an_older_state_to_the_shared_store(
        oxigraph: RunningServer, tmp_path: Path) -> None:
    """Three-node deployments on one `oxigraph serve` (docs/scaling.md): a node that joins or
    comes back replays the log; readers of the server must never see the states it passes."""
    from tests.test_assets_api import SCAFFOLD, table
    from tests.test_nats_changelog import running

    with running(tmp_path, "shared-store") as nats:
        extra = {"log_url": nats.url, "log_stream": "SHARED" + uuid.uuid4().hex[:6].upper(),
                 "log_bootstrap": False, "query_workers": 0}
        key = "acme/table/snowflake/db.sales.shared"
        iri = f"{BASE}/id/{key}"
        with Catalog.open(settings(tmp_path / "a", oxigraph, **extra)) as a:
            a.assets.upsert_many([*SCAFFOLD, table("shared", description="take 0")], actor="t")
            for i in range(1, 61):
                a.assets.patch(key, {"description": f"take {i}"}, actor="t")
            last = a.journal.applied_seq
        seen: list[str] = []
        stop = threading.Event()

        def watch() -> None:
            query = f"SELECT ?d WHERE {{ GRAPH ?g {{ <{iri}> <{DESCRIPTION.value}> ?d }} }}"
            with httpx.Client() as http:
                while not stop.is_set():
                    r = http.post(oxigraph.endpoints.query, data={"query": query},
                                  headers={"Accept": "application/sparql-results+json"})
                    seen.extend(b["d"]["value"] for b in r.json()["results"]["bindings"])

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:  # b comes with an empty data directory: it replays every changeset of the log
            with Catalog.open(settings(tmp_path / "b", oxigraph, **extra)) as b:
                assert b.journal.applied_seq == last
                assert b.assets.get(key)["description"] == "take 60"  # type: ignore[index]
                assert isinstance(b.store, RemoteStore) and b.store.log_position() == last
        finally:
            stop.set()
            watcher.join()
        assert len(seen) > 10 and set(seen) == {"take 60"}
