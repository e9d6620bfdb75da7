"""Projections off the write path (issue 12, item 1): a write is acknowledged once it is logged
and applied; the text index, inference and classification rules follow from the log on a
thread of their own, read-your-writes is one parameter away, a crash at any point loses no
projection, and what decides access is settled before the ack."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from pyoxigraph import Literal, NamedNode, Quad

from catalog import Catalog, Settings
from graph_store.changelog import ChangeLog
from graph_store.changeset import Changeset
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.oxigraph_store import OxigraphStore
from graph_store.projector import Projector
from tests.access_scenario import assets, directory, policies
from tests.conftest import Server
from tests.test_derived_access import BOB, RULE, column, key, table

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
NAME = NamedNode(SC + "name")
SCAFFOLD: list[dict[str, object]] = [
    {"id": "platform/pg", "type": "DataPlatform", "name": "PG", "description": "pg"},
    {"id": "acme", "type": "Workspace", "name": "Acme", "description": "a tenant"},
    {"id": "acme/database/pg/crash", "type": "Database", "workspace": "acme",
     "platform": "platform/pg", "name": "crash", "qualifiedName": "crash", "description": "db"},
    {"id": "acme/schema/pg/crash.s", "type": "Schema", "workspace": "acme",
     "platform": "platform/pg", "name": "s", "qualifiedName": "crash.s", "description": "s",
     "partOf": "acme/database/pg/crash"}]


def test_writes_are_acknowledged_while_a_projection_is_at_work(tmp_path: Path) -> None:
    layout = GraphLayout(BASE)
    store = OxigraphStore(tmp_path / "store")
    changelog = ChangeLog(tmp_path / "log.sqlite")
    journal = Journal(store, changelog, layout)
    held = threading.Event()
    seen: list[list[int]] = []
    states: list[bool] = []

    def slow(batch: Sequence[Changeset]) -> None:  # re-reads what changed, like the text index
        held.wait(30)
        seen.append([cs.seq for cs in batch])

    def incremental(batch: Sequence[Changeset]) -> None:  # must see the store at batch's end
        states.append(journal.applied_seq == batch[-1].seq)

    projector = Projector(journal, [("incremental", incremental)], [("slow", slow)],
                          background=True)
    graph = NamedNode(f"{BASE}/graph/test")
    try:
        for i in range(5):
            s = NamedNode(f"{BASE}/id/thing/{i}")
            assert journal.commit([], [Quad(s, NAME, Literal(f"thing {i}"), graph)],
                                  actor="test", message=f"write {i}") is not None
        # every write is acknowledged and applied while the projection is still held up
        assert journal.applied_seq == 5 and projector.position < 5 and projector.behind() > 0
        assert not projector.wait(timeout=0.2)
        held.set()
        assert projector.wait(timeout=30) and projector.behind() == 0
        # every changeset reached the projection once, in order, in batches
        assert [seq for batch in seen for seq in batch] == [1, 2, 3, 4, 5]
        assert len(seen) < 5 and all(states)
    finally:
        held.set()
        projector.close()
        changelog.close()
        store.close()


def test_read_your_writes_over_http(server: Server, http: httpx.Client) -> None:
    assert http.post("/api/v1/assets:bulk", json=SCAFFOLD).status_code == 200
    made = http.post("/api/v1/assets", json={
        "type": "Table", "workspace": "acme", "platform": "platform/pg",
        "id": "acme/table/pg/crash.s.y", "qualifiedName": "crash.s.y", "name": "y",
        "partOf": "acme/schema/pg/crash.s", "description": "zanzibarian ledger"})
    assert made.status_code == 201, made.text
    position = made.headers["semcat-position"]
    # after=: search, SPARQL over the inferred graphs and the asset list wait for the position
    found = http.get("/api/v1/search", params={"q": "zanzibarian", "mode": "keyword",
                                               "after": position}).json()
    assert [h["id"] for h in found["hits"]] == ["acme/table/pg/crash.s.y"]
    ask = f"ASK {{ <{BASE}/id/acme/table/pg/crash.s.y> a <{SC}DataAsset> }}"
    r = http.get("/sparql", params={"query": ask, "after": position},
                 headers={"accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is True and r.headers["semcat-inference"].startswith("current")
    # wait=true: the write answers once everything reflects it
    patched = http.patch("/api/v1/assets/acme/table/pg/crash.s.y?wait=true",
                         json={"description": "quetzalcoatlian ledger"})
    assert patched.status_code == 200, patched.text
    hits = http.get("/api/v1/search", params={"q": "quetzalcoatlian", "mode": "keyword"}).json()
    assert [h["id"] for h in hits["hits"]] == ["acme/table/pg/crash.s.y"]
    assert set(http.get("/readyz").json()["lag"].values()) == {0}


def _writer(url: str, start: int, acknowledged: list[int], stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        i = start
        while not stop.is_set():
            try:
                r = http.post("/api/v1/assets", json={
                    "type": "Table", "workspace": "acme", "platform": "platform/pg",
                    "id": f"acme/table/pg/crash.s.t{i}", "qualifiedName": f"crash.s.t{i}",
                    "name": f"t{i}", "description": f"crashword{i} table",
                    "partOf": "acme/schema/pg/crash.s"})
            except httpx.TransportError:
                return  # the server is gone
            if r.status_code == 201:
                acknowledged.append(i)
            i += 1


def test_projections_catch_up_after_sigkill_at_random_points(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Catalog.open(Settings(data=data)) as cat:
        cat.assets.upsert_many([*SCAFFOLD, {"id": "classification/crash",
                                             "type": "Classification", "name": "Crash",
                                             "description": "crash tables"}], actor="test")
        cat.rules.create({"id": "rule/crash", "name": "crash tables", "construct": (
            "CONSTRUCT { ?this semcat:classification <classification/crash> } WHERE { "
            "?this a semcat:Table ; semcat:name ?n . FILTER(STRSTARTS(?n, \"t\")) }")},
            actor="test")
    rng = random.Random(12)
    acknowledged: list[int] = []
    for _ in range(3):
        srv = Server(data).start()
        stop = threading.Event()
        writer = threading.Thread(target=_writer, args=(srv.url, len(acknowledged) * 10 + 1000
                                                        + rng.randrange(100), acknowledged, stop))
        writer.start()
        time.sleep(rng.uniform(0.5, 2.5))
        srv.kill()
        stop.set()
        writer.join()
    assert len(acknowledged) > 5
    srv = Server(data).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            assert set(http.get("/readyz").json()["lag"].values()) == {0}
            for i in acknowledged:
                hits = http.get("/api/v1/search", params={"q": f"crashword{i}",
                                                          "mode": "keyword"}).json()["hits"]
                assert [h["id"] for h in hits] == [f"acme/table/pg/crash.s.t{i}"], i
            rows = http.get("/sparql", params={"query": f"""
                SELECT ?t WHERE {{ ?t a <{SC}DataAsset> ;
                                      <{SC}classification> <{BASE}/id/classification/crash> ;
                                      <{SC}partOf> <{BASE}/id/acme/schema/pg/crash.s> }}"""},
                            headers={"accept": "application/sparql-results+json"}).json()
            inferred_and_classified = {b["t"]["value"].rsplit(".t", 1)[1]
                                       for b in rows["results"]["bindings"]}
            assert {str(i) for i in acknowledged} <= inferred_and_classified
    finally:
        srv.stop()


def test_derived_pii_is_routed_before_the_ack(tmp_path: Path) -> None:
    """A contractor reading all along never sees a column that is PII only by a rule or by
    lineage, while the projections (the rule's conclusions, inference) follow behind."""
    with Catalog.open(Settings(data=tmp_path / "data")) as cat:
        cat.assets.upsert_many([*directory(), *assets(), *policies()], actor="admin")
        cat.assets.upsert_many([table("orders"), column("orders", "id")], actor="admin")
        cat.rules.create(RULE, actor="admin")
        cat.settle()
        seen: set[str] = set()
        stop = threading.Event()

        def contractor() -> None:
            query = f"SELECT ?c WHERE {{ ?c a <{SC}Column> }}"
            with cat.access.acting_as(BOB):
                while not stop.is_set():
                    seen.update(row["c"].value for row in cat.sparql.query(query).rows())

        reader = threading.Thread(target=contractor)
        reader.start()
        try:
            for i in range(15):
                cat.assets.upsert_many([
                    column("orders", f"buyer_email_{i}"),  # PII by the rule
                    column("orders", f"contact_{i}", derivedFrom=[key("orders", f"buyer_email_{i}")]),
                    column("orders", f"plain_{i}")], actor="admin")
        finally:
            stop.set()
            reader.join()
        cat.settle()
        names = {iri.rsplit(".", 1)[1] for iri in seen}
        assert not {n for n in names if n.startswith(("buyer_email", "contact"))}
        assert {f"plain_{i}" for i in range(14)} <= names  # the reader was reading
        # the rule's conclusion follows, and the contractor still cannot read the columns
        derived = cat.classifier.graphs()
        assert any(True for g in derived for _ in cat.store.quads(
            NamedNode(f"{BASE}/id/{key('orders', 'buyer_email_3')}"), None, None, g))
        with cat.access.acting_as(BOB):
            rows = cat.sparql.query(f"SELECT ?c WHERE {{ ?c a <{SC}Column> }}").rows()
        assert not [r["c"].value for r in rows
                    if r["c"].value.rsplit(".", 1)[1].startswith(("buyer_email", "contact"))]


def test_concurrent_patches_of_one_asset_lose_nothing(tmp_path: Path) -> None:
    """A patch reads and merges without the journal lock; a write landing in between makes it
    read again, so two writers patching different fields of one asset both keep theirs."""
    with Catalog.open(Settings(data=tmp_path / "data")) as cat:
        cat.assets.upsert_many(SCAFFOLD, actor="test")
        key, rounds = "acme/schema/pg/crash.s", 25
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def patcher(field: str) -> None:
            start.wait()
            try:
                for i in range(rounds):
                    cat.assets.patch(key, {field: f"{field} {i}"}, actor="test")
            except BaseException as e:
                failures.append(e)

        threads = [threading.Thread(target=patcher, args=(f,)) for f in ("name", "description")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures
        doc = cat.assets.get(key)
        assert (doc["name"], doc["description"]) == (f"name {rounds - 1}",
                                                     f"description {rounds - 1}")
        assert doc["version"] == 1 + 2 * rounds
