"""The small contract every store backend keeps (embedded oxigraph now; remote SPARQL later)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple

from graph_store.changeset import Changeset

Subject = NamedNode | BlankNode
Object = NamedNode | BlankNode | Literal | Triple  # a triple term: provenance reifies statements
GraphName = NamedNode | BlankNode | DefaultGraph


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset a query runs over. ``default=None`` is the union of all graphs;
    ``named=None`` makes every named graph available to ``GRAPH``."""

    default: tuple[GraphName, ...] | None = None
    named: tuple[NamedNode | BlankNode, ...] | None = None


class QuadSource(Protocol):
    """What reads asserted statements by pattern: a store, or a store with a change applied
    (``graph_store.overlay.Overlay``)."""

    def quads(
        self,
        subject: Subject | None = None,
        predicate: NamedNode | None = None,
        object: Object | None = None,
        graph: GraphName | None = None,
    ) -> Iterator[Quad]: ...


class GraphStore(QuadSource, Protocol):
    """A store's ``quads`` without a graph reads asserted graphs only (projection graphs, such
    as inferred triples, are read by naming them)."""

    def apply(self, changeset: Changeset, /) -> None: ...

    def apply_logged(self, changeset: Changeset, /) -> None:
        """A changeset of the change log, at its position (``seq``). A store that several nodes
        share applies each once: one at or below the position it has reached (a node replaying
        what another applied) changes nothing, so readers never see an older state."""
        ...

    def derived(self, subject: Subject | None = None, predicate: NamedNode | None = None,
                object: Object | None = None) -> Iterator[Quad]:
        """What the projection graphs say about ``subject`` or of ``object``, read at once
        (naming each of a few hundred inferred graphs costs a look-up apiece)."""
        ...

    def query(self, sparql: str, /, *, dataset: Dataset, base_iri: str | None = None) -> object: ...

    def replace_graphs(self, graphs: Iterable[NamedNode], quads: Sequence[Quad], /) -> None:
        """Make ``graphs`` hold exactly ``quads``, bypassing the change log: only for
        projections that can be rebuilt from it (inferred triples)."""
        ...

    def named_graphs(self) -> list[NamedNode | BlankNode]: ...

    def dump(self, output: IO[bytes], format: RdfFormat, graph: GraphName | None = None) -> None: ...

    def flush(self) -> None:
        """Make every applied changeset durable (the journal's checkpoint relies on it)."""
        ...

    def close(self) -> None: ...


def write_derived(store: GraphStore, removed: set[Quad], added: set[Quad], keeper: str) -> None:
    """A projection's change to its graphs, bypassing the change log. Graphs it creates are
    made whole with ``replace_graphs``, so the store knows them as projections from the start."""
    fresh = {q.graph_name for q in added} - set(store.named_graphs())
    if fresh:
        store.replace_graphs(fresh, [q for q in added if q.graph_name in fresh])  # type: ignore[arg-type]
        added = {q for q in added if q.graph_name not in fresh}
    if removed or added:
        store.apply(Changeset(keeper, "derived", "", tuple(removed), tuple(added)))
