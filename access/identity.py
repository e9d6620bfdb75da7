"""Who is calling: the ``Principal`` every interface authenticates, and API keys.

API keys look like ``sck_<id>_<secret>``. Only a SHA-256 hash of the secret is stored (the
secret is 256 random bits, so a slow password hash would add nothing), and every check reads the
SQLite file: a revoked key stops working on the next request, with no cache to expire.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from graph_store.durable_sqlite import connect
from graph_store.errors import InputError, NotFound, Unauthenticated


class Recorder(Protocol):
    """Where key events are recorded: access/audit.py's AuditLog (which reads principals
    from here)."""

    def record(self, *, action: str, targets: Iterable[str] = (),
               detail: dict[str, Any] | None = None) -> object: ...


KEYS_FILE = "access.sqlite"
TOKEN_PREFIX = "sck_"
MAX_KEY_DAYS = 36_500


@dataclass(frozen=True)
class Principal:
    subject: str                 # user key (e.g. "user/alice") or e-mail or OIDC subject
    via: str                     # "api-key" | "oidc" | "open" | "local"
    groups: frozenset[str] = frozenset()      # OIDC groups claim values (mapped to teams)
    grants: tuple[tuple[str, str], ...] = ()  # (workspace, role) pairs an API key carries
    admin: bool = False          # instance admin: open mode, local CLI, admin keys
    key_id: str | None = None
    delegated: bool = False      # a key's grants only: not the subject's roles, teams, attributes

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Principal:
        return cls(data["subject"], data["via"], frozenset(data["groups"]),
                   tuple((g["workspace"], g["role"]) for g in data["grants"]),
                   bool(data["admin"]), data["keyId"], bool(data.get("delegated", False)))

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "via": self.via, "groups": sorted(self.groups),
                "grants": [{"workspace": w, "role": r} for w, r in self.grants],
                "admin": self.admin, "keyId": self.key_id, "delegated": self.delegated}


LOCAL_ADMIN = Principal("local", "local", admin=True)   # CLI and in-process use
OPEN_ANONYMOUS = Principal("anonymous", "open", admin=True)  # `semcat serve --open`


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown of a key: everything but its secret."""

    id: str
    subject: str
    workspace: str | None
    role: str | None
    admin: bool
    label: str
    created: str
    expires: str | None
    revoked: str | None
    delegated: bool = False  # made by a workspace admin for someone else (see KeyStore.create)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def _info(row: tuple[Any, ...]) -> KeyInfo:
    key_id, subject, workspace, role, admin, label, created, expires, revoked, delegated = \
        row[:10]
    return KeyInfo(key_id, subject, workspace, role, bool(admin), label, created, expires, revoked,
                   bool(delegated))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    workspace TEXT,
    role TEXT,
    admin INTEGER NOT NULL DEFAULT 0,
    label TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT,
    secret_sha256 TEXT NOT NULL,
    delegated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS api_keys_subject ON api_keys(subject);
