"""Every setting has a description and is listed in docs/settings.md."""

from __future__ import annotations

import pytest

from catalog.settings import Settings
from tests.conftest import ROOT


def test_every_setting_is_described_and_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`SEMCAT_{name.upper()}`" in doc, f"docs/settings.md does not list {name}"
        assert field.description in doc, f"docs/settings.md describes {name} differently"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMCAT_QUERY_TIMEOUT_S", "2.5")
    monkeypatch.setenv("SEMCAT_BASE_IRI", "https://data.example.com/")
    s = Settings()
    assert s.query_timeout_s == 2.5 and s.base == "https://data.example.com"
