"""Search over the catalog: the two index projections, kept fresh from the change log.

The text index (tantivy) is updated synchronously in ``on_applied``, so a write is
keyword-searchable when it is acknowledged. Vectors are computed by one background worker;
they switch on with the first semantic or hybrid search (or a reindex), so catalogs that
never search semantically (CLI commands, most tests) never import torch. Both indexes record
the change-log seq they reflect and catch up from it when opened; ``wait=True`` gives
read-your-writes.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from catalog.jsonld import Vocabulary
from catalog.vector_sides import TABLE_SIDE_HOLDS, TABLE_TYPES, VectorSide
from embeddings.encoder import Embedder
from embeddings.worker import EmbeddingWorker, Item
from graph_store.changeset import Changeset
from graph_store.errors import InputError, NotFound
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.projector import in_locked_phase
from graph_store.protocol import GraphStore
from search import graph_filters, nl
from search import suggest as autocomplete
from search.documents import AssetDoc, vector_id
from search.engine import SearchEngine
from search.from_store import DocBuilder
from search.model import MAX_LIMIT, Hit, SearchRequest, SearchResult
from search.text_index import TextIndex

if TYPE_CHECKING:
    from access.service import AccessService

tracer = trace.get_tracer("semcat")
log = logging.getLogger(__name__)
BROWSE_WAIT_S = 1.0  # how long a list waits for the text index before asking the store
_ID_FACETS = frozenset({"platform", "tag", "owner", "workspace", "classification", "term"})

WAIT_TIMEOUT_S = 120.0
CATCH_UP_LIMIT = 10_000  # more affected assets than this: re-read every asset instead


@dataclass(frozen=True)
class ReindexReport:
    documents: int
    text_seconds: float
    vectors: int
    vector_seconds: float
    seq: int


GraphSelect = Callable[[str, Collection[str] | None], Iterable[Sequence[str | None]]]

class SearchService:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout,
                 access: AccessService, *, data: Path | None,
                 vocabulary: Callable[[], Vocabulary], graph_select: GraphSelect,
                 embedder: Embedder, table_embedder: Embedder | None = None) -> None:
        self._journal = journal
        self._layout = layout
        self.access = access  # narrows every search to the caller's graphs
        # a SPARQL SELECT over the readable graphs, for graph-aware filters
        # (catalog/sparql_search.py graph_select)
        self.graph_select = graph_select
        self._dir = data / "search" if data is not None else None
        self._vocabulary = vocabulary
        self._docs = DocBuilder(store, layout, lambda: {t.iri: t.key for t in vocabulary().custom},
                                lambda: vocabulary().class_names)
        self.text = TextIndex(self._dir / "text" if self._dir else None)
        self.engine = SearchEngine(self.text)
        self._lock = threading.RLock()
        # one reader-and-writer of the text index at a time, so that an older read of an asset
        # never overwrites a newer one (taken inside the journal lock where both are held)
        self._indexing = threading.Lock()
        self._refresh_later: set[str] = set()  # what the reasoners changed, for ``follow``
        self.vector_sides: list[VectorSide] = []
        self._started = False  # the vector workers run (from the first semantic search on)
        self._text_stale = False
        self.use_embedder(embedder, table_embedder)
        self._catch_up_text()

    def use_embedder(self, embedder: Embedder, tables: Embedder | None = None) -> None:
        """Choose the encoders (before the first semantic search): ``embedder`` for every asset,
        ``tables`` (if any) for tables again, for searches of tables only
        (catalog/vector_sides.py). Their names are persisted with the vectors, so switching
        models rebuilds them."""
        if self._started:
            raise InputError("the embedder cannot change once semantic search has started")
        self.embedder = embedder
        main = VectorSide(embedder, self._dir / "vectors" if self._dir else None)
        self.vector_sides = [main]
        if tables is not None:
            path = self._dir / "table-vectors" if self._dir else None
            self.vector_sides.append(VectorSide(tables, path, holds=TABLE_SIDE_HOLDS,
                                                answers=TABLE_TYPES))
        self.vectors = main.index

    # -- following the change log --------------------------------------------------------------
    @tracer.start_as_current_span("search.index")
    def follow(self, batch: Sequence[Changeset]) -> None:
        """Index the assets a run of changesets touched (a projection: graph_store/projector.py);
        never raises (the writes are durable already): a failure marks the text index stale
        and the next search repairs it."""
        seq = batch[-1].seq
        later, self._refresh_later = self._refresh_later, set()
        try:
            with self._indexing:
                iris = self._docs.affected([cs for cs in batch if cs.versions]) or set()
                docs, gone = self._read(iris)
                if later - iris:
                    more, less = graph_filters.entailment_changed(*self._read(later - iris),
                                                                  self.text)
                    docs, gone = docs + more, gone + less
                if docs or gone:
                    self.text.apply(docs, gone, max(seq, self.text.seq))
                else:
                    self.text.seq = max(seq, self.text.seq)
            for side, worker in self._workers():
                worker.submit(seq, side.items(docs, gone))
        except Exception:
            log.exception("search indexing of changesets %d..%d failed; it will be retried",
                          batch[0].seq, seq)
            self._text_stale = True
            self._refresh_later |= later
            for side, worker in self._workers():  # the vectors re-read what changed, from the log
                worker.submit(seq, self._catch_up_job(side, seq))

    def _read(self, iris: set[str]) -> tuple[list[AssetDoc], list[str]]:
        docs: list[AssetDoc] = []
        gone: list[str] = []
        for iri in sorted(iris):
            doc = self._docs.build(iri)
            if doc is None:
                gone.append(self._layout.key(iri))
            else:
                docs.append(doc)
        return docs, gone

    def _workers(self) -> list[tuple[VectorSide, EmbeddingWorker]]:
        return [(side, side.worker) for side in self.vector_sides if side.worker is not None]

    def _changed_since(self, seq: int, target: int) -> set[str] | None:
        """Assets touched after ``seq``; None when re-reading everything is the better plan."""
        if seq <= 0 or seq > target:
            return None
        return self._docs.affected(self._journal.changelog.since(seq), limit=CATCH_UP_LIMIT)

    def _catch_up_text(self) -> None:
        with self._journal.lock, self._indexing:
            target = self._journal.applied_seq
            if self.text.seq == target and not self._text_stale:
                return
            changed = self._changed_since(self.text.seq, target)
            if changed is None:
                t0 = time.perf_counter()
                n = self.text.rebuild(self.documents(), target)
                log.info("rebuilt the text index: %d assets in %.1f s", n, time.perf_counter() - t0)
            else:
                docs, gone = self._read(changed)
                self.text.apply(docs, gone, target)
            self._text_stale = False

    def _ensure_vectors(self, catch_up: bool = True) -> None:
        """Start following the log with vectors (once); queue the catch-ups to the log's end."""
        with self._lock:
            if self._started:
                return
            with self._journal.lock:
                target = self._journal.applied_seq
                for side in self.vector_sides:
                    side.worker = EmbeddingWorker(side.embedder, side.index)
                    if catch_up and side.index.seq < target:
                        side.worker.submit(target, self._catch_up_job(side, target))
                self._started = True

    def start_vectors(self) -> None:
        """Follow the log with vectors from now on (a server's start): the model loads and the
        catch-up is queued on a thread of its own, so the start does not wait for either."""
        threading.Thread(target=self._ensure_vectors, name="semcat-vectors-start",
                         daemon=True).start()

    def _catch_up_job(self, side: VectorSide, target: int) -> Callable[[], list[Item]]:
        """Runs on the side's worker: what changed since the index's seq, or every asset plus
        removals of vectors whose asset is gone (unchanged texts are skipped by their hash)."""
        def items() -> list[Item]:
            changed = self._changed_since(side.index.seq, target)
            if changed is not None:
                return side.items(*self._read(changed))
            docs = list(self.documents())
            present = {d.key for d in docs}
            return side.items(docs, [k for k in side.index.asset_keys() if k not in present])
        return items

    def documents(self) -> Iterator[AssetDoc]:
        """Every asset as the indexes see it (also what tuning the encoder trains on)."""
        return (d for i in self._docs.asset_iris() if (d := self._docs.build(i)) is not None)

    # -- reading -------------------------------------------------------------------------------
    def wait(self, *, vectors: bool = True, timeout: float = WAIT_TIMEOUT_S) -> bool:
        """Until the indexes reflect every change acknowledged so far; False on timeout."""
        target = self._journal.applied_seq
        deadline = time.monotonic() + timeout
        if self._text_stale:
            self._catch_up_text()
        while self.text.seq < target:  # the projector indexes on a thread of its own
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        if not vectors:
            return True
        self._ensure_vectors()
        return all(worker.wait(target, max(0.0, deadline - time.monotonic()))
                   for _, worker in self._workers())

    def _normalise(self, request: SearchRequest) -> SearchRequest:
        """Filter values as keys: ids in their one spelling (given encoded or as the source
        names them), class IRIs and CURIEs too; an unknown class is an InputError that lists
        the known ones. Attribute and domain values stay as written."""
        vocabulary = self._vocabulary()

        def key(facet: str, value: str) -> str:
            if facet == "type":
                iri = vocabulary.class_iri(value)
                if iri is None:
                    raise InputError(f"unknown type {value!r}; use one of "
                                     f"{sorted(vocabulary.classes)}")
                return vocabulary.class_names[iri]
            if facet in _ID_FACETS:
                return self._layout.key(self._layout.iri(value))
            return self._layout.key(value)

        def asset(value: str | None) -> str | None:
            return None if value is None else self._layout.key(self._layout.iri(value))

        return replace(request, filters={f: tuple(key(f, v) for v in (
            (vs,) if isinstance(vs, str) else vs)) for f, vs in request.filters.items()},
            downstream_of=asset(request.downstream_of), upstream_of=asset(request.upstream_of))

    @tracer.start_as_current_span("search.run")
    def run(self, request: SearchRequest, *, caller: str | None = None,
            readable: Collection[str] | None = None) -> SearchResult:
        """One search. ``readable``: the asserted graphs (IRIs) the caller may read, applied
        inside every query (hits, totals, facets, semantic matches); None reads everything.
        Graph-aware filters (lineage, ``where``) are resolved over those graphs too."""
        t0 = time.perf_counter()
        readable = self._scope(readable)
        request, reading = nl.interpret(request, self.text,  # nl=true: filters from q
                                        graphs=readable)
        graph = graph_filters.plan(self._normalise(request).validated(), self._select(readable),
                                   self._layout.key, self._layout.iri)
        req = graph.request
        semantic = req.mode in ("semantic", "hybrid") and bool(req.q)
        if self._text_stale:
            self._catch_up_text()
        if semantic:
            self._ensure_vectors()
        if req.wait:
            self.wait(vectors=semantic)
        side = self._side_for(req.filters.get("type", ()))
        outcome = self.engine.run(req, side.semantic if semantic and len(side.index) else None,
                                  graphs=readable, keys=graph.keys)
        graph.explain(outcome.hits, self.text.by_keys([h.id for h in outcome.hits]))
        interpretation = outcome.interpretation
        if semantic and (pending := side.pending):
            interpretation = {**interpretation, "semantic": (
                f"the vector index is catching up ({len(side.index)} assets embedded, about "
                f"{pending} to go); semantic matches are incomplete until it has (wait=true "
                "waits for it)")}
        if reading is not None:
            interpretation = {**interpretation, "nl": reading}
        return SearchResult(outcome.hits, outcome.total, outcome.facets, outcome.next_cursor,
                            req.mode, (time.perf_counter() - t0) * 1000, interpretation,
                            self.freshness())

    def _side_for(self, types: Sequence[str]) -> VectorSide:
        """The most specific vector index that holds every type searched for."""
        return next((s for s in reversed(self.vector_sides) if s.serves(types)), self.vector_sides[0])

    def search(self, q: str = "", *, readable: Collection[str] | None = None,
               **options: Any) -> SearchResult:
        """Shorthand: ``cat.search.search("churn", mode="keyword", filters={"type": ["Table"]})``."""
        return self.run(SearchRequest(q=q, **options), readable=readable)

    def suggest(self, q: str, *, limit: int = 10, readable: Collection[str] | None = None
                ) -> dict[str, Any]:
        """Autocomplete: completions of ``q`` over names, qualified names and facet values."""
        if not 1 <= limit <= autocomplete.MAX_SUGGEST:
            raise InputError(f"limit must be between 1 and {autocomplete.MAX_SUGGEST}, not {limit}")
        readable = self._scope(readable)
        if self._text_stale:
            self._catch_up_text()
        found, took = autocomplete.suggest(self.text, q, limit, graphs=readable)
        return {"q": q, "suggestions": [s.to_json() for s in found], "tookMs": round(took, 2)}

    def _scope(self, readable: Collection[str] | None) -> Collection[str] | None:
        """What a search may read: the caller's graphs (access/service.py), narrowed further
        by ``readable`` when given."""
        allowed = self.access.readable()
        if allowed is None:
            return readable
        return allowed if readable is None else allowed & set(readable)

    def _select(self, readable: Collection[str] | None) -> graph_filters.Select:
        return lambda query: self.graph_select(query, readable)

    def entailed_iris(self) -> set[str]:
        """Assets with entailed types or classifications, in the index or in the inferred
        graphs: what to ``refresh`` after a full reasoner run."""
        self._docs.forget_inferred_graphs()
        return self._docs.entailed_subjects() | {
            self._layout.iri(k) for k in graph_filters.entailed_keys(self.text)}

    def refresh(self, iris: Iterable[str]) -> None:
        """Re-index the given assets (IRIs or keys) as the store has them now, inferences
        included: what reasoning engines call when the inferred triples about them changed
        (``on_inferred``). Only documents whose entailed part changed are rewritten, and
        vectors re-embedded only where an asset's text changed."""
        self._docs.forget_inferred_graphs()
        wanted = {iri for iri in map(self._layout.iri, iris) if self._layout.is_versioned(iri)}
        if in_locked_phase():  # this batch's ``follow`` comes next, without the journal lock
            self._refresh_later |= wanted
            return
        with self._journal.lock, self._indexing:
            docs, gone = self._read(wanted)
            docs, gone = graph_filters.entailment_changed(docs, gone, self.text)
            if docs or gone:
                self.text.apply(docs, gone, self.text.seq)
            seq = self._journal.applied_seq
        for side, worker in self._workers():
            changed = [i for i in side.items(docs, gone)
                       if i.text is None or not side.index.has_text(i.vid, i.text_hash)]
            if changed and seq > side.index.seq:
                worker.submit(seq, changed)

    def browse(self, types: tuple[str, ...], filters: dict[str, str], sort: str, limit: int,
               cursor: str | None) -> tuple[list[str], str | None] | None:
        """A page of the asset list from the index: keys in name or update order, and the
        next cursor; what the caller may read only. A first page waits (briefly) for the index
        to reach the store, so a list shows the writes acknowledged before it; None if it does
        not, and the list is answered from the store instead. A page larger than a search's
        is read as several search pages."""
        if cursor is None:
            target = self._journal.applied_seq
            deadline = time.monotonic() + BROWSE_WAIT_S
            while self.text.seq < target or self._text_stale:
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.002)
        wanted: dict[str, tuple[str, ...]] = {k: (v,) for k, v in filters.items()}
        if types:  # any of them
            wanted["type"] = types
        keys: list[str] = []
        while True:
            result = self.run(SearchRequest(
                q="", mode="keyword", filters=wanted, sort=sort,
                limit=min(MAX_LIMIT, limit - len(keys)), cursor=cursor, facets=(),
                highlight=False))
            keys += [h.id for h in result.hits]
            cursor = result.next_cursor
            if cursor is None or len(keys) >= limit:
                return keys, cursor

    def similar(self, key: str, *, limit: int = 10, filters: dict[str, tuple[str, ...]] | None
                = None, wait: bool = False, readable: Collection[str] | None = None
                ) -> list[Hit]:
        """More like this: the assets nearest to ``key``'s vector (hybrid with tantivy's
        more-like-this over shared rare terms when both are available); ``readable`` as in
        ``run``, for the asset itself and for its neighbours."""
        if not 1 <= limit <= 200:
            raise InputError(f"limit must be between 1 and 200, not {limit}")
        readable = self._scope(readable)
        req = self._normalise(SearchRequest(filters=filters or {})).validated()
        if key not in self.text.by_keys([key]) or not self.engine.allows(key, readable):
            raise NotFound(f"no asset with id {key!r} in the search index")
        self._ensure_vectors()
        if wait:
            self.wait()
        vid = vector_id(key)
        vector = self.vectors.vector(vid)
        neighbours = [] if vector is None else [
            (v, s) for v, s in self.vectors.nearest(vector, limit * 5 + 1) if v != vid]
        return self.engine.similar(key, neighbours, dict(req.filters), limit, graphs=readable)

    def freshness(self) -> dict[str, Any]:
        return {"seq": self._journal.applied_seq, "text": self.text.seq,
                "vectors": min(s.index.seq for s in self.vector_sides) if self._started else None,
                "pending": sum(s.pending for s in self.vector_sides), "embedded": len(self.vectors)}

    # -- maintenance ---------------------------------------------------------------------------
    def reindex(self, *, vectors: bool = True, threads: int = 1,
                on_progress: Callable[[str, int, int], None] | None = None) -> ReindexReport:
        """Rebuild both indexes from the store (writes wait for the text part only). One torch
        thread by default: on a shared machine two threads run at a fifth of the speed as soon
        as another process holds a core (DESIGN, "Facts measured")."""
        progress = on_progress or (lambda stage, done, total: None)
        t0 = time.perf_counter()
        with self._journal.lock, self._indexing:
            seq = self._journal.applied_seq
            self._docs.forget_labels()
            iris = list(self._docs.asset_iris())
            docs: list[AssetDoc] = []
            for i, iri in enumerate(iris, start=1):
                if (doc := self._docs.build(iri)) is not None:
                    docs.append(doc)
                if i % 200 == 0 or i == len(iris):
                    progress("reading", i, len(iris))
            self.text.rebuild(docs, seq, lambda n: progress("text", n, len(docs)))
            self._text_stale = False
        t1 = time.perf_counter()
        if not vectors:
            return ReindexReport(len(docs), t1 - t0, 0, 0.0, seq)
        self._ensure_vectors(catch_up=False)
        todo = [(side, worker, sorted((i for i in side.items(docs, []) if i.text is not None),
                                      key=lambda i: len(i.text or "")))  # even batches
                for side, worker in self._workers()]
        total, done, batch = sum(len(items) for *_, items in todo), 0, 256
        for side, worker, items in todo:
            with worker.paused():  # queued changes (seq > this one) apply after the swap
                side.index.reset()
                for start in range(0, len(items), batch):
                    chunk = items[start:start + batch]
                    encoded = side.embedder.encode([i.text or "" for i in chunk], threads=threads)
                    side.index.upsert([i.vid for i in chunk], encoded, [i.key for i in chunk],
                                      [i.text_hash for i in chunk])
                    done += len(chunk)
                    progress("vectors", done, total)
                side.index.seq = seq
                side.index.save()
        return ReindexReport(len(docs), t1 - t0, total, time.perf_counter() - t1, seq)

    def copy_indexes(self, target: Path) -> None:
        """Both indexes, as committed, into the directory ``target`` (for a new node: indexing a
        catalog again takes far longer than copying it; each catches up from its changeset)."""
        assert self._dir is not None, "an in-memory catalog has no indexes on disk"
        target.mkdir(parents=True, exist_ok=True)
        with self._indexing:
            self.text.copy_to(target / "text")
        for side in self.vector_sides:
            with side.index.lock:
                side.index.save()
                for f in side.index.files():
                    if f.exists():
                        shutil.copy2(f, target / f.name)

    def close(self) -> None:
        for side in self.vector_sides:
            side.close()
        self.text.close()
