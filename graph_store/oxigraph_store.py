"""Embedded pyoxigraph backend (on-disk RocksDB, or in memory for tests)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store

from graph_store.changeset import Changeset
from graph_store.errors import BackendError, QuerySyntaxError
from graph_store.protocol import Dataset, GraphName, Object, Subject
from ontology.namespaces import SEMCAT, XSD

log = logging.getLogger(__name__)

_JOURNAL = NamedNode("urn:semcat:journal")
_APPLIED = NamedNode(SEMCAT + "appliedSeq")
_INTEGER = NamedNode(XSD + "integer")
# Above this many quads a changeset is applied with bulk writes instead of one transaction:
# much faster, not atomic for concurrent readers; the change log still makes it crash-safe.
BULK_THRESHOLD = 20_000


def _triples_text(quads: tuple[Quad, ...] | list[Quad]) -> str:
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        g = "" if isinstance(q.graph_name, DefaultGraph) else str(q.graph_name)
        by_graph.setdefault(g, []).append(f"{q.subject} {q.predicate} {q.object} .")
    return " ".join(
        " ".join(lines) if not g else f"GRAPH {g} {{ {' '.join(lines)} }}"
        for g, lines in by_graph.items()
    )


def _has_blank(quads: tuple[Quad, ...]) -> bool:
    return any(
        isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode)
        or isinstance(q.graph_name, BlankNode)
        for q in quads
    )


class OxigraphStore:
    """A pyoxigraph ``Store`` that remembers how far into the change log it has applied."""

    def __init__(self, path: Path | None, system_graph: NamedNode) -> None:
        try:
            self._store = Store(str(path)) if path else Store()
        except OSError as e:
            raise BackendError(f"cannot open the store at {path}: {e}") from e
        self._system = system_graph
        marker = next(iter(self._store.quads_for_pattern(_JOURNAL, _APPLIED, None, None)), None)
        self._applied = int(marker.object.value) if marker else 0

    @property
    def applied_seq(self) -> int:
        return self._applied

    def apply(self, changeset: Changeset, /) -> None:
        marker = Quad(_JOURNAL, _APPLIED, Literal(str(changeset.seq), datatype=_INTEGER),
                      self._system)
        try:
            if changeset.size <= BULK_THRESHOLD and not _has_blank(changeset.removed + changeset.added):
                self._store.update(
                    f"DELETE WHERE {{ GRAPH {self._system} {{ {_JOURNAL} {_APPLIED} ?n }} }} ;"
                    f" DELETE DATA {{ {_triples_text(changeset.removed)} }} ;"
                    f" INSERT DATA {{ {_triples_text([*changeset.added, marker])} }}"
                )
            else:
                for q in changeset.removed:
                    self._store.remove(q)
                if changeset.size > BULK_THRESHOLD:
                    self._store.bulk_extend(changeset.added)
                else:
                    self._store.extend(changeset.added)
                for old in list(self._store.quads_for_pattern(_JOURNAL, _APPLIED, None, None)):
                    self._store.remove(old)
                self._store.add(marker)
        except (OSError, SyntaxError) as e:
            raise BackendError(f"could not apply changeset {changeset.seq}: {e}") from e
        self._applied = changeset.seq

    def query(self, sparql: str, /, *, dataset: Dataset, base_iri: str | None = None) -> object:
        try:
            return self._store.query(
                sparql,
                base_iri=base_iri,
                use_default_graph_as_union=dataset.default is None,
                default_graph=list(dataset.default) if dataset.default is not None else None,
                named_graphs=list(dataset.named) if dataset.named is not None else None,
            )
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from e
        except OSError as e:
            raise BackendError(f"query failed: {e}") from e

    def quads(
        self,
        subject: Subject | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
        graph: GraphName | None = None,
    ) -> Iterator[Quad]:
        return self._store.quads_for_pattern(subject, predicate, object, graph)

    def named_graphs(self) -> list[NamedNode | BlankNode]:
        return list(self._store.named_graphs())

    def dump(self, output: IO[bytes], format: RdfFormat, graph: GraphName | None = None) -> None:
        if graph is None:
            self._store.dump(output, format=format)
        else:
            self._store.dump(output, format=format, from_graph=graph)

    def flush(self) -> None:
        self._store.flush()

    def close(self) -> None:
        """Release the on-disk lock (pending result iterators keep the store alive, hence gc)."""
        self._store.flush()
        del self._store
        gc.collect()
