"""Who asserted each statement, and when: statement-level provenance that SPARQL can query.

Each applied changeset is one PROV entity, ``{base}/id/changeset/{seq}``, that reifies (RDF 1.2
``rdf:reifies`` with a triple term) every statement it added, and says who made the change
(``prov:wasAttributedTo``), when (``prov:generatedAtTime``), why (``rdfs:comment``) and, for an
ingestion run, from which source (``semcat:ingestionSource``)::

    SELECT ?who ?when ?source WHERE {
      ?c rdf:reifies <<( <https://…/id/acme/table/pg/shop.main.orders> semcat:description ?d )>> ;
         prov:wasAttributedTo ?who ; prov:generatedAtTime ?when .
      OPTIONAL { ?c semcat:ingestionSource ?source } }

These statements live in the provenance twin of each statement's graph
(``graph/inferred/provenance/{ws}/{partition}``), so a caller sees the provenance of exactly the
statements it may read. A removed statement loses its reifications; one that moves between
access partitions keeps them. Version stamps (``semcat:version``, ``updatedAt``, ...) are not
reified: they are provenance already. A projection of the change log (graph_store/projector.py)
that keeps its position in its root graph and replays what it missed on open.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Final

from pyoxigraph import Literal, NamedNode, Quad, Triple

from graph_store.changeset import Changeset
from graph_store.journal import SYSTEM_PREDICATES, Journal, agent
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore, write_derived
from ontology.namespaces import PROV, RDF, RDFS, SEMCAT, XSD

__all__ = ["INGEST_MESSAGE", "Provenance"]

REIFIES: Final = NamedNode(RDF + "reifies")
ATTRIBUTED_TO: Final = NamedNode(PROV + "wasAttributedTo")
GENERATED_AT: Final = NamedNode(PROV + "generatedAtTime")
COMMENT: Final = NamedNode(RDFS + "comment")
SOURCE: Final = NamedNode(SEMCAT + "ingestionSource")
UP_TO: Final = NamedNode(SEMCAT + "derivedUpTo")
INGEST_MESSAGE: Final = "ingest "  # an ingestion run's changesets: "ingest {source}"
_INTEGER: Final = NamedNode(XSD + "integer")
_DATETIME: Final = NamedNode(XSD + "dateTime")
REPLAY_BATCH: Final = 200  # changesets per store write while catching up


class Provenance:
    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal, *,
                 enabled: bool = True) -> None:
        self._store = store
        self._layout = layout
        self._journal = journal
        self.enabled = enabled
        self.root = layout.provenance()
        self._lock = threading.Lock()

    def up_to(self) -> int:
        found = next(iter(self._store.quads(self.root, UP_TO, None, self.root)), None)
        return int(found.object.value) if found is not None else 0  # type: ignore[union-attr]

    def catch_up(self) -> None:
        """On open: what the log holds beyond the recorded position (all of it for a data dir
        made before provenance was kept)."""
        if not self.enabled:
            return
        changesets = self._journal.changelog.since(self.up_to())
        while batch := list(islice(changesets, REPLAY_BATCH)):
            self.follow(batch)

    def follow(self, batch: Sequence[Changeset]) -> None:
        if not self.enabled or not batch:
            return
        with self._lock:
            if batch[-1].seq <= self.up_to():
                return  # replayed already
            change = _Change(self._store, self._layout)
            for cs in batch:
                change.add(cs)
            change.position(self.root, batch[-1].seq)
            change.write()


class _Change:
    """The provenance statements a batch of changesets removes and adds, applied at once."""

    def __init__(self, store: GraphStore, layout: GraphLayout) -> None:
        self.store = store
        self.layout = layout
        self.removed: set[Quad] = set()
        self.added: set[Quad] = set()
        self.emptied: set[tuple[NamedNode, NamedNode]] = set()  # (reifier, graph) to check
        self.graphs: dict[object, NamedNode] = {}  # asserted graph -> its provenance graph
        self.fresh: dict[tuple[Triple, NamedNode], list[Quad]] = {}  # this batch's reifications

    def graph(self, asserted: object) -> NamedNode:
        found = self.graphs.get(asserted)
        if found is None:
            found = self.graphs[asserted] = self.layout.provenance(asserted)  # type: ignore[arg-type]
        return found

    def add(self, cs: Changeset) -> None:
        # a removed statement's graph and reifications, for one added elsewhere (moved)
        moved: dict[Triple, tuple[NamedNode, set[Quad]]] = {}
        for q in cs.removed:
            if _reified(q):
                t = Triple(q.subject, q.predicate, q.object)  # type: ignore[arg-type]
                g = self.graph(q.graph_name)
                gone = self.reifiers(t, g)
                moved[t] = g, gone
                for r in gone:
                    self.removed.add(r)
                    self.added.discard(r)
                    self.emptied.add((r.subject, g))  # type: ignore[arg-type]
        me = NamedNode(f"{self.layout.id_base}changeset/{cs.seq}")
        described: set[NamedNode] = set()
        for q in cs.added:
            if not _reified(q):
                continue
            t = Triple(q.subject, q.predicate, q.object)  # type: ignore[arg-type]
            g = self.graph(q.graph_name)
            if t in moved and moved[t][0] != g:  # moved: who said it still did
                old, reifications = moved[t]
                for r in reifications:
                    self.put(Quad(r.subject, REIFIES, t, g))
                    self.copy(r.subject, old, g)  # type: ignore[arg-type]
                continue
            r = Quad(me, REIFIES, t, g)  # this changeset's: none stored yet
            self.added.add(r)
            self.fresh.setdefault((t, g), []).append(r)
            if g not in described:
                described.add(g)
                self.added.update(Quad(me, p, o, g) for p, o in _about(cs, self.layout))

    def reifiers(self, t: Triple, g: NamedNode) -> set[Quad]:
        """``t``'s reifications in ``g``: stored, or added by an earlier changeset of the batch
        (one whose statement a later one removes before the batch is written)."""
        found = {r for r in self.store.quads(None, REIFIES, t, g) if r not in self.removed}
        return found | {r for r in self.fresh.get((t, g), ()) if r in self.added}

    def put(self, q: Quad) -> None:
        self.removed.discard(q)
        if next(iter(self.store.quads(q.subject, q.predicate, q.object,  # type: ignore[arg-type]
                                      q.graph_name)),
                None) is None:
            self.added.add(q)

    def copy(self, reifier: NamedNode, source: NamedNode, target: NamedNode) -> None:
        for q in self.store.quads(reifier, None, None, source):
            if q.predicate != REIFIES:
                self.put(Quad(reifier, q.predicate, q.object, target))

    def position(self, root: NamedNode, seq: int) -> None:
        self.removed.update(self.store.quads(root, UP_TO, None, root))
        self.added.add(Quad(root, UP_TO, Literal(str(seq), datatype=_INTEGER), root))

    def write(self) -> None:
        kept = {(r.subject, r.graph_name) for r in self.added if r.predicate == REIFIES}
        for reifier, g in self.emptied:  # a changeset none of whose statements remain here
            if (reifier, g) not in kept and not any(
                    r not in self.removed for r in self.store.quads(reifier, REIFIES, None, g)):
                self.removed.update(self.store.quads(reifier, None, None, g))
        removed = self.removed - self.added
        write_derived(self.store, removed, self.added - removed, "provenance")


def _reified(q: Quad) -> bool:
    return isinstance(q.graph_name, NamedNode) and q.predicate.value not in SYSTEM_PREDICATES


def _about(cs: Changeset, layout: GraphLayout) -> Iterable[tuple[NamedNode, NamedNode | Literal]]:
    yield GENERATED_AT, Literal(cs.time, datatype=_DATETIME)
    if cs.actor:
        yield ATTRIBUTED_TO, agent(layout, cs.actor)
    if cs.message:
        yield COMMENT, Literal(cs.message)
        if cs.message.startswith(INGEST_MESSAGE):
            yield SOURCE, Literal(cs.message[len(INGEST_MESSAGE):])
