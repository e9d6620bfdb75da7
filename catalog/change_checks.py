"""What may refuse a change before it is logged, and the compiled vocabulary it is checked with.

The validator and REST's vocabulary are compiled from the stored shapes, ontology and custom
attributes; an edit of those is checked with what they would become, and that compiled validator
is installed once the edit is applied (others recompile as they follow the log).
"""

from __future__ import annotations

import logging
from typing import Any

from pyoxigraph import NamedNode, Quad, RdfFormat

from access.service import AccessService
from catalog.attributes import AttributeService
from catalog.jsonld import BUILT_IN, Vocabulary
from catalog.settings import Settings
from graph_store.changeset import Changeset
from graph_store.errors import InputError, SemcatError
from graph_store.formats import parse_rdf
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.overlay import Restricted
from graph_store.protocol import GraphStore
from ontology import ontology_turtle
from reasoning import DisjointnessGuard
from reasoning.rules import check_rule_texts
from shapes import ChangeView, Validator, compile_shapes, core_shapes_turtle

log = logging.getLogger(__name__)
Results = list[dict[str, Any]]


class ChangeChecks:
    def __init__(self, store: GraphStore, layout: GraphLayout, journal: Journal,
                 access: AccessService, attributes: AttributeService, settings: Settings,
                 problems: dict[str, str]) -> None:
        self.store = store
        self.layout = layout
        self.journal = journal
        self.access = access
        self.attributes = attributes
        self.settings = settings
        self.problems = problems  # the catalog's: what /healthz reports
        self.validator = self._compile_shapes()
        self._proposed: Validator | None = None  # compiled by a check, installed once applied
        self._guard: tuple[Validator, DisjointnessGuard] | None = None
        self.vocabulary = self._rest_vocabulary()  # REST's names for classes and attributes

    def _vocabulary_graphs(self) -> tuple[NamedNode, ...]:
        return (self.layout.shapes, self.layout.ontology, self.attributes.graph)

    def _compile(self, removed: set[Quad] = frozenset(),  # type: ignore[assignment]
                 added: set[Quad] = frozenset()) -> Validator:  # type: ignore[assignment]
        """The validator of the stored shapes and ontology, or of what they become with
        ``removed`` and ``added``; InputError when they do not compile."""
        def graph(g: NamedNode) -> list[Quad]:
            return [*(q for q in self.store.quads(None, None, None, g) if q not in removed),
                    *(q for q in added if q.graph_name == g)]
        try:
            shapes = compile_shapes(graph(self.layout.shapes),
                                    [*graph(self.layout.ontology), *graph(self.attributes.graph)])
        except SemcatError:
            raise
        except Exception as e:  # a malformed shape the compiler did not foresee
            raise InputError(f"the shapes do not compile: {e}") from e
        return Validator(shapes)

    def _compile_shapes(self) -> Validator:
        """On open: the stored vocabulary's validator; if it does not compile, the shipped
        one, and the problem is reported, so that a catalog always opens and can be repaired."""
        try:
            validator = self._compile()
            self.problems.pop("shapes", None)
            return validator
        except SemcatError as e:
            log.error("the stored shapes do not compile (%s); validating with the shipped "
                      "core shapes until an admin repairs %s", e.detail, self.layout.shapes.value)
            self.problems["shapes"] = (f"the stored shapes do not compile: {e.detail}; writes "
                                       "are validated with the shipped core shapes until an "
                                       f"admin repairs {self.layout.shapes.value}")
            return Validator(compile_shapes(parse_rdf(core_shapes_turtle(), RdfFormat.TURTLE),
                                            parse_rdf(ontology_turtle(), RdfFormat.TURTLE)))

    def _rest_vocabulary(self) -> Vocabulary:
        try:
            vocabulary = self.attributes.vocabulary()
            self.problems.pop("attributes", None)
            return vocabulary
        except Exception as e:  # never keep the catalog from opening
            log.exception("the custom attributes could not be read")
            self.problems["attributes"] = f"the custom attributes could not be read: {e}"
            return BUILT_IN

    def on_applied(self, cs: Changeset) -> None:
        """Recompile once a change of the vocabulary is applied."""
        vocabulary = self._vocabulary_graphs()
        if any(q.graph_name in vocabulary for q in (*cs.removed, *cs.added)):
            proposed, self._proposed = None if self.journal.following else self._proposed, None
            self.validator = proposed if proposed is not None else self._compile_shapes()
            if proposed is not None:
                self.problems.pop("shapes", None)
            self.vocabulary = self._rest_vocabulary()

    def check(self, removed: set[Quad], added: set[Quad]) -> tuple[Results, Results]:
        """Everything that may refuse a change, before it is logged: rule texts, the
        vocabulary compiling, who may write which workspace, SHACL, references, authorisation
        per partition and (optionally) disjointness.

        SHACL reads the store as the caller may read it and comes before authorisation, so a
        reference to an asset hidden from the caller is refused exactly as one to an absent
        asset. Assets the change only moves between access partitions (consequences of it, such
        as what lies downstream of a column that became PII) are neither validated nor
        authorised: their content does not change and the caller chose none of it."""
        check_rule_texts(self.store, removed, added, self.layout.id_base)
        validator = self.validator
        self._proposed = None
        vocabulary = self._vocabulary_graphs()
        if any(q.graph_name in vocabulary for q in (*removed, *added)):
            validator = self._proposed = self._compile(removed, added)
        moved = self.access.moved_only(removed, added)
        self.access.authorize_workspaces(removed, added, moved=moved)
        violations: Results = []
        warnings: Results = []
        if self.settings.validate_writes:
            focus = ({q.subject for q in removed} | {q.subject for q in added}) - moved
            readable = self.access.readable()
            source = self.store if readable is None else Restricted(self.store, readable)
            report = validator.validate(focus, ChangeView(source, removed, added))
            violations = [r.to_json() for r in report.violations]
            warnings = [r.to_json() for r in report.warnings]
        if self.settings.refuse_inconsistent_writes:
            violations += self._disjointness().violations(self.store, removed, added)
        if not violations:
            self.access.check_references(removed, added)
            self.access.authorize(removed, added, moved=moved)
        return violations, warnings

    def _disjointness(self) -> DisjointnessGuard:
        """The disjoint class pairs, rebuilt as the shapes (so the class hierarchy) recompile."""
        validator = self.validator
        if self._guard is None or self._guard[0] is not validator:
            self._guard = (validator, DisjointnessGuard(self.store,
                                                        validator.shapes.superclasses))
        return self._guard[1]
