"""Reasoning over the catalog graph: OWL 2 RL materialisation and DL consistency checks."""

from __future__ import annotations

from reasoning.dl_consistency import ConsistencyResult, check_consistency

__all__ = ["ConsistencyResult", "check_consistency"]
