"""Table search on real questions (issue 15): do keyword, semantic and hybrid search put the
tables a question needs on the first screen, beside a textbook BM25 and a plain MiniLM?

``../shared/data/table-search`` holds 876 tables of 166 databases (physical names, no
descriptions) and 7,000 training questions with the tables their gold SQL reads. The corpus
is loaded the way the SQL connector would (``ingestion/sql.py``: a Database per ``db_id``,
SQLite's one schema ``main``, tables and columns with their data types, primary keys and
foreign keys as ``references``), through ``Catalog.assets.upsert_many``; each question is
asked through ``catalog.search`` with ``type=Table`` (what ``/api/v1/search?type=Table``
runs). The baselines rank the same tables from one text per table (database, table and
column names as words), computed in the same run.

Questions are split by a hash of their database into a tuning part (tune on it: the
encoder's adapter trains on it, ``bench/tune_encoder.py``), a small dev part (what is tuned
after the adapter, such as the fusion, is tuned there, since the adapter has seen the tuning
part) and a held-back part (report it). No database is in two parts. Printed per split,
question variant (``question``, ``question_syn``) and ranker: nDCG@10 (binary gains), Recall@1/5/10 and
Complete@10 (every needed table in the top 10).

    python -m bench.table_search --limit 500 --split tune     # while iterating
    python -m bench.table_search                              # everything (~15 min)
    python -m bench.table_search --data /tmp/ts               # reuse an ingested catalog
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import ROOT, table, write_results
from bench.search_relevance import ndcg, recall
from catalog import Catalog, Settings
from graph_store.keys import encode_segment
from search.analysis import split_identifier, stems
from search.fusion import rrf
from search.model import MODES, SearchRequest

DATA = ROOT.parent / "shared" / "data" / "table-search"
K = 10
WORKSPACE = "spider"
PLATFORM = "sqlite"
SCHEMA = "main"  # SQLite's one schema, as the SQL connector names it
HELD_SHARE = 4  # one database in four is held back
DEV_SHARE = 8  # one in eight is the dev part
SPLITS = ("tune", "dev", "held")
VARIANTS = ("question", "question_syn")
BASELINES = ("bm25", "bm25 stemmed", "dense", "bm25+dense")
Ranker = Callable[[str, str], list[str]]  # (variant, question) -> table ids, best first


# -- the corpus as a connector would load it ------------------------------------------------------
def key(kind: str, qualified: str) -> str:
    return f"{WORKSPACE}/{kind}/{PLATFORM}/{encode_segment(qualified)}"


def corpus_assets(corpus: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per database: its Database, Schema, Tables and Columns (foreign keys that name a
    known column become ``references``), referred tables first as the connector writes them."""
    known = {f"{t['id']}.{c['name']}" for t in corpus for c in t["columns"]}
    out: dict[str, list[dict[str, Any]]] = {}
    base = {"workspace": WORKSPACE, "platform": f"platform/{PLATFORM}"}
    for t in corpus:
        db = t["db_id"]
        items = out.setdefault(db, [
            {"id": key("database", db), "type": "Database", "name": db, "qualifiedName": db,
             **base},
            {"id": key("schema", f"{db}.{SCHEMA}"), "type": "Schema", "name": SCHEMA,
             "qualifiedName": f"{db}.{SCHEMA}", "partOf": key("database", db), **base}])
        tqn = f"{db}.{SCHEMA}.{t['table']}"
        items.append({"id": key("table", tqn), "type": "Table", "name": t["table"],
                      "qualifiedName": tqn, "partOf": key("schema", f"{db}.{SCHEMA}"), **base})
        for position, c in enumerate(t["columns"], start=1):
            refs = [key("column", f"{db}.{SCHEMA}.{r.split('.', 1)[1]}")
                    for r in c["foreign_key_to"] if r in known]
            column = {"id": key("column", f"{tqn}.{c['name']}"), "type": "Column",
                      "name": c["name"], "qualifiedName": f"{tqn}.{c['name']}",
                      "partOf": key("table", tqn), "dataType": c["type"].upper(),
                      "position": position, **base}
            if c["primary_key"]:
                column["primaryKey"] = True
            if refs:
                column["references"] = refs
            items.append(column)
    for db, items in out.items():  # a column's reference must exist when it is written
        out[db] = [i for i in items if "references" not in i] + \
            [i for i in items if "references" in i]
    return out


