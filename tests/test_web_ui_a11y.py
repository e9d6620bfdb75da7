"""Accessibility of the web UI in a real browser: axe-core (npm, installed in tests/oidc_idp/) run
on every main page finds no serious or critical violation, and a keyboard alone gets from the
search box to an asset. The server and browser of tests/test_web_ui.py (the demo catalog,
authentication on)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.test_web_ui import ORDERS, browser, page, shot, sign_in, site

__all__ = ["browser", "page", "site"]  # the fixtures, shared with tests/test_web_ui.py
pytestmark = pytest.mark.slow  # the demo catalog ~20 s, the pages ~20 s
SERIOUS = ("serious", "critical")
NODE_TOOLS = ROOT / "tests" / "oidc_idp"  # axe-core, and the OpenID provider of test_web_ui_oidc


def node_tools() -> Path:
    """tests/oidc_idp with its node_modules installed (`npm ci` from the lock file once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are needed for the single sign-on and accessibility tests")
        pytest.skip("node and npm are needed (apt-get install nodejs npm)")
    if not (NODE_TOOLS / "node_modules" / ".package-lock.json").is_file():
        r = subprocess.run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"], cwd=NODE_TOOLS,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return NODE_TOOLS


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. The script is
    evaluated through the DevTools protocol, which the page's CSP does not govern, so the CSP
    stays as served."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate((node_tools() / "node_modules" / "axe-core" / "axe.min.js").read_text())
    result = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))""")
    return [v for v in result if v["impact"] in SERIOUS]


def check(page: Page, name: str, found: list[str]) -> None:
    found += [f"{name}: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}"
              for v in axe_violations(page)]


def test_axe_finds_nothing_serious_on_the_main_pages(page: Page, site: dict[str, Any]) -> None:
    found: list[str] = []
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to semcat")).to_be_visible()
    check(page, "sign-in", found)
    sign_in(page, site["admin"], "/ui/search?q=orders")
    expect(page.locator("li.hit").first).to_be_visible()
    check(page, "search", found)
    page.goto(f"/ui/asset/{ORDERS}")
    expect(page.get_by_role("heading", level=1)).to_have_text("orders")
    check(page, "asset", found)
    page.goto(f"/ui/lineage?asset={ORDERS}")
    expect(page.get_by_test_id("lineage-info")).to_contain_text("nodes")
    check(page, "lineage", found)
    page.goto("/ui/sparql")
    page.locator(".yasqe_queryButton").click()
    expect(page.locator(".yasr table tbody tr").first).to_be_visible()
    check(page, "sparql", found)
    for tab in ("ontology", "attributes", "rules", "validation"):
        page.goto(f"/ui/governance?tab={tab}")
        expect(page.get_by_role("tab", selected=True)).to_be_visible()
        check(page, f"governance {tab}", found)
    page.goto("/ui/admin")
    expect(page.locator("#h-audit ~ table tbody tr").first).to_be_visible()
    check(page, "admin", found)
    assert not found, "\n".join(found)


def test_a_keyboard_alone_searches_and_opens_an_asset(page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/search")
    page.locator("body").click(position={"x": 5, "y": 400})  # start from the page, not a control
    box = page.get_by_role("combobox")
    for _ in range(15):  # skip link, brand, navigation, ... then the search box
        page.keyboard.press("Tab")
        if box.evaluate("e => e === document.activeElement"):
            break
    expect(box).to_be_focused()
    page.keyboard.type("orders")
    page.keyboard.press("Enter")  # no suggestion chosen: Enter searches
    expect(page).to_have_url(re.compile(r"/ui/search\?q=orders"))
    first = page.locator("li.hit a").first
    expect(first).to_contain_text(re.compile("orders", re.I))  # the results of this search
    target = first.get_attribute("href")
    for _ in range(80):  # the search button, modes, facets, then the results
        page.keyboard.press("Tab")
        if first.evaluate("e => e === document.activeElement"):
            break
    expect(first).to_be_focused()
    shot(page, "keyboard-search")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(str(target)) + "$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
