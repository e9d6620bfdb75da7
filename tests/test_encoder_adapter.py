"""The encoder's LoRA adapter (embeddings/tuning.py, embeddings/encoder.py): the shipped one
ranks held-back questions' tables better than the plain model, another one can be trained and
loaded, the setting that chooses it refuses what is not an adapter, and a catalog keeps tables
in a second vector index embedded with it, which searches of tables only ask
(catalog/vector_sides.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bench.search_relevance import ndcg
from bench.table_search import held_back
from catalog import Catalog, Settings
from embeddings.encoder import MINILM, MiniLMEmbedder, adapter_path
from embeddings.tuning import TuningConfig, train_adapter
from search.documents import AssetDoc, Column
from search.model import SearchRequest
from tests.conftest import SHARED
from tests.test_search import SCAFFOLD, column, table

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
    assert Settings().embedder().name == MINILM  # every asset: the plain model
    # tables again: with the shipped adapter by default (the suite's conftest turns it off)
    assert Settings.model_fields["embedding_adapter"].default == "tables"
    tables = Settings(embedding_adapter="tables").table_embedder()
    assert tables is not None and tables.adapter == adapter_path("tables")
    assert Settings(embedding_adapter="").table_embedder() is None


def _semantic_score(cat: Catalog, q: str, key: str, types: tuple[str, ...]) -> float:
    hits = cat.search.run(SearchRequest(q=q, mode="semantic", filters={"type": types},
                                        wait=True, limit=50)).hits
    return next(h.why["semantic"]["score"] for h in hits if h.id == key)


def test_a_search_of_tables_only_asks_the_tables_own_index() -> None:
    """Tables and their columns are embedded twice: with the plain model among every asset,
    and with the adapter in an index of their own that a search filtered to tables (or views)
    asks; other kinds of asset are not in it, and a deleted table leaves it."""
    orders, staff = (f"acme/table/snowflake/wh.zoo.{n}" for n in ("orders", "staff"))
    salary = "acme/column/snowflake/wh.zoo.staff.salary"
    with Catalog.open(Settings(data=None, embedding_adapter="tables")) as cat:
        cat.assets.upsert_many([*SCAFFOLD, table("orders", ""), table("staff", ""),
                                column("staff", "salary", "Yearly pay")], actor="test")
        assert cat.search.wait()
        every, tables = cat.search.vector_sides
        assert sorted(tables.index.asset_keys()) == [salary, orders, staff]
        assert "acme/schema/snowflake/wh.zoo" in every.index.asset_keys()
        text = next(d for d in cat.search.documents() if d.key == orders).embedding_text()
        q = "which orders did each customer place"
        plain, tuned = (float(e.encode([q])[0] @ e.encode([text])[0])
                        for e in (every.embedder, tables.embedder))
        assert abs(plain - tuned) > 0.01  # the two indexes are told apart below
        assert _semantic_score(cat, q, orders, ("Table",)) == pytest.approx(tuned, abs=2e-3)
        assert _semantic_score(cat, q, orders, ("Table", "View")) == pytest.approx(tuned, abs=2e-3)
        assert _semantic_score(cat, q, orders, ("Table", "Column")) == pytest.approx(plain,
                                                                                  abs=2e-3)
        cat.assets.delete(orders, actor="test")
        assert cat.search.wait()
        assert sorted(tables.index.asset_keys()) == [salary, staff]
        assert cat.search.freshness()["vectors"] == cat.journal.applied_seq
    with Catalog.open(Settings(data=None, embedding_adapter="")) as cat:
        assert len(cat.search.vector_sides) == 1
