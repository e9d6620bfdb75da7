"""One process at a time per on-disk store, and a refusal that says who holds it.

RocksDB refuses a second opener by itself, but only when opened, and with an I/O error that
names no one; a command that deletes a data directory (``semcat demo --force``) must ask
before it deletes. ``StoreLock`` takes an exclusive ``flock`` on ``<store>.lock`` beside the
store for as long as the store is open, and writes the holder's pid and command into it. It then
tests RocksDB's own ``LOCK`` file (a POSIX lock), so a holder that does not know our lock file
(``oxigraph serve`` on the same store, an older semcat) is refused too.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from graph_store.errors import BackendError, Conflict


def lock_file(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


class StoreLock:
    def __init__(self, file: IO[str]) -> None:
        self._file: IO[str] | None = file

    @classmethod
    def acquire(cls, store: Path) -> StoreLock:
        """Hold ``store`` for this process; Conflict, naming the holder, while another has it."""
        path = lock_file(store)
        where = f"the catalog in {store.parent}"
        advice = "stop it first, or choose another data directory"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file = path.open("a+")
        except OSError as e:
            raise BackendError(f"cannot lock {path}: {e}") from e
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            pid, _, command = file.read().strip().partition(" ")
            file.close()
            holder = f"process {pid} ({command})" if pid else "another process"
            raise Conflict(f"{where} is in use by {holder}; {advice}") from None
        if _rocksdb_held(store):
            file.close()
            raise Conflict(f"{where} is in use by another process, which has the store open "
                           f"without semcat's lock ({store / 'LOCK'}); {advice}")
        file.truncate(0)
        file.write(f"{os.getpid()} {shlex.join(sys.argv)[:300]}\n")
        file.flush()
        return cls(file)

    def release(self) -> None:
        """Idempotent. The file stays: deleting it would let two processes lock two files."""
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _rocksdb_held(store: Path) -> bool:
    """Whether another process holds RocksDB's POSIX lock on ``store/LOCK``. Only asked while
    holding our flock, so this process has not opened the store itself: closing the probe would
    drop its own POSIX lock on the file otherwise."""
    try:
        fd = os.open(store / "LOCK", os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)