"""
_COLUMNS = "id, subject, workspace, role, admin, label, created, expires, revoked, delegated"


class KeyStore:
    """API keys in ``<data>/access.sqlite`` (in memory when ``path`` is None)."""

    def __init__(self, path: Path | None, *, audit: Recorder | None = None) -> None:
        self.audit = audit
        self._lock = threading.Lock()
        self._db = connect(path, _SCHEMA)
        with self._lock:  # a key file from before delegated keys
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(api_keys)")}
            if "delegated" not in columns:
                self._db.execute("ALTER TABLE api_keys ADD COLUMN delegated INTEGER NOT NULL "
                                 "DEFAULT 0")

    @classmethod
    def at(cls, data: Path | None, *, audit: Recorder | None = None) -> KeyStore:
        return cls(data / KEYS_FILE if data else None, audit=audit)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, subject: str, *, workspace: str | None = None, role: str | None = None,
               admin: bool = False, label: str = "", expires_days: float | None = None,
               delegated: bool = False) -> tuple[KeyInfo, str]:
        """A new key for ``subject``; the token is returned here and never again.

        A ``delegated`` key (what a workspace admin makes for someone else) carries its grant
        and nothing else: it acts as ``subject`` by name, but without the subject's own roles,
        teams and attributes, which its maker may not have and could otherwise borrow."""
        if not subject.strip():
            raise InputError("a key needs a subject (the user it authenticates), e.g. user/alice")
        if (workspace is None) != (role is None):
            raise InputError("give both a workspace and a role (the key grants that role in "
                             "that workspace), or neither")
        if delegated and (admin or workspace is None):
            raise InputError("a delegated key carries one workspace role and nothing else")
        if expires_days is not None and not 0 < expires_days <= MAX_KEY_DAYS:
            raise InputError(f"expires_days must be more than 0 and at most {MAX_KEY_DAYS} "
                             f"(100 years), not {expires_days}")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = _now()
        expires = _iso(now + timedelta(days=expires_days)) if expires_days is not None else None
        info = KeyInfo(key_id, subject, workspace, role, admin, label, _iso(now), expires, None,
                       delegated)
        with self._lock:
            self._db.execute(
                f"INSERT INTO api_keys ({_COLUMNS}, secret_sha256) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?)",
                (key_id, subject, workspace, role, int(admin), label, info.created, expires,
                 None, int(delegated), _digest(secret)))
        if self.audit is not None:
            self.audit.record(action="key.create", targets=[f"key/{key_id}"],
                              detail={"subject": subject, "workspace": workspace, "role": role,
                                      "admin": admin, "label": label, "expires": expires,
                                      "delegated": delegated})
        return info, f"{TOKEN_PREFIX}{key_id}_{secret}"

    def verify(self, token: str) -> Principal:
        """The principal a token authenticates; raises Unauthenticated saying why not."""
        parts = token.split("_", 2)
        if len(parts) != 3 or f"{parts[0]}_" != TOKEN_PREFIX or not parts[1] or not parts[2]:
            raise Unauthenticated("malformed API key: expected sck_<id>_<secret>")
        key_id, secret = parts[1], parts[2]
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS}, secret_sha256 FROM api_keys WHERE id = ?", (key_id,)
            ).fetchone()
        # Unknown id and wrong secret read the same, so ids cannot be probed; revocation and
        # expiry are told only to a caller who holds the secret.
        if row is None or not hmac.compare_digest(row[-1], _digest(secret)):
            raise Unauthenticated("unknown or invalid API key")
        info = _info(row)
        if info.revoked:
            raise Unauthenticated(f"API key {key_id} was revoked at {info.revoked}")
        if info.expires and info.expires <= _iso(_now()):
            raise Unauthenticated(f"API key {key_id} expired at {info.expires}")
        grants = ((info.workspace, info.role),) if info.workspace and info.role else ()
        return Principal(info.subject, "api-key", grants=grants, admin=info.admin,
                         key_id=key_id, delegated=info.delegated)

    def revoked(self, principal: Principal) -> str | None:
        """Why a principal that came with an API key may no longer act (the key was revoked,
        expired or deleted), or None: for work done later on their behalf (schedules)."""
        if principal.key_id is None:
            return None
        info = self._get(principal.key_id)
        if info is None:
            return f"API key {principal.key_id} no longer exists"
        if info.revoked:
            return f"API key {principal.key_id} was revoked at {info.revoked}"
        if info.expires and info.expires <= _iso(_now()):
            return f"API key {principal.key_id} expired at {info.expires}"
        return None

    def revoke(self, key_id: str) -> KeyInfo:
        """Effective at once: every request reads the key's row."""
        with self._lock:
            cur = self._db.execute("UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS "
                                   "NULL", (_iso(_now()), key_id))
        if cur.rowcount == 0:
            known = self._get(key_id)
            if known is None:
                raise NotFound(f"no API key {key_id!r}; `semcat keys list` shows them")
            return known  # already revoked: idempotent
        if self.audit is not None:
            self.audit.record(action="key.revoke", targets=[f"key/{key_id}"])
        info = self._get(key_id)
        assert info is not None
        return info

    def list(self, subject: str | None = None) -> builtins.list[KeyInfo]:
        sql = f"SELECT {_COLUMNS} FROM api_keys"
        args: tuple[str, ...] = ()
        if subject is not None:
            sql, args = sql + " WHERE subject = ?", (subject,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created, id", args).fetchall()
        return [_info(r) for r in rows]

    def get(self, key_id: str) -> KeyInfo:
        found = self._get(key_id)
        if found is None:
            raise NotFound(f"no API key {key_id!r}; `semcat keys list` shows them")
        return found

    def _get(self, key_id: str) -> KeyInfo | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?",
                                   (key_id,)).fetchone()
        return _info(row) if row else None
