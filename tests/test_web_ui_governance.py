"""The governance and admin editors of the web UI in a real browser (Debian's chromium driven by
Playwright) against a real server over the demo catalog with authentication on: the ontology
edited and a refusal shown in words, users/teams/roles/policies managed, an attribute applied
with a migration, and a viewer kept out. One server and one browser for the module (the
fixtures of tests/test_web_ui.py); screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.test_web_ui import api, browser, page, shot, sign_in, site

__all__ = ["browser", "page", "site"]  # the fixtures, shared with tests/test_web_ui.py
pytestmark = pytest.mark.slow  # the demo catalog ~20 s, the journeys ~30 s


@pytest.fixture(scope="module", autouse=True)
def patient_expectations() -> Iterator[None]:
    """Each edit waits for the OWL reasoner (a JVM) on a shared, busy machine: allow it time."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the modules that follow


def call(site: dict[str, Any], method: str, path: str, body: dict[str, Any] | None = None,
         key: str = "admin") -> httpx.Response:
    headers = {"X-API-Key": site[key]}
    if method == "PATCH":
        headers["Content-Type"] = "application/merge-patch+json"
    return httpx.request(method, site["url"] + path, json=body, headers=headers, timeout=120)


def post(site: dict[str, Any], path: str, body: dict[str, Any], key: str = "admin") -> httpx.Response:
    return call(site, "POST", path, body, key)


