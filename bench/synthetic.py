"""Deterministic synthetic assets in the REST item shape (catalog/asset_input.py).

A warehouse of one workspace on one platform: a database, schemas per domain and layer, tables
in raw → staging → marts layers, ten columns each, owners, tags, PII classifications (which put
those columns in the restricted partition, as real data would) and table- and column-level
``derivedFrom`` from downstream layers to upstream ones. Parents come before children and every
reference points to an asset earlier in the list, as a connector would emit them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

Asset = dict[str, Any]
SEED = 20260401
WS, PLATFORM, DB = "acme", "snowflake", "analytics"

DOMAINS = ("sales", "finance", "marketing", "inventory", "support", "logistics", "product",
           "web", "billing", "hr")
LAYERS = (("raw", "Raw copies of source system tables, loaded as-is by the ingestion jobs."),
          ("staging", "Cleaned, typed and renamed source data; one model per source table."),
          ("marts", "Business-facing facts and dimensions used by dashboards and models."))
ENTITIES = ("customer", "order", "order_item", "invoice", "payment", "refund", "shipment",
            "product", "price", "campaign", "session", "page_view", "employee", "ticket",
            "subscription", "supplier", "warehouse", "stock_level", "return", "coupon",
            "address", "account", "ledger_entry", "budget", "lead", "opportunity", "review",
            "carrier", "route", "event")
PREFIX = {"raw": ("src",), "staging": ("stg",), "marts": ("fct", "dim", "agg", "rpt")}
SUFFIXES = {"": "", "_daily": ", aggregated by day", "_weekly": ", aggregated by week",
            "_monthly": ", aggregated by month", "_history": ", with every past version",
            "_snapshot": ", as of the last nightly snapshot", "_eu": ", EU region only",
            "_us": ", US region only", "_v2": " (second version of the model)"}
COLUMNS = (  # name, type, description template, PII classification
    ("id", "NUMBER(38,0)", "Surrogate key of the {e}.", None),
    ("{e}_key", "VARCHAR", "Natural key of the {e} in the source system.", None),
    ("created_at", "TIMESTAMP_NTZ", "When the {e} was created in the source system.", None),
    ("updated_at", "TIMESTAMP_NTZ", "When the {e} last changed in the source system.", None),
    ("status", "VARCHAR(32)", "Lifecycle status of the {e} (open, closed, cancelled).", None),
    ("amount", "NUMBER(18,2)", "Monetary amount of the {e} in its currency.", None),
    ("currency", "VARCHAR(3)", "ISO 4217 currency code of the {e}'s amount.", None),
    ("customer_email", "VARCHAR", "E-mail address of the customer behind the {e}.", "email"),
    ("country_code", "VARCHAR(2)", "ISO 3166 country of the {e}.", None),
    ("quantity", "NUMBER(38,0)", "Number of units in the {e}.", None),
    ("phone_number", "VARCHAR(32)", "Contact phone number recorded with the {e}.", "phone"),
    ("is_deleted", "BOOLEAN", "Whether the {e} was soft-deleted upstream.", None),
    ("source_system", "VARCHAR(64)", "Operational system the {e} came from.", None),
    ("loaded_at", "TIMESTAMP_NTZ", "When the ingestion job loaded this {e} row.", None),
    ("notes", "VARCHAR", "Free-text notes attached to the {e}.", None),
)
TAGS = (("tier-1", "Tier 1", "Business-critical; paged on failure."),
        ("tier-2", "Tier 2", "Important, fixed next business day."),
        ("certified", "Certified", "Reviewed and approved by the owning team."),
        ("deprecated", "Deprecated", "Scheduled for removal; do not build on it."),
        ("gdpr", "GDPR", "Holds personal data of EU residents."))
TEAMS = ("data-platform", "analytics-engineering", "finance-data", "growth")
USERS = (("asha.patel", "Asha Patel", "data-platform"), ("marcus.lee", "Marcus Lee", "growth"),
         ("sofia.rossi", "Sofia Rossi", "finance-data"),
         ("kenji.watanabe", "Kenji Watanabe", "analytics-engineering"),
         ("amara.okafor", "Amara Okafor", "data-platform"),
         ("lucas.meyer", "Lucas Meyer", "analytics-engineering"))


def _key(kind: str, qn: str) -> str:
    return f"{WS}/{kind}/{PLATFORM}/{qn}"


def _directory() -> list[Asset]:
    out: list[Asset] = [
        {"id": WS, "type": "Workspace", "name": "Acme Outfitters",
         "description": "Production metadata of Acme Outfitters (synthetic benchmark data)."},
        {"id": f"platform/{PLATFORM}", "type": "DataPlatform", "name": "Snowflake",
         "description": "Cloud data warehouse."},
    ]
    out += [{"id": f"team/{t}", "type": "Team", "name": t.replace("-", " ").title()}
            for t in TEAMS]
    out += [{"id": f"user/{login}", "type": "User", "name": name, "email": f"{login}@acme.example",
             "memberOf": [f"team/{team}"]} for login, name, team in USERS]
    out += [{"id": f"tag/{slug}", "type": "Tag", "name": name, "description": d}
            for slug, name, d in TAGS]
    out += [{"id": f"classification/pii/{c}", "type": "Classification", "name": c.title(),
             "description": f"Personal data: {c}."} for c in ("email", "phone")]
    return out


def _table_names(n: int, rng: random.Random) -> Iterator[tuple[str, str, str, str, str]]:
    """(layer, domain, entity, name, suffix phrase) for ``n`` tables, raw first, names unique
    per schema."""
    per_layer = (n * 3 // 10, n * 3 // 10, n - 2 * (n * 3 // 10))
    for (layer, _), count in zip(LAYERS, per_layer, strict=True):
        seen: set[tuple[str, str]] = set()
        for i in range(count):
            domain, entity = DOMAINS[i % len(DOMAINS)], rng.choice(ENTITIES)
            suffix = rng.choice(list(SUFFIXES))
            name = f"{rng.choice(PREFIX[layer])}_{entity}s{suffix}"
            while (domain, name) in seen:
                name += f"_{rng.randrange(10)}"
            seen.add((domain, name))
            yield layer, domain, entity, name, SUFFIXES[suffix]


def synthetic_assets(tables: int = 2000, columns: int = 10, seed: int = SEED) -> list[Asset]:
    """Directory + database + schemas + ``tables`` tables, each followed by its ``columns``
    columns (2 to 15); equal on every call with the same arguments."""
    if not 2 <= columns <= len(COLUMNS):
        raise ValueError(f"columns must be 2 to {len(COLUMNS)}, not {columns}")
    rng = random.Random(seed)
    assets = _directory()
    assets.append({"id": _key("database", DB), "type": "Database", "name": DB,
                   "qualifiedName": DB, "description": "The analytics warehouse.",
                   "workspace": WS, "platform": f"platform/{PLATFORM}",
                   "owners": ["team/data-platform"]})
    for layer, about in LAYERS:
        for d in DOMAINS:
            qn = f"{DB}.{d}_{layer}"
            assets.append({"id": _key("schema", qn), "type": "Schema", "name": f"{d}_{layer}",
                           "qualifiedName": qn, "description": f"{d.title()}: {about}",
                           "workspace": WS, "platform": f"platform/{PLATFORM}",
                           "partOf": _key("database", DB), "owners": [f"team/{rng.choice(TEAMS)}"]})
    by_layer: dict[str, list[tuple[str, dict[str, str]]]] = {layer: [] for layer, _ in LAYERS}
    upstream_of = {"staging": "raw", "marts": "staging"}
    for layer, domain, entity, name, phrase in _table_names(tables, rng):
        qn = f"{DB}.{domain}_{layer}.{name}"
        key = _key("table", qn)
        cols = [*COLUMNS[:2], *rng.sample(COLUMNS[2:], columns - 2)]
        sources: list[tuple[str, dict[str, str]]] = []
        if layer in upstream_of and rng.random() < 0.6:
            sources = rng.sample(by_layer[upstream_of[layer]], rng.choice((1, 1, 2)))
        user, _, team = rng.choice(USERS)
        tags = rng.sample([t[0] for t in TAGS[:4]], rng.choice((0, 1, 2)))
        pii = [c for c in cols if c[3]]
        if pii:
            tags.append("gdpr")
        assets.append({
            "id": key, "type": "Table", "name": name, "qualifiedName": qn,
            "description": f"{entity.replace('_', ' ').capitalize()} records of the {domain} "
                           f"domain, {layer} layer{phrase}.",
            "workspace": WS, "platform": f"platform/{PLATFORM}",
            "partOf": _key("schema", f"{DB}.{domain}_{layer}"),
            "owners": [f"team/{team}", f"user/{user}"], "tags": [f"tag/{t}" for t in tags],
            "derivedFrom": [k for k, _ in sources],
        })
        col_keys: dict[str, str] = {}
        for position, (cname, ctype, cdesc, cpii) in enumerate(cols, start=1):
            cname = cname.format(e=entity)
            ckey = _key("column", f"{qn}.{cname}")
            col_keys[cname] = ckey
            assets.append({
                "id": ckey, "type": "Column", "name": cname, "qualifiedName": f"{qn}.{cname}",
                "description": cdesc.format(e=entity.replace("_", " ")), "workspace": WS,
                "platform": f"platform/{PLATFORM}", "partOf": key, "dataType": ctype,
                "position": position,
                "classifications": [f"classification/pii/{cpii}"] if cpii else [],
                "derivedFrom": [src[cname] for _, src in sources if cname in src],
            })
        by_layer[layer].append((key, col_keys))
    return [{k: v for k, v in a.items() if v != []} for a in assets]


def batches(items: list[Asset], size: int) -> list[list[Asset]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
