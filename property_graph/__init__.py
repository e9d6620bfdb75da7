"""The catalog as a property graph on a Bolt server (Neo4j in production, ArcadeDB in the
tests), for Cypher users and graph-algorithm tools: a projection of the change log with its
own position (docs/property-graph.md). This module stays light, since the settings import it
on every start: the driver is imported only where a property graph is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from property_graph.config import Neo4jConfig

if TYPE_CHECKING:
    from property_graph.follower import CatalogParts, PropertyGraphProjection

__all__ = ["Neo4jConfig", "follow"]


def follow(parts: CatalogParts, config: Neo4jConfig | None) -> PropertyGraphProjection | None:
    """Start projecting a catalog's change log into the property graph, if one is configured
    (``Settings.property_graph()``); the caller closes what it returns before the catalog."""
    if config is None:
        return None
    from property_graph.follower import PropertyGraphProjection

    return PropertyGraphProjection(parts, config).start()
