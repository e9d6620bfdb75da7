"""Tune the sentence encoder to questions about tables (issue 15): train the LoRA adapter that
semcat ships as ``embeddings/adapters/tables`` (``SEMCAT_EMBEDDING_ADAPTER=tables``).

Pairs come from the tuning part of ``../shared/data/table-search`` only (``bench/
table_search.py`` splits by database, so no dev or held-back database is seen): each question,
as asked or with its schema words replaced by synonyms (one of the two, drawn per pair),
paired with the document semcat embeds for each table its SQL reads, read from a catalog that
loaded the corpus as a connector would. ``python -m bench.table_search`` then reports the
held-back part (run it with ``SEMCAT_EMBEDDING_ADAPTER=tables``).

    python -m bench.tune_encoder                        # ~12 min on 2 cores
    python -m bench.tune_encoder --out /tmp/adapter --epochs 2 --rank 8
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from bench.table_search import DATA, SCHEMA, VARIANTS, key, load, split_of
from catalog import Catalog, Settings
from embeddings.encoder import ADAPTERS
from embeddings.tuning import TuningConfig, train_adapter


def pairs(seed: int) -> list[tuple[str, str]]:
    corpus = [json.loads(line) for line in (DATA / "corpus.jsonl").open()]
    questions = [json.loads(line) for line in (DATA / "questions_train.jsonl").open()]
    with Catalog.open(Settings(embedding_adapter="")) as cat:
        load(cat, corpus)
        texts = {d.key: d.embedding_text() for d in cat.search.documents()}
    doc = {t["id"]: texts[key("table", f"{t['db_id']}.{SCHEMA}.{t['table']}")] for t in corpus}
    rng = random.Random(seed)
    return [(q[rng.choice(VARIANTS)], doc[table]) for q in questions
            if split_of(q["relevant_tables"][0].split(".")[0]) == "tune"
            for table in q["relevant_tables"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ADAPTERS / "tables")
    defaults = TuningConfig()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--rank", type=int, default=defaults.rank)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    args = parser.parse_args()
    config = TuningConfig(rank=args.rank, epochs=args.epochs, learning_rate=args.learning_rate,
                          batch_size=args.batch_size)
    t0 = time.perf_counter()
    examples = pairs(config.seed)
    print(f"{len(examples)} pairs from the tuning part in {time.perf_counter() - t0:.0f} s")
    out = train_adapter(examples, args.out, config)
    print(f"adapter written to {out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
