"""A FAISS index of asset vectors with ids, removals, persistence and its change-log seq.

Ids are the 63-bit ``vector_id`` of each asset key (the text index stores the same id), so
hits map back to assets without a shared counter. Vectors are L2-normalised and compared by
inner product (= cosine). The default ``Flat`` index is exact and supports removal; other
FAISS factory strings (``HNSW32``) are accepted, with removals kept as tombstones that
searches skip until the next rebuild.

Files (beside the store, under ``{data}/search/``): ``vectors.faiss`` and ``vectors.json``
(model, dimension, recipe, seq, and each id's key and text hash). They are written to
temporary names and renamed, the FAISS file first; a pair that disagrees is discarded and
rebuilt from the store.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from graph_store.errors import BackendError

log = logging.getLogger(__name__)


class VectorIndex:
    def __init__(self, dim: int, *, path: Path | None = None, model: str = "",
                 recipe: int = 0, factory: str = "Flat") -> None:
        self.dim = dim
        self.path = path
        self.model = model
        self.recipe = recipe
        self.factory = factory
        self.lock = threading.RLock()
        self.seq = 0
        self._keys: dict[int, tuple[str, str]] = {}  # vid -> (asset key, text hash)
        self._tombstones: set[int] = set()
        self._index = self._empty()
        self.dirty = False
        if path is not None:
            self._load()

    def _empty(self) -> Any:
        return faiss.IndexIDMap2(faiss.index_factory(self.dim, self.factory,
                                                     faiss.METRIC_INNER_PRODUCT))

    # -- persistence ---------------------------------------------------------------------------
    def _files(self) -> tuple[Path, Path]:
        assert self.path is not None
        return self.path.with_suffix(".faiss"), self.path.with_suffix(".json")

    def _load(self) -> None:
        vectors, meta = self._files()
        if not (vectors.exists() and meta.exists()):
            return
        try:
            state = json.loads(meta.read_text())
            index = faiss.read_index(str(vectors))
        except (ValueError, RuntimeError, OSError) as e:
            log.warning("discarding unreadable vector index %s: %s", vectors, e)
            return
        expected = {"model": self.model, "dim": self.dim, "recipe": self.recipe,
                    "factory": self.factory}
        if any(state.get(k) != v for k, v in expected.items()):
            log.info("vector index %s was built with %s; it will be rebuilt", vectors,
                     {k: state.get(k) for k in expected})
            return
        keys = {int(vid): (key, h) for vid, (key, h) in state.get("ids", {}).items()}
        tombstones = {int(v) for v in state.get("tombstones", [])}
        if index.ntotal != len(keys) + len(tombstones):
            log.warning("vector index %s and its metadata disagree; it will be rebuilt", vectors)
            return
        self._index, self._keys, self._tombstones = index, keys, tombstones
        self.seq = int(state.get("seq", 0))

    def save(self) -> None:
        """Write both files if anything changed since the last save."""
        if self.path is None:
            return
        with self.lock:
            if not self.dirty:
                return
            vectors, meta = self._files()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            state = {"model": self.model, "dim": self.dim, "recipe": self.recipe,
                     "factory": self.factory, "seq": self.seq,
                     "ids": {str(v): list(kh) for v, kh in self._keys.items()},
                     "tombstones": sorted(self._tombstones)}
            try:
                faiss.write_index(self._index, str(vectors) + ".tmp")
                os.replace(str(vectors) + ".tmp", vectors)
                meta.with_suffix(".tmp").write_text(json.dumps(state))
                os.replace(meta.with_suffix(".tmp"), meta)
            except (OSError, RuntimeError) as e:
                raise BackendError(f"could not save the vector index to {vectors}: {e}") from e
            self.dirty = False

    # -- writes --------------------------------------------------------------------------------
    def text_hash(self, vid: int) -> str | None:
        entry = self._keys.get(vid)
        return entry[1] if entry else None

    def upsert(self, vids: Sequence[int], vectors: np.ndarray, keys: Sequence[str],
               hashes: Sequence[str]) -> None:
        if not len(vids):
            return
        with self.lock:
            self.remove(vids)
            for vid, key in zip(vids, keys, strict=True):
                self._tombstones.discard(vid)
                old = self._keys.get(vid)
                if old is not None and old[0] != key:
                    log.error("vector id collision between %s and %s", old[0], key)
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.asarray(vids, dtype=np.int64))
            self._keys.update({v: (k, h) for v, k, h in zip(vids, keys, hashes, strict=True)})
            self.dirty = True

    def remove(self, vids: Sequence[int]) -> None:
        with self.lock:
            present = [v for v in vids if v in self._keys]
            if not present:
                return
            ids = np.asarray(present, dtype=np.int64)
            try:
                self._index.remove_ids(ids)
            except RuntimeError:  # HNSW and friends cannot remove: skip them in searches
                self._tombstones.update(present)
            for v in present:
                self._keys.pop(v, None)
            self.dirty = True

    def reset(self) -> None:
        with self.lock:
            self._index = self._empty()
            self._keys.clear()
            self._tombstones.clear()
            self.seq = 0
            self.dirty = True

    # -- reads ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._keys)

    def asset_keys(self) -> list[str]:
        with self.lock:
            return [k for k, _ in self._keys.values()]

    def key(self, vid: int) -> str | None:
        entry = self._keys.get(vid)
        return entry[0] if entry else None

    def vector(self, vid: int) -> np.ndarray | None:
        with self.lock:
            if vid not in self._keys:
                return None
            return np.asarray(self._index.reconstruct(vid), dtype=np.float32)

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with self.lock:
            n = min(k + len(self._tombstones), self._index.ntotal)
            if n <= 0:
                return []
            scores, ids = self._index.search(vector.reshape(1, -1), n)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True)
                if i >= 0 and int(i) not in self._tombstones][:k]

    def within(self, vector: np.ndarray, threshold: float) -> list[tuple[int, float]]:
        """Every vector with inner product ≥ ``threshold``, best first."""
        with self.lock:
            if self._index.ntotal == 0:
                return []
            _, scores, ids = self._index.range_search(vector.reshape(1, -1), float(threshold))
        found = [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)
                 if int(i) not in self._tombstones]
        found.sort(key=lambda vs: (-vs[1], vs[0]))
        return found
