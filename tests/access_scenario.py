"""A small multi-tenant catalog for the access-control tests: two workspaces, four users in three
teams, PII and Restricted assets, lineage from a PII column, and two ABAC policies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from catalog import Catalog

PG = {"platform": "platform/pg"}


def _data(ws: str, kind: str, qn: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "workspace": ws, "qualifiedName": qn, "name": name,
            "description": f"{name} in {ws}", **PG, **extra}


def directory() -> list[dict[str, Any]]:
    return [
        {"id": "platform/pg", "type": "DataPlatform", "name": "Postgres", "description": "pg"},
        {"id": "acme", "type": "Workspace", "name": "Acme", "description": "main tenant"},
        {"id": "research", "type": "Workspace", "name": "Research", "description": "lab tenant"},
        {"id": "team/finance", "type": "Team", "name": "Finance"},
        {"id": "team/contractors", "type": "Team", "name": "Contractors"},
        {"id": "team/lab", "type": "Team", "name": "Lab"},
        {"id": "acme/role/reader", "type": "Role", "name": "Acme reader", "workspace": "acme",
         "description": "reads acme", "grants": ["permission/read"]},
        {"id": "user/alice", "type": "User", "name": "Alice", "email": "alice@example.org",
         "memberOf": ["team/finance"]},
        {"id": "user/bob", "type": "User", "name": "Bob", "memberOf": ["team/contractors"],
         "hasRole": ["acme/role/reader"]},
        {"id": "user/carol", "type": "User", "name": "Carol", "memberOf": ["team/lab"]},
        {"id": "user/dave", "type": "User", "name": "Dave"},
        {"id": "classification/pii", "type": "ClassificationScheme", "name": "PII"},
        {"id": "classification/pii/email", "type": "Classification", "name": "PII.Email",
         "partOf": "classification/pii"},
        {"id": "classification/sensitivity", "type": "ClassificationScheme",
         "name": "Sensitivity"},
        {"id": "classification/sensitivity/restricted", "type": "Classification",
         "name": "Sensitivity.Restricted", "partOf": "classification/sensitivity"},
    ]


def assets() -> list[dict[str, Any]]:
    s = "acme/schema/pg/db.s"
    return [
        _data("acme", "Database", "db", "db"),
        _data("acme", "Schema", "db.s", "s", partOf="acme/database/pg/db"),
        _data("acme", "Table", "db.s.customers", "customers", partOf=s, owners=["team/finance"]),
        _data("acme", "Column", "db.s.customers.email", "email", dataType="TEXT",
              partOf="acme/table/pg/db.s.customers", classifications=["classification/pii/email"]),
        _data("acme", "Column", "db.s.customers.email_hash", "email_hash", dataType="TEXT",
              partOf="acme/table/pg/db.s.customers",
              derivedFrom=["acme/column/pg/db.s.customers.email"],
              declassifies=["classification/pii"]),   # hashed: PII does not propagate
        _data("acme", "Table", "db.s.payroll", "payroll", partOf=s, owners=["team/finance"],
              classifications=["classification/sensitivity/restricted"]),
        _data("research", "Database", "db", "labdb"),
        _data("research", "Schema", "db.s", "labschema", partOf="research/database/pg/db"),
        _data("research", "Table", "db.s.experiments", "experiments",
              partOf="research/schema/pg/db.s", owners=["team/lab"]),
    ]


def policies() -> list[dict[str, Any]]:
    return [
        {"id": "policy/restricted-owners-only", "type": "AccessPolicy",
         "name": "Restricted data: owning team only", "effect": "deny", "action": "read",
         "targetClassification": "classification/sensitivity/restricted", "exceptOwners": True},
        {"id": "policy/no-pii-for-contractors", "type": "AccessPolicy",
         "name": "Contractors see no PII", "effect": "deny", "action": "read",
         "targetClassification": "classification/pii", "callerMemberOf": "team/contractors"},
    ]


EMAIL = "acme/column/pg/db.s.customers.email"
HASH = "acme/column/pg/db.s.customers.email_hash"
PAYROLL = "acme/table/pg/db.s.payroll"
CUSTOMERS = "acme/table/pg/db.s.customers"
EXPERIMENTS = "research/table/pg/db.s.experiments"
HIDDEN_FROM_BOB = (EMAIL, PAYROLL)


def load(cat: Catalog) -> None:
    """The whole scenario, written as an instance admin."""
    for items in (directory(), assets(), policies()):
        cat.assets.upsert_many(items, actor="admin")


def load_over_http(admin: httpx.Client) -> None:
    """The whole scenario, written by an admin's client of a running server."""
    for batch in (directory(), assets(), policies()):
        r = admin.post("/api/v1/assets:bulk", json=batch)
        assert r.status_code == 200, r.text


def describe_mixed(admin: httpx.Client) -> int:
    """One changeset about a table and its PII column (readable by some callers, hidden from
    others); its change log position."""
    mixed = [{**a, "description": "seen by some"} for a in assets()
             if a["qualifiedName"] in ("db.s.customers", "db.s.customers.email")]
    r = admin.post("/api/v1/assets:bulk", json=mixed)
    assert r.status_code == 200, r.text
    return int(r.headers["Semcat-Position"])
