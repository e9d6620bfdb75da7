"""The full search request (`POST /api/v1/search`), apart from the routes: the CLI builds
the same request without importing the web framework."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from search.model import FACETS, MAX_LIMIT, SearchRequest

Mode = Literal["keyword", "semantic", "hybrid"]
Sort = Literal["relevance", "name", "-name", "updatedAt", "-updatedAt"]


class SearchBody(BaseModel):
    """The full search request (`POST /api/v1/search`)."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(default="", max_length=1000, description="Words, names, identifiers or a "
                   "question; empty lists everything (sorted by name)")
    mode: Mode = "hybrid"
    filters: dict[str, list[str]] = Field(
        default_factory=dict, description=f"Facet → allowed values (OR within a facet, AND "
        f"across facets); facets: {', '.join(FACETS)} and `attr.<key>` for a custom "
        "attribute. Values are asset ids, types are class names, attribute values as written",
        examples=[{"type": ["Table", "View"], "tag": ["tag/tier-1"], "attr.costCenter": ["CC-12"]}])
    sort: Sort = "relevance"
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, description="The `next` of the previous page")
    facets: list[str] | None = Field(default=None, description="Facets to count (default the "
                                     "built-in ones); also `updated`, `created` (past day/"
                                     "week/month/year), `updated_month`, `created_month` and "
                                     "`attr.<key>`")
    highlight: bool = True
    wait: bool = Field(default=False, description="Wait until the indexes reflect every "
                       "acknowledged write (read-your-writes)")
    downstreamOf: str | None = Field(default=None, description="Only assets downstream of "
                                     "this asset (id or IRI) along derivedFrom lineage")
    upstreamOf: str | None = Field(default=None, description="Only assets upstream of this "
                                   "asset (id or IRI)")
    depth: int | None = Field(default=None, ge=1, le=50, description="Lineage hops at most")
    where: str | None = Field(default=None, max_length=4000, description="A SPARQL group "
                              "graph pattern binding ?asset (semcat: prefixes declared)",
                              examples=['{ ?asset semcat:partOf/semcat:partOf ?s . '
                                        '?s semcat:name "marts" }'])
    nl: bool = Field(default=False, description="Read q as natural language: class words, "
                     "owners, tags, classifications, platforms, workspaces, domains, glossary "
                     "terms and time phrases become filters (shown under interpretation.nl); "
                     "explicit filters win")
    updatedAfter: str | None = Field(default=None, description="Only assets updated at or "
                                     "after: ISO date, datetime, or duration ago (P7D)",
                                     examples=["2026-01-01", "P7D"])
    updatedBefore: str | None = Field(default=None, description="Only assets updated before "
                                      "(exclusive)")
    createdAfter: str | None = Field(default=None, description="Only assets created at or after")
    createdBefore: str | None = Field(default=None, description="Only assets created before "
                                      "(exclusive)")

    def request(self) -> SearchRequest:
        return SearchRequest(q=self.q, mode=self.mode,
                             filters={k: tuple(v) for k, v in self.filters.items()},
                             sort=self.sort, limit=self.limit, cursor=self.cursor,
                             facets=tuple(self.facets) if self.facets is not None else FACETS,
                             highlight=self.highlight, wait=self.wait,
                             downstream_of=self.downstreamOf, upstream_of=self.upstreamOf,
                             depth=self.depth, where=self.where, nl=self.nl,
                             updated_after=self.updatedAfter, updated_before=self.updatedBefore,
                             created_after=self.createdAfter, created_before=self.createdBefore)
