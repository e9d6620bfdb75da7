"""A deadline for pure-Python work in the server's own process (rdflib evaluating a SPARQL
Update's WHERE clause): once it passes, the working thread gets an exception at its next
bytecode, so the work stops using CPU and lets go of what it built. Native code (pyoxigraph)
cannot be stopped this way; queries run in worker processes instead (query_pool.py)."""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_hook_lock = threading.Lock()
_blocks: dict[type[BaseException], int] = {}  # the errors of the blocks running now
_hidden: tuple[Callable[[Any], None], Callable[[Any], None]] | None = None  # (ours, theirs)


def _unraisable(report: Any) -> None:
    """A stop that lands in a finaliser or a weakref callback is swallowed there, and Python
    reports it as unraisable; it is delivered again 50 ms later, so the report is noise."""
    if report.exc_type not in _blocks and _hidden is not None:
        _hidden[1](report)


def _quiet(error: type[BaseException], entering: bool) -> None:
    global _hidden
    with _hook_lock:
        _blocks[error] = _blocks.get(error, 0) + (1 if entering else -1)
        if not _blocks[error]:
            del _blocks[error]
        if entering and (_hidden is None or sys.unraisablehook is not _hidden[0]):
            _hidden = (_unraisable, sys.unraisablehook)
            sys.unraisablehook = _unraisable
        elif not _blocks and _hidden is not None:
            if sys.unraisablehook is _hidden[0]:
                sys.unraisablehook = _hidden[1]
            _hidden = None


@contextmanager
def deadline(seconds: float, error: type[BaseException]) -> Iterator[None]:
    """Raise ``error`` in this thread if the block is still running after ``seconds``, and
    from the ``with`` if the block ends normally after that (code that swallowed the stop may
    have cut its work short)."""
    thread = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    state = {"running": True, "fired": False}
    stopped = threading.Event()

    def watch() -> None:
        if stopped.wait(seconds):
            return
        # again and again until the block is left: code that catches everything (a bare
        # ``except:`` in a library) may swallow one delivery
        while True:
            with lock:
                if not state["running"]:
                    return
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, ctypes.py_object(error))
                state["fired"] = True
            if stopped.wait(0.05):
                return

    watcher = threading.Thread(target=watch, name="semcat-deadline", daemon=True)
    _quiet(error, True)
    watcher.start()
    try:
        yield
    finally:
        with lock:
            state["running"] = False
            if state["fired"]:  # not delivered yet: it must not go off after the block
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread, None)
        stopped.set()
        watcher.join()
        _quiet(error, False)
    if state["fired"]:  # finished after all, perhaps on a swallowed stop: not to be trusted
        raise error