def test_an_admin_adds_a_class_and_a_glossary_term_and_sees_them(page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/governance?tab=ontology")
    form = page.get_by_role("form", name="Add a class")
    form.get_by_label("Name").fill("Metric")
    form.get_by_label("Label").fill("Metric")
    form.get_by_label("Comment").fill("A business KPI computed from the marts.")
    form.get_by_label("Subclass of").fill("DataAsset")
    form.get_by_role("button", name="Add class").click()
    expect(form.get_by_role("status")).to_contain_text("Added class local:Metric")
    row = page.get_by_test_id("classes").locator('tr[data-term="local:Metric"]')
    expect(row).to_contain_text("semcat:DataAsset")
    expect(row).to_contain_text("custom")
    expect(page.get_by_test_id("ontology-history")).to_contain_text("ontology: add class Metric")
    assert any(c["iri"].endswith("/ontology#Metric") for c in api(site, "/api/v1/ontology")["classes"])

    page.get_by_label("What to do").select_option(label="Add a glossary term")
    form = page.get_by_role("form", name="Add a glossary term")
    form.get_by_label(re.compile("^Term")).fill("Churn rate")
    form.get_by_label("Definition").fill("Share of active customers lost in a period.")
    form.get_by_role("button", name="Add term").click()
    expect(form.get_by_role("status")).to_contain_text("glossary/business/churn-rate")
    glossary = page.get_by_test_id("glossary")
    expect(glossary.get_by_role("link", name="Churn rate")).to_be_visible()
    assert api(site, "/api/v1/assets/glossary/business/churn-rate")["type"] == "GlossaryTerm"
    # the history shows what each change added
    page.get_by_role("button", name=re.compile(r"^Show the triples of change")).first.click()
    expect(page.get_by_test_id("ontology-diff")).to_contain_text("Metric")
    shot(page, "governance-ontology-editor")


def test_an_edit_the_reasoner_refuses_is_shown_in_words_and_changes_nothing(
        page: Page, site: dict[str, Any]) -> None:
    before = api(site, "/api/v1/ontology")
    sign_in(page, site["admin"], "/ui/governance?tab=ontology")
    form = page.get_by_role("form", name="Add a class")
    form.get_by_label("Name").fill("Impossible")
    form.get_by_label("Label").fill("Impossible")
    form.get_by_label("Subclass of").fill("Table")
    form.get_by_label("Disjoint with").fill("DataAsset")  # a table is a data asset
    form.get_by_role("button", name="Add class").click()
    problem = form.get_by_test_id("problem")
    expect(problem).to_contain_text("unsatisfiable (no instance could exist); nothing was written")
    expect(problem).to_contain_text("OWL 2 DL reasoner")
    shot(page, "governance-ontology-refused")
    after = api(site, "/api/v1/ontology")
    assert after["revision"] == before["revision"] and after["classes"] == before["classes"]
    # a malformed name is refused at its field, with the server's words
    form.get_by_label("Name").fill("not a class")
    form.get_by_role("button", name="Add class").click()
    name = form.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(form.locator("#onto-class-name-err")).to_contain_text("should match pattern")
    assert api(site, "/api/v1/ontology")["revision"] == before["revision"]


def test_an_admin_creates_a_team_a_role_and_a_policy(page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["admin"], "/ui/admin")
    page.get_by_role("button", name="New team").click()
    team = page.get_by_role("form", name="New team")
    team.get_by_label("Id").fill("team/ui-stewards")
    team.get_by_role("button", name="Create").click()  # no name: refused at the field
    expect(team.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(team.locator("#dir-Team-name-err")).to_contain_text("'name' is required")
    assert call(site, "GET", "/api/v1/assets/team/ui-stewards").status_code == 404
    team.get_by_label("Name").fill("UI stewards")
    team.get_by_label("Description").fill("Stewards made in the browser.")
    team.get_by_role("button", name="Create").click()
    expect(team.get_by_role("status")).to_contain_text("Created team/ui-stewards")
    expect(page.get_by_test_id("list-Team").locator('tr[data-id="team/ui-stewards"]')).to_be_visible()

    page.get_by_role("button", name="New role").click()
    role = page.get_by_role("form", name="New role")
    role.get_by_label("Id").fill("role/ui-auditor")
    role.get_by_label("Name").fill("Auditor")
    role.get_by_label("Description").fill("Reads everything, changes nothing.")
    role.get_by_label("Grants").fill("read")
    role.get_by_role("button", name="Create").click()
    expect(role.get_by_role("status")).to_contain_text("Created role/ui-auditor")
    assert api(site, "/api/v1/assets/role/ui-auditor")["grants"] == ["permission/read"]

    page.get_by_role("button", name="New access policy").click()
    policy = page.get_by_role("form", name="New access policy")
    policy.get_by_label("Id").fill("policy/ui-no-pii-for-stewards")
    policy.get_by_label("Name").fill("UI stewards see no PII")
    policy.get_by_label("Description").fill("Made in the browser.")
    policy.get_by_label("Effect").select_option("deny")
    policy.get_by_label("Action").select_option("read")
    policy.get_by_label("Assets classified").fill("classification/pii")
    policy.get_by_label("Callers in team").fill("team/ui-stewards")
    policy.get_by_role("button", name="Create").click()
    expect(policy.get_by_role("status")).to_contain_text("Created policy/ui-no-pii-for-stewards")
    doc = api(site, "/api/v1/assets/policy/ui-no-pii-for-stewards")
    assert (doc["effect"], doc["action"], doc["targetClassification"], doc["callerMemberOf"]) == (
        "deny", "read", "classification/pii", "team/ui-stewards")
    shot(page, "admin-directory")

    # editing sends If-Match: a change made meanwhile is not overwritten
    page.get_by_role("button", name="Edit team/ui-stewards").click()
    edit = page.get_by_role("form", name="Edit team/ui-stewards")
    expect(edit.get_by_test_id("editing-version")).to_contain_text("Editing version 1;")
    edit.get_by_label("Roles").fill("role/ui-auditor")
    r = call(site, "PATCH", "/api/v1/assets/team/ui-stewards", {"description": "Changed meanwhile."})
    assert r.status_code == 200, r.text
    edit.get_by_role("button", name="Save").click()
    expect(edit.get_by_test_id("problem")).to_contain_text("Someone changed this meanwhile")
    assert "hasRole" not in api(site, "/api/v1/assets/team/ui-stewards")
    page.get_by_role("button", name="Edit team/ui-stewards").click()  # re-read, then save
    expect(edit.get_by_test_id("editing-version")).to_contain_text("Editing version 2;")
    edit.get_by_label("Roles").fill("role/ui-auditor")
    edit.get_by_role("button", name="Save").click()
    expect(edit.get_by_role("status")).to_contain_text("Saved team/ui-stewards (version 3)")
    doc = api(site, "/api/v1/assets/team/ui-stewards")
    assert doc["hasRole"] == ["role/ui-auditor"] and doc["description"] == "Changed meanwhile."


def test_an_attribute_made_stricter_is_applied_with_a_migration(page: Page, site: dict[str, Any]) -> None:
    orders = "acme/table/postgres/shop.public.orders"
    spec = {"name": "tier", "label": "Tier", "description": "Service tier", "datatype": "string",
            "appliesTo": ["Table"]}
    assert post(site, "/api/v1/attributes", spec).status_code == 201
    r = call(site, "PATCH", f"/api/v1/assets/{orders}", {"tier": "gold"})
    assert r.status_code == 200, r.text
    sign_in(page, site["admin"], "/ui/governance?tab=attributes")
    page.get_by_role("button", name="Change tier").click()
    form = page.locator("form.stack")
    expect(form.get_by_label("Name (JSON key)")).to_have_value("tier")
    form.get_by_label("Pattern").fill("^[A-Z]+$")
    form.get_by_role("button", name="Dry run").click()
    impact = page.get_by_test_id("impact")
    expect(impact).to_contain_text("1 existing assets would violate")
    expect(impact.get_by_role("listitem")).to_contain_text(orders)
    expect(impact.get_by_role("listitem")).to_contain_text("does not match")
    impact.get_by_label("Migration").select_option("drop-invalid")
    shot(page, "governance-attribute-migration")
    impact.get_by_role("button", name="Apply and migrate").click()
    expect(page.get_by_role("status")).to_contain_text("1 assets migrated (offending values removed)")
    defined = api(site, "/api/v1/attributes/tier")
    assert defined["pattern"] == "^[A-Z]+$" and defined["description"] == "Service tier"
    assert "tier" not in api(site, f"/api/v1/assets/{orders}")


def test_a_viewer_sees_no_editing_controls_and_the_api_refuses_them(
        page: Page, site: dict[str, Any]) -> None:
    sign_in(page, site["viewer"], "/ui/governance?tab=ontology")
    expect(page.get_by_test_id("read-only")).to_contain_text("needs the manage-ontology permission")
    expect(page.get_by_test_id("classes")).to_contain_text("semcat:Table")
    expect(page.get_by_role("form")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Add"))).to_have_count(0)
    page.get_by_role("tab", name="Custom attributes").click()
    expect(page.get_by_test_id("read-only")).to_contain_text("needs the manage-attributes permission")
    expect(page.get_by_role("button", name=re.compile("^(Dry run|Change|Apply)"))).to_have_count(0)
    page.goto("/ui/admin")
    expect(page.get_by_test_id("not-admin")).to_contain_text("for instance admins")
    expect(page.get_by_role("button", name=re.compile("^(New|Create|Edit|Revoke)"))).to_have_count(0)
    shot(page, "viewer-admin")
    r = post(site, "/api/v1/ontology/classes", {"name": "Sneaky", "label": "S", "parent": "Table"}, "viewer")
    assert r.status_code == 403, r.text
    r = post(site, "/api/v1/assets", {"type": "Team", "id": "team/sneaky", "name": "S"}, "viewer")
    assert r.status_code == 403, r.text
    assert call(site, "GET", "/api/v1/assets/team/sneaky").status_code == 404
