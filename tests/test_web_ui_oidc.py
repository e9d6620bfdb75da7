"""Single sign-on in the web UI against a real OpenID provider: panva's oidc-provider (node, from
tests/oidc_idp/) on loopback, and semcat serving the demo catalog with authentication on. A person
signs in through the provider's login page (authorization code + PKCE), lands back signed in
and sees what their groups' teams may read; a viewer does not see restricted assets; signing out
leaves the page with no credentials; a token the provider made for another API is refused."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import Server, demo_copy, free_port
from tests.test_web_ui import CHROMIUM, CHROMIUM_ARGS, _need_browser, fresh_page, shot
from tests.test_web_ui_a11y import axe_violations, node_tools

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it; _need_browser says so
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.slow  # the demo catalog ~15 s, the provider ~1 s, the journeys ~20 s
CLIENT_ID = "semcat-ui"
AUDIENCE = "https://semcat.test/api"
OTHER_AUDIENCE = "https://reports.test/api"
PAYMENTS = "acme/table/postgres/shop.public.payments"  # restricted, owned by team/data-platform
ORDERS = "acme/table/postgres/shop.public.orders"
# the provider's accounts; groups name the demo's teams (team/data-platform, team/support)
ACCOUNTS = {"ana": {"email": "ana@acme.test", "groups": ["data-platform"]},
            "victor": {"email": "victor@acme.test", "groups": ["support"]}}


class Provider:
    """tests/oidc_idp/idp.mjs in a subprocess: a real OpenID provider on 127.0.0.1."""

    def __init__(self, log: Path, ui_port: int) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "IDP_PORT": str(self.port), "IDP_CLIENT_ID": CLIENT_ID,
               "IDP_REDIRECT_URI": f"http://127.0.0.1:{ui_port}/ui/callback",
               "IDP_AUDIENCE": AUDIENCE, "IDP_OTHER_AUDIENCE": OTHER_AUDIENCE,
               "IDP_ACCOUNTS": json.dumps(ACCOUNTS)}
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(["node", "idp.mjs"], cwd=node_tools(), env=env,
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the OpenID provider died: {log.read_text()[-2000:]}")
            try:
                if httpx.get(self.issuer + "/.well-known/openid-configuration").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the OpenID provider did not start in time")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def sso(demo_template: Path, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[dict[str, Any]]:
    """The demo catalog served with authentication on and single sign-on for the UI."""
    _need_browser()
    data = demo_copy(demo_template, tmp_path_factory, "webui-sso")
    port = free_port()
    idp = Provider(data.parent / f"{data.name}-idp.log", port)
    srv = Server(data, port=port, env={
        "SEMCAT_OPEN": "0", "SEMCAT_OIDC_ISSUER": idp.issuer, "SEMCAT_OIDC_AUDIENCE": AUDIENCE,
        "SEMCAT_OIDC_JWKS_URL": idp.issuer + "/jwks", "SEMCAT_OIDC_UI_CLIENT_ID": CLIENT_ID})
    try:
        srv.start()
        yield {"url": srv.url, "issuer": idp.issuer, "admin": (data / "admin.key").read_text().strip()}
    finally:
        srv.stop()
        idp.stop()


@pytest.fixture(scope="module")
def browser(sso: dict[str, Any]) -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, sso: dict[str, Any]) -> Iterator[Page]:
    yield from fresh_page(browser, sso["url"])


def sso_sign_in(page: Page, sso: dict[str, Any], login: str, to: str = "/ui/search") -> None:
    """Through the provider's own login and consent pages, and back."""
    page.goto(to)
    with page.expect_request(re.compile(re.escape(sso["issuer"]) + "/auth")) as asked:
        page.get_by_role("button", name="Sign in with SSO").click()
    params = dict(parse_qsl(urlsplit(asked.value.url).query))
    assert params["response_type"] == "code" and params["code_challenge_method"] == "S256"
    assert params["client_id"] == CLIENT_ID and len(params["code_challenge"]) == 43
    page.wait_for_url(re.compile(re.escape(sso["issuer"]) + "/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent, the first time
    expect(page.get_by_test_id("who")).to_have_text(ACCOUNTS[login]["email"])


def session_token(page: Page) -> str:
    """The access token oidc-client-ts keeps in this tab's session storage."""
    raw = page.evaluate("""() => Object.keys(sessionStorage).filter(k => k.startsWith('oidc.user:'))
        .map(k => sessionStorage.getItem(k))[0] ?? null""")
    assert raw, "no signed-in user in session storage"
    return str(json.loads(raw)["access_token"])


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def page_me_status(page: Page) -> int:
    """What the API answers the page's own credentials now (authHeaders() of ui/src/api.ts)."""
    return int(page.evaluate("""async () => {
        const key = sessionStorage.getItem('semcat.apiKey');
        const user = Object.keys(sessionStorage).filter(k => k.startsWith('oidc.user:'))
            .map(k => JSON.parse(sessionStorage.getItem(k)))[0];
        const headers = key ? {'X-API-Key': key} : user ? {Authorization: 'Bearer ' + user.access_token} : {};
        return (await fetch('/api/v1/me', {headers})).status;
    }"""))


def test_the_config_endpoint_names_the_issuer_and_client_and_no_secret(sso: dict[str, Any]) -> None:
    r = httpx.get(sso["url"] + "/ui/config.json")  # before anyone signs in
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {"open": False, "oidc": {"issuer": sso["issuer"], "clientId": CLIENT_ID,
                                                "scope": "openid email"}}
    assert "sck_" not in r.text and "secret" not in r.text.lower()
    # the page may talk to the issuer (discovery, token endpoint) and nowhere else
    csp = httpx.get(sso["url"] + "/ui/search").headers["content-security-policy"]
    assert f"connect-src 'self' {sso['issuer']};" in csp


def test_a_person_signs_in_with_sso_and_sees_assets(page: Page, sso: dict[str, Any]) -> None:
    page.goto("/ui/search?q=payments&nl=false")
    expect(page.get_by_label("API key")).to_be_visible()  # the key form stays beside SSO
    assert not axe_violations(page)
    shot(page, "sign-in-sso")
    sso_sign_in(page, sso, "ana", "/ui/search?q=payments&nl=false")
    # back where the person started, signed in with a token for semcat's audience
    expect(page).to_have_url(re.compile(r"/ui/search\?q=payments&nl=false$"))
    token = claims(session_token(page))
    assert token["aud"] == AUDIENCE and token["groups"] == ["data-platform"]
    assert page.evaluate("sessionStorage.getItem('semcat.apiKey')") is None
    # the owning team (data-platform) may read the restricted payments table
    expect(page.locator(f'li.hit[data-id="{PAYMENTS}"]')).to_be_visible()
    bearer = {"Authorization": f"Bearer {session_token(page)}"}
    me = httpx.get(sso["url"] + "/api/v1/me", headers=bearer).json()
    assert me["via"] == "oidc" and me["subject"] == "ana@acme.test"
    page.goto(f"/ui/asset/{PAYMENTS}")  # a reload keeps the session (this tab's storage)
    expect(page.get_by_role("heading", level=1)).to_have_text("payments")
    shot(page, "sso-asset")


def test_a_viewer_by_group_sees_no_restricted_asset(page: Page, sso: dict[str, Any]) -> None:
    sso_sign_in(page, sso, "victor", "/ui/search?q=payments&nl=false")
    expect(page.get_by_test_id("total")).to_be_visible()
    expect(page.locator("li.hit").first).to_be_visible()
    shown = set(page.locator("li.hit").evaluate_all("els => els.map(e => e.dataset.id)"))
    assert PAYMENTS not in shown, shown
    page.goto(f"/ui/asset/{PAYMENTS}")
    expect(page.get_by_role("alert")).to_contain_text("No asset")
    page.goto(f"/ui/asset/{ORDERS}")  # readable by the support team's viewer role, not editable
    expect(page.get_by_role("heading", level=1)).to_have_text("orders")
    expect(page.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)


def test_sign_out_returns_to_the_sign_in_page_and_the_api_refuses_the_page(
        page: Page, sso: dict[str, Any]) -> None:
    sso_sign_in(page, sso, "ana")
    assert page_me_status(page) == 200
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in with SSO")).to_be_visible()
    expect(page.get_by_test_id("signin-note")).to_have_text("Signed out.")
    assert page_me_status(page) == 401  # the tab holds no token any more
    page.reload()
    expect(page.get_by_role("button", name="Sign in with SSO")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_count(0)


def test_a_token_the_provider_made_for_another_api_is_refused(sso: dict[str, Any]) -> None:
    r = httpx.post(sso["issuer"] + "/token", data={"grant_type": "client_credentials"},
                   auth=("other-app", "other-secret"))
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert claims(token)["aud"] == OTHER_AUDIENCE and claims(token)["iss"] == sso["issuer"]
    me = httpx.get(sso["url"] + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401, me.text
    assert me.json()["detail"] == f"audience mismatch: expected {AUDIENCE!r}"
