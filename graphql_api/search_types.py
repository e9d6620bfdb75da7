"""Search results as GraphQL types: hits that resolve to whole assets, facets, and how the
engine read the query (the natural-language reading included)."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graphql_api.asset_types import Asset
from graphql_api.context import Context
from search.model import SearchResult as Found


@strawberry.type
class FacetValue:
    value: str
    count: int
    label: str


@strawberry.type(description="Counts of the matches by one property (type, owner, tag, ...)")
class Facet:
    name: str
    values: list[FacetValue]


@strawberry.type
class SearchHit:
    id: strawberry.ID
    name: str
    type: str | None
    score: float
    why: JSON = strawberry.field(description="Why it matched: fields, highlights, graph filters")

    @strawberry.field(description="The whole asset")
    async def asset(self, info: Info[Context, None]) -> Asset | None:
        doc = await info.context.loaders.documents.load(str(self.id))
        return Asset.of(doc) if doc is not None else None


@strawberry.type(description="A page of search results, as GET /api/v1/search returns them.")
class SearchResult:
    mode: str
    total: int
    hits: list[SearchHit]
    facets: list[Facet]
    next: str | None
    interpretation: JSON = strawberry.field(description="What the engine understood: words, "
                                                        "expansions, relaxation")
    nl: JSON | None = strawberry.field(description="With nl: the filters read from the "
                                                   "question")

    @staticmethod
    def of(found: Found) -> SearchResult:
        reading: Any = found.interpretation.get("nl")
        return SearchResult(
            mode=found.mode, total=found.total, next=found.next_cursor,
            interpretation=cast(JSON, found.interpretation), nl=reading,
            hits=[SearchHit(id=strawberry.ID(h.id), name=h.name, score=h.score, why=cast(JSON, h.why),
                            type=h.types[0] if h.types else None) for h in found.hits],
            facets=[Facet(name=name, values=[FacetValue(value=v.value, count=v.count,
                                                        label=v.label) for v in values])
                    for name, values in found.facets.items()])
