"""Several API nodes over one shared change log (issue 18, item 2): three `semcat serve`
processes, each with its own data directory, on one ``nats-server -js`` started here. A write on
any node shows on the others (REST, SPARQL, search); a node killed mid-stream of writes
rejoins with nothing lost or duplicated; two nodes racing on one asset make one winner."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import Catalog, Settings
from catalog.attributes import AttributeSpec
from graph_store.errors import BackendError, PreconditionFailed, ValidationFailed
from tests.conftest import Server
from tests.test_assets_api import SCAFFOLD
from tests.test_nats_changelog import Node, running

LAG_BOUND_S = 10.0  # generous: three servers and a broker share two busy cores here
VERSIONS = ("SELECT ?s ?v WHERE { GRAPH ?g { ?s <https://w3id.org/semcat#version> ?v } }")


def table(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/snowflake",
            "qualifiedName": f"db.sales.{name}", "name": name,
            "partOf": "acme/schema/snowflake/db.sales", "description": f"The {name} table",
            **extra}


def key(name: str) -> str:
    return f"acme/table/snowflake/db.sales.{name}"


def uniq() -> str:
    return "t" + uuid.uuid4().hex[:10]


def node_env(nats: Node) -> dict[str, str]:
    # one query worker each: three nodes' workers would crowd two cores
    return {"SEMCAT_LOG_URL": nats.url, "SEMCAT_QUERY_WORKERS": "1"}


def eventually(check: Callable[[], Any], what: str, bound: float = LAG_BOUND_S) -> Any:
    deadline = time.monotonic() + bound
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound} s: {what}")
        time.sleep(0.05)


def versions(url: str) -> dict[str, int]:
    """Every asset's version on a node, from its SPARQL endpoint."""
    r = httpx.get(url + "/sparql", params={"query": VERSIONS},
                  headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200, r.text
    return {b["s"]["value"]: int(b["v"]["value"]) for b in r.json()["results"]["bindings"]}


def rest_tables(url: str) -> dict[str, int]:
    """Every table's id and version on a node, through REST's list (all pages)."""
    found: dict[str, int] = {}
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"type": "Table", "limit": 1000, **({"cursor": cursor} if cursor else {})}
        body = httpx.get(url + "/api/v1/assets", params=params, timeout=30).json()
        found.update({item["id"]: int(item["version"]) for item in body["items"]})
        cursor = body["next"]
        if not cursor:
            return found


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    with running(tmp_path_factory.mktemp("nats"), "log") as node:
        yield node


@contextmanager
def cluster(root: Path, configs: list[tuple[dict[str, str], tuple[str, ...]]]
            ) -> Iterator[list[Server]]:
    """``semcat serve`` nodes with these (environment, arguments), started one after the other
    (the first creates the stream and writes the ontology), with a database and schema to put
    tables in; all stopped after."""
    started: list[Server] = []
    try:
        for i, (env, args) in enumerate(configs):
            started.append(Server(root / f"node{i}", env=env, args=args).start())
        r = httpx.post(started[0].url + "/api/v1/assets:bulk", json=SCAFFOLD, timeout=30)
        assert r.status_code == 200, r.text
        yield started
    finally:
        for srv in started:
            srv.stop()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, nats: Node) -> Iterator[list[Server]]:
    # node 1 is given the log on the command line, the others in the environment
    with cluster(tmp_path_factory.mktemp("nodes"), [
            (node_env(nats), ()),
            ({"SEMCAT_QUERY_WORKERS": "1"}, ("--log", nats.url.removeprefix("nats://"))),
            (node_env(nats), ())]) as started:
        yield started


