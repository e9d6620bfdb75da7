"""How a command finds the server that holds its data directory.

The store admits one process. While ``semcat serve`` holds it, the server leaves a note in the
data directory, ``server.json`` (mode 600): its URL and an admin API key minted for this run, so
``semcat query`` and friends ask the server over HTTP instead of failing on the lock. Whoever
can read the note could open the store itself when no server runs, so the key grants nothing
new. The key is revoked and the note removed when the server stops; a note left by a killed
server names a dead pid, is ignored, and its key is revoked by the next server.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from access.identity import KeyStore
from graph_store.errors import NotFound

NOTE = "server.json"


@dataclass(frozen=True)
class RunningServer:
    url: str
    key: str
    key_id: str
    pid: int


def client_url(host: str, port: int) -> str:
    """Where a local client reaches a server bound to ``host`` (0.0.0.0 binds loopback too)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce(data: Path, url: str, keys: KeyStore) -> RunningServer:
    stale = _read(data)
    if stale is not None:
        _revoke(keys, stale.key_id)
    info, token = keys.create("admin", admin=True, label=f"semcat CLI beside serve (pid "
                                                         f"{os.getpid()})")
    server = RunningServer(url=url, key=token, key_id=info.id, pid=os.getpid())
    note = data / NOTE
    tmp = note.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "key": token, "keyId": info.id, "pid": server.pid}, f)
    tmp.replace(note)
    return server


def withdraw(data: Path, server: RunningServer, keys: KeyStore) -> None:
    _revoke(keys, server.key_id)
    current = _read(data)
    if current is not None and current.pid == server.pid:
        (data / NOTE).unlink(missing_ok=True)


def find(data: Path) -> RunningServer | None:
    """The server holding ``data``, if its note names a live process."""
    server = _read(data)
    if server is None:
        return None
    try:
        os.kill(server.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return server


def _read(data: Path) -> RunningServer | None:
    try:
        raw = json.loads((data / NOTE).read_text())
        return RunningServer(url=raw["url"], key=raw["key"], key_id=raw["keyId"],
                             pid=int(raw["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _revoke(keys: KeyStore, key_id: str) -> None:
    with contextlib.suppress(NotFound):  # idempotent; unknown when the keys file was replaced
        keys.revoke(key_id)
