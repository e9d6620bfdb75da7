"""A refused write is never persisted (issue 10, item 1): random refused writes over REST, bulk,
SPARQL Update and the Graph Store protocol, against a real server, leave the change log and the
store exactly as they were, and the catalog opens again afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Dataset, RdfFormat, parse

from tests.access_scenario import assets, directory, policies
from tests.conftest import Server
from tests.test_api_keys import cli_key

BASE = "http://127.0.0.1:8000"
SHAPES = f"{BASE}/graph/shapes"
INFERRED = f"{BASE}/graph/inferred/acme/general"
MAX_BODY = 200_000
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Write:
    """One attempted write: who sends what where, and why it must be refused."""

    why: str
    who: str
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def send(self, client: httpx.Client, tokens: dict[str, str]) -> httpx.Response:
        return client.request(self.method, self.path, content=self.body, headers={
            "Content-Type": self.content_type, "X-API-Key": tokens[self.who],
            **dict(self.headers)})


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("refused"),
                    env={"SEMCAT_OPEN": "0", "SEMCAT_MAX_BODY_BYTES": str(MAX_BODY)}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(srv: Server) -> dict[str, str]:
    tokens = {"admin": cli_key(srv.data, "--user", "user/alice", "--admin")}
    with httpx.Client(base_url=srv.url, timeout=60,
                      headers={"X-API-Key": tokens["admin"]}) as admin:
        for batch in (directory(), assets(), policies()):
            r = admin.post("/api/v1/assets:bulk", json=batch)
            assert r.status_code == 200, r.text
    tokens["bob"] = cli_key(srv.data, "--user", "user/bob")  # acme reader, a contractor
    tokens["carol"] = cli_key(srv.data, "--user", "user/carol", "--workspace", "research",
                              "--role", "editor")
    return tokens


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
TABLE = "acme/table/pg/db.s.customers"


def _table(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/pg", "name": name,
            "qualifiedName": f"db.s.{name}", "partOf": "acme/schema/pg/db.s", **extra}


@st.composite
def rest_writes(draw: st.DrawFn) -> Write:
    name = draw(NAMES)
    good = _table(name)
    bad = draw(st.sampled_from([
        ("no name", {k: v for k, v in good.items() if k != "name"}),
        ("unknown property", {**good, "colour": "red"}),
        ("position is not an integer", {**good, "position": "first"}),
        ("unknown type", {**good, "type": "Spreadsheet"}),
        ("nested object", {**good, "owners": [{"name": "x"}]}),
        ("id differs from natural key", {**good, "id": f"acme/table/pg/other.{name}"}),
        ("reserved workspace", {**good, "workspace": "inferred", "id": None}),
        ("bad policy effect", {"id": f"policy/{name}", "type": "AccessPolicy", "name": name,
                               "effect": "alow", "action": "read"}),
    ]))
    why, item = bad
    item = {k: v for k, v in item.items() if v is not None}
    return draw(st.sampled_from([
        Write(f"POST {why}", "admin", "POST", "/api/v1/assets", _j(item)),
        Write(f"bulk {why}", "admin", "POST", "/api/v1/assets:bulk",
              _j([_table(name + "_ok"), item])),
        Write("viewer creates", "bob", "POST", "/api/v1/assets", _j(good)),
        Write("viewer bulk", "bob", "POST", "/api/v1/assets:bulk", _j([good])),
        Write("other workspace's editor", "carol", "POST", "/api/v1/assets", _j(good)),
        Write(f"PATCH {why}", "admin", "PATCH", f"/api/v1/assets/{TABLE}",
              _j({"position": "x"} if why == "no name" else {"colour": name}),
              "application/merge-patch+json"),
        Write("viewer patches", "bob", "PATCH", f"/api/v1/assets/{TABLE}",
              _j({"description": name}), "application/merge-patch+json"),
        Write("stale If-Match", "admin", "PUT", f"/api/v1/assets/{TABLE}",
              _j({**_table("customers"), "description": name}), headers=(("If-Match", '"999"'),)),
        Write("viewer deletes", "bob", "DELETE", f"/api/v1/assets/{TABLE}"),
        Write("malformed JSON", "admin", "POST", "/api/v1/assets", b'{"type": "Table",'),
        Write("oversized", "admin", "POST", "/api/v1/assets:bulk",
              _j([_table(f"{name}{i}", description="x" * 1000) for i in range(250)])),
        Write("bad rule text", "admin", "POST", "/api/v1/rules",
              _j({"name": name, "construct": f"SELECT * WHERE {{ ?this ?p {name} }}"})),
    ]))


def _update(text: str) -> bytes:
    return text.encode()


@st.composite
def sparql_writes(draw: st.DrawFn) -> Write:
    name = draw(NAMES)
    s = f"<{BASE}/id/acme/table/pg/db.s.{name}>"
    sc = "PREFIX semcat: <https://w3id.org/semcat#> PREFIX sh: <http://www.w3.org/ns/shacl#> "
    text, who, why = draw(st.sampled_from([
        (f"INSERT DATA {{ {s} a semcat:Table ; semcat:name 1 }}", "admin", "SHACL: no platform"),
        (f"INSERT DATA {{ {s} semcat:name \"{name}\" ", "admin", "syntax"),
        (f"INSERT DATA {{ GRAPH <{INFERRED}> {{ {s} semcat:name \"{name}\" }} }}", "admin",
         "inferred graph"),
        (f"INSERT DATA {{ GRAPH <{SHAPES}> {{ <urn:{name}> a sh:NodeShape ; sh:targetClass "
         f"semcat:Table ; sh:or ( [ sh:path semcat:name ] ) }} }}", "admin", "unsupported shape"),
        (f"INSERT DATA {{ <{BASE}/id/{TABLE}> semcat:description \"{name}\" }}", "bob",
         "viewer"),
        (f"DELETE WHERE {{ <{BASE}/id/{TABLE}> semcat:description ?d }}", "bob", "viewer"),
        (f"INSERT DATA {{ <{BASE}/id/rule/{name}> a semcat:ClassificationRule ; semcat:name "
         f"\"{name}\" ; semcat:construct \"CONSTRUCT {{ ?x ?y ?z }}\" }}", "admin", "bad rule"),
        (f"INSERT DATA {{ <{BASE}/id/policy/{name}> a semcat:AccessPolicy ; semcat:name "
         f"\"{name}\" ; semcat:effect \"perhaps\" ; semcat:action \"read\" }}", "admin",
         "bad policy"),
    ]))
    path = draw(st.sampled_from(["/sparql", "/update"]))
    return Write(f"SPARQL {why}", who, "POST", path, _update(sc + text),
                 "application/sparql-update")


@st.composite
def store_writes(draw: st.DrawFn) -> Write:
    name = draw(NAMES)
    prefixes = ("@prefix semcat: <https://w3id.org/semcat#> . "
                "@prefix sh: <http://www.w3.org/ns/shacl#> . ")
    unsupported = draw(st.sampled_from(["sh:or", "sh:xone", "sh:and"]))
    shape = (f"{prefixes} <urn:shape:{name}> a sh:NodeShape ; sh:targetClass semcat:Table ; "
             f"{unsupported} ( [ sh:path semcat:name ; sh:minCount 1 ] ) .")
    table = f"<{BASE}/id/acme/table/pg/db.s.{name}>"
    why, who, method, graph, body = draw(st.sampled_from([
        ("unsupported shape", "admin", "POST", SHAPES, shape),
        ("unsupported shape", "admin", "PUT", SHAPES, shape),
        ("malformed Turtle", "admin", "PUT", f"{BASE}/graph/acme/general", f"{table} a ."),
        ("inferred graph", "admin", "POST", INFERRED, f"{prefixes} {table} semcat:name \"x\" ."),
        ("viewer", "bob", "POST", f"{BASE}/graph/acme/general",
         f"{prefixes} <{BASE}/id/{TABLE}> semcat:description \"{name}\" ."),
        ("viewer", "bob", "DELETE", f"{BASE}/graph/acme/general", ""),
        ("SHACL", "admin", "POST", f"{BASE}/graph/acme/general",
         f"{prefixes} {table} a semcat:Table ; semcat:name \"{name}\" ."),
    ]))
    return Write(f"GSP {method} {why}", who, method, f"/store?graph={graph}", body.encode(),
                 "text/turtle")


@st.composite
def governance_writes(draw: st.DrawFn) -> Write:
    """Ontology, attribute and tenancy refusals (a few reach the DL reasoner: slower)."""
    name = draw(NAMES)
    cls = "Gizmo" + name.replace("_", "").capitalize()
    owl = ("@prefix semcat: <https://w3id.org/semcat#> . "
           "@prefix owl: <http://www.w3.org/2002/07/owl#> . "
           "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . ")
    column = {"type": "Column", "workspace": "research", "platform": "platform/pg",
              "qualifiedName": f"db.s.experiments.{name}", "name": name, "dataType": "TEXT",
              "partOf": "research/table/pg/db.s.experiments"}
    planted = (f"{owl} <{BASE}/id/acme/column/pg/db.s.customers.{name}> a semcat:Column ; "
               f"semcat:name \"{name}\" .")
    return draw(st.sampled_from([
        Write("class with unknown parent", "admin", "POST", "/api/v1/ontology/classes",
              _j({"name": cls, "label": name, "parent": "NoSuchClass"})),
        Write("unsatisfiable class", "admin", "POST", "/api/v1/ontology/classes",
              _j({"name": cls, "label": name, "parent": "Table", "disjointWith": ["Table"]})),
        Write("bad attribute", "admin", "POST", "/api/v1/attributes",
              _j({"name": name.upper() + "!", "label": name, "datatype": "string",
                  "appliesTo": ["Table"]})),
        Write("attribute on unknown class", "admin", "POST", "/api/v1/attributes",
              _j({"name": "a" + name.replace("_", "") + "x", "label": name,
                  "datatype": "string", "appliesTo": ["Spreadsheet"]})),
        Write("GSP unsatisfiable axiom", "admin", "POST",
              f"/store?graph={BASE}/graph/ontology/custom",
              f"{owl} <urn:x:{name}> a owl:Class ; rdfs:subClassOf semcat:Table , "
              "semcat:Column . semcat:Table owl:disjointWith semcat:Column .".encode(),
              "text/turtle"),
        Write("another tenant's ids", "carol", "POST", "/store?default", planted.encode(),
              "text/turtle"),
        Write("another tenant's ids in own graph", "carol", "POST",
              f"/store?graph={BASE}/graph/research/general", planted.encode(), "text/turtle"),
        Write("shared vocabulary", "carol", "PATCH", "/api/v1/assets/platform/pg",
              _j({"description": name}), "application/merge-patch+json"),
        Write("reference to a hidden asset", "carol", "POST", "/api/v1/assets",
              _j({**column, "derivedFrom": ["acme/column/pg/db.s.customers.email"]})),
    ]))


def state(client: httpx.Client, token: str) -> tuple[int, str]:
    """(applied change-log position, the store's asserted content as canonical N-Quads)."""
    seq = client.get("/healthz").json()["appliedSeq"]
    r = client.get("/store", headers={"Accept": "application/n-quads", "X-API-Key": token})
    assert r.status_code == 200, r.text
    return seq, canonical(r.content)


def canonical(nquads: bytes) -> str:
    dataset = Dataset(parse(nquads, format=RdfFormat.N_QUADS))
    from pyoxigraph import CanonicalizationAlgorithm
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return "\n".join(sorted(str(q) for q in dataset))


def test_refused_writes_persist_nothing_and_the_catalog_reopens(srv: Server,
                                                                tokens: dict[str, str]) -> None:
    with httpx.Client(base_url=srv.url, timeout=60) as client:
        before = state(client, tokens["admin"])
        refused: dict[str, int] = {}

        @settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.one_of(rest_writes(), sparql_writes(), store_writes(),
                         governance_writes()))
        def attempt(write: Write) -> None:
            start = client.get("/healthz").json()["appliedSeq"]
            r = write.send(client, tokens)
            seq = client.get("/healthz").json()["appliedSeq"]
            assert 400 <= r.status_code < 500, (write, r.status_code, r.text)
            assert seq == start, f"{write.why} was refused ({r.status_code}) but logged"
            refused[write.why] = refused.get(write.why, 0) + 1

        attempt()
        assert state(client, tokens["admin"]) == before
    assert len(refused) >= 30, refused  # the strategies reached most kinds of refusal
    srv.stop()  # a restart opens the catalog from its log and store
    srv.start()
    with httpx.Client(base_url=srv.url, timeout=60) as client:
        assert state(client, tokens["admin"]) == before
        r = client.post("/sparql", headers={"X-API-Key": tokens["admin"]},
                        data={"query": "ASK { ?s ?p ?o }"})
        assert r.status_code == 200, r.text
