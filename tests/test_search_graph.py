"""Graph-aware search: lineage, hierarchy and SPARQL-pattern filters, entailed types and
classifications in the index, search inside SPARQL (SERVICE semcat:search) over a real server,
and the ``readable`` restriction of hits, totals, facets and semantic matches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pyoxigraph import NamedNode, Quad

from catalog import Catalog, Settings
from graph_store.errors import Forbidden, InputError, NotFound
from ontology.namespaces import SEMCAT
from search.model import SearchRequest, SearchResult
from tests.conftest import Server

ORDERS = "acme/table/postgres/shop.public.orders"
SHOP_ORDERS = "acme/table/snowflake/analytics.raw.shop_orders"
FCT_ORDERS = "acme/table/snowflake/analytics.marts.fct_orders"
PREFIX = f"PREFIX semcat: <{SEMCAT}>\n"
JSON = "application/sparql-results+json"


def ids(result: SearchResult) -> list[str]:
    return [h.id for h in result.hits]


def everything(cat: Catalog, readable: list[str] | None = None,
               **options: Any) -> SearchResult:
    return cat.search.run(SearchRequest(mode="keyword", limit=200, **options),
                          readable=readable)


def sparql_keys(cat: Catalog, query: str) -> set[str]:
    return {cat.layout.key(s["asset"].value) for s in cat.sparql.query(PREFIX + query).raw}


# -- lineage -------------------------------------------------------------------------------------


def test_downstream_filter_equals_the_lineage_closure(demo_catalog: Catalog) -> None:
    iri = demo_catalog.layout.iri(ORDERS)
    closure = sparql_keys(demo_catalog, f"SELECT DISTINCT ?asset WHERE {{ ?asset "
                          f"semcat:derivedFrom+ <{iri}> }}")
    found = everything(demo_catalog, downstream_of=ORDERS, facets=("type",))
    assert len(closure) > 10
    assert set(ids(found)) == closure and found.total == len(closure)
    assert sum(v.count for v in found.facets["type"]) == found.total
    hops = {h.id: h.why["graph"][0]["hops"] for h in found.hits}
    assert hops[SHOP_ORDERS] == 1 and max(hops.values()) > 2
    near = everything(demo_catalog, downstream_of=ORDERS, depth=1)
    assert set(ids(near)) == {k for k, n in hops.items() if n == 1} and SHOP_ORDERS in ids(near)


def test_upstream_filter_by_iri_with_text_relevance(demo_catalog: Catalog) -> None:
    fct = demo_catalog.layout.iri(FCT_ORDERS)
    up = everything(demo_catalog, upstream_of=fct)
    assert ORDERS in ids(up) and FCT_ORDERS not in ids(up)
    why = next(h.why for h in up.hits if h.id == ORDERS)["graph"]
    assert why == [{"filter": "upstreamOf", "of": FCT_ORDERS, "hops": 3}]
    ranked = demo_catalog.search.run(SearchRequest(q="order items", mode="keyword",
                                                   upstream_of=FCT_ORDERS))
    unfiltered = demo_catalog.search.run(SearchRequest(q="order items", mode="keyword"))
    assert 0 < ranked.total < unfiltered.total and set(ids(ranked)) <= set(ids(up))
    assert ids(ranked)[0] == "acme/table/postgres/shop.public.order_items"


def test_both_lineage_filters_intersect(demo_catalog: Catalog) -> None:
    between = everything(demo_catalog, downstream_of=ORDERS, upstream_of=FCT_ORDERS)
    assert SHOP_ORDERS in ids(between) and ORDERS not in ids(between)
    for hit in between.hits:
        assert {g["filter"] for g in hit.why["graph"]} == {"downstreamOf", "upstreamOf"}


# -- SPARQL patterns and hierarchies ------------------------------------------------------------


def test_where_pattern_filters_the_hit_set(demo_catalog: Catalog) -> None:
    where = '{ ?asset semcat:partOf/semcat:partOf ?s . ?s semcat:name "marts" }'
    expected = sparql_keys(demo_catalog, f"SELECT DISTINCT ?asset WHERE {where}")
    result = demo_catalog.search.run(SearchRequest(q="email", mode="hybrid", where=where,
                                                   facets=("type",)))
    assert result.total > 0 and set(ids(result)) <= expected
    assert [v.value for v in result.facets["type"]] == ["Column"]
    assert result.facets["type"][0].count == result.total
    assert all({"filter": "where"} in h.why["graph"] for h in result.hits)
    listed = everything(demo_catalog, where=where)
    assert listed.total == len(expected)


@pytest.mark.parametrize(("where", "error"), [
    ("?asset a semcat:Table", InputError),  # no braces
    ("{ ?table a semcat:Table }", InputError),  # ?asset not bound
    ("{ ?asset a semcat:Table . ", InputError),
    ("{ ?asset a semcat:Table ; }}", InputError),  # SPARQL syntax
    ("{ SERVICE <http://example.org/sparql> { ?asset ?p ?o } }", Forbidden),
])
def test_bad_where_is_refused(demo_catalog: Catalog, where: str, error: type) -> None:
    with pytest.raises(error):
        demo_catalog.search.run(SearchRequest(mode="keyword", where=where))


def test_depth_needs_lineage_and_a_bound(demo_catalog: Catalog) -> None:
    with pytest.raises(InputError, match="lineage"):
        demo_catalog.search.run(SearchRequest(depth=2))
    with pytest.raises(InputError, match="between"):
        demo_catalog.search.run(SearchRequest(downstream_of=ORDERS, depth=0))


def test_classification_filter_includes_narrower_values(demo_catalog: Catalog) -> None:
    scheme = everything(demo_catalog, filters={"classification": ("classification/pii",)},
                        facets=("classification",))
    email = everything(demo_catalog, filters={"classification": ("classification/pii/email",)})
    assert 0 < email.total < scheme.total
    assert set(ids(email)) <= set(ids(scheme))
    entry = next(h.why for h in scheme.hits if h.id in ids(email))["graph"][0]
    assert entry["narrowerOf"] == ["classification/pii"] and entry["filter"] == "classification"


def _scaffold(ws: str) -> list[dict[str, Any]]:
    return [
        {"id": ws, "type": "Workspace", "name": ws.title(), "description": "Test workspace"},
        {"id": f"{ws}/database/snowflake/wh", "type": "Database", "name": "wh",
         "qualifiedName": "wh", "description": "The warehouse", "workspace": ws,
         "platform": "platform/snowflake"},
        {"id": f"{ws}/schema/snowflake/wh.zoo", "type": "Schema", "name": "zoo",
         "qualifiedName": "wh.zoo", "description": "Zoo data", "workspace": ws,
         "platform": "platform/snowflake", "partOf": f"{ws}/database/snowflake/wh"},
    ]


DIRECTORY = [
    {"id": "platform/snowflake", "type": "DataPlatform", "name": "Snowflake",
     "description": "Warehouse"},
    {"id": "team/data", "type": "Team", "name": "Data team"},
    {"id": "tag/wild", "type": "Tag", "name": "Wild animals", "description": "Animals"},
]


def _table(ws: str, name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"{ws}/table/snowflake/wh.zoo.{name}", "type": "Table", "name": name,
            "qualifiedName": f"wh.zoo.{name}", "description": description, "workspace": ws,
            "platform": "platform/snowflake", "partOf": f"{ws}/schema/snowflake/wh.zoo",
            "owners": ["team/data"], **extra}


def test_term_filter_includes_narrower_terms(catalog: Catalog) -> None:
    base = catalog.layout.id_base
    catalog.assets.upsert_many([
        *DIRECTORY, *_scaffold("acme"),
        {"id": "glossary/g", "type": "Glossary", "name": "Glossary", "description": "Terms"},
        {"id": "glossary/g/customer", "type": "GlossaryTerm", "name": "Customer",
         "partOf": "glossary/g", "description": "Someone who bought from us"},
        {"id": "glossary/g/churned", "type": "GlossaryTerm", "name": "Churned customer",
         "partOf": "glossary/g", "description": "A customer who stopped buying"},
        _table("acme", "lost_accounts", "Accounts that left", terms=["glossary/g/churned"]),
    ], actor="test")
    catalog.sparql.update(f"PREFIX skos: <http://www.w3.org/2004/02/skos/core#> INSERT DATA "
                          f"{{ <{base}glossary/g/churned> skos:broader "
                          f"<{base}glossary/g/customer> }}", actor="test")
    found = everything(catalog, filters={"term": ("glossary/g/customer",)})
    assert ids(found) == ["acme/table/snowflake/wh.zoo.lost_accounts"]
    assert found.hits[0].why["graph"] == [{"filter": "term", "value": "glossary/g/churned",
                                           "narrowerOf": ["glossary/g/customer"]}]


# -- entailed data in the index -----------------------------------------------------------------


@pytest.fixture(scope="module")
def reasoned() -> Iterator[Catalog]:
    """The demo with one classification only a sub-property axiom implies, then reasoned
    (again: every write keeps the inferences current)."""
    with Catalog.open(Settings(data=None)) as cat:
        cat.load_demo()
        base = cat.layout.id_base
        cat.sparql.update(
            f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> INSERT DATA {{ "
            f"<urn:test:holdsPii> rdfs:subPropertyOf <{SEMCAT}classification> . "
            f"<{base}{ORDERS}> <urn:test:holdsPii> <{base}classification/pii/email> }}",
            actor="test")
        written = everything(cat, filters={"classification": ("classification/pii/email",)})
        assert ORDERS in ids(written)  # entailed by the write itself
        cat.reason()
        yield cat


def test_entailed_classification_is_searchable_after_reason(reasoned: Catalog) -> None:
    found = everything(reasoned, filters={"classification": ("classification/pii/email",)},
                       facets=("classification",))
    assert ORDERS in ids(found)
    counts = {v.value: v.count for v in found.facets["classification"]}
    assert counts["classification/pii/email"] == found.total
    why = next(h.why for h in found.hits if h.id == ORDERS)
    assert {"filter": "classification", "value": "classification/pii/email",
            "inferred": True} in why["graph"]
    assert "classification:classification/pii/email" in why["inferred"]
    asserted = next(h.why for h in found.hits if h.id != ORDERS)
    assert "inferred" not in asserted["graph"][0]
    text = reasoned.search.run(SearchRequest(q="shop orders email address", mode="keyword",
                                             limit=50))
    assert "classifications (inferred)" in next(h.why for h in text.hits
                                                if h.id == ORDERS)["matched"]


def test_entailed_types_are_marked_not_faceted(reasoned: Catalog) -> None:
    views = everything(reasoned, filters={"type": ("View",)}, facets=("type",))
    counts = {v.value: v.count for v in views.facets["type"]}
    assert views.total > 0 and counts["View"] == views.total
    tables = everything(reasoned, filters={"type": ("Table",)})
    assert not set(ids(tables)) & set(ids(views)) and counts["Table"] == tables.total
    assert all(h.types == ("View",) and "type:Table" in h.why["inferred"] for h in views.hits)


def test_refresh_picks_up_rule_derived_classifications(reasoned: Catalog) -> None:
    """What the rules engine does: write its own inferred graph, then notify the search."""
    cat = reasoned
    graph = NamedNode(f"{cat.layout.inferred_root.value}/rules/test-propagation")
    iri = cat.layout.iri(SHOP_ORDERS)
    quad = Quad(NamedNode(iri), NamedNode(SEMCAT + "classification"),
                NamedNode(cat.layout.iri("classification/pii/phone")), graph)
    phone = {"classification": ("classification/pii/phone",)}
    assert SHOP_ORDERS not in ids(everything(cat, filters=phone))
    cat.store.replace_graphs([graph], [quad])
    cat.search.refresh([iri])
    found = everything(cat, filters=phone)
    assert SHOP_ORDERS in ids(found)
    assert next(h.why for h in found.hits if h.id == SHOP_ORDERS)["graph"][0]["inferred"]
    cat.store.replace_graphs([graph], [])
    cat.search.refresh([SHOP_ORDERS])
    assert SHOP_ORDERS not in ids(everything(cat, filters=phone))


def test_reasoners_notify_the_index_on_writes(catalog: Catalog) -> None:
    """No `reason()` call after the writes: the incremental reasoner's ``on_inferred`` and
    the classifier's ``on_derived`` re-index what they changed."""
    catalog.load_demo()
    catalog.reason()
    view = {"id": "acme/view/postgres/shop.public.v_late_orders", "type": "View",
            "name": "v_late_orders", "qualifiedName": "shop.public.v_late_orders",
            "description": "Orders shipped later than promised.", "workspace": "acme",
            "platform": "platform/postgres", "partOf": "acme/schema/postgres/shop.public",
            "owners": ["team/data-platform"], "derivedFrom": [ORDERS]}
    column = {"id": "acme/column/postgres/shop.public.orders.backup_e_mail", "type": "Column",
              "name": "backup_e_mail", "qualifiedName": "shop.public.orders.backup_e_mail",
              "description": "Where to write when the first address bounces.",
              "workspace": "acme", "platform": "platform/postgres", "partOf": ORDERS,
              "dataType": "VARCHAR(255)", "position": 99}
    catalog.assets.upsert_many([view, column], actor="test")
    found = everything(catalog, q="v_late_orders", filters={"type": ("View",)})
    assert ids(found)[0] == view["id"] and "type:Table" in found.hits[0].why["inferred"]
    email = {"classification": ("classification/pii/email",)}
    assert column["id"] not in ids(everything(catalog, filters=email))
    from demo import demo_rules
    catalog.rules.put("rule/email-columns", demo_rules()[0], actor="test")
    derived = everything(catalog, filters=email)
    assert column["id"] in ids(derived)
    assert next(h.why for h in derived.hits if h.id == column["id"])["graph"][0]["inferred"]


