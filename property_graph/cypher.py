"""Writes nodes and edges to a Bolt server in portable Cypher: MERGE on the IRI, UNWIND
batches, one statement per label set or relationship type (neither can be a parameter), no
APOC and no server-specific procedures, so that Neo4j 5 and ArcadeDB run the same text."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph_store.errors import BackendError, InputError
from property_graph.config import SCHEMES, Neo4jConfig
from property_graph.mapping import POSITION, RESOURCE, Described, quoted

log = logging.getLogger(__name__)
BATCH = 1000  # rows per UNWIND


def _chunks(rows: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(rows), BATCH):
        yield rows[i:i + BATCH]


class GraphWriter:
    """One driver to one database; every method is one transaction."""

    def __init__(self, config: Neo4jConfig) -> None:
        self.config = config
        auth = (config.user, config.password or "") if config.user else None
        scheme = config.url.partition("://")[0]
        try:
            if scheme not in SCHEMES:
                raise ValueError(f"the scheme is {scheme!r}, not one of {', '.join(SCHEMES)}")
            self._driver: Driver = GraphDatabase.driver(config.url, auth=auth)
        except ValueError as e:  # a malformed URL or scheme
            raise InputError(f"SEMCAT_NEO4J_URL {config.url!r} is not a Bolt URL "
                             f"(bolt://host:7687 or neo4j://host:7687): {e}") from e

    def close(self) -> None:
        self._driver.close()

    def _write(self, work: Callable[[ManagedTransaction], Any]) -> Any:
        try:
            with self._driver.session(database=self.config.database) as session:
                return session.execute_write(work)
        except (Neo4jError, ServiceUnavailable, OSError) as e:
            raise BackendError(f"the property graph at {self.config.url} refused a write: "
                               f"{e}") from e

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a read query, as dicts (the tests and the bench ask through this)."""
        try:
            with self._driver.session(database=self.config.database) as session:
                return [dict(r) for r in session.run(cypher, params)]  # type: ignore[arg-type]
        except (Neo4jError, ServiceUnavailable, OSError) as e:
            raise BackendError(f"the property graph at {self.config.url} refused a read: "
                               f"{e}") from e

    def prepare(self) -> None:
        """The IRI's uniqueness constraint (an index behind it) where the server has one:
        every MERGE looks nodes up by it."""
        try:
            self._write(lambda tx: tx.run(
                f"CREATE CONSTRAINT semcat_resource_iri IF NOT EXISTS FOR (n:{RESOURCE}) "
                "REQUIRE n.iri IS UNIQUE").consume())
        except BackendError as e:  # a server without constraints still projects, slower
            log.warning("no uniqueness constraint on :%s(iri): %s", RESOURCE, e)

    def position(self) -> int | None:
        """The last changeset the graph reflects; None when it holds no projection yet."""
        rows = self.read(f"MATCH (p:{POSITION} {{name: $name}}) RETURN p.seq AS seq",
                         name=self.config.name)
        return int(rows[0]["seq"]) if rows and rows[0]["seq"] is not None else None

    def apply(self, described: Described, existing: dict[str, set[str]],
              seq: int | None) -> None:
        """Make the graph hold ``described`` (the current state of the resources it names;
        ``existing`` is what the graph held of them) and, in the same transaction, move the
        position to ``seq``."""
        dropped = [i for i in described.gone if i in existing] + \
            [n.iri for n in described.nodes if n.fresh and n.iri in existing]
        kept = [n.iri for n in described.nodes if not n.fresh]

        def work(tx: ManagedTransaction) -> None:
            for chunk in _chunks(dropped):
                tx.run(f"UNWIND $iris AS iri MATCH (n:{RESOURCE} {{iri: iri}}) DETACH DELETE n",
                       iris=chunk).consume()
            # outgoing edges are the node's own: dropped and written again below
            for chunk in _chunks(kept):
                tx.run(f"UNWIND $iris AS iri MATCH (n:{RESOURCE} {{iri: iri}})-[r]->() "
                       "DELETE r", iris=chunk).consume()
            for chunk in _chunks([{"iri": n.iri, "props": n.props} for n in described.nodes
                                  if not n.fresh]):
                tx.run(f"UNWIND $rows AS r MATCH (n:{RESOURCE} {{iri: r.iri}}) SET n = r.props",
                       rows=chunk).consume()
            # fresh nodes are absent (dropped above if they were there with other labels):
            # created with every label at once, which MERGE on the key label could not do
            by_labels: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for n in described.nodes:
                if n.fresh:
                    by_labels[n.labels].append({"iri": n.iri, "props": n.props})
            for labels, rows in by_labels.items():
                pattern = "".join(f":{quoted(lb)}" for lb in labels)
                for chunk in _chunks(rows):
                    tx.run(f"UNWIND $rows AS r CREATE (n{pattern}) SET n = r.props",
                           rows=chunk).consume()
            by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
            for rel, s, o in sorted(described.edges):
                by_type[rel].append({"s": s, "o": o})
            for rel, rows in by_type.items():
                for chunk in _chunks(rows):
                    tx.run(f"UNWIND $rows AS r MATCH (a:{RESOURCE} {{iri: r.s}}) "
                           f"MATCH (b:{RESOURCE} {{iri: r.o}}) MERGE (a)-[:{quoted(rel)}]->(b)",
                           rows=chunk).consume()
            if seq is not None:
                _set_position(tx, self.config.name, seq)

        self._write(work)

    def labels(self, iris: list[str]) -> dict[str, set[str]]:
        """The labels of those of ``iris`` that are nodes now."""
        found: dict[str, set[str]] = {}
        for chunk in _chunks(iris):
            found.update((r["iri"], set(r["labels"])) for r in self.read(
                f"UNWIND $iris AS iri MATCH (n:{RESOURCE} {{iri: iri}}) "
                "RETURN n.iri AS iri, labels(n) AS labels", iris=chunk))
        return found

    def existing(self, iris: list[str]) -> set[str]:
        """Which of ``iris`` are nodes now."""
        return set(self.labels(iris))

    def set_position(self, seq: int) -> None:
        self._write(lambda tx: _set_position(tx, self.config.name, seq))

    def clear(self) -> None:
        """Remove every projected node (in slices, so no transaction grows with the graph)
        and the position."""
        def slice_(tx: ManagedTransaction) -> int:
            rows = list(tx.run(f"MATCH (n:{RESOURCE}) WITH n LIMIT {BATCH * 5} "
                               "DETACH DELETE n RETURN count(*) AS c"))
            return int(rows[0]["c"]) if rows else 0
        while self._write(slice_):
            pass
        self._write(lambda tx: tx.run(f"MATCH (p:{POSITION} {{name: $name}}) DELETE p",
                                      name=self.config.name).consume())


def _set_position(tx: ManagedTransaction, name: str, seq: int) -> None:
    tx.run(f"MERGE (p:{POSITION} {{name: $name}}) SET p.seq = $seq", name=name,
           seq=seq).consume()
