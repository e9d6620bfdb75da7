"""The change stream keeps only recent events in memory (every object held there slows each of
the collector's full passes); older ones are made again from the change log, with no gap and no
duplicate where the two meet."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Catalog, Settings
from events import feed
from events.model import Position


def test_events_older_than_memory_come_from_the_log(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "MAX_RECENT_CHANGESETS", 5)
    with Catalog.open(Settings(data=tmp_path / "data")) as cat:
        start = cat.journal.applied_seq
        written = []
        for i in range(12):
            cat.assets.upsert({"type": "DataPlatform", "id": f"platform/p{i}",
                               "name": f"platform {i}"}, actor="admin")
            written.append(cat.journal.applied_seq)
        cat.events.feed.wait(written[-1] - 1, timeout=30)
        assert cat.events.read_live(Position(start)) is None  # not all in memory any more
        live = cat.events.read_live(Position(written[-4]))
        assert live is not None and [e.seq for e in live] == written[-3:]
        events = cat.events.read(Position(start))
        assert [e.seq for e in events] == written
        assert [e.assets[0].key for e in events] == [f"platform/p{i}" for i in range(12)]
        assert all(e.type == "asset.created" for e in events)
