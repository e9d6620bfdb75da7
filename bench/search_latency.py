"""Search latency at 100,000 and 1,000,000 synthetic assets: p50/p95 of keyword, semantic,
hybrid and hybrid-with-facets queries, text indexing rate, embedding rate beside raw
sentence-transformers, index sizes on disk and process memory.

    python -m bench.search_latency                            # 100k and 1M (~20 min)
    python -m bench.search_latency --sizes 100000 --queries 300
    python -m bench.search_latency --quick                    # 20k assets, a smoke run

The assets (bench/search_corpus.py) go straight into the real tantivy index and the real FAISS
index (HNSW above 50k vectors), and queries run through ``SearchEngine`` with the catalog's
``_Semantic`` adapter, embedding every query with MiniLM as a fresh search would.

Not every asset is embedded: MiniLM encodes ~75-140 texts/s on this machine, so a million
texts would take hours. One real text per *template* (assets whose texts differ only in
details) is embedded, through our indexing path (the embedding worker) and again with raw
``SentenceTransformer.encode`` to give the ratio; each asset then gets its template's vector
plus Gaussian noise (cosine ≈ 0.93 to the template), renormalised. The printout says so.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import TMP, table, write_results
from bench.search_corpus import Corpus, documents, facet_filters, queries
from catalog.vector_sides import Semantic as _Semantic
from embeddings.encoder import MiniLMEmbedder, load_minilm
from embeddings.vector_index import VectorIndex
from embeddings.worker import EmbeddingWorker, Item
from search.documents import vector_id
from search.engine import SearchEngine
from search.model import FACETS, SearchRequest
from search.text_index import TextIndex

NOISE = 0.014  # per dimension: |noise| ≈ 0.27, cosine to the template ≈ 0.93
TARGET_MS = 50.0


def rss() -> dict[str, float]:
    """Resident and peak memory of this process, in MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text()
                  .splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def size_mb(paths: list[Path]) -> float:
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        elif p.exists():
            total += p.stat().st_size
    return total / 2**20


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


