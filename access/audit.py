"""The tamper-evident audit log: who did what, when, from where, and whether it was allowed.

An append-only SQLite table (triggers refuse UPDATE and DELETE) whose entries are hash-chained:
each entry's hash covers the previous hash and the canonical JSON of the entry, so editing,
deleting or reordering any row breaks ``verify()`` from that row on. Cutting rows off the end
leaves a shorter valid chain; compare ``head`` with a copy kept elsewhere to catch that.

The web layer sets ``ORIGIN`` per request (client address, user agent, principal); catalog
code records with it, and FastAPI's thread pool copies context variables into its workers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad

from access.identity import LOCAL_ADMIN, Principal
from graph_store.changelog import ChangeLogBackend
from graph_store.changeset import Changeset
from graph_store.durable_sqlite import connect
from graph_store.errors import InputError
from graph_store.formats import rdf_format, serialize_quads
from ontology.namespaces import SEMCAT

AUDIT_FILE = "audit.sqlite"
GENESIS = "0" * 64
OUTCOMES = ("allowed", "denied", "error")
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@dataclass(frozen=True)
class Origin:
    """Where the current call comes from."""

    principal: Principal = LOCAL_ADMIN
    ip: str = ""
    user_agent: str = ""


LOCAL_ORIGIN = Origin()  # frozen: a safe shared default
ORIGIN: ContextVar[Origin] = ContextVar("semcat_origin", default=LOCAL_ORIGIN)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    actor: str
    via: str
    action: str
    targets: tuple[str, ...]
    outcome: str
    ip: str
    user_agent: str
    detail: dict[str, Any] = field(default_factory=dict)
    changeset: int | None = None
    prev_hash: str = GENESIS
    hash: str = ""

    def body(self) -> dict[str, Any]:
        """What the hash covers (with ``prev_hash``): every field but the hash itself."""
        return {"seq": self.seq, "time": self.time, "actor": self.actor, "via": self.via,
                "action": self.action, "targets": list(self.targets), "outcome": self.outcome,
                "ip": self.ip, "userAgent": self.user_agent, "detail": self.detail,
                "changeset": self.changeset}

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "prevHash": self.prev_hash, "hash": self.hash}


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class AuditCheck:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    head: str = GENESIS  # the last entry's hash: keep a copy elsewhere to detect truncation

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "firstBadSeq": self.first_bad_seq,
                "reason": self.reason, "head": self.head}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    action TEXT NOT NULL,
    targets TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    detail TEXT NOT NULL,
    changeset INTEGER,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor, seq);
CREATE INDEX IF NOT EXISTS audit_changeset ON audit(changeset);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_COLUMNS = ("seq, time, actor, via, action, targets, outcome, ip, user_agent, detail, changeset, "
            "prev_hash, hash")


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    seq, time, actor, via, action, targets, outcome, ip, ua, detail, cs, prev, h = row
    return AuditEntry(seq, time, actor, via, action, tuple(json.loads(targets)), outcome, ip, ua,
                      json.loads(detail), cs, prev, h)


class AuditLog:
    """``<data>/audit.sqlite`` (in memory when ``path`` is None). Several processes may append
    (the server and the CLI): each append is one IMMEDIATE transaction reading the last hash."""

    def __init__(self, path: Path | None, *, base: str = "http://127.0.0.1:8000") -> None:
        self.base = base.rstrip("/")
        self._lock = threading.Lock()
        self._db = connect(path, _SCHEMA)

    @classmethod
    def at(cls, data: Path | None, *, base: str = "http://127.0.0.1:8000") -> AuditLog:
        return cls(data / AUDIT_FILE if data else None, base=base)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing -------------------------------------------------------------------------------
    def record(self, *, action: str, targets: Iterable[str] = (), outcome: str = "allowed",
               detail: dict[str, Any] | None = None, changeset: int | None = None,
               actor: str | None = None, via: str | None = None,
               origin: Origin | None = None, synced: bool = True) -> AuditEntry:
        """Append one entry; who and from where default to the current ``ORIGIN``.

        ``synced=False`` spares the fsync for an entry the change log can give again (a write:
        ``catch_up`` records what a power cut lost); it is on disk with the next synced entry,
        and a crash of the process alone loses nothing (SQLite's WAL is in the OS by then)."""
        if outcome not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        o = origin or ORIGIN.get()
        actor = actor if actor is not None else o.principal.subject
        via = via if via is not None else o.principal.via
        detail_json = json.dumps(detail or {}, sort_keys=True, default=str)
        with self._lock:
            if not synced:
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                entry = AuditEntry(seq, _utc_now(), actor, via, action, tuple(targets), outcome,
                                   o.ip, o.user_agent, json.loads(detail_json), changeset, prev)
                entry = AuditEntry(**{**entry.__dict__, "hash": chain_hash(prev, entry.body())})
                self._db.execute(
                    f"INSERT INTO audit ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (seq, entry.time, actor, via, action, json.dumps(list(entry.targets)),
                     outcome, o.ip, o.user_agent, detail_json, changeset, prev, entry.hash))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                if not synced:
                    self._db.execute("PRAGMA synchronous=FULL")
        return entry

    def on_applied(self, cs: Changeset) -> None:
        """``Journal.on_applied`` hook: every applied changeset is an allowed write, by the
        changeset's actor, from the current origin (whose principal is kept beside it)."""
        self.record(action="write", targets=sorted(cs.versions), changeset=cs.seq,
                    actor=cs.actor, detail={"message": cs.message, "workspace": cs.workspace,
                                            "added": len(cs.added), "removed": len(cs.removed),
                                            "principal": ORIGIN.get().principal.subject},
                    synced=False)

    def catch_up(self, changelog: ChangeLogBackend) -> int:
        """Record changesets committed after the last audited one (a crash between the change
        log and this file). A new audit log starts from now: it does not replay old history."""
        with self._lock:
            row = self._db.execute("SELECT MAX(changeset), COUNT(*) FROM audit").fetchone()
        last, count = row[0] or 0, row[1]
        if count == 0:
            return 0
        n = 0
        for cs in changelog.since(last):
            self.record(action="write", targets=sorted(cs.versions), changeset=cs.seq,
                        actor=cs.actor, via="recovered",
                        detail={"message": cs.message, "workspace": cs.workspace,
                                "added": len(cs.added), "removed": len(cs.removed),
                                "note": "recorded from the change log after a restart"})
            n += 1
        return n

    # -- reading -------------------------------------------------------------------------------
    def entries(self, *, actor: str | None = None, action: str | None = None,
                outcome: str | None = None, since: str | None = None, until: str | None = None,
                cursor: int | None = None, limit: int = 100,
                newest_first: bool = False) -> list[AuditEntry]:
        """A page of entries; ``cursor`` is the last seq of the previous page. ``since`` and
        ``until`` are ISO 8601 UTC times (prefixes such as a date work)."""
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("actor", actor), ("action", action), ("outcome", outcome)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("time >= ?")
            args.append(since)
        if until is not None:
            where.append("time < ?")
            args.append(until)
        if cursor is not None:
            if not 0 <= cursor < 2**63:  # SQLite's integers are 64-bit
                raise InputError(f"the cursor {cursor} is not an audit entry's seq")
            where.append("seq < ?" if newest_first else "seq > ?")
            args.append(cursor)
        sql = f"SELECT {_COLUMNS} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, max(0, limit))).fetchall()
        return [_entry(r) for r in rows]

    def _all(self) -> Iterator[AuditEntry]:
        after = 0
        while True:
            with self._lock:
                rows = self._db.execute(f"SELECT {_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq"
                                        " LIMIT 5000", (after,)).fetchall()
            if not rows:
                return
            for r in rows:
                yield _entry(r)
            after = rows[-1][0]

    def verify(self) -> AuditCheck:
        """Walk the chain from the first entry: seqs contiguous, each prev_hash the previous
        hash, each hash recomputed from the entry."""
        prev, checked = GENESIS, 0
        for e in self._all():
            expected_seq = checked + 1
            if e.seq != expected_seq:
                return AuditCheck(False, checked, e.seq, f"entry {expected_seq} is missing "
                                  f"(next is {e.seq})", prev)
            if e.prev_hash != prev:
                return AuditCheck(False, checked, e.seq, "prev_hash does not match the previous "
                                  "entry's hash: an entry before it was changed or removed", prev)
            if chain_hash(prev, e.body()) != e.hash:
                return AuditCheck(False, checked, e.seq, "the entry's content does not match "
                                  "its hash: it was edited", prev)
            prev, checked = e.hash, checked + 1
        return AuditCheck(True, checked, None, "", prev)

    # -- PROV-O --------------------------------------------------------------------------------
    def _iri(self, target: str) -> NamedNode:
        if "://" in target or target.startswith("urn:"):
            return NamedNode(target)
        return NamedNode(f"{self.base}/id/{target.lstrip('/')}")

    def to_prov(self, entries: Iterable[AuditEntry]) -> list[Quad]:
        """Each entry as a prov:Activity associated with its agent, at its time, using (or, for
        writes, generating) its targets, with the semcat outcome."""
        g = DefaultGraph()
        quads: list[Quad] = []
        for e in entries:
            a = NamedNode(f"{self.base}/id/audit/{e.seq}")

            def add(p: str, o: NamedNode | Literal, a: NamedNode = a) -> None:
                quads.append(Quad(a, NamedNode(p), o, g))

            add(RDF_TYPE, NamedNode(PROV + "Activity"))
            add(RDFS_LABEL, Literal(e.action))
            agent = e.actor if e.actor.startswith("user/") else f"user/{e.actor}"
            add(PROV + "wasAssociatedWith", self._iri(agent))
            add(PROV + "startedAtTime", Literal(e.time, datatype=NamedNode(XSD + "dateTime")))
            for t in e.targets:
                add(PROV + ("generated" if e.action == "write" else "used"), self._iri(t))
            add(SEMCAT + "outcome", Literal(e.outcome))
            add(SEMCAT + "via", Literal(e.via))
            if e.ip:
                add(SEMCAT + "clientAddress", Literal(e.ip))
            if e.changeset is not None:
                add(SEMCAT + "changeset", Literal(str(e.changeset),
                                                  datatype=NamedNode(XSD + "integer")))
            add(SEMCAT + "auditHash", Literal(e.hash))
        return quads

    def serialize_prov(self, entries: Iterable[AuditEntry], media_type: str) -> bytes:
        return serialize_quads(self.to_prov(entries), rdf_format(media_type),
                               {"prov": PROV, "semcat": SEMCAT, "xsd": XSD})