# -- the readable restriction -------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_workspaces() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as cat:
        wild = {"tags": ["tag/wild"]}
        cat.assets.upsert_many([
            *DIRECTORY, *_scaffold("acme"), *_scaffold("beta"),
            _table("acme", "zebra_sightings", "Where zebras were seen on safari", **wild),
            _table("acme", "lion_feeding", "When the lions were fed and how much meat", **wild),
            _table("beta", "zebra_census", "How many zebras live in each savanna", **wild),
            _table("beta", "okapi_tracks", "Striped forest giraffes, tracked by camera traps",
                   **wild),
        ], actor="test")
        cat.search.wait()
        yield cat


def _acme(cat: Catalog) -> list[str]:
    return [cat.layout.partition("acme", "general").value]


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_readable_restricts_hits_totals_and_facets(two_workspaces: Catalog, mode: str) -> None:
    cat = two_workspaces
    request = SearchRequest(q="zebras", mode=mode, facets=("workspace", "tag"))
    everyone = cat.search.run(request)
    acme = cat.search.run(request, readable=_acme(cat))
    assert {k.split("/")[0] for k in ids(everyone)} >= {"acme", "beta"}
    assert "acme/table/snowflake/wh.zoo.zebra_sightings" in ids(acme)
    assert ids(acme) and all(k.startswith("acme/") for k in ids(acme))
    assert acme.total == len(ids(acme)) < everyone.total
    assert [(v.value, v.count) for v in acme.facets["workspace"]] == [("acme", acme.total)]
    assert [(v.value, v.count) for v in acme.facets["tag"]] == [("tag/wild", acme.total)]
    nothing = cat.search.run(request, readable=[])
    assert nothing.total == 0 and nothing.hits == [] and nothing.facets["tag"] == []


