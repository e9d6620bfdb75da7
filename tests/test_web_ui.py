"""The web UI in a real browser (Debian's chromium driven by Playwright) against a real server
over the demo catalog, run with authentication on: a person's journeys end to end, each page
saved as a screenshot under test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib

from tests.conftest import ROOT, Server, demo_copy
from tests.test_api_keys import cli_key

CHROMIUM = "/usr/bin/chromium"
# what Debian's chromium needs headless in a container, and no calls home on a closed network
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = pytest.mark.slow  # the module: making the demo catalog ~30 s, the journeys ~35 s
SHOTS = ROOT / "test-artifacts" / "screenshots"
ORDERS = "acme/table/postgres/shop.public.orders"
RESTRICTED = "classification/sensitivity/restricted"

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]


def _need_browser() -> None:
    missing = ("the playwright package (pip install -e '.[dev]')" if sync_playwright is None
               else f"{CHROMIUM} (apt-get install chromium, or `make test`)"
               if not os.access(CHROMIUM, os.X_OK) else None)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the web UI tests need {missing}")
        pytest.skip(f"the web UI tests need {missing}")


@pytest.fixture(scope="module")
def site(demo_template: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[dict[str, Any]]:
    """The demo catalog served with authentication on; its admin key and a viewer's key."""
    _need_browser()
    data = demo_copy(demo_template, tmp_path_factory, "webui-demo")
    srv = Server(data, env={"SEMCAT_OPEN": "0"}).start()
    try:
        admin = (data / "admin.key").read_text().strip()
        viewer = cli_key(data, "--user", "user/ui-viewer", "--workspace", "acme", "--role", "viewer")
        yield {"url": srv.url, "admin": admin, "viewer": viewer}
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def fresh_page(browser: Browser, url: str) -> Iterator[Page]:
    """A page in a context of its own (no key or token left by another test) on ``url``."""
    context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 860})
    context.set_default_timeout(20_000)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, errors  # no uncaught script error on any page


@pytest.fixture
def page(browser: Browser, site: dict[str, Any]) -> Iterator[Page]:
    yield from fresh_page(browser, site["url"])


