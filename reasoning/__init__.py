"""Reasoning over the catalog graph: OWL 2 RL materialisation and DL consistency checks."""

from __future__ import annotations

from reasoning.dl_consistency import ConsistencyResult, check_consistency
from reasoning.materialise import Materialiser, ReasoningReport

__all__ = ["ConsistencyResult", "Materialiser", "ReasoningReport", "check_consistency"]