def test_readable_restricts_more_like_this(two_workspaces: Catalog) -> None:
    cat = two_workspaces
    zebra = "acme/table/snowflake/wh.zoo.zebra_sightings"
    assert any(k.startswith("beta/") for k in (h.id for h in cat.search.similar(zebra)))
    near = cat.search.similar(zebra, readable=_acme(cat))
    assert "acme/table/snowflake/wh.zoo.lion_feeding" in [h.id for h in near]
    assert all(h.id.startswith("acme/") for h in near)
    with pytest.raises(NotFound):
        cat.search.similar("beta/table/snowflake/wh.zoo.zebra_census", readable=_acme(cat))


def test_graph_filters_see_only_readable_graphs(two_workspaces: Catalog) -> None:
    cat = two_workspaces
    where = '{ ?asset semcat:tag ?t . ?t semcat:name "Wild animals" }'
    assert everything(cat, where=where).total == 4
    # the tag lives in the directory graph: unreadable here, so the pattern matches nothing
    assert everything(cat, where=where, readable=_acme(cat)).total == 0
    readable = [*_acme(cat), cat.layout.directory.value]
    assert set(ids(everything(cat, where=where, readable=readable))) == {
        "acme/table/snowflake/wh.zoo.zebra_sightings", "acme/table/snowflake/wh.zoo.lion_feeding"}


