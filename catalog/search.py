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
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from opentelemetry import trace

from catalog.jsonld import Vocabulary
from embeddings.encoder import Embedder
from embeddings.vector_index import VectorIndex
from embeddings.worker import EmbeddingWorker, Item
from graph_store.changeset import Changeset
from graph_store.errors import InputError, NotFound
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.projector import in_locked_phase
from graph_store.protocol import GraphStore
from search import graph_filters, nl
from search import suggest as autocomplete
from search.documents import EMBEDDING_RECIPE, AssetDoc, vector_id
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

class _Semantic:
    """The engine's view of the vector index: query texts in, (vector id, cosine) out."""

    def __init__(self, embedder: Embedder, index: VectorIndex) -> None:
        self.embedder = embedder
        self.index = index
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        # one torch thread: the search's keyword half runs on the other core meanwhile
        vector = self.embedder.encode([text], threads=1)[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        return vector

    def match_text(self, text: str, threshold: float, *, k: int = 1000,
                   allowed: Collection[int] | None = None) -> list[tuple[int, float]]:
        return self.index.search(self.embed(text), k, threshold=threshold, allowed=allowed)


class SearchService:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout,
                 access: AccessService, *, data: Path | None,
                 vocabulary: Callable[[], Vocabulary], graph_select: GraphSelect,
                 embedder: Embedder) -> None:
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
        self._worker: EmbeddingWorker | None = None
        self._text_stale = False
        self.use_embedder(embedder)
        self._catch_up_text()

    def use_embedder(self, embedder: Embedder) -> None:
        """Choose the encoder (before the first semantic search); its name is persisted with
        the vectors, so switching models rebuilds them."""
        if self._worker is not None:
            raise InputError("the embedder cannot change once semantic search has started")
        self.embedder = embedder
        self.vectors = VectorIndex(embedder.dim, path=self._dir / "vectors" if self._dir else None,
                                   model=embedder.name, recipe=EMBEDDING_RECIPE)
        self._semantic = _Semantic(embedder, self.vectors)

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
            if self._worker is not None:
                self._worker.submit(seq, self._items(docs, gone))
        except Exception:
            log.exception("search indexing of changesets %d..%d failed; it will be retried",
                          batch[0].seq, seq)
            self._text_stale = True
            self._refresh_later |= later
            if self._worker is not None:  # the vectors re-read what changed, from the log
                self._worker.submit(seq, lambda: self._catch_up_items(self.vectors.seq, seq))

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

    @staticmethod
    def _items(docs: list[AssetDoc], gone: list[str]) -> list[Item]:
        return ([Item(k, vector_id(k), None) for k in gone] +
                [Item(d.key, vector_id(d.key), d.embedding_text(), d.embedding_hash())
                 for d in docs])

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

    def _ensure_vectors(self, catch_up: bool = True) -> EmbeddingWorker:
        """Start following the log with vectors (once); queue the catch-up to the log's end."""
        with self._lock:
            if self._worker is not None:
                return self._worker
            with self._journal.lock:
                target = self._journal.applied_seq
                self._worker = EmbeddingWorker(self.embedder, self.vectors)
                if catch_up and self.vectors.seq < target:
                    self._worker.submit(target, lambda: self._catch_up_items(self.vectors.seq,
                                                                             target))
            return self._worker

    def start_vectors(self) -> None:
        """Follow the log with vectors from now on (a server's start): the model loads and the
        catch-up is queued on a thread of its own, so the start does not wait for either."""
        threading.Thread(target=self._ensure_vectors, name="semcat-vectors-start",
                         daemon=True).start()

    def _catch_up_items(self, seq: int, target: int) -> list[Item]:
        """Runs on the worker: what changed since ``seq``, or every asset plus removals of
        vectors whose asset is gone (unchanged texts are skipped by their hash)."""
        changed = self._changed_since(seq, target)
        if changed is not None:
            return self._items(*self._read(changed))
        docs = list(self.documents())
        present = {d.key for d in docs}
        stale = [k for k in self.vectors.asset_keys() if k not in present]
        return self._items(docs, stale)

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
        return self._ensure_vectors().wait(target, max(0.0, deadline - time.monotonic()))

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
        outcome = self.engine.run(req, self._semantic if semantic and len(self.vectors) else None,
                                  graphs=readable, keys=graph.keys)
        graph.explain(outcome.hits, self.text.by_keys([h.id for h in outcome.hits]))
        interpretation = outcome.interpretation
        pending = self._worker.pending if self._worker is not None else 0
        if semantic and pending:
            interpretation = {**interpretation, "semantic": (
                f"the vector index is catching up ({len(self.vectors)} assets embedded, about "
                f"{pending} to go); semantic matches are incomplete until it has (wait=true "
                "waits for it)")}
        if reading is not None:
            interpretation = {**interpretation, "nl": reading}
        return SearchResult(outcome.hits, outcome.total, outcome.facets, outcome.next_cursor,
                            req.mode, (time.perf_counter() - t0) * 1000, interpretation,
                            self.freshness())

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
        changed = [i for i in self._items(docs, gone)
                   if i.text is None or not self.vectors.has_text(i.vid, i.text_hash)]
        if changed and self._worker is not None and seq > self.vectors.seq:
            self._worker.submit(seq, changed)

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
        worker = self._worker
        return {"seq": self._journal.applied_seq, "text": self.text.seq,
                "vectors": self.vectors.seq if worker else None,
                "pending": worker.pending if worker else 0, "embedded": len(self.vectors)}

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
        worker = self._ensure_vectors(catch_up=False)
        items = sorted(self._items(docs, []), key=lambda i: len(i.text or ""))  # even batches
        with worker.paused():  # queued changes (seq > this one) apply after the swap
            self.vectors.reset()
            batch = 256
            for start in range(0, len(items), batch):
                chunk = items[start:start + batch]
                encoded = self.embedder.encode([i.text or "" for i in chunk], threads=threads)
                self.vectors.upsert([i.vid for i in chunk], encoded, [i.key for i in chunk],
                                    [i.text_hash for i in chunk])
                progress("vectors", start + len(chunk), len(items))
            self.vectors.seq = seq
            self.vectors.save()
        return ReindexReport(len(docs), t1 - t0, len(docs), time.perf_counter() - t1, seq)

    def copy_indexes(self, target: Path) -> None:
        """Both indexes, as committed, into the directory ``target`` (for a new node: indexing a
        catalog again takes far longer than copying it; each catches up from its changeset)."""
        assert self._dir is not None, "an in-memory catalog has no indexes on disk"
        target.mkdir(parents=True, exist_ok=True)
        with self._indexing:
            self.text.copy_to(target / "text")
        with self.vectors.lock:
            self.vectors.save()
            for f in self.vectors.files():
                if f.exists():
                    shutil.copy2(f, target / f.name)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
        else:
            self.vectors.save()
        self.text.close()
