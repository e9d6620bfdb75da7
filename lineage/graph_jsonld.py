"""A page of a lineage graph as JSON-LD (``Accept: application/ld+json``): the nodes with their
lineage statements among one another, in the catalog's published context, so that a linked-data
client reads the same triples SPARQL would return for them."""

from __future__ import annotations

from typing import Any

__all__ = ["lineage_jsonld"]


def lineage_jsonld(page: dict[str, Any], context: list[Any]) -> dict[str, Any]:
    """``page`` as ``LineageService`` answers it; paging (``next``, ``partial``, ``total``)
    stays beside the graph for clients that page."""
    docs: dict[str, dict[str, Any]] = {}

    def doc(key: str) -> dict[str, Any]:
        return docs.setdefault(key, {"id": key})

    for node in page["nodes"]:
        d = doc(node["id"])
        if node.get("type"):
            d["type"] = node["type"]
        if node.get("name") is not None:
            d["name"] = node["name"]
    for e in page["edges"]:  # data flows from source to target
        subject, prop, obj = (e["source"], "produces", e["target"]) if e["via"] == "produces" \
            else (e["target"], e["via"], e["source"])
        doc(subject).setdefault(prop, []).append(obj)
    out: dict[str, Any] = {"@context": context, "@graph": list(docs.values())}
    out.update({k: page[k] for k in ("partial", "total", "next") if k in page})
    return out
