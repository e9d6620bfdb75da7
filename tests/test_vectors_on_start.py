"""Vectors from the first write (issue 15, item 5): a server follows the change log with vectors
as it starts, so an asset written before anyone searched semantically is embedded already;
with the setting off, nothing is embedded until the first semantic search."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from sparql_api import create_app
from tests.test_search import SCAFFOLD, table


def embedded_up_to(cat: Catalog, seq: int, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (cat.search.freshness()["vectors"] or 0) >= seq:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow  # loads the sentence encoder
def test_a_server_embeds_from_its_start_without_a_search() -> None:
    with Catalog.open(Settings(data=None, vectors_on_start=True)) as cat:
        cat.assets.upsert_many(SCAFFOLD, actor="test")
        with TestClient(create_app(cat)) as client:
            r = client.post("/api/v1/assets", json=table("penguins", "Birds that swim"))
            assert r.status_code in (200, 201), r.text
            position = int(r.headers["Semcat-Position"])
            assert embedded_up_to(cat, position)
            assert cat.search.vectors.asset_keys()  # embedded, not merely counted
            assert "acme/table/snowflake/wh.zoo.penguins" in set(cat.search.vectors.asset_keys())


def test_with_the_setting_off_vectors_wait_for_a_semantic_search() -> None:
    with Catalog.open(Settings(data=None, vectors_on_start=False)) as cat:
        cat.assets.upsert_many(SCAFFOLD, actor="test")
        with TestClient(create_app(cat)) as client:
            r = client.post("/api/v1/assets", json=table("penguins", "Birds that swim"))
            assert r.status_code in (200, 201), r.text
            time.sleep(0.5)
            assert cat.search.freshness()["vectors"] is None
