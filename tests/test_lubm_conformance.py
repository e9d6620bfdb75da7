"""LUBM(1) conformance: after ``Catalog.reason()`` all 14 LUBM queries return the official answer
counts; without inference only q01, q02, q03 and q14 do (../shared/data/lubm/README.md).

The data are loaded the way a user would load them: ``Catalog.load`` through the change log and
SHACL (whose shapes do not target LUBM classes); ``.owl`` files are read as RDF/XML.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import Catalog, Settings
from reasoning import ReasoningReport

LUBM = Path(__file__).resolve().parents[2] / "shared" / "data" / "lubm"
QUERIES = sorted((LUBM / "queries").glob("q*.rq"))
RIGHT_WITHOUT_INFERENCE = {"q01", "q02", "q03", "q14"}

pytestmark = pytest.mark.skipif(not (LUBM / "lubm1.nt.gz").is_file(),
                                reason=f"LUBM data not found at {LUBM}")


@pytest.fixture(scope="module")
def answers() -> dict[str, int]:
    return {k: v for k, v in json.loads((LUBM / "answers.json").read_text()).items()
            if not k.startswith("_")}


@pytest.fixture(scope="module")
def lubm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, ReasoningReport]]:
    cat = Catalog.open(Settings(data=None))
    cat.load([LUBM / "univ-bench.owl", LUBM / "lubm1.nt.gz"], actor="lubm")
    report = cat.reason()
    yield cat, report
    cat.close()


def rows(cat: Catalog, query: Path, *, infer: bool) -> int:
    return len(cat.sparql.query(query.read_text(), infer=infer).rows())


def test_there_are_14_queries_with_answers(answers: dict[str, int]) -> None:
    assert [q.stem for q in QUERIES] == sorted(answers) == [f"q{i:02}" for i in range(1, 15)]


def test_materialisation(lubm: tuple[Catalog, ReasoningReport]) -> None:
    cat, report = lubm
    assert report.asserted > 100_866  # LUBM(1) data + univ-bench + the semcat ontology
    assert 30_000 < report.inferred < 66_000  # reasonable's +66k, less what is dropped
    assert report.dropped_by_rule.get("anonymous class expression", 0) > 10_000
    assert cat.reasoner.inferred_up_to() == cat.journal.applied_seq


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_complete_answers_with_inference(lubm: tuple[Catalog, ReasoningReport],
                                         answers: dict[str, int], query: Path) -> None:
    assert rows(lubm[0], query, infer=True) == answers[query.stem]


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_without_inference_only_four_are_right(lubm: tuple[Catalog, ReasoningReport],
                                               answers: dict[str, int], query: Path) -> None:
    right = rows(lubm[0], query, infer=False) == answers[query.stem]
    assert right == (query.stem in RIGHT_WITHOUT_INFERENCE)
