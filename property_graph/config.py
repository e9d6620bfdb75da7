"""The projection's settings, apart from the driver: the Settings import them on every start,
and the neo4j driver is imported only where a property graph is configured."""

from __future__ import annotations

from dataclasses import dataclass

# Bolt, direct or routed, plain or TLS; the driver also takes http://, its preview Query API
SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


@dataclass(frozen=True)
class Neo4jConfig:
    """Where the property graph lives (settings SEMCAT_NEO4J_*)."""
    url: str
    user: str | None = None
    password: str | None = None
    database: str | None = None  # None: the server's default database
    name: str = "semcat"  # the projection's name on the server: its position node's key