def test_sparql_search_sees_the_query_dataset(two_workspaces: Catalog) -> None:
    cat = two_workspaces
    query = (PREFIX + "SELECT ?asset ?score ?rank {SELECT_FROM} WHERE { SERVICE semcat:search "
             "{ ?asset semcat:searchQuery \"zebra\" ; semcat:searchMode \"keyword\" ; "
             "semcat:score ?score ; semcat:searchRank ?rank } } ORDER BY ?rank")
    everyone = list(cat.sparql.query(query.replace("{SELECT_FROM}", "")).raw)
    assert len(everyone) == 2
    assert [int(s["rank"].value) for s in everyone] == [1, 2]
    scores = [float(s["score"].value) for s in everyone]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    acme = [s["asset"].value for s in cat.sparql.query(
        query.replace("{SELECT_FROM}", f"FROM <{_acme(cat)[0]}>")).raw]
    assert acme == [cat.layout.iri("acme/table/snowflake/wh.zoo.zebra_sightings")]


# -- search inside SPARQL over HTTP -------------------------------------------------------------


@pytest.fixture(scope="module")
def client(demo_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=60) as c:
        yield c


def _select(client: httpx.Client, query: str) -> httpx.Response:
    return client.post("/sparql", content=PREFIX + query,
                       headers={"Content-Type": "application/sparql-query", "Accept": JSON})


