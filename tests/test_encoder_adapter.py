"""The encoder's LoRA adapter (embeddings/tuning.py, embeddings/encoder.py): the shipped one
ranks held-back questions' tables better than the plain model, another one can be trained and
loaded, and the setting that chooses it refuses what is not an adapter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bench.search_relevance import ndcg
from bench.table_search import held_back
from catalog import Settings
from embeddings.encoder import MINILM, MiniLMEmbedder, adapter_path
from embeddings.tuning import TuningConfig, train_adapter
from search.documents import AssetDoc, Column
from tests.conftest import SHARED

TABLE_SEARCH = SHARED / "data" / "table-search"


def _held_back_sample(n: int) -> tuple[dict[str, str], list[dict]]:
    if not (TABLE_SEARCH / "corpus.jsonl").is_file():
        pytest.skip(f"the table-search set is not at {TABLE_SEARCH} (the shared data folder)")
    corpus = [json.loads(line) for line in (TABLE_SEARCH / "corpus.jsonl").open()]
    docs = {t["id"]: AssetDoc(key=t["id"], types=("Table",), name=t["table"],
                              qualified_name=f"{t['db_id']}.main.{t['table']}",
                              columns=tuple(Column(c["name"]) for c in t["columns"])
                              ).embedding_text() for t in corpus}
    questions = [q for line in (TABLE_SEARCH / "questions_train.jsonl").open()
                 if held_back((q := json.loads(line))["relevant_tables"][0].split(".")[0])]
    return docs, questions[::len(questions) // n][:n]


def _dense_ndcg(embedder: MiniLMEmbedder, docs: dict[str, str], questions: list[dict],
                variant: str) -> float:
    ids = list(docs)
    tables = embedder.encode([docs[i] for i in ids], threads=2)
    asked = embedder.encode([q[variant] for q in questions], threads=2)
    total = 0.0
    for row, q in zip(asked @ tables.T, questions, strict=True):
        top = [ids[i] for i in np.argsort(-row)[:10]]
        total += ndcg(top, dict.fromkeys(q["relevant_tables"], 1))
    return total / len(questions)


def test_the_shipped_adapter_finds_held_back_tables_better() -> None:
    """Databases the adapter never saw, over all 876 tables: tuning must lift both the
    questions as asked and those with synonyms for the schema's words."""
    docs, questions = _held_back_sample(150)
    plain, tuned = MiniLMEmbedder(), MiniLMEmbedder(adapter=adapter_path("tables"))
    assert plain.name == MINILM and tuned.name.startswith(f"{MINILM}+tables-")
    for variant in ("question", "question_syn"):
        before, after = (_dense_ndcg(e, docs, questions, variant) for e in (plain, tuned))
        assert after > before + 0.03, (variant, before, after)


def test_an_adapter_trains_and_loads(tmp_path: Path) -> None:
    words = ("cars", "books", "shoes", "lamps", "chairs", "phones", "bikes", "desks")
    pairs = [(f"how many {w} were sold last year", f"Table {w} sales. Columns: id, amount.")
             for w in words]
    out = train_adapter(pairs, tmp_path / "tiny", TuningConfig(rank=2, batch_size=4, epochs=3,
                                                               learning_rate=1e-3))
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "tuning.json"]
    assert json.loads((out / "tuning.json").read_text())["pairs"] == len(pairs)
    plain, tuned = MiniLMEmbedder(), MiniLMEmbedder(adapter=adapter_path(str(out)))
    assert tuned.name != plain.name and tuned.name != MiniLMEmbedder(
        adapter=adapter_path("tables")).name  # other vectors: the index is rebuilt
    question = ["how many lamps were sold last year"]
    assert not np.allclose(tuned.encode(question), plain.encode(question), atol=1e-4)


def test_the_setting_refuses_what_is_not_an_adapter(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no LoRA adapter at"):
        Settings(embedding_adapter=str(tmp_path))
    with pytest.raises(ValidationError, match="no LoRA adapter at"):
        Settings(embedding_adapter="no-such-adapter")
    assert Settings().embedder().name == MINILM  # off unless chosen
    assert Settings(embedding_adapter="tables").embedder().adapter == adapter_path("tables")
