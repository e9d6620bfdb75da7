"""A data directory as a whole: whether it holds a catalog, its format (upgraded in place on
open), and replacing one safely."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from graph_store.errors import InputError
from graph_store.lock import StoreLock, lock_file

log = logging.getLogger(__name__)
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


# -- format ------------------------------------------------------------------------------------
# The layout of a data directory. 1: until December 2026, no marker. 2: the marker, written at
# open. A catalog opens directories of this format or older, upgrading them in place first.
FORMAT = 2
FORMAT_FILE = "format.json"


def format_of(data: Path) -> int | None:
    """The format of the catalog in ``data``; None for a directory holding none yet."""
    marker = data / FORMAT_FILE
    if marker.is_file():
        try:
            return int(json.loads(marker.read_text())["format"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{marker} is unreadable ({e}); it should hold "
                             f'{{"format": {FORMAT}}}') from e
    return 1 if holds_catalog(data) else None


def check_format(data: Path) -> int | None:
    """The format of ``data``'s catalog, if this semcat can open it (InputError if not):
    asked before anything in the directory is opened, so a refusal changes nothing."""
    found = format_of(data)
    if found is not None and found > FORMAT:
        raise InputError(f"{data} holds a catalog of format {found}, made by a newer semcat; "
                         f"this one reads formats up to {FORMAT}")
    return found


def upgrade(data: Path) -> list[int]:
    """Bring ``data`` to the current format, one logged step at a time, while holding its
    store's lock; the formats it passed through."""
    found = check_format(data)
    steps = list(range(found, FORMAT)) if found is not None else []
    for step in steps:
        log.warning("upgrading the catalog in %s from format %d to %d", data, step, step + 1)
        UPGRADES[step](data)
    if found != FORMAT:
        _write_format(data)
    return steps


def _write_format(data: Path) -> None:
    tmp = data / (FORMAT_FILE + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT}) + "\n")
    tmp.replace(data / FORMAT_FILE)


def _from_1(data: Path) -> None:
    """Format 1 lacked only the marker: the store, logs and indexes read as they are."""


UPGRADES: dict[int, Callable[[Path], None]] = {1: _from_1}
