"""Embedded pyoxigraph backend (on-disk RocksDB, or in memory for tests)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Store

from graph_store.changeset import Changeset
from graph_store.errors import BackendError, QuerySyntaxError
from graph_store.protocol import Dataset, GraphName, Object, Subject

log = logging.getLogger(__name__)

# Up to ATOMIC_LIMIT quads a changeset is one SPARQL transaction, so readers never see half of
# it; larger ones are written with extend, and beyond BULK_LIMIT with pyoxigraph's bulk loader:
# much faster, not atomic for concurrent readers; the change log keeps them crash-safe.
ATOMIC_LIMIT = 2_000
BULK_LIMIT = 20_000


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
    """A pyoxigraph ``Store``. It keeps no bookkeeping of its own: every quad in it is catalog
    data, so the union of its graphs is a caller's whole dataset (see ``Journal`` for replay)."""

    def __init__(self, path: Path | None) -> None:
        try:
            self._store = Store(str(path)) if path else Store()
        except OSError as e:
            raise BackendError(f"cannot open the store at {path}: {e}") from e

    def apply(self, changeset: Changeset, /) -> None:
        """Idempotent: replaying a suffix of the log in order converges to the same state."""
        try:
            if changeset.size <= ATOMIC_LIMIT and not _has_blank(changeset.removed + changeset.added):
                self._store.update(f"DELETE DATA {{ {_triples_text(changeset.removed)} }} ;"
                                   f" INSERT DATA {{ {_triples_text(changeset.added)} }}")
                return
            for q in changeset.removed:
                self._store.remove(q)
            if len(changeset.added) > BULK_LIMIT:
                self._store.bulk_extend(changeset.added)
            else:
                self._store.extend(changeset.added)
        except (OSError, SyntaxError) as e:
            raise BackendError(f"could not apply changeset {changeset.seq}: {e}") from e

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
