"""Tenants keep to their own names (issue 10, items 14 and 15): a workspace's editors cannot
change the shared vocabulary other workspaces depend on, nor write statements about resources
under another workspace's ids, whatever graph they name; Graph Store writes land in the graph
they name or are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyoxigraph import NamedNode

from access.identity import Principal
from catalog import Catalog, Settings
from graph_store.errors import Conflict, Forbidden, InputError, SemcatError
from tests.access_scenario import assets, directory, policies

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
CAROL = Principal("user/carol", "api-key", grants=(("research", "editor"),))
BOB = Principal("user/bob", "api-key")
SHARED = ["platform/pg", "classification/pii", "classification/pii/email", "tag/tier-1",
          "glossary/business/customer", "glossary/business"]
ACME_COLUMN = f"{BASE}/id/acme/column/pg/db.s.customers.planted"


@pytest.fixture(scope="module")
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        c.assets.upsert_many([
            *directory(),
            {"id": "tag/tier-1", "type": "Tag", "name": "Tier 1", "description": "critical"},
            {"id": "glossary/business", "type": "Glossary", "name": "Business"},
            {"id": "glossary/business/customer", "type": "GlossaryTerm", "name": "Customer",
             "description": "someone who buys", "partOf": "glossary/business"},
        ], actor="admin")
        c.assets.upsert_many(assets(), actor="admin")
        c.assets.upsert_many(policies(), actor="admin")
        yield c


def unchanged(cat: Catalog, attempt: object) -> SemcatError:
    seq = cat.journal.applied_seq
    with pytest.raises(SemcatError) as caught:
        attempt()  # type: ignore[operator]
    assert cat.journal.applied_seq == seq
    return caught.value


@pytest.mark.parametrize("key", SHARED)
def test_workspace_editors_cannot_change_shared_vocabulary(cat: Catalog, key: str) -> None:
    before = cat.assets.get(key).get("description")
    with cat.access.acting_as(CAROL):
        error = unchanged(cat, lambda: cat.assets.patch(key, {"description": "by research"},
                                                        actor="carol"))
        assert isinstance(error, Forbidden) and "instance-wide" in error.detail
        unchanged(cat, lambda: cat.sparql.update(
            f"DELETE {{ ?s <{SC}description> ?d }} INSERT {{ ?s <{SC}description> 'x' }} "
            f"WHERE {{ BIND(<{BASE}/id/{key}> AS ?s) OPTIONAL {{ ?s <{SC}description> ?d }} }}",
            actor="carol"))
    assert cat.assets.get(key).get("description") == before


def test_a_workspace_owns_the_vocabulary_it_creates(cat: Catalog) -> None:
    with cat.access.acting_as(CAROL):
        cat.assets.upsert({"id": "tag/lab-only", "type": "Tag", "name": "Lab only",
                           "workspace": "research"}, actor="carol")
        cat.assets.patch("tag/lab-only", {"description": "ours"}, actor="carol")
        unchanged(cat, lambda: cat.assets.patch("tag/lab-only", {"workspace": "acme"},
                                                actor="carol"))
        unchanged(cat, lambda: cat.assets.upsert({"id": "tag/everyones", "type": "Tag",
                                                  "name": "Everyone's"}, actor="carol"))
    assert cat.assets.get("tag/lab-only")["description"] == "ours"


def test_no_writing_under_another_workspaces_ids(cat: Catalog) -> None:
    turtle = (f"<{ACME_COLUMN}> a <{SC}Column> ; <{SC}name> \"planted\" ; "
              f"<{SC}workspace> <{BASE}/id/acme> ; <{SC}platform> <{BASE}/id/platform/pg> ; "
              f"<{SC}qualifiedName> \"db.s.customers.planted\" ; <{SC}dataType> \"TEXT\" ; "
              f"<{SC}partOf> <{BASE}/id/acme/table/pg/db.s.customers> .")
    with cat.access.acting_as(CAROL):
        for graph, refusal in ((f"{BASE}/graph/directory", InputError),  # not acme's graph
                               (f"{BASE}/graph/research/general", InputError),
                               (None, Forbidden)):  # placed in acme's: carol may not write it
            error = unchanged(cat, lambda g=graph: cat.sparql.post_graph(  # type: ignore[misc]
                g, turtle.encode(), "text/turtle", actor="carol"))
            assert type(error) is refusal, error
        unchanged(cat, lambda: cat.sparql.update(
            f"INSERT DATA {{ GRAPH <{BASE}/graph/research/general> {{ {turtle} }} }}",
            actor="carol"))
        unchanged(cat, lambda: cat.sparql.update(f"INSERT DATA {{ {turtle} }}", actor="carol"))
    assert not list(cat.store.quads(NamedNode(ACME_COLUMN), None, None, None))
    with cat.access.acting_as(BOB):
        assert not cat.sparql.query(f"SELECT * WHERE {{ <{ACME_COLUMN}> ?p ?o }}").rows()


def test_graph_store_writes_go_to_the_graph_they_name_or_are_refused(cat: Catalog) -> None:
    column = f"{BASE}/id/acme/column/pg/db.s.customers.phone"
    turtle = (f"<{column}> a <{SC}Column> ; <{SC}name> \"phone\" ; <{SC}workspace> "
              f"<{BASE}/id/acme> ; <{SC}platform> <{BASE}/id/platform/pg> ; <{SC}qualifiedName>"
              f" \"db.s.customers.phone\" ; <{SC}dataType> \"TEXT\" ; <{SC}partOf> "
              f"<{BASE}/id/acme/table/pg/db.s.customers> ; <{SC}classification> "
              f"<{BASE}/id/classification/pii> .").encode()
    for graph, error in ((f"{BASE}/graph/directory", InputError),
                         (f"{BASE}/graph/research/general", InputError),
                         (f"{BASE}/graph/acme/general", Conflict)):  # PII: not general
        found = unchanged(cat, lambda g=graph: cat.sparql.post_graph(  # type: ignore[misc]
            g, turtle, "text/turtle", actor="admin"))
        assert isinstance(found, error), (graph, found)
    cat.sparql.post_graph(None, turtle, "text/turtle", actor="admin")  # ?default places it
    graphs = {q.graph_name.value for q in cat.store.quads(NamedNode(column), None, None, None)}  # type: ignore[union-attr]
    assert f"{BASE}/graph/acme/classification%2Fpii" in graphs
