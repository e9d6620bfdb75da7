"""A deadline for pure-Python work in the server's own process (rdflib evaluating a SPARQL
Update's WHERE clause): once it passes, the working thread gets an exception at its next
bytecode, so the work stops using CPU and lets go of what it built. Native code (pyoxigraph)
cannot be stopped this way; queries run in worker processes instead (query_pool.py)."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
    if state["fired"]:  # finished after all, perhaps on a swallowed stop: not to be trusted
        raise error
