"""The MCP resources: what an agent reads before writing SPARQL."""

from __future__ import annotations

from contextlib import suppress

from catalog import Catalog
from graph_store.errors import NotFound
from ontology.namespaces import PREFIXES

ONTOLOGY_URI = "semcat://ontology"
PREFIXES_URI = "semcat://sparql-prefixes"


def ontology_turtle(cat: Catalog) -> str:
    """The ontology as the catalog holds it: the shipped one, then the custom classes and
    properties governance added (an instance graph every caller may read)."""
    parts = [cat.sparql.serialize_graph(cat.layout.ontology.value, "text/turtle")]
    with suppress(NotFound):  # no custom terms yet
        parts.append(cat.sparql.serialize_graph(cat.layout.custom_ontology.value, "text/turtle"))
    return "\n".join(p.decode() for p in parts)


def prefixes_text() -> str:
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