def load(cat: Catalog, corpus: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    cat.assets.upsert_many([
        {"id": WORKSPACE, "type": "Workspace", "name": "Spider",
         "description": "Public text-to-SQL schemas"},
        {"id": f"platform/{PLATFORM}", "type": "DataPlatform", "name": "SQLite"}],
        actor="bench")
    for items in corpus_assets(corpus).values():
        cat.assets.upsert_many(items, actor="bench", message="table-search corpus")
    return time.perf_counter() - t0


def table_text(t: dict[str, Any]) -> str:
    """The baselines' one text per table: what a connector knows (database, table and column
    names), as words."""
    cols = ", ".join(split_identifier(c["name"]) for c in t["columns"])
    return f"{split_identifier(t['db_id'])} {split_identifier(t['table'])}: {cols}"


# -- rankers -------------------------------------------------------------------------------------
_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class Baselines:
    """rank-bm25 (BM25Okapi) and MiniLM cosine over ``table_text``, and their RRF. BM25 runs
    on plain lower-cased words and, as "bm25 stemmed", on semcat's analysis (identifiers
    split, English stems), which shows how much of semcat's lead is only the stemming."""

    def __init__(self, corpus: list[dict[str, Any]], questions: list[dict[str, Any]]) -> None:
        from rank_bm25 import BM25Okapi

        from embeddings.encoder import MiniLMEmbedder

        self.ids = [t["id"] for t in corpus]
        self._ranked: dict[tuple[str, str], tuple[list[str], list[str], list[str]]] = {}
        texts = [table_text(t) for t in corpus]
        self.bm25 = BM25Okapi([tokens(t) for t in texts])
        self.bm25_stemmed = BM25Okapi([stems(t) for t in texts])
        embedder = MiniLMEmbedder()
        self.tables = embedder.encode(texts, threads=2)
        self.queries = {v: dict(zip([q[v] for q in questions],
                                    embedder.encode([q[v] for q in questions], threads=2),
                                    strict=True)) for v in VARIANTS}

    def _top(self, scores: np.ndarray, k: int) -> list[str]:
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.ids[i] for i in order]

    def rank(self, name: str, variant: str, q: str, k: int = K) -> list[str]:
        if (variant, q) not in self._ranked:  # the three baselines share both rankings
            self._ranked = {(variant, q): (
                self._top(np.asarray(self.bm25.get_scores(tokens(q))), 100),
                self._top(self.tables @ self.queries[variant][q], 100),
                self._top(np.asarray(self.bm25_stemmed.get_scores(stems(q))), k))}
        bm25, dense, stemmed = self._ranked[variant, q]
        if name == "bm25":
            return bm25[:k]
        if name == "bm25 stemmed":
            return stemmed[:k]
        if name == "dense":
            return dense[:k]
        fused = rrf(bm25, dense)  # the customary k = 60
        return sorted(fused, key=lambda t: -fused[t])[:k]


def baseline_ranker(baselines: Baselines, name: str) -> Ranker:
    return lambda variant, q: baselines.rank(name, variant, q)


def semcat_ranker(cat: Catalog, mode: str, ids: dict[str, str]) -> Ranker:
    def rank(variant: str, q: str) -> list[str]:
        result = cat.search.run(SearchRequest(q=q, mode=mode, limit=K, facets=(),
                                              highlight=False, filters={"type": ("Table",)}))
        return [ids.get(h.id, h.id) for h in result.hits]
    return rank


# -- scoring -------------------------------------------------------------------------------------
def split_of(db: str) -> str:
    h = int(hashlib.blake2b(db.encode(), digest_size=4).hexdigest(), 16)
    return "held" if h % HELD_SHARE == 0 else "dev" if h % DEV_SHARE == 1 else "tune"


def held_back(db: str) -> bool:
    return split_of(db) == "held"


