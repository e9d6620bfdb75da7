"""SHACL shapes (core.ttl and custom attributes), compiled for fast focus-node validation."""

from __future__ import annotations

from importlib.resources import files

from shapes.model import Shapes, compile_shapes, superclass_closure
from shapes.report import ValidationReport, ValidationResult
from shapes.validator import ChangeView, StoreView, Validator

__all__ = ["ChangeView", "Shapes", "StoreView", "ValidationReport", "ValidationResult",
           "Validator", "compile_shapes", "core_shapes_turtle", "superclass_closure"]


def core_shapes_turtle() -> bytes:
    """The shipped core shapes, read as package data."""
    return files("shapes").joinpath("core.ttl").read_bytes()
