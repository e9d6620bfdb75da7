"""The lineage graph as linked data (issue 13, item 2): ``Accept: application/ld+json`` on
``GET /api/v1/lineage`` answers JSON-LD in the catalog's context that expands to the same lineage
statements SPARQL holds for those assets."""

from __future__ import annotations

import json

import httpx
from rdflib import Graph, URIRef

from tests.conftest import Server

ORDERS = "acme/table/postgres/shop.public.orders"
SC = "https://w3id.org/semcat#"
ID = "http://127.0.0.1:8000/id/"


def test_lineage_graph_as_json_ld(demo_server: Server) -> None:
    with httpx.Client(base_url=demo_server.url, timeout=60) as http:
        r = http.get("/api/v1/lineage", params={"asset": ORDERS, "direction": "downstream",
                                                "depth": 2},
                     headers={"Accept": "application/ld+json"})
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/ld+json")
        doc = r.json()
        plain = http.get("/api/v1/lineage", params={"asset": ORDERS, "direction": "downstream",
                                                    "depth": 2}).json()
        context = http.get("/api/v1/context.jsonld").json()["@context"]
        doc["@context"] = [context, doc["@context"][1]]
        g = Graph().parse(data=json.dumps(doc), format="json-ld")
        flows = {(str(s).removeprefix(ID), str(p).removeprefix(SC), str(o).removeprefix(ID))
                 for s, p, o in g if str(p) in (SC + "derivedFrom", SC + "consumes",
                                                SC + "produces")}
        expected = {(e["source"], "produces", e["target"]) if e["via"] == "produces" else
                    (e["target"], e["via"], e["source"]) for e in plain["edges"]}
        assert flows == expected and len(flows) >= 2
        for s, _, o in flows:  # every statement is one SPARQL also holds
            ask = (f"ASK {{ <{ID}{s}> ?p <{ID}{o}> }}")
            assert http.get("/sparql", params={"query": ask},
                            headers={"Accept": "application/sparql-results+json"}
                            ).json()["boolean"]
        names = {str(s).removeprefix(ID) for s in g.subjects(URIRef(SC + "name"), None)}
        assert {n["id"] for n in plain["nodes"]} <= names
        assert doc["total"] == plain["total"] and doc["partial"] is False
        assert http.get("/api/v1/lineage", params={"asset": ORDERS},
                        headers={"Accept": "text/csv"}).status_code == 406
