"""``semcat keys``, ``semcat audit`` and ``semcat rules``: administration beside the catalog's
everyday commands. Keys and the audit log work beside a running server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from access.audit import AuditLog
from access.identity import KeyStore
from catalog import Settings
from catalog.backup import restore as restore_backup
from catalog.data_dir import holds_catalog
from catalog.key_checks import check_key
from graph_store.errors import InputError
from semcat.backends import connect
from semcat.console import (
    DEFAULT_DATA,
    FORMATS,
    DataDir,
    Listing,
    err,
    open_catalog,
    out,
    write_output,
)

keys_app = typer.Typer(help="API keys: create, list, revoke (works while the server runs).")
audit_app = typer.Typer(help="The tamper-evident audit log: list entries, verify the chain.")


def _audit(data: Path) -> AuditLog:
    """The audit log alone, not the Catalog, so these commands work beside a running server."""
    if not holds_catalog(data):
        raise InputError(f"{data} is not a semcat data directory (give --data)")
    return AuditLog.at(data, base=Settings(data=data).base)


def _keys(data: Path) -> KeyStore:
    return KeyStore.at(data, audit=_audit(data))


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option("--user", help="Who the key authenticates, e.g. user/alice.")],
    data: DataDir = DEFAULT_DATA,
    workspace: Annotated[str | None, typer.Option(help="Workspace the role applies to.")] = None,
    role: Annotated[str | None, typer.Option(help="Role granted in that workspace.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="An instance admin key.")] = False,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    expires_days: Annotated[float | None, typer.Option(help="Lifetime in days.")] = None,
    allow_unknown: Annotated[bool, typer.Option(
        "--allow-unknown", help="Make the key even if the user or the workspace is not (yet) in "
        "the catalog.")] = False,
) -> None:
    """Create an API key and print it (it is shown only once).

    The user, the workspace and the role must exist (exit code 2 names what does not), unless
    --allow-unknown; an --admin key may name anyone. Works beside a running server."""
    keys = _keys(data)
    check_key(data, Settings(data=data).base, user, workspace=workspace, role=role,
              admin=admin, allow_unknown=allow_unknown)
    info, token = keys.create(user, workspace=workspace, role=role, admin=admin,
                                     label=label, expires_days=expires_days)
    print(token)
    err.print(f"key {info.id} for {user}" + (f" ({role} in {workspace})" if role else "")
              + (" [admin]" if admin else "") + (f", expires {info.expires}" if info.expires else ""))


@keys_app.command("list")
def keys_list(data: DataDir = DEFAULT_DATA,
              user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
              format: Listing = "table") -> None:
    """List API keys (never their secrets)."""
    keys = _keys(data).list(user)
    if format == "json":
        print(json.dumps([k.to_json() for k in keys], indent=2))
        return
    table = Table("id", "subject", "workspace", "role", "admin", "label", "created", "expires",
                  "revoked")
    for k in keys:
        table.add_row(k.id, k.subject, k.workspace or "", k.role or "", "yes" if k.admin else "",
                      k.label, k.created, k.expires or "", k.revoked or "")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (not its secret).")],
                data: DataDir = DEFAULT_DATA) -> None:
    """Revoke an API key; it stops working on the next request."""
    info = _keys(data).revoke(key_id)
    err.print(f"key {info.id} of {info.subject} revoked at {info.revoked}")


@audit_app.command("list")
def audit_list(
    data: DataDir = DEFAULT_DATA,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many (newest first).")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this actor's entries.")] = None,
    action: Annotated[str | None, typer.Option(help="write, request, key.create, ...")] = None,
    outcome: Annotated[str | None, typer.Option(help="allowed, denied or error.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json, turtle or "
                                        "jsonld (PROV-O)")] = "table",
) -> None:
    """Show audit entries, newest first."""
    log = _audit(data)
    entries = log.entries(actor=actor, action=action, outcome=outcome, limit=limit,
                          newest_first=True)
    if format in ("turtle", "jsonld"):
        write_output(log.serialize_prov(entries, FORMATS[format]))
    elif format == "json":
        print(json.dumps([e.to_json() for e in entries], indent=2))
    else:
        table = Table("seq", "time", "actor", "via", "action", "outcome", "targets", "origin")
        for e in entries:
            table.add_row(str(e.seq), e.time, e.actor, e.via, e.action, e.outcome,
                          e.targets[0] + (f" (+{len(e.targets) - 1})" if len(e.targets) > 1
                                          else "") if e.targets else "", e.ip)
        out.print(table)


@audit_app.command("verify")
def audit_verify(data: DataDir = DEFAULT_DATA) -> None:
    """Check the audit log's hash chain. Exits 0 when intact, 1 at the first bad entry."""
    check = _audit(data).verify()
    if not check.ok:
        err.print(f"[red]audit chain BROKEN[/red] at entry {check.first_bad_seq}: {check.reason} "
                  f"({check.checked} entries before it verified)")
        raise typer.Exit(1)
    err.print(f"audit chain intact: {check.checked} entries, head {check.head}")


