"""The vector indexes of search, each with the encoder that fills it and the assets it holds.

Every asset is embedded with the plain encoder. With an encoder adapter set
(``SEMCAT_EMBEDDING_ADAPTER``), tables, views and their columns are embedded once more with the
tuned encoder, into an index of their own, and a search for tables only asks that one: the
adapter learned questions about tables, and it costs the other kinds of asset (measured, README
"Search").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from embeddings.encoder import Embedder
from embeddings.vector_index import VectorIndex
from embeddings.worker import EmbeddingWorker, Item
from search.documents import EMBEDDING_RECIPE, AssetDoc, vector_id

TABLE_TYPES = frozenset({"Table", "View"})
# columns too: a column's vector lifts its table (search/graph_signals.py roll_up); without
# them, tuned table vectors alone ranked held-back questions' tables worse than plain ones
TABLE_SIDE_HOLDS = TABLE_TYPES | {"Column"}


class Semantic:
    """The engine's view of a vector index: query texts in, (vector id, cosine) out."""

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


class VectorSide:
    """One vector index, kept up with the log by a worker of its own once started; ``holds``:
    the asset types it holds, ``answers``: the types a search may be filtered to for it to be
    asked (None: every type)."""

    def __init__(self, embedder: Embedder, path: Path | None, *,
                 holds: frozenset[str] | None = None,
                 answers: frozenset[str] | None = None) -> None:
        self.embedder = embedder
        self.held = holds
        self.answers = answers
        self.index = VectorIndex(embedder.dim, path=path, model=embedder.name,
                                 recipe=EMBEDDING_RECIPE)
        self.semantic = Semantic(embedder, self.index)
        self.worker: EmbeddingWorker | None = None

    def holds(self, doc: AssetDoc) -> bool:
        return self.held is None or not self.held.isdisjoint(doc.types)

    def serves(self, types: Sequence[str]) -> bool:
        """Whether a search filtered to ``types`` finds all it may here."""
        return self.answers is None or (bool(types) and self.answers.issuperset(types))

    def items(self, docs: Sequence[AssetDoc], gone: Sequence[str]) -> list[Item]:
        """What the worker does for these assets: embed those held, remove the rest (an asset
        whose type changed leaves the index)."""
        held = [d for d in docs if self.holds(d)]
        dropped = [d.key for d in docs if not self.holds(d)]
        return ([Item(k, vector_id(k), None) for k in (*gone, *dropped)] +
                [Item(d.key, vector_id(d.key), d.embedding_text(), d.embedding_hash())
                 for d in held])

    @property
    def pending(self) -> int:
        return self.worker.pending if self.worker is not None else 0

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
        else:
            self.index.save()