def scores(ranked: list[str], relevant: Sequence[str]) -> dict[str, float]:
    gold = dict.fromkeys(relevant, 1)
    return {f"nDCG@{K}": ndcg(ranked, gold), "R@1": recall(ranked, gold, 1),
            "R@5": recall(ranked, gold, 5), f"R@{K}": recall(ranked, gold, K),
            f"Complete@{K}": float(set(gold) <= set(ranked[:K]))}


METRICS = (f"nDCG@{K}", "R@1", "R@5", f"R@{K}", f"Complete@{K}")


def sample(items: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """Every n-th item, so a quick run still spreads over many databases."""
    if not limit or limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def evaluate(rankers: dict[str, Ranker], questions: Iterable[dict[str, Any]]
             ) -> tuple[dict[tuple[str, str], dict[str, float]], list[dict[str, Any]]]:
    """Mean scores per (variant, ranker), and every question's top 10 per ranker."""
    sums: dict[tuple[str, str], dict[str, float]] = {}
    rows: list[dict[str, Any]] = []
    n = 0
    for q in questions:
        n += 1
        row: dict[str, Any] = {"qid": q["qid"], "relevant": q["relevant_tables"]}
        for variant in VARIANTS:
            for name, rank in rankers.items():
                ranked = rank(variant, q[variant])
                row[f"{variant}/{name}"] = ranked
                for m, v in scores(ranked, q["relevant_tables"]).items():
                    acc = sums.setdefault((variant, name), dict.fromkeys(METRICS, 0.0))
                    acc[m] += v
        rows.append(row)
    return {k: {m: v / max(n, 1) for m, v in acc.items()} for k, acc in sums.items()}, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="at most N questions per split (a spread)")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--modes", default=",".join(MODES), help="semcat modes to run")
    parser.add_argument("--data", type=Path, help="data dir to (re)use; default: in memory")
    parser.add_argument("--dump", type=Path, help="write every question's rankings here")
    parser.add_argument("--no-baselines", action="store_true", help="semcat only (iterating)")
    args = parser.parse_args()
    corpus = [json.loads(line) for line in (DATA / "corpus.jsonl").open()]
    questions = [json.loads(line) for line in (DATA / "questions_train.jsonl").open()]
    splits = {name: sample([q for q in questions
                            if split_of(q["relevant_tables"][0].split(".")[0]) == name],
                           args.limit)
              for name in SPLITS if args.split in (name, "all")}
    asked = [q for qs in splits.values() for q in qs]
    ids = {key("table", f"{t['db_id']}.{SCHEMA}.{t['table']}"): t["id"] for t in corpus}
    t0 = time.perf_counter()
    baselines = None if args.no_baselines else Baselines(corpus, asked)
    print(f"baselines ready in {time.perf_counter() - t0:.1f} s")
    modes = [m for m in args.modes.split(",") if m]
    results: dict[str, Any] = {}
    with Catalog.open(Settings(data=args.data)) as cat:
        if not len(cat.search.text):
            print(f"corpus loaded in {load(cat, corpus):.1f} s ({len(cat.search.text)} assets)")
        t0 = time.perf_counter()
        cat.search.wait(timeout=1800)
        print(f"vectors ready in {time.perf_counter() - t0:.1f} s ({len(cat.search.vectors)})")
        rankers: dict[str, Ranker] = {f"semcat {m}": semcat_ranker(cat, m, ids) for m in modes}
        if baselines is not None:
            rankers.update({b: baseline_ranker(baselines, b) for b in BASELINES})
        dumped: list[dict[str, Any]] = []
        for split, qs in splits.items():
            t0 = time.perf_counter()
            means, rows = evaluate(rankers, qs)
            dumped += [{**r, "split": split} for r in rows]
            results[split] = {f"{v}/{r}": s for (v, r), s in means.items()}
            print(f"\n{split}: {len(qs)} questions over "
                  f"{len({q['relevant_tables'][0].split('.')[0] for q in qs})} databases "
                  f"({time.perf_counter() - t0:.0f} s)")
            print(table(["variant", "ranker", *METRICS],
                        [[v, r, *(round(s[m], 3) for m in METRICS)]
                         for (v, r), s in means.items()]))
    if args.dump:
        args.dump.write_text(json.dumps(dumped))
    path = write_results("table_search", {"limit": args.limit, "splits": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