def test_a_write_on_one_node_shows_on_the_others(nodes: list[Server]) -> None:
    name = uniq()
    r = httpx.post(nodes[1].url + "/api/v1/assets", json=table(name, description="zebrafinch "
                                                                "ledger of returns"), timeout=30)
    assert r.status_code in (200, 201), r.text
    for srv in (nodes[0], nodes[2]):
        got = eventually(lambda srv=srv: (g := httpx.get(f"{srv.url}/api/v1/assets/{key(name)}",
                                                         timeout=10)).status_code == 200 and g,
                         f"REST on {srv.url}")
        assert got.json()["version"] == 1 and got.json()["name"] == name
        assert eventually(lambda srv=srv: any(s.endswith(key(name)) for s in versions(srv.url)),
                          f"SPARQL on {srv.url}")
        eventually(lambda srv=srv: any(h["id"] == key(name) for h in httpx.get(
            srv.url + "/api/v1/search", params={"q": "zebrafinch", "mode": "keyword"},
            timeout=10).json()["hits"]), f"search on {srv.url}")
    # an update on a third node, then the first: each starts from the other's version
    r = httpx.patch(f"{nodes[2].url}/api/v1/assets/{key(name)}", json={"description": "Second."},
                    headers={"Content-Type": "application/merge-patch+json"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    eventually(lambda: httpx.get(f"{nodes[0].url}/api/v1/assets/{key(name)}",
                                 timeout=10).json()["version"] == 2, "version 2 on node 0")
    r = httpx.delete(f"{nodes[0].url}/api/v1/assets/{key(name)}", headers={"If-Match": '"2"'},
                     timeout=30)
    assert r.status_code in (200, 204), r.text
    for srv in nodes:
        eventually(lambda srv=srv: httpx.get(f"{srv.url}/api/v1/assets/{key(name)}",
                                             timeout=10).status_code == 404, f"gone on {srv.url}")


def test_two_nodes_racing_on_one_asset_make_one_winner(nodes: list[Server]) -> None:
    for _ in range(3):
        name = uniq()
        assert httpx.post(nodes[0].url + "/api/v1/assets", json=table(name),
                          timeout=30).status_code in (200, 201)
        for srv in nodes[1:]:
            eventually(lambda srv=srv, name=name: httpx.get(
                f"{srv.url}/api/v1/assets/{key(name)}", timeout=10).status_code == 200,
                "replicated")
        barrier = threading.Barrier(2)
        results: dict[int, httpx.Response] = {}

        def patch(i: int, name: str = name, barrier: threading.Barrier = barrier,
                  results: dict[int, httpx.Response] = results) -> None:
            barrier.wait()
            results[i] = httpx.patch(
                f"{nodes[i].url}/api/v1/assets/{key(name)}", json={"description": f"By {i}."},
                headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
                timeout=30)

        threads = [threading.Thread(target=patch, args=(i,)) for i in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results.values())
        assert codes[0] == 200 and codes[1] in (409, 412), [r.text for r in results.values()]
        winner = next(i for i, r in results.items() if r.status_code == 200)
        for srv in nodes:
            got = eventually(lambda srv=srv, name=name: (g := httpx.get(
                f"{srv.url}/api/v1/assets/{key(name)}", timeout=10)).json()["version"] == 2 and g,
                f"the winner's version on {srv.url}")
            assert got.json()["description"] == f"By {winner}."


@pytest.mark.slow
def test_a_node_killed_mid_stream_rejoins_with_nothing_lost_or_duplicated(
        nodes: list[Server]) -> None:
    run = uniq()  # this test's tables: db.sales.{run}-{n}
    acked: set[str] = set()
    unknown: set[str] = set()  # sent to the node as it died: written or not
    stop = threading.Event()
    killed = threading.Event()
    counter = iter(range(10**6))

    def write(first: int) -> None:
        i = first
        while not stop.is_set():
            srv = nodes[i % 3]
            i += 1
            if killed.is_set() and srv is nodes[2]:
                continue
            name = f"{run}-{next(counter)}"
            try:
                r = httpx.post(srv.url + "/api/v1/assets", json=table(name), timeout=30)
                (acked if r.status_code in (200, 201) else unknown).add(key(name))
            except httpx.TransportError:
                unknown.add(key(name))

    writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for t in writers:
        t.start()
    time.sleep(3)
    nodes[2].kill()  # SIGKILL, mid-stream
    killed.set()
    time.sleep(3)
    nodes[2] = Server(nodes[2].data, port=nodes[2].port, env=nodes[2].env).start()
    killed.clear()  # it takes writes again
    time.sleep(2)
    stop.set()
    for t in writers:
        t.join()
    assert len(acked) > 20, "too few writes to tell anything"

    def mine(found: dict[str, int]) -> dict[str, int]:
        return {k: v for k, v in found.items() if k.startswith(key(run))}

    tables = [eventually(lambda srv=srv: (t := mine(rest_tables(srv.url))) and set(t) >= acked
                         and t, f"every acknowledged write on {srv.url}", bound=30)
              for srv in nodes]
    # the same assets and versions everywhere, through REST and SPARQL
    assert tables[0] == tables[1] == tables[2]
    assert set(tables[0]) <= acked | unknown  # nothing made up
    assert set(tables[0].values()) == {1}  # nothing applied twice
    stores = [versions(srv.url) for srv in nodes]
    assert stores[0] == stores[1] == stores[2]


def test_a_new_node_bootstraps_from_a_snapshot_and_the_log(nodes: list[Server], nats: Node,
                                                           tmp_path: Path) -> None:
    name, later = uniq(), uniq()
    assert httpx.post(nodes[0].url + "/api/v1/assets", json=table(name),
                      timeout=30).status_code in (200, 201)
    r = httpx.post(nodes[2].url + "/api/v1/snapshots", timeout=60)
    assert r.status_code == 201, r.text
    assert httpx.post(nodes[1].url + "/api/v1/assets", json=table(later),
                      timeout=30).status_code in (200, 201)  # after the snapshot: from the log
    fresh = Server(tmp_path / "fresh", env=node_env(nats), args=("--log-level", "info")).start()
    try:
        for asset in (name, later):
            got = eventually(lambda a=asset: (g := httpx.get(
                f"{fresh.url}/api/v1/assets/{key(a)}", timeout=10)).status_code == 200 and g,
                "the new node has the log's assets")
            assert got.json()["version"] == 1
        assert f"installed the snapshot of changeset {r.json()['seq']}" in fresh.output()
        assert eventually(lambda: versions(fresh.url) == versions(nodes[0].url),
                          "the new node's store equals an old one's")
    finally:
        fresh.stop()


def test_a_data_directory_keeps_its_kind_of_log(nats: Node, tmp_path: Path) -> None:
    """An embedded log's sequence numbers mean nothing on the stream, and the reverse: a data
    directory made with one kind is refused with the other, not merged."""
    Catalog.open(Settings(data=tmp_path / "embedded", query_workers=0)).close()
    with pytest.raises(BackendError, match="its own embedded change log"):
        Catalog.open(Settings(data=tmp_path / "embedded", log_url=nats.url))
    Catalog.open(Settings(data=tmp_path / "node", log_url=nats.url, log_stream="OTHER",
                          query_workers=0)).close()
    with pytest.raises(BackendError, match="node of a shared change log"):
        Catalog.open(Settings(data=tmp_path / "node"))


@pytest.fixture
def lagging(nats: Node, tmp_path: Path) -> Iterator[tuple[Catalog, Catalog]]:
    """Two nodes in this process on their own stream; the second's follower stopped, so it
    stays behind the log until a write of its own meets what it missed."""
    settings = {"log_url": nats.url, "log_stream": "LAG" + uuid.uuid4().hex[:6].upper(),
                "query_workers": 0}
    with Catalog.open(Settings(data=tmp_path / "a", **settings)) as a, \
            Catalog.open(Settings(data=tmp_path / "b", **settings)) as b:
        a.assets.upsert_many(SCAFFOLD, actor="test")
        b.journal.follow()
        assert b.replica is not None
        b.replica.close()
        yield a, b


def test_a_stale_node_catches_up_revalidates_and_retries(lagging: tuple[Catalog, Catalog]) -> None:
    a, b = lagging
    a.assets.upsert(table("orders"), actor="test")
    b.journal.follow()
    a.assets.patch(key("orders"), {"description": "Changed on a."}, actor="test")  # b misses it
    # without If-Match: b's write is refused by the log, b applies a's, reads again, writes
    done = b.assets.patch(key("orders"), {"name": "orders2"}, actor="test")
    assert done.version == 3
    got = b.assets.get(key("orders"))
    assert got["description"] == "Changed on a." and got["name"] == "orders2"
    # with an If-Match that was current when b read it: a's write wins, b's gets 412
    a.assets.patch(key("orders"), {"description": "Again on a."}, actor="test")
    with pytest.raises(PreconditionFailed):
        b.assets.upsert(table("orders", description="stale"), actor="test", if_match=3,
                        key=key("orders"))
    assert b.assets.get(key("orders"))["description"] == "Again on a."
    # a reference to what another node deleted meanwhile: re-validated after catching up
    schema = "acme/schema/snowflake/db.sales"
    b.journal.follow()
    a.assets.delete(key("orders"), actor="test")
    a.assets.delete(schema, actor="test")
    with pytest.raises(ValidationFailed):
        b.assets.upsert(table("returns"), actor="test")
    assert b.journal.applied_seq == a.journal.applied_seq
    assert b.changelog.last_seq == a.changelog.last_seq  # nothing written by the refused ones


def test_a_vocabulary_change_on_one_node_validates_writes_on_another(nats: Node,
                                                                      tmp_path: Path) -> None:
    """Followed changesets that edit the vocabulary recompile the other node's validator and
    REST vocabulary, as a local edit does."""
    settings = {"log_url": nats.url, "log_stream": "VOC" + uuid.uuid4().hex[:6].upper(),
                "query_workers": 0}
    with Catalog.open(Settings(data=tmp_path / "a", **settings)) as a, \
            Catalog.open(Settings(data=tmp_path / "b", **settings)) as b:
        a.assets.upsert_many(SCAFFOLD, actor="test")
        a.attributes.define(AttributeSpec(name="costCenter", label="Cost center",
                                          datatype="string", appliesTo=["Table"],
                                          pattern="^CC-[0-9]+$"), actor="test", create=True)
        eventually(lambda: b.journal.applied_seq == a.journal.applied_seq, "b follows a")
        with b.journal.lock:  # its projections inside the write have run once this is free
            pass
        assert b.assets.upsert(table("costs", costCenter="CC-12"), actor="test").version == 1
        with pytest.raises(ValidationFailed):
            b.assets.upsert(table("costs2", costCenter="twelve"), actor="test")
