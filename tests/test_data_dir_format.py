"""Data-directory formats (issue 12, item 4): a catalog made by the previous release opens and is
upgraded in place, with the upgrade logged; one made by a newer semcat is refused untouched.

tests/fixtures/format1-catalog.tgz was made by commit ebc7e38 (format 1, the last without a
marker): an empty catalog plus one DataPlatform, `platform/old`, written by actor "fixture"."""

from __future__ import annotations

import json
import logging
import tarfile
from pathlib import Path

import pytest

from catalog import Catalog, Settings
from catalog.data_dir import FORMAT, FORMAT_FILE, format_of
from graph_store.errors import InputError
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "format1-catalog.tgz"


def _format1(tmp_path: Path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "data"


def test_a_catalog_of_the_previous_format_is_upgraded_on_open(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = _format1(tmp_path)
    assert format_of(data) == 1 and not (data / FORMAT_FILE).exists()
    with caplog.at_level(logging.WARNING, logger="catalog.data_dir"), \
            Catalog.open(Settings(data=data)) as cat:
        assert cat.assets.get("platform/old")["name"] == "old"
        assert cat.assets.versions("platform/old")[0].actor == "fixture"
        cat.assets.upsert_many([{"type": "DataPlatform", "id": "platform/new", "name": "new"}],
                               actor="test")
    assert [r.getMessage() for r in caplog.records] == [
        f"upgrading the catalog in {data} from format 1 to 2"]
    assert json.loads((data / FORMAT_FILE).read_text()) == {"format": FORMAT}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="catalog.data_dir"), \
            Catalog.open(Settings(data=data)) as cat:
        assert {cat.assets.get(k)["name"] for k in ("platform/old", "platform/new")} == {
            "old", "new"}
    assert not caplog.records  # upgraded once


def test_a_new_catalog_is_of_the_current_format(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path / "fresh")):
        pass
    assert format_of(tmp_path / "fresh") == FORMAT


def test_a_catalog_from_a_newer_semcat_is_refused_untouched(tmp_path: Path) -> None:
    data = _format1(tmp_path)
    (data / FORMAT_FILE).write_text(json.dumps({"format": FORMAT + 1}))
    before = {p: p.stat().st_mtime_ns for p in data.rglob("*") if p.is_file()}
    with pytest.raises(InputError, match="newer semcat"):
        Catalog.open(Settings(data=data))
    assert before == {p: p.stat().st_mtime_ns for p in data.rglob("*") if p.is_file()}
