"""Evidence that flows along the catalog's graph while ranking: a matching column lifts its
table, and a table near the top lifts the tables it joins.

Questions about data often need several tables ("which makers produced cars in 1970" reads
makers, models and cars), and the tables a question needs are joined by foreign keys. A
document carries the tables its own joins to (``joins``, both directions of a foreign key),
so the second pass reads a few stored fields, not the graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import tantivy
from tantivy import Occur, Query

from search.text_index import TextIndex, ints

MAX_TERM_UNION = 2000
COLUMN_PENALTY = 0.1
JOIN_TOP = 5  # the hits whose join partners are lifted...
JOIN_WEIGHT = 0.5  # ...by this share of a fused rank contribution at the hit's own rank
CEILING = 1 - 1e-6  # a partner stays (just) below the hit that lifted it


def vid_query(index: TextIndex, vids: Sequence[int]) -> Query:
    """Documents with these vector ids. A term-set query builds a bitset over every document
    (12 ms at a million, in every pass that contains it); for the few hundred ids of a
    semantic list or a page, a union of term queries costs 2.5 ms."""
    if not vids or len(vids) > MAX_TERM_UNION:
        return index.any_of("vid", list(vids))
    return Query.const_score_query(Query.boolean_query(
        [(Occur.Should, index.term("vid", v)) for v in vids]), 1.0)


def roll_up(index: TextIndex, searcher: tantivy.Searcher,
            semantic: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Column-level evidence finds the table: a matching column lifts its table to the
    column's similarity and itself ranks ``COLUMN_PENALTY`` lower. Columns are most of a
    catalog and their short texts sit close to short queries; without this they crowd
    out the tables people are looking for."""
    if not semantic:
        return []
    found = searcher.search(vid_query(index, [v for v, _ in semantic]),
                            len(semantic), count=False).hits
    addresses = [a for _, a in found]
    parent_of = {v: p for v, p in zip(
        ints(searcher.fast_field_values("vid", addresses)),
        ints(searcher.fast_field_values("rollup", addresses)), strict=True) if p}
    scores: dict[int, float] = {}
    for vid, score in semantic:
        parent = parent_of.get(vid)
        if parent:
            scores[parent] = max(scores.get(parent, score), score)
            score -= COLUMN_PENALTY
        scores[vid] = max(scores.get(vid, score), score)
    return sorted(scores.items(), key=lambda vs: (-vs[1], vs[0]))


def join_boost(index: TextIndex, searcher: tantivy.Searcher, scores: dict[int, float], *,
               k: int, top: int = JOIN_TOP, weight: float = JOIN_WEIGHT) -> dict[int, float]:
    """Fused (reciprocal-rank) scores where each of the ``top`` hits adds ``weight / (k +
    rank)`` to the candidates it joins, up to just below its own score: a partner rises toward
    the hit that needs it, never past it. Only candidates gain: a partner that matched nothing
    stays out, so totals and facets still count the match set."""
    leaders = sorted(scores, key=lambda v: (-scores[v], v))[:top]
    if not leaders or weight <= 0:
        return scores
    found = searcher.search(vid_query(index, leaders), len(leaders), count=False).hits
    joins: dict[int, list[int]] = {}
    for _, address in found:
        doc = searcher.doc(address)
        joins[int(doc["vid"][0])] = [int(j) for j in doc["joins"]]
    gain: dict[int, float] = {}
    ceiling: dict[int, float] = {}
    for rank, vid in enumerate(leaders, 1):
        for partner in joins.get(vid, ()):
            if partner != vid and partner in scores:
                gain[partner] = gain.get(partner, 0.0) + weight / (k + rank)
                ceiling[partner] = max(ceiling.get(partner, 0.0), scores[vid] * CEILING)
    boosted = dict(scores)
    for partner, extra in gain.items():
        boosted[partner] = max(scores[partner], min(scores[partner] + extra, ceiling[partner]))
    return boosted
