"""Validation outcomes are values: a report of results, never an exception (STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from ontology.namespaces import RDF_TYPE, SH, XSD

VIOLATION, WARNING, INFO = "Violation", "Warning", "Info"


@dataclass(frozen=True)
class ValidationResult:
    focus: str
    path: str  # the property IRI, "^IRI" for an inverse path
    constraint: str  # SHACL constraint component, e.g. "MinCountConstraintComponent"
    severity: str
    message: str
    value: str | None = None
    shape: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {"focusNode": self.focus, "path": self.path, "constraint": self.constraint,
               "severity": self.severity, "message": self.message}
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class ValidationReport:
    results: tuple[ValidationResult, ...] = ()
    focus_nodes: int = 0

    @property
    def conforms(self) -> bool:
        return not any(r.severity == VIOLATION for r in self.results)

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == VIOLATION]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity != VIOLATION]

    def to_json(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "focusNodes": self.focus_nodes,
                "results": [r.to_json() for r in self.results]}

    def to_quads(self) -> list[Quad]:
        """The report as an sh:ValidationReport graph (in the default graph)."""
        report = BlankNode()
        quads = [Quad(report, NamedNode(RDF_TYPE), NamedNode(SH + "ValidationReport")),
                 Quad(report, NamedNode(SH + "conforms"),
                      Literal(str(self.conforms).lower(), datatype=NamedNode(XSD + "boolean")))]
        for r in self.results:
            node = BlankNode()
            path: NamedNode | BlankNode = NamedNode(r.path.lstrip("^"))
            quads += [Quad(report, NamedNode(SH + "result"), node),
                      Quad(node, NamedNode(RDF_TYPE), NamedNode(SH + "ValidationResult")),
                      Quad(node, NamedNode(SH + "focusNode"), _term(r.focus)),
                      Quad(node, NamedNode(SH + "sourceConstraintComponent"),
                           NamedNode(SH + r.constraint)),
                      Quad(node, NamedNode(SH + "resultSeverity"), NamedNode(SH + r.severity)),
                      Quad(node, NamedNode(SH + "resultMessage"), Literal(r.message))]
            if r.path.startswith("^"):
                inverse = BlankNode()
                quads.append(Quad(inverse, NamedNode(SH + "inversePath"), path))
                path = inverse
            quads.append(Quad(node, NamedNode(SH + "resultPath"), path))
            if r.value is not None:
                quads.append(Quad(node, NamedNode(SH + "value"), Literal(r.value)))
        return quads


def _term(value: str) -> NamedNode | BlankNode:
    return BlankNode(value[2:]) if value.startswith("_:") else NamedNode(value)
