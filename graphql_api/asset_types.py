"""The ``Asset`` type and what hangs off it: references resolved in batches, lineage as a
``LineageConnection``, history, and classifications with the reasons they hold.

An ``Asset`` wraps the document REST's GET returns (compact JSON-LD), so both views agree
field for field; custom attributes are added to the type from the vocabulary when the schema
is built (graphql_api/custom_fields.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_store.errors import InputError
from graphql_api.context import Context
from graphql_api.loaders import LineageKey

MAX_LINEAGE_DEPTH = 10
MAX_LINEAGE_NODES = 500


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _text(value: Any) -> str | None:
    """A literal as text: plain JSON, or ``{"@value": ...}`` for typed or tagged ones."""
    if isinstance(value, dict):
        value = value.get("@value")
    return None if value is None else str(value)


async def assets_of(info: Info[Context, None], keys: list[Any]) -> list[Asset]:
    """The assets of ``keys`` the caller may read, in one batched load."""
    docs = await info.context.loaders.documents.load_many([k for k in keys if isinstance(k, str)])
    return [Asset.of(d) for d in docs if d is not None]


@strawberry.type(description="A version of an asset: who changed it, when and why.")
class Version:
    version: int
    seq: int = strawberry.field(description="The change log position of the change")
    time: str
    actor: str
    message: str


@strawberry.type(description="A classification an asset carries, asserted or inferred.")
class ClassificationOf:
    id: str
    inferred: bool = strawberry.field(description="Given by a rule, by propagation along "
                                                  "lineage or by OWL 2 RL, not asserted")
    asset_id: strawberry.Private[str]

    @strawberry.field(description="The classification itself")
    async def classification(self, info: Info[Context, None]) -> Asset | None:
        found = await assets_of(info, [self.id])
        return found[0] if found else None

    @strawberry.field(description="Why it holds: the rule or axiom and its premises, down to "
                                  "asserted facts (as GET /api/v1/assets/{id}/explain)")
    async def explanation(self, info: Info[Context, None]) -> JSON:
        found = await info.context.run(info.context.catalog.explain, self.asset_id,
                                       "semcat:classification", self.id)
        return cast(JSON, [e.to_json() for e in found])


@strawberry.type(description="An asset reached by a lineage walk.")
class LineageNode:
    id: str
    name: str | None
    type: str | None
    distance: int = strawberry.field(description="Edges away from the asset")

    @strawberry.field(description="The whole asset")
    async def asset(self, info: Info[Context, None]) -> Asset | None:
        found = await assets_of(info, [self.id])
        return found[0] if found else None


@strawberry.type(description="Data flows from source to target; via names the statement.")
class LineageEdge:
    source: str
    target: str
    via: str


@strawberry.type(description="The lineage around an asset, as GET /api/v1/lineage walks it.")
class LineageConnection:
    depth: int
    partial: bool = strawberry.field(description="The walk stopped at its bounds")
    total: int = strawberry.field(description="Nodes reached, the asset included")
    upstream: list[LineageNode]
    downstream: list[LineageNode]
    edges: list[LineageEdge]

    @staticmethod
    def of(page: dict[str, Any]) -> LineageConnection:
        def side(name: str) -> list[LineageNode]:
            return [LineageNode(id=n["id"], name=n.get("name"), type=n.get("type"),
                                distance=n["distance"])
                    for n in page["nodes"] if n["direction"] == name]
        return LineageConnection(depth=page["depth"], partial=page["partial"],
                                 total=page["total"], upstream=side("upstream"),
                                 downstream=side("downstream"),
                                 edges=[LineageEdge(**e) for e in page["edges"]])


@strawberry.type(description="A catalogued resource: a dataset, column, dashboard, pipeline, "
                             "person, team, tag, glossary term, ... Custom attributes appear "
                             "as fields of their own.")
class Asset:
    """Plain fields are filled from the document when the asset is made (``of``): strawberry
    resolves them without calling a resolver, which a page of 50 assets notices."""

    doc: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = strawberry.field(
        description="Its id (natural key), e.g. acme/table/pg/db.s.orders")
    type: str | None = strawberry.field(
        description="Its class, e.g. Table (the first, sorted, of several)")
    types: list[str] = strawberry.field(description="Every class it is asserted to be")
    name: str | None
    qualified_name: str | None
    description: str | None
    workspace: str | None = strawberry.field(description="Workspace id")
    platform: str | None = strawberry.field(description="Platform id, e.g. platform/snowflake")
    version: int = strawberry.field(description="Version number: each change to the asset "
                                                "adds one")
    created_at: str | None = strawberry.field(description="When it was created (ISO 8601)")
    updated_at: str | None = strawberry.field(description="When it last changed (ISO 8601)")

    @staticmethod
    def of(doc: dict[str, Any]) -> Asset:
        types = [str(t) for t in _many(doc.get("type"))]
        return Asset(doc=doc, id=strawberry.ID(doc["id"]), type=types[0] if types else None,
                     types=types, name=_text(doc.get("name")),
                     qualified_name=_text(doc.get("qualifiedName")),
                     description=_text(doc.get("description")),
                     workspace=_text(doc.get("workspace")), platform=_text(doc.get("platform")),
                     version=int(doc.get("version", 0)), created_at=_text(doc.get("createdAt")),
                     updated_at=_text(doc.get("updatedAt")))

    @strawberry.field(description="Its JSON-LD document, as GET /api/v1/assets/{id} returns it")
    def metadata(self, info: Info[Context, None]) -> JSON:
        return cast(JSON, {"@context": info.context.catalog.assets.context(), **self.doc})

    @strawberry.field(description="Every property, built-in and custom, by its REST key")
    def attributes(self) -> JSON:
        return cast(JSON, {k: v for k, v in self.doc.items() if k not in ("id", "type")})

    @strawberry.field(description="Owning people and teams")
    async def owners(self, info: Info[Context, None]) -> list[Asset]:
        return await assets_of(info, _many(self.doc.get("owners")))

    @strawberry.field
    async def tags(self, info: Info[Context, None]) -> list[Asset]:
        return await assets_of(info, _many(self.doc.get("tags")))

    @strawberry.field(description="Glossary terms it is linked to")
    async def terms(self, info: Info[Context, None]) -> list[Asset]:
        return await assets_of(info, _many(self.doc.get("terms")))

    @strawberry.field(description="What it is part of: a column's table, a table's schema")
    async def part_of(self, info: Info[Context, None]) -> Asset | None:
        found = await assets_of(info, _many(self.doc.get("partOf")))
        return found[0] if found else None

    @strawberry.field(description="Its classifications; with inferred, those given by rules, "
                                  "propagation along lineage and OWL 2 RL too")
    async def classifications(self, info: Info[Context, None],
                              inferred: bool = False) -> list[ClassificationOf]:
        key = self.doc["id"]
        asserted = [str(c) for c in _many(self.doc.get("classifications"))]
        found = [ClassificationOf(id=c, inferred=False, asset_id=key) for c in asserted]
        if inferred:
            doc = await info.context.run(info.context.catalog.assets.get, key, infer=True)
            found += [ClassificationOf(id=str(c), inferred=True, asset_id=key)
                      for c in _many(doc.get("inferred", {}).get("classifications"))
                      if str(c) not in asserted]
        return found

    @strawberry.field(description="The lineage around it (hidden assets never appear)")
    async def lineage(self, info: Info[Context, None], depth: int = 1,
                      direction: str = "both", level: str = "table",
                      limit: int = 50) -> LineageConnection | None:
        if not 1 <= depth <= MAX_LINEAGE_DEPTH:
            raise InputError(f"lineage depth must be between 1 and {MAX_LINEAGE_DEPTH}, not "
                             f"{depth}; walk further with GET /api/v1/lineage")
        if not 1 <= limit <= MAX_LINEAGE_NODES:
            raise InputError(f"lineage limit must be between 1 and {MAX_LINEAGE_NODES}, not "
                             f"{limit}")
        page = await info.context.loaders.lineage.load(
            LineageKey(self.doc["id"], direction, depth, level, limit))
        return LineageConnection.of(page) if page is not None else None

    @strawberry.field(description="Every version, oldest first")
    async def history(self, info: Info[Context, None]) -> list[Version]:
        found = await info.context.run(info.context.catalog.assets.versions, self.doc["id"])
        return [Version(**asdict(v)) for v in found]


@strawberry.type(description="A page of assets; next is the cursor of the following page.")
class AssetPage:
    items: list[Asset]
    next: str | None