# -- embeddings ---------------------------------------------------------------------------------
def encode_rates(texts: list[str], rounds: int = 8) -> tuple[np.ndarray, dict[str, float]]:
    """Embed ``texts`` through the embedding worker into a vector index (one torch thread, as
    shipped) and with raw ``SentenceTransformer.encode`` (batch 32, one thread), alternating
    in ``rounds`` slices so that both see the same load on a shared machine; the vectors
    come from the worker's index."""
    embedder = MiniLMEmbedder()
    embedder.encode(["warm up"], threads=1)
    model = load_minilm(embedder.adapter)
    index = VectorIndex(embedder.dim, factory="Flat")
    worker = EmbeddingWorker(embedder, index, threads=1)
    items = [Item(f"template/{i}", i + 1, t, str(i)) for i, t in enumerate(texts)]
    ours = raw = 0.0
    step = -(-len(items) // rounds)
    for seq, start in enumerate(range(0, len(items), step), start=1):
        t0 = time.perf_counter()
        worker.submit(seq, items[start:start + step])
        assert worker.wait(seq, timeout=7200), "the embedding worker did not finish"
        ours += time.perf_counter() - t0
        t0 = time.perf_counter()
        model.encode(texts[start:start + step], batch_size=32, normalize_embeddings=True,
                     show_progress_bar=False)
        raw += time.perf_counter() - t0
    worker.close()
    vectors = np.stack([index.vector(i + 1) for i in range(len(texts))])  # type: ignore[misc]
    return vectors, {"texts": len(texts), "ours_per_s": len(texts) / ours,
                     "raw_per_s": len(texts) / raw, "ratio": raw / ours,
                     "mean_chars": sum(map(len, texts)) / len(texts)}


def more_vectors(known: np.ndarray, texts: list[str]) -> np.ndarray:
    """Template vectors for templates the first size did not have (raw encode, 2 threads)."""
    if len(texts) <= len(known):
        return known[:len(texts)]
    extra = MiniLMEmbedder(batch_size=64).encode(texts[len(known):], threads=2)
    return np.vstack([known, extra])


def fill_vectors(index: VectorIndex, corpus: Corpus, templates: np.ndarray,
                 batch: int = 50_000) -> float:
    """Every asset: its template's vector plus noise, renormalised. Returns seconds spent in
    the index (not in making noise)."""
    rng = np.random.default_rng(7)
    spent = 0.0
    tid = np.asarray(corpus.template_of)
    for start in range(0, len(corpus.keys), batch):
        end = min(start + batch, len(corpus.keys))
        x = templates[tid[start:end]] + rng.standard_normal((end - start, templates.shape[1]),
                                                            dtype=np.float32) * NOISE
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        keys = corpus.keys[start:end]
        t0 = time.perf_counter()
        index.upsert([vector_id(k) for k in keys], x, keys, corpus.hashes[start:end])
        spent += time.perf_counter() - t0
    return spent


# -- queries ------------------------------------------------------------------------------------
def timed(run: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        run()
        out.append((time.perf_counter() - t0) * 1000)
    return out


class _Warm(_Semantic):
    """Query vectors computed beforehand: what the engine costs without the model."""

    def __init__(self, embedder: MiniLMEmbedder, index: VectorIndex) -> None:
        super().__init__(embedder, index)
        self.known: dict[str, np.ndarray] = {}

    def embed(self, text: str) -> np.ndarray:
        vector = self.known.get(text)
        return vector if vector is not None else super().embed(text)


def measure(engine: SearchEngine, index: VectorIndex, qs: list[str],
            filters: list[dict[str, tuple[str, ...]]]) -> dict[str, dict[str, float]]:
    """Each mode over every query, each with a fresh query-embedding cache (a new search
    embeds its text: that is part of the latency)."""
    embedder = MiniLMEmbedder()
    plain: dict[str, Any] = {"limit": 20, "facets": ()}
    cases: dict[str, Callable[[int, _Semantic], Any]] = {
        "keyword": lambda i, s: engine.run(SearchRequest(q=qs[i], mode="keyword", **plain), None),
        "semantic": lambda i, s: engine.run(SearchRequest(q=qs[i], mode="semantic", **plain), s),
        "hybrid": lambda i, s: engine.run(SearchRequest(q=qs[i], mode="hybrid", **plain), s),
        "hybrid+facets": lambda i, s: engine.run(SearchRequest(
            q=qs[i], mode="hybrid", limit=20, facets=FACETS, filters=filters[i]), s),
        "hybrid+facets, cached query vector": lambda i, s: engine.run(SearchRequest(
            q=qs[i], mode="hybrid", limit=20, facets=FACETS, filters=filters[i]), warm),
        "facets only (no q)": lambda i, s: engine.run(SearchRequest(
            mode="hybrid", limit=20, facets=FACETS, filters=filters[i]), s),
    }
    warm = _Warm(embedder, index)
    for i in range(len(qs)):  # page cache, tantivy readers, torch kernels; query vectors
        warm.known[qs[i]] = embedder.encode([qs[i]])[0]
        if i < 20:
            cases["hybrid+facets"](i, warm)
    embed_ms = timed(lambda: embedder.encode([f"warm query {time.perf_counter()}"]), 50)
    out: dict[str, dict[str, float]] = {}
    for name, case in cases.items():
        semantic = _Semantic(embedder, index)
        ms, totals = [], []
        for i in range(len(qs)):
            t0 = time.perf_counter()
            result = case(i, semantic)
            ms.append((time.perf_counter() - t0) * 1000)
            totals.append(result.total)
        out[name] = {"n": len(ms), "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99),
                     "mean_total": statistics.fmean(totals)}
    out["query embedding"] = {"n": len(embed_ms), "p50": pct(embed_ms, 50),
                              "p95": pct(embed_ms, 95), "p99": pct(embed_ms, 99),
                              "mean_total": 0.0}
    return out


# -- one size -----------------------------------------------------------------------------------
def build(n: int, work: Path, corpus: Corpus, text: TextIndex, state: dict[str, Any],
          root: Path) -> tuple[VectorIndex, dict[str, Any]]:
    """Fill both indexes (or, with ``--keep``, reuse what an earlier run built there and the
    figures it recorded in ``build.json``)."""
    record = work / "build.json"
    if text.seq == 1 and len(text) > 0 and record.exists():
        sum(1 for _ in documents(n, corpus))  # the same keys, templates and query material
        index = VectorIndex(384, path=work / "vectors", model="all-MiniLM-L6-v2")
        if len(index) == len(set(corpus.keys)):
            print(f"[{n:,}] reusing the indexes built in {work}", flush=True)
            return index, {**json.loads(record.read_text()), "reused_indexes": True}
    t0 = time.perf_counter()
    docs = text.rebuild(documents(n, corpus), seq=1)
    text_s = time.perf_counter() - t0
    print(f"[{n:,}] text index: {docs:,} docs in {text_s:.0f} s ({docs / text_s:,.0f} docs/s), "
          f"{len(corpus.template_texts):,} embedding templates", flush=True)
    if "templates" not in state:
        vectors, rates = encode_rates(corpus.template_texts)
        state["templates"], state["rates"] = vectors, rates
        (root / "rates.json").write_text(json.dumps(rates))
        print(f"[{n:,}] embedded {rates['texts']:,} template texts: our path "
              f"{rates['ours_per_s']:.0f}/s, raw encode {rates['raw_per_s']:.0f}/s "
              f"(ratio {rates['ratio']:.2f})", flush=True)
    state["templates"] = more_vectors(state["templates"], corpus.template_texts)
    index = VectorIndex(384, path=work / "vectors", model="all-MiniLM-L6-v2")
    index.reset()
    in_index = fill_vectors(index, corpus, state["templates"])
    t0 = time.perf_counter()
    index.save()
    save_s = time.perf_counter() - t0
    print(f"[{n:,}] vector index ({index.kind}): {len(index):,} vectors added in {in_index:.0f} s "
          f"({len(index) / in_index:,.0f}/s), saved in {save_s:.1f} s", flush=True)
    figures = {"assets": docs, "text_seconds": text_s, "text_docs_per_s": docs / text_s,
               "vector_kind": index.kind, "vector_seconds": in_index,
               "vectors_per_s_into_index": len(index) / in_index, "vector_save_seconds": save_s,
               "build_load_avg": os.getloadavg()}
    record.write_text(json.dumps(figures))
    return index, {**figures, "reused_indexes": False}


def run_size(n: int, n_queries: int, root: Path, state: dict[str, Any]) -> dict[str, Any]:
    work = root / f"n{n}"
    corpus = Corpus()
    text = TextIndex(work / "text")
    index, figures = build(n, work, corpus, text, state, root)
    qs = queries(corpus, n_queries)
    filters = facet_filters(n_queries)
    tables = len(corpus.tables)
    del corpus
    gc.collect()
    engine = SearchEngine(text)
    latency = measure(engine, index, qs, filters)
    report = {**figures, "tables": tables, "text_index_mb": size_mb([work / "text"]),
              "vector_index_mb": size_mb(index.files()), "memory_mb": rss(),
              "query_load_avg": os.getloadavg(), "latency_ms": latency}
    text.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated asset counts (default 100000,1000000)")
    parser.add_argument("--queries", type=int, default=250, help="queries per mode")
    parser.add_argument("--quick", action="store_true", help="20,000 assets, 100 queries")
    parser.add_argument("--keep", type=Path, help="build the indexes here and keep them")
    args = parser.parse_args()
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    n_queries = 100 if args.quick else args.queries
    root = args.keep or Path(tempfile.mkdtemp(prefix="semcat-latency-", dir=TMP))
    state: dict[str, Any] = {}
    if (root / "rates.json").exists():  # --keep: measured by the run that built the indexes
        state["rates"] = json.loads((root / "rates.json").read_text())
    reports: dict[str, Any] = {}
    try:
        for n in sizes:
            reports[str(n)] = run_size(n, n_queries, root, state)
            print_size(reports[str(n)])
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    rates = state.get("rates", {})
    print(f"\nembedding ({rates.get('texts', 0):,} real texts, mean "
          f"{rates.get('mean_chars', 0):.0f} chars, 1 torch thread): our indexing path "
          f"{rates.get('ours_per_s', 0):.0f} texts/s, raw SentenceTransformer.encode "
          f"{rates.get('raw_per_s', 0):.0f} texts/s, ratio {rates.get('ratio', 0):.2f}")
    print("note: only those template texts were embedded; every other asset carries its "
          "template's MiniLM vector plus noise (cosine ≈ 0.93), renormalised: embedding "
          "1M texts would take hours at these rates.")
    path = write_results("search_latency", {"sizes": reports, "embedding": rates,
                                            "vectors": "template vectors + noise",
                                            "target_hybrid_facets_p95_ms": TARGET_MS})
    print(f"wrote {path}")


def print_size(r: dict[str, Any]) -> None:
    rows = [[mode, int(v["n"]), v["p50"], v["p95"], v["p99"], v["mean_total"]]
            for mode, v in r["latency_ms"].items()]
    print(f"\n{r['assets']:,} assets — text index {r['text_index_mb']:.0f} MB "
          f"({r['text_docs_per_s']:,.0f} docs/s), vector index {r['vector_kind']} "
          f"{r['vector_index_mb']:.0f} MB, RSS {r['memory_mb']['VmRSS']:.0f} MB "
          f"(peak {r['memory_mb']['VmHWM']:.0f} MB)")
    print(table(["query", "n", "p50 ms", "p95 ms", "p99 ms", "mean total"], rows))
    p95 = r["latency_ms"]["hybrid+facets"]["p95"]
    print(f"hybrid+facets p95 {p95:.1f} ms: {'within' if p95 <= TARGET_MS else 'OVER'} the "
          f"{TARGET_MS:.0f} ms target\n", flush=True)


if __name__ == "__main__":
    main()