rules_app = typer.Typer(help="Classification rules: SPARQL CONSTRUCT queries about ?this, "
                        "applied to every write; list, add, remove.")


@rules_app.command("list")
def rules_list(data: DataDir = DEFAULT_DATA,
               format: Listing = "table") -> None:
    """List the classification rules."""
    with connect(data) as backend:
        found = backend.rules()
    if format == "json":
        print(json.dumps(found, indent=2))
        return
    table = Table("id", "name", "enabled", "version")
    for r in found:
        table.add_row(r["id"], r.get("name", ""), str(r["enabled"]), str(r.get("version", "")))
    out.print(table)


@rules_app.command("add")
def rules_add(
    construct: Annotated[str, typer.Argument(help="The CONSTRUCT text, @file.rq, or - for stdin.")],
    name: Annotated[str, typer.Option(help="A short label, e.g. 'E-mail columns'.")],
    data: DataDir = DEFAULT_DATA,
    id: Annotated[str | None, typer.Option("--id", help="rule/slug (default: from the name); "
                                           "an existing id is replaced.")] = None,
    description: Annotated[str | None, typer.Option(help="What the rule is for.")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it without applying it.")]
    = False,
) -> None:
    """Add (or replace) a rule; its conclusions are applied at once."""
    text = sys.stdin.read() if construct == "-" else \
        Path(construct[1:]).read_text() if construct.startswith("@") else construct
    body = {"name": name, "construct": text, "enabled": not disabled,
            **({"description": description} if description else {})}
    with connect(data) as backend:
        rule = backend.put_rule(id, body)
    err.print(f"rule {rule['id']} version {rule.get('version')}")


@rules_app.command("remove")
def rules_remove(rule: Annotated[str, typer.Argument(help="Rule id, e.g. rule/email-columns.")],
                 data: DataDir = DEFAULT_DATA) -> None:
    """Remove a rule; its conclusions are retracted."""
    with connect(data) as backend:
        backend.delete_rule(rule)
    err.print(f"removed {rule}")


def backup(
    target: Annotated[Path, typer.Argument(help="A new (or empty) directory for the backup.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Back up the catalog: store, change log, audit log and API keys, consistent as of one
    changeset. Works while `semcat serve` runs (the server takes it)."""
    with connect(data) as backend, err.status("backing up..."):
        info = backend.backup(target)
    err.print(f"backed up {data} up to changeset {info['seq']:,} into {info['path']}",
              highlight=False)


def snapshot(data: DataDir = DEFAULT_DATA) -> None:
    """Publish a snapshot of this node of a shared change log (SEMCAT_LOG_URL), for new nodes
    to start from instead of replaying the whole log. Works while `semcat serve` runs."""
    with connect(data) as backend, err.status("publishing a snapshot..."):
        info = backend.snapshot()
    err.print(f"published a snapshot of changeset {info['seq']:,} ({info['bytes']:,} bytes)",
              highlight=False)


def restore(
    source: Annotated[Path, typer.Argument(help="A directory made by `semcat backup`.")],
    data: DataDir = DEFAULT_DATA,
    force: Annotated[bool, typer.Option("--force", help="Replace the catalog already in --data "
                                        "(never one a process has open).")] = False,
) -> None:
    """Restore a backup into --data; search indexes are rebuilt as the catalog opens."""
    info = restore_backup(source, data, force=force)
    with open_catalog(data) as cat, err.status("opening the restored catalog..."):
        seq = cat.journal.applied_seq
    err.print(f"restored {source} (changeset {info.seq:,}, taken {info.created} by semcat "
              f"{info.version}) into {data}; the catalog is at changeset {seq:,}",
              highlight=False)
