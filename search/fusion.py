"""Reciprocal rank fusion, the hybrid score of keyword and semantic rankings.

Split out of ``search.engine`` so the fusion rule (and its ``k``, reported in each hit's
explanation) lives apart from the query running; it imports nothing from the engine.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

__all__ = ["RRF_K", "rrf"]

RRF_K = 60
T = TypeVar("T", bound=Hashable)


def rrf(*rankings: Sequence[T], k: int = RRF_K) -> dict[T, float]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the lists an item is in."""
    fused: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused
