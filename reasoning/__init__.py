"""Reasoning over the catalog graph: OWL 2 RL materialisation (full and incremental),
explanations and DL consistency checks."""

from __future__ import annotations

from reasoning.consistency import DisjointnessGuard, Fact, Finding, find_inconsistencies
from reasoning.dl_consistency import ConsistencyResult, check_consistency
from reasoning.explain import Explainer, Explanation
from reasoning.incremental import IncrementalReasoner, IncrementalReport, InferenceStatus
from reasoning.materialise import Materialiser, ReasoningReport

__all__ = ["ConsistencyResult", "DisjointnessGuard", "Explainer", "Explanation", "Fact",
           "Finding", "IncrementalReasoner", "IncrementalReport", "InferenceStatus", "Materialiser",
           "ReasoningReport", "check_consistency", "find_inconsistencies"]
