"""A data directory as a whole: whether it holds a catalog, and replacing one safely."""

from __future__ import annotations

import shutil
from pathlib import Path

from graph_store.errors import InputError
from graph_store.lock import StoreLock, lock_file

STORE = "store"
CHANGELOG = "changelog.sqlite"


def holds_catalog(data: Path) -> bool:
    return (data / CHANGELOG).is_file()


def wipe(data: Path) -> None:
    """Delete the catalog in ``data`` (``semcat demo --force``). Refuses, deleting nothing, a
    directory that holds no catalog (InputError) or one another process has open (Conflict):
    deleting a live store under its server corrupts it."""
    if not holds_catalog(data):
        raise InputError(f"{data} is not a semcat data directory (it has no {CHANGELOG}); "
                         "refusing to delete anything in it, even with --force")
    store = data / STORE
    with StoreLock.acquire(store):
        for child in data.iterdir():
            if child == lock_file(store):
                continue  # held until the end; a new catalog locks this same file
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
