"""The statements a column edge's kind calls for, as OpenLineage's column lineage facet and
sqlglot's reading of SQL name kinds (DIRECT: IDENTITY, TRANSFORMATION, AGGREGATION; INDIRECT).
Apart from the OpenLineage modules, so that hand-made edges and connectors do not import the
OpenLineage client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

KINDS: Final = {"IDENTITY": "copiedFrom", "TRANSFORMATION": "transformedFrom",
                "AGGREGATION": "aggregatedFrom"}  # OpenLineage's DIRECT subtypes


def edge_properties(steps: Sequence[tuple[str, str | None]]) -> list[str]:
    """The statements one input field's transformations call for: ``derivedFrom`` and its
    kind for a DIRECT one, ``influencedBy`` for an INDIRECT one (a filter or join key carries
    no values, so classifications do not propagate along it)."""
    out: list[str] = []
    for kind, subtype in steps:
        if str(kind).upper() == "INDIRECT":
            out.append("influencedBy")
        else:
            out.append("derivedFrom")
            if (sub := KINDS.get(str(subtype or "").upper())) is not None:
                out.append(sub)
    return list(dict.fromkeys(out))


ColumnEdges = dict[str, dict[str, Any]]  # target column -> property -> source column ids


def add_column_edge(by_column: ColumnEdges, column: str, ref: str, kind: str,
                    subtype: str | None, expression: str | None) -> None:
    """One edge from the column ``ref`` into ``column``, with its transformation (the target's
    expression, unless it is a copy)."""
    props = by_column.setdefault(column, {})
    for prop in edge_properties([(kind, subtype)]):
        values = props.setdefault(prop, [])
        if ref not in values:
            values.append(ref)
    if expression and str(subtype or "").upper() != "IDENTITY":
        props["transformation"] = expression


def sorted_edges(by_column: ColumnEdges) -> ColumnEdges:
    """The same, each column's sources in order (stable records: re-runs change nothing)."""
    for props in by_column.values():
        for values in props.values():
            if isinstance(values, list):
                values.sort()
    return by_column
