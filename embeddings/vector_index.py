"""A FAISS index of asset vectors: top-k search (optionally within an allowed set of ids),
removals, persistence and the change-log seq it reflects.

Ids are the 63-bit ``vector_id`` of each asset key (the text index stores the same id), so
hits map back to assets without a shared counter. Vectors are L2-normalised and compared by
inner product (= cosine).

Layout. FAISS labels are *rows*: the n-th vector added is row n, and row-aligned numpy arrays
hold each row's vector id, text hash and liveness (plus a list of asset keys). A removal or a
replacement only marks the old row dead (a tombstone); searches skip dead rows with an
``IDSelectorBitmap``, and ``compact()`` rebuilds the index from the live rows once dead rows
pass ``COMPACT_AT`` of the total. This works the same for both kinds of index:

- ``Flat`` (exact; a brute-force scan costs ~2-5 ms per query at 20k vectors), used below
  ``HNSW_FROM`` live vectors;
- ``HNSW{M}`` (approximate, searched with efSearch = max(64, k): for the engine's k=200,
  1-5 ms at 1M vectors and recall@10 ≈ 0.99 on the latency bench's vectors, where efSearch
  64 gave 0.85), which cannot delete: hence tombstones rather than ``remove_ids``.

With ``factory="auto"`` (the default) an index starts Flat and becomes HNSW32 as soon as an
upsert takes it past ``hnsw_from`` live vectors; ``"Flat"`` and ``"HNSW32"`` pin one kind.

Restricting a search to ``allowed`` ids (what a caller may read): up to ``EXACT_UP_TO`` allowed
rows are scored exactly (their vectors are gathered and multiplied); a bigger set becomes a
bitmap selector for the HNSW walk, with ``efSearch`` raised in proportion to how selective it
is, since HNSW only filters what its walk visits.

Files (beside the store, under ``{data}/search/``): ``vectors.faiss`` (the index),
``vectors.ids.npz`` (ids, hashes, liveness and keys, binary) and ``vectors.json`` (model,
dimension, recipe, kind, row count and seq), written in that order to temporary names and
renamed; the JSON is the commit record, and a set whose row counts disagree is discarded and
rebuilt from the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from graph_store.errors import BackendError

log = logging.getLogger(__name__)
# numpy's OpenBLAS threads spin after each product: a search's one matrix-vector product kept
# the second core busy for as long again as the search took (semantic search on the demo:
# 46.6 ms of CPU for 23.6 ms of wall time; with one BLAS thread 24.8 ms for 24.0 ms). Products
# with one query vector gain nothing from a second thread; another request's work does.
threadpool_limits(limits=1, user_api="blas")

FORMAT = 2
HNSW_FROM = 20_000  # live vectors from which "auto" switches from Flat to HNSW
HNSW_M = 32
EF_CONSTRUCTION = 40
EF_SEARCH = 64
MAX_EF = 4096
EXACT_UP_TO = 20_000  # allowed sets up to this size are scored exactly
COMPACT_AT = 0.2  # rebuild once this share of rows is dead ...
COMPACT_MIN = 1_000  # ... and at least this many
_ADD_BATCH = 65_536


def digest(text_hash: str) -> np.uint64:
    """The 64-bit form in which a text hash is kept (only compared for equality)."""
    return np.uint64(int.from_bytes(hashlib.blake2b(text_hash.encode(), digest_size=8).digest(),
                                    "little"))


class VectorIndex:
    def __init__(self, dim: int, *, path: Path | None = None, model: str = "",
                 recipe: int = 0, factory: str = "auto", hnsw_from: int = HNSW_FROM,
                 ef_search: int = EF_SEARCH) -> None:
        if factory not in ("auto", "Flat") and not factory.startswith("HNSW"):
            raise ValueError(f"unsupported vector index {factory!r}: auto, Flat or HNSW<M>")
        self.dim = dim
        self.path = path
        self.model = model
        self.recipe = recipe
        self.factory = factory
        self.hnsw_from = hnsw_from
        self.ef_search = ef_search
        self.lock = threading.RLock()
        self.seq = 0
        self.dirty = False
        self._clear()
        if path is not None:
            self._load()

    # -- state ---------------------------------------------------------------------------------
    def _clear(self) -> None:
        self.kind = "flat" if self.factory in ("auto", "Flat") else "hnsw"
        self._index: Any = self._new(self.kind)
        self._vids = np.zeros(0, dtype=np.int64)  # row -> vector id
        self._hashes = np.zeros(0, dtype=np.uint64)  # row -> digest of the text hash
        self._live = np.zeros(0, dtype=bool)
        self._keys: list[str] = []  # row -> asset key ("" once dead)
        self._rows = 0
        self._row: dict[int, int] = {}  # live vector id -> row
        self._changed()

    def _changed(self) -> None:
        """Drop what is derived from the rows (selectors, the sorted id view)."""
        self._version = getattr(self, "_version", 0) + 1
        self._live_bits: np.ndarray | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._allowed: tuple[Collection[int], int, np.ndarray, np.ndarray] | None = None

    def _new(self, kind: str) -> Any:
        if kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        m = int(self.factory[4:] or HNSW_M) if self.factory.startswith("HNSW") else HNSW_M
        index = faiss.IndexHNSWFlat(self.dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.hnsw.efSearch = self.ef_search
        return index

    def _grow(self, extra: int) -> None:
        need = self._rows + extra
        if need <= len(self._vids):
            return
        size = max(need, 2 * len(self._vids), 1024)
        for name in ("_vids", "_hashes", "_live"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[:self._rows] = old[:self._rows]
            setattr(self, name, new)

    # -- persistence ---------------------------------------------------------------------------
    def _files(self) -> tuple[Path, Path, Path]:
        assert self.path is not None
        base = str(self.path)
        return Path(base + ".faiss"), Path(base + ".ids.npz"), Path(base + ".json")

    def _meta(self) -> dict[str, Any]:
        return {"format": FORMAT, "model": self.model, "dim": self.dim, "recipe": self.recipe,
                "factory": self.factory}

    def _load(self) -> None:
        vectors, ids, meta = self._files()
        if not (vectors.exists() and ids.exists() and meta.exists()):
            return
        try:
            state = json.loads(meta.read_text())
            expected = self._meta()
            if any(state.get(k) != v for k, v in expected.items()):
                log.info("vector index %s was built as %s; it will be rebuilt", vectors,
                         {k: state.get(k) for k in expected})
                return
            index = faiss.read_index(str(vectors))
            with np.load(ids) as arrays:
                vids, hashes, live = arrays["vids"], arrays["hashes"], arrays["live"]
                blob = arrays["keys"].tobytes().decode()
        except (ValueError, KeyError, RuntimeError, OSError) as e:
            log.warning("discarding unreadable vector index %s: %s", vectors, e)
            return
        keys = blob.split("\x00") if blob else []
        rows = int(state.get("rows", -1))
        if not (index.ntotal == rows == len(vids) == len(hashes) == len(live) == len(keys)):
            log.warning("vector index %s and its id map disagree; it will be rebuilt", vectors)
            return
        self._index, self.kind = index, str(state.get("kind", "flat"))
        self._vids, self._hashes, self._live = vids.astype(np.int64), hashes, live.astype(bool)
        self._keys, self._rows = keys, rows
        self._row = {v: r for r, (v, alive) in enumerate(zip(vids.tolist(), live.tolist(),
                                                               strict=True)) if alive}
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = self.ef_search
        self.seq = int(state.get("seq", 0))
        self._changed()

    def save(self) -> None:
        """Write the three files if anything changed since the last save."""
        if self.path is None:
            return
        with self.lock:
            if not self.dirty:
                return
            vectors, ids, meta = self._files()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            n = self._rows
            state = {**self._meta(), "kind": self.kind, "rows": n, "live": len(self._row),
                     "seq": self.seq}
            blob = np.frombuffer("\x00".join(self._keys).encode(), dtype=np.uint8)
            try:
                faiss.write_index(self._index, str(vectors) + ".tmp")
                with open(str(ids) + ".tmp", "wb") as out:
                    np.savez(out, vids=self._vids[:n], hashes=self._hashes[:n],
                             live=self._live[:n], keys=blob)
                Path(str(meta) + ".tmp").write_text(json.dumps(state))
                for f in (vectors, ids, meta):
                    os.replace(str(f) + ".tmp", f)
            except (OSError, RuntimeError) as e:
                raise BackendError(f"could not save the vector index to {vectors}: {e}") from e
            self.dirty = False

    def files(self) -> list[Path]:
        """The files it persists to (for sizes on disk)."""
        return list(self._files()) if self.path is not None else []

    # -- writes (one writer at a time: the embedding worker, or a reindex that paused it) -----
    def has_text(self, vid: int, text_hash: str) -> bool:
        """Whether ``vid`` is indexed with the text whose hash is ``text_hash``."""
        row = self._row.get(vid)
        return row is not None and self._hashes[row] == digest(text_hash)

    def upsert(self, vids: Sequence[int], vectors: np.ndarray, keys: Sequence[str],
               hashes: Sequence[str]) -> None:
        if not len(vids):
            return
        latest = {int(v): i for i, v in enumerate(vids)}  # a repeated id: the last one wins
        if len(latest) < len(vids):
            pick = sorted(latest.values())
            vids, vectors = [vids[i] for i in pick], vectors[pick]
            keys, hashes = [keys[i] for i in pick], [hashes[i] for i in pick]
        with self.lock:
            self._kill(vids)
            if (self.factory == "auto" and self.kind == "flat"
                    and len(self._row) + len(vids) > self.hnsw_from):
                self._rebuild("hnsw")
            x = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(vids), self.dim)
            self._index.add(x)
            start = self._rows
            self._grow(len(vids))
            end = start + len(vids)
            self._vids[start:end] = np.asarray(vids, dtype=np.int64)
            self._hashes[start:end] = [digest(h) for h in hashes]
            self._live[start:end] = True
            self._keys.extend(keys)
            self._rows = end
            for row, vid in enumerate(vids, start=start):
                self._row[int(vid)] = row
            self._changed()
            self.dirty = True

    def remove(self, vids: Sequence[int]) -> None:
        with self.lock:
            if self._kill(vids):
                self._changed()
                self.dirty = True
                if self.kind == "flat":  # cheap: keep flat indexes free of dead rows
                    self.compact(force=False)

    def _kill(self, vids: Sequence[int]) -> int:
        killed = 0
        for vid in vids:
            row = self._row.pop(int(vid), None)
            if row is not None:
                self._live[row] = False
                self._keys[row] = ""
                killed += 1
        return killed

    def reset(self) -> None:
        with self.lock:
            self._clear()
            self.seq = 0
            self.dirty = True

    @property
    def dead(self) -> int:
        return self._rows - len(self._row)

    def compact(self, *, force: bool = True) -> bool:
        """Rebuild from the live rows if dead rows are ``COMPACT_AT`` of all (or ``force``).
        Rebuilding HNSW at 1M vectors takes minutes, so the build runs outside the lock
        (searches go on with the old index) and is dropped if a write came in meanwhile;
        the embedding worker calls this between jobs, when it is the only writer."""
        with self.lock:
            if not self.dead or (not force and (self.dead < COMPACT_MIN or
                                                self.dead < COMPACT_AT * self._rows)):
                return False
            kind = self.kind
            if self.factory == "auto":
                kind = "hnsw" if len(self._row) > self.hnsw_from else "flat"
            if kind == "flat" or self._rows < 4 * _ADD_BATCH:
                self._rebuild(kind)
                return True
            version = self._version
            snapshot = self._snapshot()
        built = self._build(kind, snapshot[0])
        with self.lock:
            if self._version != version:
                log.info("a write came in while the vector index was compacting; later")
                return False
            self._install(kind, built, snapshot)
        return True

    def _snapshot(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        rows = np.flatnonzero(self._live[:self._rows])
        return (rows, self._vids[rows].copy(), self._hashes[rows].copy(),
                [self._keys[r] for r in rows.tolist()])

    def _build(self, kind: str, rows: np.ndarray) -> Any:
        index = self._new(kind)
        for start in range(0, len(rows), _ADD_BATCH):
            index.add(self._index.reconstruct_batch(rows[start:start + _ADD_BATCH]))
        return index

    def _rebuild(self, kind: str) -> None:
        snapshot = self._snapshot()
        self._install(kind, self._build(kind, snapshot[0]), snapshot)
        log.info("vector index rebuilt as %s with %d vectors", kind, len(snapshot[0]))

    def _install(self, kind: str, index: Any,
                 snapshot: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]) -> None:
        rows, vids, hashes, keys = snapshot
        self._index, self.kind, self._rows = index, kind, len(rows)
        self._vids, self._hashes = vids, hashes
        self._live = np.ones(len(rows), dtype=bool)
        self._keys = keys
        self._row = {int(v): r for r, v in enumerate(vids.tolist())}
        self._changed()
        self.dirty = True

    # -- reads ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row)

    def asset_keys(self) -> list[str]:
        with self.lock:
            return [k for k in self._keys if k]

    def ids(self) -> list[int]:
        with self.lock:
            return list(self._row)

    def key(self, vid: int) -> str | None:
        row = self._row.get(vid)
        return self._keys[row] if row is not None else None

    def vector(self, vid: int) -> np.ndarray | None:
        with self.lock:
            row = self._row.get(vid)
            if row is None:
                return None
            return np.asarray(self._index.reconstruct(row), dtype=np.float32)

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.search(vector, k)

    def search(self, vector: np.ndarray, k: int, *, threshold: float | None = None,
               allowed: Collection[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest live vectors (restricted to ``allowed`` ids when given), best
        first, as (vector id, cosine); those below ``threshold`` are left out."""
        q = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        with self.lock:
            if k <= 0 or not self._row:
                return []
            if allowed is not None:
                rows, bitmap = self._restriction(allowed)
                if not len(rows):
                    return []
                if len(rows) <= EXACT_UP_TO or (self.kind == "flat" and len(rows) <= k):
                    return self._exact(q, rows, k, threshold)
                labels, scores = self._walk(q, k, bitmap, len(rows))
            else:
                labels, scores = self._walk(q, k, self._live_bitmap() if self.dead else None,
                                            len(self._row))
            vids = self._vids[np.maximum(labels, 0)]
        found = [(int(v), float(s)) for v, s, label in zip(vids, scores, labels, strict=True)
                 if label >= 0 and (threshold is None or s >= threshold)]
        found.sort(key=lambda vs: (-vs[1], vs[0]))
        return found

    def _walk(self, q: np.ndarray, k: int, bitmap: np.ndarray | None,
              selected: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, selected)
        if self.kind == "flat":
            return self._scan(q, k, bitmap)
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        share = selected / max(self._rows, 1)
        params.efSearch = int(min(MAX_EF, max(self.ef_search, k) / max(share, 1e-3)))
        selector = None
        if bitmap is not None:
            selector = faiss.IDSelectorBitmap(self._rows, faiss.swig_ptr(bitmap))
            params.sel = selector
        scores, labels = self._index.search(q, k, params=params)
        del selector  # kept alive until here: FAISS holds a raw pointer to it and the bitmap
        return labels[0], scores[0]

    def _scan(self, q: np.ndarray, k: int,
              bitmap: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Brute force over a flat index's own storage with numpy: FAISS's flat search runs
        OpenMP threads even for one query, and on a shared 2-core machine their spinning
        makes it 10x slower (50-70 ms instead of ~5 ms at 50k vectors)."""
        n = self._rows
        scores = faiss.rev_swig_ptr(self._index.get_xb(), n * self.dim).reshape(n, self.dim) @ q[0]
        if bitmap is not None:
            keep = np.unpackbits(bitmap, count=n, bitorder="little").astype(bool)
            scores = np.where(keep, scores, -np.inf).astype(np.float32)
        labels = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        labels = labels[np.isfinite(scores[labels])]
        return labels.astype(np.int64), scores[labels]

    def _exact(self, q: np.ndarray, rows: np.ndarray, k: int,
               threshold: float | None) -> list[tuple[int, float]]:
        scores = self._index.reconstruct_batch(rows) @ q[0]
        if len(rows) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            rows, scores = rows[top], scores[top]
        found = [(int(v), float(s)) for v, s in zip(self._vids[rows], scores, strict=True)
                 if threshold is None or s >= threshold]
        found.sort(key=lambda vs: (-vs[1], vs[0]))
        return found

    def _restriction(self, allowed: Collection[int]) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``allowed`` and their bitmap. A caller that passes the same
        set object again (access control caches a caller's readable ids) reuses both until
        the next write: translating a million ids costs ~100 ms."""
        cached = self._allowed
        if cached is not None and cached[0] is allowed and cached[1] == self._version:
            return cached[2], cached[3]
        rows = self._rows_of(allowed)
        bits = np.zeros(self._rows, dtype=bool)
        bits[rows] = True
        bitmap = np.packbits(bits, bitorder="little")
        self._allowed = (allowed, self._version, rows, bitmap)
        return rows, bitmap

    def _live_bitmap(self) -> np.ndarray:
        if self._live_bits is None:
            self._live_bits = np.packbits(self._live[:self._rows], bitorder="little")
        return self._live_bits

    def _rows_of(self, vids: Collection[int]) -> np.ndarray:
        """Rows of the live ones among ``vids``: dict look-ups for a few, a sorted view of all
        ids (cached until the next write) for many."""
        if len(vids) <= 4096:
            return np.fromiter((r for v in vids if (r := self._row.get(int(v))) is not None),
                               dtype=np.int64)
        if self._sorted is None:
            rows = np.flatnonzero(self._live[:self._rows])
            order = np.argsort(self._vids[rows])
            self._sorted = (self._vids[rows][order], rows[order])
        ordered, rows = self._sorted
        wanted = np.fromiter(vids, dtype=np.int64, count=len(vids))
        at = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
        return np.unique(rows[at[ordered[at] == wanted]])
