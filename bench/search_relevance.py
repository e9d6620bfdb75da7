"""Relevance of keyword, semantic and hybrid search on labelled queries over the demo catalog,
and how fast the demo is indexed beside raw sentence-transformers encoding.

``bench/relevance_queries.json`` holds the queries (keyword, paraphrase and natural-language
kinds) with graded relevant asset ids (2 = what the searcher wants, 1 = useful); queries marked
``"nl": true`` (kind nl-filters) run with natural-language parsing into filters. Printed:
nDCG@10 (gain 2^grade - 1) and Recall@10 per mode, overall and per kind.

    python -m bench.search_relevance                 # in-memory demo catalog
    python -m bench.search_relevance --data /tmp/d   # reuse a data dir (keeps its vectors)
    python -m bench.search_relevance --speed         # also time indexing (1 thread, as shipped)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, table, write_results
from catalog import Catalog, Settings
from embeddings.encoder import load_minilm
from search.model import MODES, SearchRequest

QUERIES = ROOT / "bench" / "relevance_queries.json"
K = 10


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** relevant.get(key, 0) - 1) / math.log2(i + 2) for i, key in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    best = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def evaluate(cat: Catalog, queries: list[dict[str, Any]]) -> dict[str, Any]:
    per_query: list[dict[str, Any]] = []
    for item in queries:
        row: dict[str, Any] = {"query": item["query"], "kind": item["kind"]}
        for mode in MODES:
            result = cat.search.run(SearchRequest(q=item["query"], mode=mode, limit=K, facets=(),
                                                  highlight=False, nl=bool(item.get("nl"))))
            ranked = [h.id for h in result.hits]
            row[mode] = {"ndcg": ndcg(ranked, item["relevant"]),
                         "recall": recall(ranked, item["relevant"]), "top": ranked[:3],
                         "ms": result.took_ms}
        per_query.append(row)
    summary: dict[str, Any] = {}
    for kind in ("all", *sorted({q["kind"] for q in queries})):
        rows = [r for r in per_query if kind == "all" or r["kind"] == kind]
        summary[kind] = {mode: {m: sum(r[mode][m] for r in rows) / len(rows)
                                for m in ("ndcg", "recall", "ms")} for mode in MODES}
        summary[kind]["n"] = len(rows)
    return {"summary": summary, "queries": per_query}


def indexing_speed(cat: Catalog) -> dict[str, float]:
    """The background worker's rate while it built the demo's vectors, a reindex on one torch
    thread, then raw ``model.encode`` of the very same texts on one thread: the ratios are what
    the catalog adds on top of the model."""
    worker = cat.search.vector_sides[0].worker
    worker_rate = worker.embedded / worker.encode_seconds if worker and worker.embedded else 0.0
    report = cat.search.reindex(vectors=True, threads=1)
    texts = [d.embedding_text() for d in cat.search.documents()]
    model = load_minilm(getattr(cat.search.embedder, "adapter", None))
    t0 = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    raw = time.perf_counter() - t0
    return {"assets": report.documents, "text_docs_per_s": report.documents / report.text_seconds,
            "worker_vectors_per_s": worker_rate,
            "reindex_vectors_per_s": report.vectors / report.vector_seconds,
            "raw_encode_per_s": len(texts) / raw,
            "mean_text_chars": sum(map(len, texts)) / len(texts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="data dir to (re)use; default: in memory")
    parser.add_argument("--speed", action="store_true", help="also time indexing")
    parser.add_argument("--per-query", action="store_true", help="print every query's nDCG")
    args = parser.parse_args()
    queries = json.loads(QUERIES.read_text())["queries"]
    with Catalog.open(Settings(data=args.data)) as cat:
        if not len(cat.search.text):
            t0 = time.perf_counter()
            cat.load_demo()
            print(f"demo loaded and text-indexed in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        if not cat.search.wait(timeout=1800):  # (on a busy machine the default 120 s is short)
            raise SystemExit("the vector index did not catch up in 30 min")
        print(f"vector index ready in {time.perf_counter() - t0:.1f} s "
              f"({len(cat.search.vectors)} vectors)")
        speed = indexing_speed(cat) if args.speed else None
        result = evaluate(cat, queries)
    rows = []
    for kind, s in result["summary"].items():
        for mode in MODES:
            rows.append([kind, s["n"], mode, s[mode]["ndcg"], s[mode]["recall"], s[mode]["ms"]])
    print(table(["queries", "n", "mode", f"nDCG@{K}", f"Recall@{K}", "mean ms"], rows))
    if args.per_query:
        print(table(["query", "kind", *MODES],
                    [[r["query"][:48], r["kind"], *(r[m]["ndcg"] for m in MODES)]
                     for r in result["queries"]]))
    if speed:
        print(table(["assets", "text docs/s", "worker vectors/s", "reindex vectors/s",
                     "raw encode/s", "mean text chars"],
                    [[int(speed["assets"]), speed["text_docs_per_s"],
                      speed["worker_vectors_per_s"], speed["reindex_vectors_per_s"],
                      speed["raw_encode_per_s"], speed["mean_text_chars"]]]))
    path = write_results("search_relevance", {**result, "indexing": speed})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
