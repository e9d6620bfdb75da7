"""The FAISS vector index: top-k against brute force, deletes, persistence, allowed-id
restriction and the Flat → HNSW switch-over. Random vectors are fine here: these are
correctness checks of the plumbing, not of recall on real text (bench/search_latency.py)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from embeddings import vector_index
from embeddings.encoder import MiniLMEmbedder
from embeddings.vector_index import VectorIndex

DIM = 32


def unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def fill(index: VectorIndex, vectors: np.ndarray, first: int = 1) -> list[int]:
    vids = list(range(first, first + len(vectors)))
    index.upsert(vids, vectors, [f"asset/{v}" for v in vids], [f"h{v}" for v in vids])
    return vids


def brute(vectors: np.ndarray, vids: list[int], q: np.ndarray, k: int,
          keep: set[int] | None = None) -> list[int]:
    scores = vectors @ q
    order = sorted(range(len(vids)), key=lambda i: (-scores[i], vids[i]))
    return [vids[i] for i in order if keep is None or vids[i] in keep][:k]


def test_flat_top_k_is_exact_and_honours_the_floor() -> None:
    index = VectorIndex(DIM, factory="Flat")
    vectors = unit(3000)
    vids = fill(index, vectors)
    for q in unit(20, seed=1):
        found = index.search(q, 10)
        assert [v for v, _ in found] == brute(vectors, vids, q, 10)
        assert all(a[1] >= b[1] for a, b in itertools.pairwise(found))
        floor = found[4][1]
        assert [v for v, _ in index.search(q, 10, threshold=floor)] == [v for v, _ in found[:5]]
    assert index.kind == "flat" and len(index) == 3000


def test_hnsw_top_k_agrees_with_brute_force() -> None:
    index = VectorIndex(DIM, factory="HNSW32")
    vectors = unit(5000)
    vids = fill(index, vectors)
    recall = []
    for q in unit(50, seed=2):
        want = set(brute(vectors, vids, q, 10))
        recall.append(len(want & {v for v, _ in index.search(q, 10)}) / 10)
    assert index.kind == "hnsw"
    assert np.mean(recall) >= 0.95


@pytest.mark.parametrize("factory", ["Flat", "HNSW32"])
def test_removed_and_replaced_vectors_never_come_back(factory: str) -> None:
    index = VectorIndex(DIM, factory=factory)
    vectors = unit(500)
    vids = fill(index, vectors)
    index.remove([1, 2, 3])
    assert len(index) == 497 and index.vector(1) is None and index.key(2) is None
    assert 1 not in [v for v, _ in index.search(vectors[0], 50)]
    # a replaced vector: the old one (a tombstone in HNSW) must not match under the same id
    index.upsert([4], unit(1, seed=9), ["asset/4"], ["h4-new"])
    top = index.search(vectors[3], 5)
    assert top[0][0] != 4 and not index.has_text(4, "h4") and index.has_text(4, "h4-new")
    assert [v for v, _ in index.search(unit(1, seed=9)[0], 1)] == [4]
    assert sorted(index.asset_keys()) == sorted(f"asset/{v}" for v in vids[3:])
    # re-adding a removed id works, once
    index.upsert([1], vectors[:1], ["asset/1"], ["h1"])
    assert [v for v, _ in index.search(vectors[0], 3)].count(1) == 1


def test_dead_rows_are_compacted_away() -> None:
    index = VectorIndex(DIM, factory="HNSW32")
    vectors = unit(6000)
    vids = fill(index, vectors)
    index.remove(vids[:1500])
    assert index.dead == 1500  # HNSW cannot delete: tombstones until compaction
    survivors = vectors[1500:]
    q = unit(1, seed=3)[0]
    assert set(v for v, _ in index.search(q, 20)) <= set(vids[1500:])
    assert index.compact(force=False)
    assert index.dead == 0 and len(index) == 4500 and index.kind == "hnsw"
    want = set(brute(survivors, vids[1500:], q, 10))
    assert len(want & {v for v, _ in index.search(q, 10)}) >= 9
    flat = VectorIndex(DIM, factory="Flat")
    fill(flat, unit(3000))
    flat.remove(list(range(1, 1001)))  # a flat index compacts inside the removal
    assert flat.dead == 0 and len(flat) == 2000


@pytest.mark.parametrize("factory", ["Flat", "HNSW32"])
def test_persistence_round_trip(tmp_path: Path, factory: str) -> None:
    path = tmp_path / "vectors"
    index = VectorIndex(DIM, path=path, model="m", factory=factory)
    vectors = unit(800)
    fill(index, vectors)
    index.remove([5, 6])
    index.seq = 42
    index.save()
    meta = json.loads((tmp_path / "vectors.json").read_text())
    assert meta["rows"] == 800 and meta["live"] == 798 and "ids" not in meta
    assert (tmp_path / "vectors.ids.npz").stat().st_size < 800 * 64  # binary, not JSON keys
    again = VectorIndex(DIM, path=path, model="m", factory=factory)
    assert again.seq == 42 and len(again) == 798 and again.key(7) == "asset/7"
    assert again.vector(5) is None and again.has_text(9, "h9")
    assert np.allclose(again.vector(9), vectors[8], atol=1e-6)
    for q in unit(5, seed=4):
        assert again.search(q, 10) == index.search(q, 10)
    again.upsert([5], vectors[4:5], ["asset/5"], ["h5"])  # still writable after a reload
    assert again.search(vectors[4], 1)[0][0] == 5
    assert len(VectorIndex(DIM, path=path, model="other", factory=factory)) == 0
    (tmp_path / "vectors.ids.npz").write_bytes(b"garbage")
    assert len(VectorIndex(DIM, path=path, model="m", factory=factory)) == 0


@pytest.mark.parametrize("factory", ["Flat", "HNSW32"])
def test_search_within_allowed_ids(factory: str, monkeypatch: pytest.MonkeyPatch) -> None:
    index = VectorIndex(DIM, factory=factory)
    vectors = unit(6000)
    vids = fill(index, vectors)
    index.remove([7])
    rng = np.random.default_rng(5)
    few = {int(v) for v in rng.choice(vids, 40, replace=False)} | {7, 10**12}
    many = {int(v) for v in rng.choice(vids, 3000, replace=False)}
    for q in unit(10, seed=6):
        got = [v for v, _ in index.search(q, 10, allowed=few)]
        assert got == brute(vectors, vids, q, 10, keep=few - {7})  # exact for small sets
        assert index.search(q, 10, allowed=set()) == []
        # a large set walks the graph with a bitmap selector (forced here by a low cut-off)
        monkeypatch.setattr(vector_index, "EXACT_UP_TO", 100)
        walked = {v for v, _ in index.search(q, 10, allowed=many)}
        monkeypatch.setattr(vector_index, "EXACT_UP_TO", 20_000)
        assert walked <= many
        assert len(walked & set(brute(vectors, vids, q, 10, keep=many))) >= 9
    # the same set object again is served from a cache, which a write must invalidate
    best = index.search(vectors[0], 1, allowed=few)[0][0]
    index.remove([best])
    assert best not in [v for v, _ in index.search(vectors[0], 5, allowed=few)]


def test_auto_switches_from_flat_to_hnsw_and_back(tmp_path: Path) -> None:
    path = tmp_path / "vectors"
    index = VectorIndex(DIM, path=path, hnsw_from=1000)
    vectors = unit(1500)
    fill(index, vectors[:900])
    assert index.kind == "flat"
    fill(index, vectors[900:], first=901)
    assert index.kind == "hnsw" and len(index) == 1500
    q = unit(1, seed=7)[0]
    want = set(brute(vectors, list(range(1, 1501)), q, 10))
    assert len(want & {v for v, _ in index.search(q, 10)}) >= 9
    index.save()
    again = VectorIndex(DIM, path=path, hnsw_from=1000)
    assert again.kind == "hnsw" and len(again) == 1500
    again.remove(list(range(1, 1001)))
    assert again.compact(force=False) and again.kind == "flat" and len(again) == 500


def test_the_model_loads_once_per_process() -> None:
    from embeddings import encoder

    a, b = MiniLMEmbedder(), MiniLMEmbedder(batch_size=8)
    va = a.encode(["customer orders by day"])
    model = encoder.load_minilm(None)
    vb = b.encode(["customer orders by day"])
    assert encoder._models[None] is model and encoder.load_minilm(None) is model
    assert np.allclose(va, vb, atol=1e-5) and va.shape == (1, 384)
