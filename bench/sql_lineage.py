"""Lineage from SQL (lineage/sql.py) against the hand-labelled set, and its cost beside sqlglot.

1. Precision and recall of column edges over tests/fixtures/sql_lineage/cases.json, per dialect
   and overall. An edge is (source table, source column, target table, target column); DIRECT
   and INDIRECT both count. Subtype accuracy: of the labelled (edge, type, subtype) whose edge
   was found, the share found with that type and subtype. Also: the share of statements whose
   sources are exactly right and whose "unresolved" flag is right, and DIRECT edges alone.
2. Statements per second of ``lineage_from_sql`` beside bare ``sqlglot.parse_one`` on the same
   statements (what the parse alone costs, so the ratio is what lineage adds).

Goal: precision and recall >= 0.95.

    python -m bench.sql_lineage              # 20 timed rounds over the set
    python -m bench.sql_lineage --rounds 5
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot

from bench._common import ROOT, table, write_results
from lineage.sql import SqlLineage, lineage_from_sql

CASES = ROOT / "tests" / "fixtures" / "sql_lineage" / "cases.json"
Edge = tuple[str, str, str, str]


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(path.read_text())
    return cases


def run(case: dict[str, Any]) -> SqlLineage:
    return lineage_from_sql(case["sql"], dialect=case["dialect"], schema=case["schema"],
                            target=case.get("target"), default_database=case.get("default_database"),
                            default_schema=case.get("default_schema"))


@dataclass
class Score:
    """Counts over some cases; the rates are computed from them."""

    found: int = 0          # edges found that are labelled
    extra: int = 0          # edges found that are not labelled
    missed: int = 0         # labelled edges not found
    direct_found: int = 0
    direct_extra: int = 0
    direct_missed: int = 0
    subtype_right: int = 0
    subtype_seen: int = 0   # labelled (edge, type, subtype) whose edge was found
    sources_right: int = 0
    flag_right: int = 0     # unresolved reported exactly when labelled so
    cases: int = 0
    wrong: list[str] = field(default_factory=list)  # readable misses, for the test's message

    def add(self, other: Score) -> None:
        for name in ("found", "extra", "missed", "direct_found", "direct_extra", "direct_missed",
                     "subtype_right", "subtype_seen", "sources_right", "flag_right", "cases"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wrong += other.wrong

    @property
    def precision(self) -> float:
        return _rate(self.found, self.found + self.extra)

    @property
    def recall(self) -> float:
        return _rate(self.found, self.found + self.missed)

    @property
    def direct_precision(self) -> float:
        return _rate(self.direct_found, self.direct_found + self.direct_extra)

    @property
    def direct_recall(self) -> float:
        return _rate(self.direct_found, self.direct_found + self.direct_missed)

    @property
    def subtype_accuracy(self) -> float:
        return _rate(self.subtype_right, self.subtype_seen)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def score(case: dict[str, Any], lineage: SqlLineage) -> Score:
    """How ``lineage`` compares with the case's labels."""
    expected = case["expected"]
    labelled = {tuple(e) for e in expected["columns"]}
    got = {(*e.source, *e.target, e.type, e.subtype) for e in lineage.columns}
    want, have = {e[:4] for e in labelled}, {e[:4] for e in got}
    want_direct = {e[:4] for e in labelled if e[4] == "DIRECT"}
    have_direct = {e[:4] for e in got if e[4] == "DIRECT"}
    seen = {e for e in labelled if e[:4] in have}
    s = Score(found=len(want & have), extra=len(have - want), missed=len(want - have),
              direct_found=len(want_direct & have_direct),
              direct_extra=len(have_direct - want_direct),
              direct_missed=len(want_direct - have_direct),
              subtype_right=len(seen & got), subtype_seen=len(seen),
              sources_right=int(sorted(lineage.sources) == sorted(expected["sources"])),
              flag_right=int(bool(lineage.unresolved) == expected["unresolved"]), cases=1)
    cid = case["id"]
    s.wrong += [f"{cid}: missed {e}" for e in sorted(want - have)]
    s.wrong += [f"{cid}: extra {e}" for e in sorted(have - want)]
    s.wrong += [f"{cid}: subtype {e[4:]} of {e[:4]} not found" for e in sorted(seen - got)]
    if not s.sources_right:
        s.wrong.append(f"{cid}: sources {lineage.sources} != {expected['sources']}")
    if not s.flag_right:
        s.wrong.append(f"{cid}: unresolved {list(lineage.unresolved)}, labelled "
                       f"{expected['unresolved']}")
    return s


def evaluate(cases: Iterable[dict[str, Any]]) -> dict[str, Score]:
    """Scores per dialect and overall ("all")."""
    scores: dict[str, Score] = {"all": Score()}
    for case in cases:
        s = score(case, run(case))
        scores.setdefault(case["dialect"], Score()).add(s)
        scores["all"].add(s)
    return scores


def speed(cases: Sequence[dict[str, Any]], rounds: int) -> dict[str, float]:
    """Statements per second, lineage_from_sql and bare sqlglot.parse_one, interleaved."""
    ours = theirs = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for case in cases:
            sqlglot.parse_one(case["sql"], read=case["dialect"])
        theirs += time.perf_counter() - start
        start = time.perf_counter()
        for case in cases:
            run(case)
        ours += time.perf_counter() - start
    n = len(cases) * rounds
    return {"statements": n, "lineage_per_s": n / ours, "parse_one_per_s": n / theirs,
            "ratio": (n / ours) / (n / theirs)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20, help="timed passes over the set")
    args = ap.parse_args(argv)
    cases = load_cases()
    scores = evaluate(cases)
    order: list[str] = [d for d in ("postgres", "snowflake", "bigquery", "spark") if d in scores]
    order += [d for d in scores if d not in (*order, "all")] + ["all"]
    rows = [[d, scores[d].cases, scores[d].found + scores[d].missed, round(scores[d].precision, 3),
             round(scores[d].recall, 3), round(scores[d].subtype_accuracy, 3),
             round(scores[d].direct_precision, 3), round(scores[d].direct_recall, 3),
             f"{scores[d].sources_right}/{scores[d].cases}", f"{scores[d].flag_right}/{scores[d].cases}"]
            for d in order]
    print(f"Column edges against {CASES.relative_to(ROOT)} (goal: precision and recall >= 0.95)")
    print(table(["dialect", "cases", "edges", "precision", "recall", "subtype acc",
                 "DIRECT prec", "DIRECT rec", "sources", "unresolved flag"], rows))
    if scores["all"].wrong:
        print(f"\n{len(scores['all'].wrong)} differences from the labels:")
        print("\n".join(f"  {w}" for w in scores["all"].wrong))
    timing = speed(cases, args.rounds)
    print(f"\nSpeed over {timing['statements']:,} statements ({args.rounds} rounds of "
          f"{len(cases)}):")
    print(table(["", "statements/s", "vs parse_one"],
                [["sqlglot.parse_one", round(timing["parse_one_per_s"]), 1.0],
                 ["lineage_from_sql", round(timing["lineage_per_s"]), round(timing["ratio"], 3)]]))
    path = write_results("sql_lineage", {
        "args": vars(args), "speed": timing,
        "scores": {d: {"cases": s.cases, "precision": s.precision, "recall": s.recall,
                       "subtype_accuracy": s.subtype_accuracy,
                       "direct_precision": s.direct_precision, "direct_recall": s.direct_recall,
                       "sources_right": s.sources_right, "unresolved_flag_right": s.flag_right}
                   for d, s in scores.items()},
        "differences": scores["all"].wrong})
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
