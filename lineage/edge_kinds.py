"""The statements a column edge's kind calls for, as OpenLineage's column lineage facet and
sqlglot's reading of SQL name kinds (DIRECT: IDENTITY, TRANSFORMATION, AGGREGATION; INDIRECT).
Apart from the OpenLineage modules, so that hand-made edges and connectors do not import the
OpenLineage client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

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
