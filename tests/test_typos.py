"""Typos get a clear error, not a quiet success (issue 10, item 9): unknown users, workspaces and
roles in `semcat keys create` (also beside a running server), an unknown workspace in `semcat
validate --workspace`, a file that reads as zero triples in `semcat load`, and OpenID Connect
configured by halves, which fails at startup rather than on the first request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from catalog import Settings
from tests.conftest import ROOT, Server, free_port

ASHA = "user/asha.patel"  # a demo user, a member of team/data-platform
# A DataHub MetadataChangeEvent: JSON, but not JSON-LD (no @context), so it reads as no triples.
DATAHUB_MCE = [{"auditHeader": None, "proposedSnapshot": {
    "com.linkedin.pegasus2avro.metadata.snapshot.CorpUserSnapshot": {
        "urn": "urn:li:corpuser:jdoe",
        "aspects": [{"com.linkedin.pegasus2avro.identity.CorpUserInfo": {
            "active": True, "displayName": {"string": "John Doe"},
            "email": "jdoe@linkedin.com"}}]}}, "proposedDelta": None}]


def semcat(*args: str, data: Path, env: dict[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semcat", *args, "--data", str(data)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(ROOT),
                               **(env or {})})


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("typos") / "demo"
    r = semcat("demo", data=data)
    assert r.returncode == 0, r.stderr
    return data


def keys(data: Path) -> list[dict[str, object]]:
    r = semcat("keys", "list", "--format", "json", data=data)
    assert r.returncode == 0, r.stderr
    listed: list[dict[str, object]] = json.loads(r.stdout)
    return listed


TYPOS = [
    (("--user", "user/asha.patl", "--workspace", "acme", "--role", "viewer"),
     "no user 'user/asha.patl'"),
    (("--user", ASHA, "--workspace", "acmee", "--role", "viewer"), "no workspace 'acmee'"),
    (("--user", ASHA, "--workspace", "acme", "--role", "viewr"), "no role 'viewr'"),
    (("--user", "asha.patl@acme-outfitters.com"), "no user 'asha.patl@acme-outfitters.com'"),
]


def test_keys_create_refuses_unknown_users_workspaces_and_roles(demo_dir: Path) -> None:
    before = keys(demo_dir)
    for args, said in TYPOS:
        r = semcat("keys", "create", *args, data=demo_dir)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert said in r.stderr.replace("\n", ""), r.stderr
        assert "sck_" not in r.stdout
    workspace_typo = semcat("keys", "create", *TYPOS[1][0], data=demo_dir).stderr
    assert "acme" in workspace_typo and "research" in workspace_typo  # what exists instead
    assert keys(demo_dir) == before  # nothing was created
    for args in (("--user", ASHA, "--workspace", "acme", "--role", "viewer"),
                 ("--user", "Asha.Patel@acme-outfitters.com"),  # a user's e-mail
                 ("--user", "user/root", "--admin"),  # admin keys need no directory entry
                 ("--user", "user/newcomer", "--workspace", "acme", "--role", "viewer",
                  "--allow-unknown")):  # a key made before its user is catalogued
        r = semcat("keys", "create", *args, data=demo_dir)
        assert r.returncode == 0 and r.stdout.startswith("sck_"), (args, r.stderr)
    assert len(keys(demo_dir)) == len(before) + 4


def test_keys_create_checks_beside_a_running_server(demo_dir: Path) -> None:
    srv = Server(demo_dir, env={"SEMCAT_OPEN": "0"}).start()
    try:
        r = semcat("keys", "create", *TYPOS[2][0], data=demo_dir)
        assert r.returncode == 2 and TYPOS[2][1] in r.stderr, r.stderr
        made = semcat("keys", "create", "--user", ASHA, "--workspace", "research", "--role",
                      "editor", data=demo_dir)
        assert made.returncode == 0, made.stderr
        me = httpx.get(srv.url + "/api/v1/me", timeout=30,
                       headers={"Authorization": f"Bearer {made.stdout.strip()}"})
        assert me.status_code == 200 and me.json()["subject"] == ASHA
        assert me.json()["grants"] == [{"workspace": "research", "role": "editor"}]
    finally:
        srv.stop()


def test_validate_refuses_an_unknown_workspace(demo_dir: Path) -> None:
    r = semcat("validate", "--workspace", "acmee", data=demo_dir)
    assert r.returncode == 2, r.stderr
    assert "no workspace 'acmee'" in r.stderr and "conforms" not in r.stderr
    assert semcat("validate", "--workspace", "research", data=demo_dir).returncode == 0


def test_load_refuses_a_file_that_reads_as_no_triples(tmp_path: Path) -> None:
    data, mce, empty = tmp_path / "cat", tmp_path / "bootstrap_mce.json", tmp_path / "empty.ttl"
    mce.write_text(json.dumps(DATAHUB_MCE))
    empty.write_text("# nothing here\n")
    for path in (mce, empty):
        r = semcat("load", str(path), data=data)
        assert r.returncode == 2, r.stderr
        assert "no triples" in r.stderr and path.name in r.stderr
    assert "JSON-LD" in semcat("load", str(mce), data=data).stderr
    count = semcat("query", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER("
                   "STRSTARTS(STR(?s), 'urn:li:')) }", "-f", "json", data=data)
    assert json.loads(count.stdout)["results"]["bindings"][0]["n"]["value"] == "0"


HALF_OIDC = [
    ({"oidc_issuer": "https://id.example.test"}, "SEMCAT_OIDC_AUDIENCE"),
    ({"oidc_issuer": "https://id.example.test", "oidc_audience": "semcat"},
     "SEMCAT_OIDC_JWKS_URL"),
    ({"oidc_audience": "semcat", "oidc_jwks_url": "https://id.example.test/jwks"},
     "SEMCAT_OIDC_ISSUER"),
    ({"oidc_issuer": "https://id.example.test", "oidc_audience": "semcat",
      "oidc_jwks_url": "id.example.test/jwks"}, "http(s) URL"),
]


@pytest.fixture
def clean_env() -> Iterator[None]:
    """No SEMCAT_OIDC_* from the outer environment may complete a half configuration."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SEMCAT_OIDC_")}
    yield
    os.environ.update(saved)


@pytest.mark.usefixtures("clean_env")
def test_half_configured_oidc_is_refused_by_the_settings() -> None:
    for fields, named in HALF_OIDC:
        with pytest.raises(ValidationError, match=named.replace("(", r"\(").replace(")", r"\)")):
            Settings(data=None, **fields)  # type: ignore[arg-type]
    Settings(data=None, oidc_issuer="https://id.example.test", oidc_audience="semcat",
             oidc_jwks_url="https://id.example.test/jwks")  # all three: fine


def test_serve_with_half_configured_oidc_fails_at_startup(tmp_path: Path) -> None:
    port = str(free_port())
    r = semcat("serve", "--port", port, data=tmp_path / "cat", timeout=60,
               env={"SEMCAT_OIDC_ISSUER": "https://id.example.test"})
    assert r.returncode == 2, r.stderr
    assert "SEMCAT_OIDC_AUDIENCE" in r.stderr and "SEMCAT_OIDC_JWKS_URL" in r.stderr
    assert "Traceback" not in r.stderr
