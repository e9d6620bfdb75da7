"""Ingestion refusals and secrets (issue 14): bad configs, wrong credentials and unreachable
sources give a clear error and write nothing; a password reaches no report, error or audit
entry; connectors are found through entry points; `semcat ingest` runs end to end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from catalog import Catalog
from graph_store.errors import InputError
from tests.conftest import ROOT, free_port
from tests.test_ingestion_sql import Source, mariadb_admin, sqlite_source

SECRET = "s3cr3t-" + uuid.uuid4().hex[:12]


@pytest.fixture
def shop(tmp_path: Path) -> Source:
    return sqlite_source(tmp_path)


def refused(cat: Catalog, config: dict[str, object], *needles: str) -> str:
    """Run ``config``; it must raise InputError naming each needle, having written nothing."""
    seq = cat.journal.applied_seq
    with pytest.raises(InputError) as e:
        cat.ingestion.run(config)
    message = str(e.value.detail)
    for needle in needles:
        assert needle in message, message
    assert SECRET not in message and "hunter2" not in message
    assert cat.journal.applied_seq == seq, "nothing may be written"
    return message


def test_bad_configs_are_refused_precisely(catalog: Catalog, shop: Source,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    good = shop.run_config()
    refused(catalog, {**good, "connector": "nope"}, "no connector 'nope'", "sql")
    refused(catalog, {**good, "workspaec": "x"}, "workspaec: unknown field")
    refused(catalog, {**good, "config": {"urll": shop.config["url"]}}, "config.urll",
            "config.url")
    refused(catalog, {**good, "config": {**shop.config, "password": "hunter2"}},
            "config.password")
    refused(catalog, {**good, "config": {"url": "postgresql://postgres:hunter2@127.0.0.1/test"}},
            "holds a password", "by reference")
    refused(catalog, {**good, "config": {"url": "not a url"}}, "not a database URL")
    refused(catalog, {**good, "config": {**shop.config, "schemas": ["nope"]}}, "no schema 'nope'")
    monkeypatch.delenv("SEMCAT_TEST_MISSING", raising=False)
    refused(catalog, {**good, "config": {"url": "postgresql://postgres@127.0.0.1/test",
                                         "password": {"env": "SEMCAT_TEST_MISSING"}}},
            "SEMCAT_TEST_MISSING is not set")
    refused(catalog, {**good, "config": {**shop.config, "password": {"env": "A", "file": "/b"}}},
            "one of them")


def test_an_unreachable_server_is_a_clear_error(catalog: Catalog) -> None:
    port = free_port()  # nothing listens there
    message = refused(catalog, {"connector": "sql", "workspace": "acme", "config": {
        "url": f"postgresql://postgres@127.0.0.1:{port}/test", "connect_timeout": 3}},
        f"cannot read the database postgresql://postgres@127.0.0.1:{port}/test")
    assert "Connection refused" in message


@pytest.fixture
def mariadb_user() -> Iterator[tuple[str, str]]:
    """A database and a user with a password (SECRET) on the MariaDB server."""
    admin = mariadb_admin()
    db, user = f"semcat_{uuid.uuid4().hex[:10]}", f"semcat_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {db}"))
        conn.execute(sa.text(f"CREATE TABLE {db}.accounts (id INT PRIMARY KEY, login "
                             "VARCHAR(40) NOT NULL)"))
        for host in ("%", "localhost"):
            conn.execute(sa.text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{SECRET}'"))
            conn.execute(sa.text(f"GRANT ALL ON {db}.* TO '{user}'@'{host}'"))
    try:
        yield db, user
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {db}"))
            for host in ("%", "localhost"):
                conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'{host}'"))


def test_passwords_come_by_reference_and_are_never_echoed(
        catalog: Catalog, mariadb_user: tuple[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db, user = mariadb_user
    url = f"mysql://{user}@127.0.0.1:3306/{db}"
    monkeypatch.setenv("SEMCAT_TEST_DB_PASSWORD", "wrong-" + SECRET)
    # a wrong password: refused, nothing written, neither password in the message
    message = refused(catalog, {"connector": "sql", "workspace": "acme", "config": {
        "url": url, "password": {"env": "SEMCAT_TEST_DB_PASSWORD"}}}, "Access denied")
    assert "wrong-" not in message
    # the right one, from a file, then from the environment
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    report = catalog.ingestion.run({"connector": "sql", "workspace": "acme", "config": {
        "url": url, "password": {"file": str(secret_file)}, "profile": True}})
    assert report.ok and report.added == 5, report.to_json()  # db, schema, table, 2 columns
    monkeypatch.setenv("SEMCAT_TEST_DB_PASSWORD", SECRET)
    again = catalog.ingestion.run({"connector": "sql", "workspace": "acme", "config": {
        "url": url, "password": {"env": "SEMCAT_TEST_DB_PASSWORD"}, "profile": True}})
    assert again.unchanged == 5 and again.added == again.updated == 0
    for text in (json.dumps(report.to_json()), json.dumps(again.to_json()),
                 json.dumps([e.to_json() for e in catalog.audit.entries(limit=100_000)]),
                 json.dumps(catalog.assets.get(f"acme/table/mysql/{db}.{db}.accounts"))):
        assert SECRET not in text
    exported = io.BytesIO()
    catalog.export(exported)
    assert f"{db}.{db}.accounts".encode() in exported.getvalue()
    assert SECRET.encode() not in exported.getvalue()


def test_connectors_are_entry_points(catalog: Catalog) -> None:
    found = {c.name: c for c in catalog.ingestion.connectors()}
    assert found["sql"].enabled and found["sql"].target == "ingestion.sql:SqlConnector"


def semcat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "semcat", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)


def test_cli_ingests_end_to_end(tmp_path: Path, shop: Source) -> None:
    config = tmp_path / "shop.yaml"
    config.write_text(f"connector: sql\nworkspace: acme\nconfig:\n  url: {shop.config['url']}\n"
                      "  profile: true\n")
    data = tmp_path / "data"
    r = semcat("ingest", str(config), "--data", str(data))
    assert r.returncode == 0, r.stderr
    assert "added" in r.stdout and "16" in r.stdout and "sql:sqlite/shop" in r.stdout
    r = semcat("ingest", str(config), "--data", str(data), "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unchanged"] == 16
    r = semcat("ingest", "--list", "-f", "json")
    assert r.returncode == 0 and {c["name"] for c in json.loads(r.stdout)} >= {"sql"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"connector": "sql", "workspace": "acme",
                               "config": {"url": shop.config["url"], "password": "hunter2"}}))
    r = semcat("ingest", str(bad), "--data", str(data))
    assert r.returncode == 2 and "config.password" in r.stderr and "hunter2" not in r.stderr


def test_running_ingestion_needs_the_permission(catalog: Catalog, shop: Source) -> None:
    """A caller without run-ingestion (and write) in the workspace is refused before the source
    is read; with both it runs."""
    from access.identity import Principal
    from graph_store.errors import Forbidden

    seq = catalog.journal.applied_seq
    with catalog.access.acting_as(Principal("user/dave", "api-key")), \
            pytest.raises(Forbidden, match="run-ingestion"):
        catalog.ingestion.run(shop.run_config())
    assert catalog.journal.applied_seq == seq
    # an ingestion operator may run ingestion, but a run writes as its caller: it needs write too
    operator = Principal("user/olga", "api-key", grants=(("acme", "ingestion-operator"),))
    with catalog.access.acting_as(operator), pytest.raises(Forbidden, match="write"):
        catalog.ingestion.run(shop.run_config())
    assert catalog.journal.applied_seq == seq
    both = Principal("user/olga", "api-key", grants=(("acme", "ingestion-operator"),
                                                     ("acme", "editor")))
    with catalog.access.acting_as(both):
        report = catalog.ingestion.run(shop.run_config())
    assert report.ok and report.added == 16, report.to_json()