def api(site: dict[str, Any], path: str, key: str = "admin", **params: Any) -> Any:
    r = httpx.get(site["url"] + path, params=params, headers={"X-API-Key": site[key]}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def sign_in(page: Page, key: str, to: str = "/") -> None:
    page.goto(to)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def shot(page: Page, name: str) -> None:
    """Save the page, after checking every form control of ours has a label (YASGUI's own
    editor is left out)."""
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => !e.closest('.yasgui-box') && e.type !== 'hidden')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.outerHTML.slice(0, 120))""")
    assert not unlabelled, unlabelled
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_needs_a_key_the_server_accepts(page: Page, site: dict[str, Any]) -> None:
    denied = len(api(site, "/api/v1/audit", outcome="denied", limit=1000)["items"])
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to semcat")).to_be_visible()
    # a visit is not a refused request: the page asks whether the server is open first
    assert len(api(site, "/api/v1/audit", outcome="denied", limit=1000)["items"]) == denied
    shot(page, "sign-in")
    page.get_by_label("API key").fill("sck_not_a_real_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("key")
    expect(page.get_by_test_id("who")).to_have_count(0)
    page.get_by_label("API key").fill(site["admin"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_contain_text("(admin)")
    page.keyboard.press("Tab")  # keyboard users can jump past the navigation
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('semcat.apiKey')") == site["admin"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('semcat.apiKey')") is None


def test_search_reads_natural_language_as_removable_chips_and_facets(
        page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/search")
    box = page.get_by_role("combobox")
    box.fill("PII tables in snowflake")
    box.press("Enter")
    chips = page.get_by_test_id("chips")
    expect(chips.locator("[data-filter=platform]")).to_contain_text("Snowflake")
    expect(chips.locator("[data-filter=type]")).to_contain_text("Table")
    hits = page.locator("li.hit")
    expect(hits.first).to_be_visible()
    ids = hits.evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids and all(i.split("/")[1] == "table" and "/snowflake/" in i for i in ids), ids
    expect(hits.first.get_by_test_id("why")).to_contain_text("passes filters on")
    assert "nl=" not in page.url and "q=PII+tables+in+snowflake" in page.url  # a saveable link
    shot(page, "search")

    # removing the platform chip takes its words out of the question
    page.get_by_role("button", name=re.compile(r"^Remove platform Snowflake")).click()
    expect(chips.locator("[data-filter=platform]")).to_have_count(0)
    assert "snowflake" not in page.url.lower()
    expect(page.get_by_role("combobox")).to_have_value("PII tables")

    # a facet narrows the results and becomes a chip of its own, in the URL
    page.locator("aside.facets label", has_text=re.compile("postgres", re.I)).locator("input").first.check()
    expect(chips.locator("[data-filter=platform]")).to_be_visible()
    assert "platform=platform%2Fpostgres" in page.url
    expect(page.locator("li.hit:not([data-id*='/postgres/'])")).to_have_count(0)
    expect(page.locator("li.hit").first).to_be_visible()

    # the saved link reproduces the page; keyword mode highlights the matched words
    page.goto("/ui/search?q=orders&mode=keyword")
    expect(page.locator("li.hit mark").first).to_have_text(re.compile("orders", re.I))
    expect(page.get_by_label("keyword")).to_be_checked()

    # autocomplete: arrows and Enter open the asset
    box = page.get_by_role("combobox")
    box.fill("")
    box.press_sequentially("ord", delay=30)
    expect(page.get_by_role("option").first).to_contain_text("orders")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/asset/acme/table/postgres/shop\.public\.orders$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("orders")


def test_the_asset_page_shows_schema_owners_and_why_it_is_classified(
        page: Page, site: dict[str, Any]) -> None:
    key = "acme/table/snowflake/analytics.marts.dim_customers"
    sign_in(page, site["admin"], f"/ui/asset/{key}")
    expect(page.get_by_role("heading", level=1)).to_have_text("dim_customers")
    columns = page.get_by_test_id("columns")
    expect(columns.locator("tbody tr").first).to_be_visible()
    expected = api(site, "/api/v1/assets", partOf=key, type="Column", limit=500)["items"]
    expect(columns.locator("tbody tr")).to_have_count(len(expected))
    email = columns.locator("tr", has_text=re.compile(r"^email", re.M))
    expect(email.first).to_contain_text("pii/email")
    doc = api(site, f"/api/v1/assets/{key}")
    for owner in doc["owners"]:
        expect(page.get_by_test_id("owners")).to_contain_text(owner)
    # the inferred classification, with the rule and the premises it rests on
    why = page.locator("ul.explain > li").first
    expect(why).to_contain_text("contains-pii")
    why.locator("summary").first.click()
    expect(why).to_contain_text("asserted")
    shot(page, "asset")


def _three_hops(site: dict[str, Any]) -> list[str]:
    graph = api(site, "/api/v1/lineage", asset=ORDERS, direction="downstream", depth=3)
    out: dict[str, list[str]] = {}
    for e in graph["edges"]:
        out.setdefault(e["source"], []).append(e["target"])
    def walk(path: list[str]) -> list[str] | None:
        if len(path) == 4:
            return path
        for nxt in sorted(out.get(path[-1], [])):
            found = walk([*path, nxt]) if nxt not in path else None
            if found:
                return found
        return None
    path = walk([ORDERS])
    assert path, graph
    return path


def test_lineage_is_followed_three_hops_by_expanding_nodes(page: Page, site: dict[str, Any]) -> None:
    path = _three_hops(site)
    sign_in(page, site["admin"], f"/ui/lineage?asset={ORDERS}")
    nodes = page.get_by_test_id("node-list")
    expect(nodes.locator(f'[data-node="{path[1]}"]')).to_be_visible()
    expect(nodes.locator(f'[data-node="{path[2]}"]')).to_have_count(0)  # lazily, one hop at a time
    for here, there in pairwise(path[1:]):
        nodes.locator(f'[data-node="{here}"]').click()
        panel = page.get_by_test_id("selected")
        expect(panel.get_by_role("heading")).to_be_visible()
        panel.get_by_role("button", name="Expand downstream").click()
        expect(nodes.locator(f'[data-node="{there}"]')).to_be_visible()
    assert page.locator("canvas").count() > 0  # cytoscape drew the graph
    expect(page.get_by_test_id("lineage-info")).to_contain_text("nodes")
    shot(page, "lineage")
    # the impact view names the owners to notify
    page.get_by_label("View").select_option("impact")
    expect(page.get_by_role("heading", name="Owners to notify")).to_be_visible()
    # column level
    page.get_by_label("Level").select_option("column")
    assert "level=column" in page.url


def test_define_an_attribute_after_a_dry_run_then_edit_it_inline(
        page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/governance?tab=attributes")
    form = page.locator("form.stack")
    form.get_by_label("Name (JSON key)").fill("costCenter")
    form.get_by_label("Label").first.fill("Cost center")
    form.get_by_label("Applies to").fill("Table")
    form.get_by_label("Pattern").fill("^CC-[0-9]+$")
    form.get_by_label("Required").check()  # every table lacks it: the dry run says which
    form.get_by_role("button", name="Dry run").click()
    spec = {"name": "costCenter", "label": "Cost center", "datatype": "string",
            "appliesTo": ["Table"], "pattern": "^CC-[0-9]+$", "required": True}
    dry = httpx.post(site["url"] + "/api/v1/attributes", params={"dryRun": "true"}, json=spec,
                     headers={"X-API-Key": site["admin"]}, timeout=60).json()
    assert dry["affectedAssets"] > 100, dry  # the demo's tables and views
    expect(page.get_by_test_id("impact")).to_contain_text(
        f"{dry['affectedAssets']} existing assets would violate")
    expect(page.get_by_test_id("impact").get_by_role("link").first).to_be_visible()
    form.get_by_label("Required").uncheck()
    form.get_by_role("button", name="Dry run").click()
    expect(page.get_by_test_id("impact")).to_contain_text("0 existing assets would violate")
    assert "costCenter" not in {a["name"] for a in api(site, "/api/v1/attributes")["items"]}
    shot(page, "governance-attributes")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Defined costCenter")
    expect(page.get_by_test_id("attribute-list")).to_contain_text("costCenter")

    page.goto(f"/ui/asset/{ORDERS}")
    before = api(site, f"/api/v1/assets/{ORDERS}")["version"]
    field = page.locator("[data-attribute=costCenter]")
    field.get_by_role("button", name="Edit Cost center").click()
    field.get_by_label("Cost center").fill("not-a-cost-center")
    field.get_by_role("button", name="Save").click()
    error = field.get_by_role("alert")
    expect(error).to_contain_text("does not match")  # the server's message, at the field
    expect(field.get_by_label("Cost center")).to_have_attribute("aria-invalid", "true")
    shot(page, "asset-validation-error")
    assert api(site, f"/api/v1/assets/{ORDERS}")["version"] == before  # nothing was written
    field.get_by_label("Cost center").fill("CC-12")
    field.get_by_role("button", name="Save").click()
    expect(field.locator(".value")).to_have_text("CC-12")
    doc = api(site, f"/api/v1/assets/{ORDERS}")
    assert doc["costCenter"] == "CC-12" and doc["version"] == before + 1
    page.get_by_role("button", name=f"Diff with {before}").click()
    expect(page.get_by_test_id("diff")).to_contain_text("+ costCenter: CC-12")


def test_sparql_editor_runs_a_query_with_the_callers_key(page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/sparql")
    expect(page.locator(".yasqe .CodeMirror")).to_be_visible()
    page.get_by_role("button", name="Largest tables").click()
    page.locator(".yasqe_queryButton").click()
    rows = page.locator(".yasr table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() == 10
    expect(page.locator(".yasr")).to_contain_text("columns")
    shot(page, "sparql")


def _editor_query(page: Page) -> str:
    return str(page.locator(".yasqe .CodeMirror").evaluate("e => e.CodeMirror.getValue()"))


def _sparql(site: dict[str, Any], query: str, accept: str) -> httpx.Response:
    r = httpx.post(site["url"] + "/sparql", data={"query": query}, timeout=60,
                   headers={"X-API-Key": site["admin"], "Accept": accept})
    assert r.status_code == 200, r.text
    return r


PAINTED = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""


def test_sparql_results_show_as_a_chart_and_as_a_graph(page: Page, site: dict[str, Any]) -> None:
    blocked: list[str] = []  # the views must work under the page's CSP
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, site["admin"], "/ui/sparql")
    page.get_by_role("button", name="Columns by classification").click()
    page.locator(".yasqe_queryButton").click()
    expect(page.locator(".yasr table tbody tr").first).to_be_visible()
    rows = _sparql(site, _editor_query(page), "application/sparql-results+json").json()
    rows = rows["results"]["bindings"]
    assert rows
    page.locator(".yasr .select_chart").click()
    chart = page.get_by_test_id("sparql-chart")
    expect(chart).to_have_attribute("data-points", str(len(rows)))  # one count per classification
    expect(chart).to_have_attribute("data-chart-type", "pie" if len(rows) <= 10 else "bar")
    assert chart.locator("canvas").evaluate(PAINTED) > 2000  # chart.js drew on the canvas
    chart.get_by_label("Chart type").select_option("bar")
    expect(chart).to_have_attribute("data-chart-type", "bar")
    assert chart.locator("canvas").evaluate(PAINTED) > 2000
    shot(page, "sparql-chart")

    page.get_by_role("button", name="Lineage as a graph").click()
    page.locator(".yasqe_queryButton").click()
    page.locator(".yasr .select_graph").click()
    graph = page.get_by_test_id("sparql-graph")
    turtle = _sparql(site, _editor_query(page), "text/turtle").text
    triples = list(rdflib.Graph().parse(data=turtle, format="turtle"))
    assert triples
    resources = {t for s, _, o in triples for t in (s, o) if not isinstance(t, rdflib.Literal)}
    literals = sum(isinstance(o, rdflib.Literal) for _, _, o in triples)
    expect(graph).to_have_attribute("data-edges", str(len(triples)))
    expect(graph).to_have_attribute("data-nodes", str(len(resources) + literals))
    painted = graph.locator("canvas").evaluate_all(f"cs => cs.map({PAINTED})")
    assert max(painted) > 2000, painted  # cytoscape drew the nodes
    shot(page, "sparql-graph")
    assert not blocked, blocked


def test_governance_and_admin_pages_show_the_ontology_rules_and_audit(
        page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/governance?tab=ontology")
    expect(page.get_by_role("heading", name=re.compile(r"^Classes \(\d+\)"))).to_be_visible()
    expect(page.locator("td", has_text="Table").first).to_be_visible()
    shot(page, "governance-ontology")
    page.get_by_role("tab", name="Classification rules").click()
    expect(page.locator("table.grid tbody tr").first).to_be_visible()
    shot(page, "governance-rules")
    page.get_by_role("tab", name="Validation report").click()
    page.get_by_role("button", name="Validate the catalog now").click()
    expect(page.get_by_test_id("validation")).to_contain_text(re.compile(r"conforms|results"))
    page.goto("/ui/admin")
    page.get_by_role("button", name="Verify the hash chain").click()
    # verifying reads the whole audit log: seconds on a busy machine
    expect(page.get_by_test_id("audit-check")).to_contain_text("The chain is intact",
                                                               timeout=30_000)
    # a key is shown once when made, then listed without its secret, and can be revoked
    page.get_by_label("Subject").fill("user/ui-made")
    page.get_by_label("Workspace").fill("acme")
    page.get_by_role("button", name="Create key").click()
    token = page.get_by_role("status").filter(has_text="shown once").locator("code").inner_text()
    assert token.startswith("sck_")
    who = httpx.get(site["url"] + "/api/v1/me", headers={"X-API-Key": token}).json()
    assert who["subject"] == "user/ui-made" and who["grants"] == [{"workspace": "acme", "role": "viewer"}]
    row = page.locator("tr", has_text="user/ui-made")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name=re.compile("^Revoke key")).click()
    expect(row).to_contain_text("revoked")
    assert httpx.get(site["url"] + "/api/v1/me", headers={"X-API-Key": token}).status_code == 401
    expect(page.locator("#h-audit ~ table tbody tr").first).to_be_visible()
    shot(page, "admin")


def test_a_viewer_sees_no_restricted_asset_anywhere(page: Page, site: dict[str, Any]) -> None:
    restricted = {h["id"] for h in api(site, "/api/v1/search", q="", classification=RESTRICTED,
                                       type="Table", limit=100)["hits"]}
    assert "acme/table/postgres/shop.public.payments" in restricted
    sign_in(page, site["viewer"], "/ui/search?q=payments&nl=false")
    expect(page.get_by_test_id("who")).to_have_text("user/ui-viewer")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    expect(page.get_by_test_id("total")).to_be_visible()
    shown = set(page.locator("li.hit").evaluate_all("els => els.map(e => e.dataset.id)"))
    assert not shown & restricted, shown & restricted
    box = page.get_by_role("combobox")
    box.fill("")
    box.press_sequentially("payme", delay=30)
    page.wait_for_timeout(600)
    options = page.get_by_role("option").all_inner_texts()
    assert not any("shop.public.payments" in o for o in options), options
    shot(page, "viewer-search")
    page.goto("/ui/asset/acme/table/postgres/shop.public.payments")
    expect(page.get_by_role("alert")).to_contain_text("No asset")
    page.goto(f"/ui/asset/{ORDERS}")  # readable, but a viewer may not edit it
    expect(page.get_by_role("heading", level=1)).to_have_text("orders")
    expect(page.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)
    page.goto(f"/ui/lineage?asset={ORDERS}&depth=3&direction=downstream")
    expect(page.get_by_test_id("lineage-info")).to_contain_text("nodes")
    listed = set(page.get_by_test_id("node-list").locator("[data-node]").evaluate_all(
        "els => els.map(e => e.dataset.node)"))
    assert listed and not listed & restricted, listed & restricted
    assert "acme/table/snowflake/analytics.raw.shop_payments" not in listed
    # the admin's ten widest tables include restricted ones; the viewer's SPARQL results do not
    page.goto("/ui/sparql")
    page.get_by_role("button", name="Largest tables").click()
    page.locator(".yasqe_queryButton").click()
    expect(page.locator(".yasr table tbody tr").first).to_be_visible()
    results = page.locator(".yasr table tbody").inner_text()
    assert "/id/acme/table/" in results
    assert not [k for k in restricted if f"/id/{k}" in results], results


def test_ui_routes_serve_the_app_and_hashed_assets_cache_for_ever(site: dict[str, Any]) -> None:
    for path in ("/", "/ui/search", f"/ui/asset/{ORDERS}"):
        r = httpx.get(site["url"] + path)  # no key: the page itself carries no data
        assert r.status_code == 200 and '<div id="app">' in r.text, path
        assert r.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in r.headers["content-security-policy"]
    script = re.search(r'src="(/ui/assets/[^"]+\.js)"', httpx.get(site["url"] + "/").text)
    assert script
    r = httpx.get(site["url"] + script.group(1))
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert "javascript" in r.headers["content-type"]
    missing = httpx.get(site["url"] + "/ui/assets/nope-123.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(site["url"] + "/api/v1/me").status_code == 401  # the API still needs a key


def test_an_open_server_lets_anonymous_visitors_in_without_signing_in(
        browser: Browser, demo_server: Server) -> None:
    """`semcat serve --open` (as `make demo` runs): no sign-in page, anonymous acts as admin."""
    context = browser.new_context(base_url=demo_server.url)
    try:
        page = context.new_page()
        page.goto("/ui/search?q=orders")
        expect(page.get_by_test_id("who")).to_have_text("anonymous (admin)")
        expect(page.locator("li.hit").first).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        expect(page.get_by_label("API key")).to_have_count(0)
    finally:
        context.close()
