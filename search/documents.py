"""What the search indexes know about one asset: a flat, RDF-free view built by the catalog.

The catalog turns an asset's quads (plus the labels of what it references and, for tables,
its columns) into an ``AssetDoc``; the text index and the vector index both read it, so the
two always describe the same state of the asset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from search.analysis import split_identifier

EMBEDDING_RECIPE = 2  # bump when embedding_text changes: persisted vectors are then rebuilt
_MAX_COLUMNS_IN_EMBEDDING = 40
# a part is described with its whole ("column email of table customers")
PART_OF = {"Column": "table", "Chart": "dashboard", "Feature": "model"}
_IN_CONTAINER = frozenset({"Table", "View"})


@dataclass(frozen=True)
class Ref:
    """A referenced asset: its key (for facets and filters) and its label (for text)."""

    key: str
    label: str


@dataclass(frozen=True)
class Column:
    name: str
    description: str = ""


@dataclass(frozen=True)
class AssetDoc:
    key: str
    types: tuple[str, ...]
    name: str
    qualified_name: str = ""
    description: str = ""
    columns: tuple[Column, ...] = ()  # a table's or view's columns: column-level evidence
    parent: Ref | None = None  # partOf: a column's table, a chart's dashboard
    platform: Ref | None = None
    workspace: Ref | None = None
    owners: tuple[Ref, ...] = ()
    tags: tuple[Ref, ...] = ()
    terms: tuple[Ref, ...] = ()
    classifications: tuple[Ref, ...] = ()
    domains: tuple[Ref, ...] = ()
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # custom attributes
    data_type: str = ""
    keywords: tuple[str, ...] = ()  # free-text keywords (dcat:keyword), beside curated tags
    graphs: tuple[str, ...] = ()  # partition graphs holding it: access control filters on them
    updated_at: str = ""  # ISO 8601, UTC
    # entailed, not asserted: from the inferred graphs (OWL 2 RL, classification rules)
    inferred_types: tuple[str, ...] = ()
    inferred_classifications: tuple[Ref, ...] = ()
    created_at: str = ""  # ISO 8601, UTC
    joins: tuple[str, ...] = ()  # tables joined by a foreign key or lineage (search/graph_signals.py)

    def embedding_text(self) -> str:
        """One paragraph for the sentence encoder: what it is, its name as words, its
        description, then the names of its columns, tags and terms (the model truncates, so
        the most telling parts come first)."""
        kind = " ".join(split_identifier(t) for t in self.types[:1]) or "Asset"
        name = split_identifier(self.name) if self.name else self.key
        head = f"{kind} {name}"
        if self.parent is not None and PART_OF.get(kind):
            head += f" of {PART_OF[kind]} {split_identifier(self.parent.label)}"
        elif kind in _IN_CONTAINER and not self.description and "." in self.qualified_name:
            # undescribed, a table is known by its names alone, and its database's name says
            # what it is about (``head`` in ``department_management``); schema names (public,
            # main, raw) rarely do. A description says it better (measured: the demo's
            # described tables lost semantic nDCG with their database named)
            head += f" in {split_identifier(self.qualified_name.split('.', 1)[0])}"
        parts = [head + (f": {self.description}" if self.description else ".")]
        if self.columns:
            names = ", ".join(split_identifier(c.name) for c in
                              self.columns[:_MAX_COLUMNS_IN_EMBEDDING])
            parts.append(f"Columns: {names}.")
        labels = [*(r.label for r in (*self.terms, *self.tags, *self.classifications)),
                  *self.keywords]
        if labels:
            parts.append(f"Topics: {', '.join(labels)}.")
        return " ".join(parts)

    def embedding_hash(self) -> str:
        return hashlib.blake2b(self.embedding_text().encode(), digest_size=12).hexdigest()


def vector_id(key: str) -> int:
    """A stable 63-bit id for an asset key, shared by the text and the vector index so that
    neither needs the other's id map (collisions: ~1e-7 at a million assets; logged)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> 1
