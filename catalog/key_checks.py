"""The checks of a new API key (its user, workspace and role exist) for `semcat keys create`.

That command runs beside a running server, which holds the store, so the directory is read from
the change log instead (SQLite: safe to read while the server writes): every asset ever typed
User, Workspace or Role, as the log leaves it, in a scratch store, judged by the same
``AccessService`` checks the server applies. One scan of the log: fine for a rare command.
"""

from __future__ import annotations

from pathlib import Path

from access.service import AccessService
from catalog.data_dir import CHANGELOG, holds_catalog
from graph_store.changelog import ChangeLog
from graph_store.errors import InputError
from graph_store.layout import GraphLayout
from graph_store.overlay import scratch
from ontology.namespaces import SEMCAT

DIRECTORY_CLASSES = [SEMCAT + c for c in ("User", "Workspace", "Role")]


def check_key(data: Path, base: str, subject: str, *, workspace: str | None = None,
              role: str | None = None, admin: bool = False, allow_unknown: bool = False) -> None:
    """InputError unless ``subject`` is a user (an admin key may name anyone: it bootstraps an
    empty catalog), ``workspace`` exists and ``role`` grants something there. ``allow_unknown``
    lets the user and the workspace be catalogued later; the role is checked all the same."""
    if not holds_catalog(data):
        raise InputError(f"{data} is not a semcat data directory (give --data)")
    log = ChangeLog(data / CHANGELOG)
    try:
        directory = [q for asset in log.assets_typed(DIRECTORY_CLASSES) for q in log.state(asset)]
    finally:
        log.close()
    access = AccessService(scratch(directory), GraphLayout(base))
    if not (admin or allow_unknown):
        access.check_user(subject)
    if workspace is not None:
        if not allow_unknown:
            access.check_workspace(workspace)
        if role is not None:
            access.check_role(workspace, role)
