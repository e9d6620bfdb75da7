"""Multi-table questions (issue 15, item 3): a table's search document names the tables it joins
by a foreign key, either way, and stays right as keys come and go; fused ranking lifts the join
partners of its leading hits, and only candidates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import NamedNode

from catalog import Catalog, Settings
from search.documents import AssetDoc, vector_id
from search.graph_signals import join_boost
from search.text_index import TextIndex
from tests.test_search import SCAFFOLD, column, table

T = "acme/table/snowflake/wh.zoo."
C = "acme/column/snowflake/wh.zoo."


def fk(tbl: str, name: str, to: str) -> dict[str, Any]:
    return {**column(tbl, name, "a key"), "references": [C + to]}


@pytest.fixture()
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        c.assets.upsert_many([
            *SCAFFOLD,
            table("car_makers", "Makers"), column("car_makers", "id", "Maker id"),
            table("model_list", "Models"), fk("model_list", "maker", "car_makers.id"),
            table("car_names", "Names"), fk("car_names", "model", "model_list.model"),
            column("model_list", "model", "Model name"),
            table("weather", "Rain and sun"),
        ], actor="test")
        yield c


def joins(cat: Catalog, name: str) -> list[str]:
    """The join partners the text index holds for a table, as keys."""
    searcher = cat.search.text.searcher()
    hits = searcher.search(cat.search.text.term("id", T + name), 1).hits
    assert hits, name
    stored = {int(v) for v in searcher.doc(hits[0][1])["joins"]}
    every = [T + n for n in ("car_makers", "model_list", "car_names", "weather")]
    return sorted(k.removeprefix(T) for k in every if vector_id(k) in stored)


def test_a_table_names_what_it_joins_both_ways(cat: Catalog) -> None:
    assert joins(cat, "car_makers") == ["model_list"]  # referenced by a foreign key
    assert joins(cat, "model_list") == ["car_makers", "car_names"]  # references; referenced
    assert joins(cat, "car_names") == ["model_list"]
    assert joins(cat, "weather") == []


def test_partners_follow_keys_as_they_change(cat: Catalog) -> None:
    cat.assets.patch(C + "model_list.maker", {"references": None}, actor="test")
    assert joins(cat, "car_makers") == []  # the other end was re-indexed too
    assert joins(cat, "model_list") == ["car_names"]
    cat.assets.upsert(fk("weather", "maker", "car_makers.id"), actor="test")
    assert joins(cat, "car_makers") == ["weather"]  # a new column with a key
    cat.assets.delete(C + "car_names.model", actor="test")
    assert joins(cat, "model_list") == []  # its referencing column is gone
    assert not list(cat.store.quads(NamedNode(cat.layout.iri(C + "car_names.model")),
                                    None, None, None))


def test_leaders_lift_their_partners_among_candidates_only() -> None:
    index = TextIndex(None)
    docs = [AssetDoc("a", ("Table",), "a", joins=("b", "z")), AssetDoc("b", ("Table",), "b"),
            AssetDoc("c", ("Table",), "c"), AssetDoc("z", ("Table",), "z")]
    index.apply(docs, [], 1)
    a, b, c, z = (vector_id(d.key) for d in docs)
    scores = {a: 0.10, c: 0.06, b: 0.05}  # z matched nothing
    boosted = join_boost(index, index.searcher(), scores, k=10)
    assert boosted[b] > boosted[c] > 0 and boosted[a] == scores[a] and z not in boosted
    assert join_boost(index, index.searcher(), scores, k=10, weight=0) == scores
    close = join_boost(index, index.searcher(), {a: 0.10, b: 0.09}, k=10)
    assert 0.09 < close[b] < close[a] == 0.10  # lifted toward its leader, never past it