def test_service_search_joins_a_graph_pattern_over_http(client: httpx.Client) -> None:
    response = _select(client, """
        SELECT ?asset ?name ?score ?rank WHERE {
          SERVICE <https://w3id.org/semcat#search> {
            ?asset semcat:searchQuery "customer" ; semcat:searchMode "keyword" ;
                   semcat:searchLimit 200 ; semcat:score ?score ; semcat:searchRank ?rank }
          ?asset semcat:derivedFrom+ ?source ; semcat:name ?name .
          ?source semcat:name "orders" ; a semcat:Table .
        } ORDER BY ?rank""")
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    assert rows and len({r["asset"]["value"] for r in rows}) == len(rows)
    assert all(r["score"]["datatype"].endswith("#double") for r in rows)
    ranks = [int(r["rank"]["value"]) for r in rows]
    assert ranks == sorted(ranks) and ranks[0] >= 1
    downstream = _select(client, """SELECT DISTINCT ?asset WHERE { ?asset semcat:derivedFrom+
        ?source . ?source semcat:name "orders" ; a semcat:Table . }""").json()
    assert {r["asset"]["value"] for r in rows} <= {
        r["asset"]["value"] for r in downstream["results"]["bindings"]}
    limited = _select(client, """SELECT ?asset WHERE { SERVICE semcat:search {
        ?asset semcat:searchQuery "customer" ; semcat:searchMode "keyword" ;
        semcat:searchLimit 3 } }""").json()["results"]["bindings"]
    assert len(limited) == 3


