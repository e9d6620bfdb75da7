"""API keys against a real server with anonymous access off: created through the API and the CLI,
stored only as hashes, refused without a credential, when revoked (at once) and when expired."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server, free_port


def semcat(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semcat", *args], cwd=ROOT, capture_output=True,
                          text=True, check=check, timeout=120)


def cli_key(data: Path, *args: str) -> str:
    """A key made by `semcat keys create` beside the running server, often before the
    directory naming its user and workspace is loaded (hence --allow-unknown)."""
    token = semcat("keys", "create", "--data", str(data), "--allow-unknown", *args).stdout.strip()
    assert token.startswith("sck_"), token
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_problem(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert body["type"] == "https://w3id.org/semcat/problems/" + (
        "unauthenticated" if status == 401 else "forbidden")
    return str(body["detail"])


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("secure"), env={"SEMCAT_OPEN": "0"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def admin_token(secure: Server) -> str:
    return cli_key(secure.data, "--user", "user/root", "--admin", "--label", "tests")


@pytest.fixture
def client(secure: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=secure.url, timeout=30) as c:
        yield c


def test_no_credential_is_401_with_a_bearer_challenge(client: httpx.Client) -> None:
    r = client.get("/api/v1/assets")
    assert "authentication required" in is_problem(r, 401)
    assert r.headers["www-authenticate"] == 'Bearer realm="semcat"'
    sparql = client.get("/sparql", params={"query": "ASK {}"})
    assert sparql.status_code == 401 and sparql.headers["www-authenticate"].startswith("Bearer")
    assert client.post("/store?default", content=b"<a:b> <a:c> <a:d> .",
                       headers={"Content-Type": "text/turtle"}).status_code == 401
    for public in ("/healthz", "/openapi.json", "/docs"):
        assert client.get(public).status_code == 200, public


def test_a_cli_key_authenticates_by_bearer_and_by_x_api_key(client: httpx.Client,
                                                           admin_token: str) -> None:
    me = client.get("/api/v1/me", headers=bearer(admin_token))
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == "user/root" and me.json()["via"] == "api-key"
    assert me.json()["admin"] is True and me.json()["keyId"] == admin_token.split("_")[1]
    assert client.get("/api/v1/assets", headers={"X-API-Key": admin_token}).status_code == 200
    assert client.get("/sparql", params={"query": "ASK {}"},
                      headers=bearer(admin_token)).status_code == 200


def test_api_created_key_is_shown_once_and_stored_only_as_a_hash(
        client: httpx.Client, admin_token: str, secure: Server) -> None:
    r = client.post("/api/v1/keys", headers=bearer(admin_token),
                    json={"subject": "user/alice", "workspace": "acme", "role": "viewer",
                          "label": "alice's laptop"})
    assert r.status_code == 201, r.text
    created = r.json()
    token, secret = created["token"], created["token"].split("_", 2)[2]
    assert r.headers["location"] == f"/api/v1/keys/{created['id']}"
    me = client.get("/api/v1/me", headers=bearer(token)).json()
    assert me["subject"] == "user/alice" and me["admin"] is False
    assert me["grants"] == [{"workspace": "acme", "role": "viewer"}]
    listed = client.get("/api/v1/keys", headers=bearer(admin_token)).json()["items"]
    mine = next(k for k in listed if k["id"] == created["id"])
    assert mine["label"] == "alice's laptop" and "token" not in mine
    assert secret not in r.request.url.path and secret not in str(listed)
    stored = b"".join(p.read_bytes() for p in secure.data.glob("access.sqlite*"))
    assert secret.encode() not in stored and token.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored


def test_a_non_admin_key_may_not_manage_keys(client: httpx.Client, admin_token: str) -> None:
    viewer = client.post("/api/v1/keys", headers=bearer(admin_token),
                         json={"subject": "user/bob"}).json()["token"]
    r = client.post("/api/v1/keys", headers=bearer(viewer), json={"subject": "user/bob",
                                                                   "admin": True})
    assert "not an instance admin" in is_problem(r, 403)
    assert client.get("/api/v1/keys", headers=bearer(viewer)).status_code == 403


def test_revoked_keys_stop_working_at_once(client: httpx.Client, admin_token: str,
                                           secure: Server) -> None:
    made = client.post("/api/v1/keys", headers=bearer(admin_token),
                       json={"subject": "user/carol"}).json()
    assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    assert client.delete(f"/api/v1/keys/{made['id']}",
                         headers=bearer(admin_token)).status_code == 204
    r = client.get("/api/v1/me", headers=bearer(made["token"]))
    assert f"API key {made['id']} was revoked" in is_problem(r, 401)
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert client.delete("/api/v1/keys/000000000000",
                         headers=bearer(admin_token)).status_code == 404
    # the CLI revokes beside the running server, and that too holds on the next request
    token = cli_key(secure.data, "--user", "user/dave", "--workspace", "acme", "--role", "editor")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    semcat("keys", "revoke", token.split("_")[1], "--data", str(secure.data))
    assert "was revoked" in is_problem(client.get("/api/v1/me", headers=bearer(token)), 401)
    listed = semcat("keys", "list", "--format", "json", "--data", str(secure.data)).stdout
    assert token.split("_")[1] in listed and token.split("_", 2)[2] not in listed


def test_expired_keys_are_refused(client: httpx.Client, admin_token: str) -> None:
    made = client.post("/api/v1/keys", headers=bearer(admin_token),
                       json={"subject": "user/erin", "expires_days": 1.5 / 86400}).json()
    assert made["expires"]
    assert client.get("/api/v1/me", headers=bearer(made["token"])).status_code == 200
    time.sleep(2.2)
    r = client.get("/api/v1/me", headers=bearer(made["token"]))
    assert f"API key {made['id']} expired at" in is_problem(r, 401)


def test_forged_and_malformed_credentials_are_refused(client: httpx.Client,
                                                      admin_token: str) -> None:
    key_id = admin_token.split("_")[1]
    forged = client.get("/api/v1/me", headers=bearer(f"sck_{key_id}_{'A' * 43}"))
    assert is_problem(forged, 401) == "unknown or invalid API key"
    assert "malformed API key" in is_problem(
        client.get("/api/v1/me", headers={"X-API-Key": "not-a-key"}), 401)
    assert "OpenID Connect" in is_problem(
        client.get("/api/v1/me", headers=bearer("eyJhbGciOi.x.y")), 401)
    assert "unsupported Authorization scheme" in is_problem(
        client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)


def test_bad_key_requests_are_400(client: httpx.Client, admin_token: str) -> None:
    r = client.post("/api/v1/keys", headers=bearer(admin_token),
                    json={"subject": "user/x", "workspace": "acme"})
    assert r.status_code == 400 and "both a workspace and a role" in r.json()["detail"]
    r = client.post("/api/v1/keys", headers=bearer(admin_token),
                    json={"subject": "user/x", "rights": "all"})
    assert r.status_code == 400


def test_open_mode_makes_anonymous_callers_admin(server: Server) -> None:
    """The suite's default server runs with SEMCAT_OPEN=1."""
    me = httpx.get(server.url + "/api/v1/me", timeout=30).json()
    assert me == {"subject": "anonymous", "via": "open", "groups": [], "grants": [],
                  "admin": True, "keyId": None, "delegated": False}


def test_serve_open_flag(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SEMCAT_OPEN": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "semcat", "serve", "--data", str(tmp_path),
                             "--port", str(port), "--open", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        r = httpx.get(url + "/api/v1/me", timeout=30)
        assert r.status_code == 200 and r.json()["via"] == "open"
    finally:
        proc.terminate()
        proc.wait(15)
