"""A SPARQL Update's WHERE clause runs in the server's process (rdflib over the store): past the
query deadline it is stopped there, answers 503, writes nothing and holds no CPU afterwards."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from catalog import Catalog, Settings
from graph_store.errors import QueryTimeout

NAME = "<https://w3id.org/semcat#name>"


def test_an_update_past_its_deadline_is_stopped_and_writes_nothing() -> None:
    with Catalog.open(Settings(data=None, query_timeout_s=1.0)) as cat:
        cat.assets.upsert_many([{"type": "DataPlatform", "id": f"platform/p{i}",
                                 "name": f"platform {i}"} for i in range(300)], actor="admin")
        seq = cat.journal.applied_seq
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match="1 s deadline"):
            cat.sparql.update(f"INSERT {{ <urn:x> <urn:y> ?n1 }} WHERE {{ ?a {NAME} ?n1 . "
                              f"?b {NAME} ?n2 . ?c {NAME} ?n3 FILTER(false) }}", actor="admin")
        assert time.monotonic() - started < 10
        assert cat.journal.applied_seq == seq
        cpu = time.process_time()
        time.sleep(0.5)  # nothing left running on this thread's behalf
        assert time.process_time() - cpu < 0.2
        assert not [t for t in threading.enumerate() if t.name == "semcat-deadline"]
        # the next update (and its own deadline) work as usual
        done = cat.sparql.update("INSERT DATA { <urn:a> <urn:b> 'c' }", actor="admin")
        assert done is not None


def test_the_deadline_outlasts_code_that_swallows_it() -> None:
    """rdflib has places that catch everything: one delivery may be lost, the next is not."""
    from graph_store.interrupt import deadline

    class Late(BaseException):
        pass

    swallowed = 0
    started = time.monotonic()
    with pytest.raises(Late), deadline(0.2, Late):
        while time.monotonic() - started < 10:
            try:  # long enough that a delivery lands here, not in the loop's own test
                sum(range(200_000))
            except Late:
                swallowed += 1
                if swallowed < 3:
                    continue
                raise
    assert swallowed == 3 and time.monotonic() - started < 5


def test_work_that_swallowed_the_stop_and_finished_counts_as_stopped() -> None:
    from graph_store.interrupt import deadline

    class Late(BaseException):
        pass

    finished = False
    with pytest.raises(Late), deadline(0.1, Late):
        try:
            time.sleep(0.05)
            while True:
                sum(range(1000))
        except Late:  # a library's catch-all: it returns what it has
            finished = True
    assert finished


def test_a_stop_swallowed_in_a_finaliser_is_not_reported_as_unraisable() -> None:
    """Delivered inside a ``__del__`` or a weakref callback, the stop is swallowed by Python
    (and delivered again): that report is noise; any other unraisable report still goes out."""
    import sys

    from graph_store.interrupt import deadline

    class Stop(Exception):
        pass

    reports: list[type[BaseException]] = []
    before = sys.unraisablehook

    def ours(report: Any) -> None:
        reports.append(report.exc_type)
    sys.unraisablehook = ours
    try:
        class Dying:
            def __init__(self, error: type[BaseException]) -> None:
                self.error = error

            def __del__(self) -> None:
                raise self.error

        with deadline(5, Stop):
            Dying(Stop)  # as if the stop had landed in a finaliser
            Dying(ValueError)
        Dying(Stop)  # outside a block: reported as usual
        assert reports == [ValueError, Stop]
        assert sys.unraisablehook is ours  # as it was before the block
    finally:
        sys.unraisablehook = before