@pytest.mark.parametrize("block", [
    '?asset semcat:searchMode "keyword"',  # no query
    '?asset semcat:searchQuery "x" ; semcat:searchMode "fuzzy"',
    '?asset semcat:searchQuery "x" ; semcat:searchLimit 0',
    '?asset semcat:searchQuery "x" ; semcat:searchLimit "ten"',
    '?asset semcat:searchQuery ?q',
    '?asset semcat:searchQuery "x" ; semcat:colour ?c',
    '?asset semcat:searchQuery "x" ; semcat:score 3',
    '?asset semcat:searchQuery "x" . ?other semcat:score ?s',
    '?asset semcat:searchQuery "x" FILTER(true)',
    '?asset semcat:searchQuery "x" ',  # unclosed block (see below)
])
def test_bad_service_usage_is_a_400(client: httpx.Client, block: str) -> None:
    closing = "" if block.endswith(" ") else "}"
    response = _select(client, f"SELECT * WHERE {{ SERVICE semcat:search {{ {block} {closing} }}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/plain")
    if closing:  # unclosed, the block takes the query's last brace: a plain syntax error
        assert "SERVICE semcat:search" in response.text


def test_service_silent_search_with_bad_usage_binds_nothing(client: httpx.Client) -> None:
    response = _select(client, 'SELECT * WHERE { SERVICE SILENT semcat:search { '
                       '?asset semcat:searchMode "fuzzy" } }')
    assert response.status_code == 200 and response.json()["results"]["bindings"] == []


@pytest.mark.parametrize("service", ["<http://example.org/sparql>", "semcat:elsewhere",
                                     "<https://w3id.org/semcat#searchx>"])
def test_other_service_is_still_refused(client: httpx.Client, service: str) -> None:
    response = _select(client, f"SELECT * WHERE {{ SERVICE semcat:search {{ ?a "
                       f"semcat:searchQuery \"orders\" }} SERVICE {service} {{ ?a ?p ?o }} }}")
    assert response.status_code == 403, response.text
    assert "SERVICE" in response.text


def test_strings_mentioning_the_service_are_left_alone(client: httpx.Client) -> None:
    response = _select(client, 'SELECT ?x WHERE { BIND("SERVICE semcat:search { }" AS ?x) }')
    assert response.status_code == 200
    assert response.json()["results"]["bindings"][0]["x"]["value"].startswith("SERVICE")


def test_rest_search_takes_graph_filters(client: httpx.Client) -> None:
    body = {"q": "orders", "mode": "keyword", "downstreamOf": ORDERS, "depth": 2,
            "where": "{ ?asset a semcat:Table }", "facets": ["type"]}
    response = client.post("/api/v1/search", json=body)
    assert response.status_code == 200, response.text
    found = response.json()
    assert SHOP_ORDERS in [h["id"] for h in found["hits"]]
    assert {g["filter"] for g in found["hits"][0]["why"]["graph"]} == {"downstreamOf", "where"}
    got = client.get("/api/v1/search", params={"q": "orders", "mode": "keyword",
                                               "upstreamOf": FCT_ORDERS})
    assert got.status_code == 200 and ORDERS in [h["id"] for h in got.json()["hits"]]
    bad = client.post("/api/v1/search", json={"where": "{ ?x a semcat:Table }"})
    assert bad.status_code == 400 and "?asset" in bad.json()["detail"]
