"""Classification rules as catalog resources: create, read, replace, delete, reapply.

A rule is a resource under the id base (``rule/{slug}``, in the directory graph) typed
``semcat:ClassificationRule``, written through the journal like any asset, so it has versions
and history. Its text is checked before anything is written (``reasoning.rules.compile_rule``,
plus a dry run over the whole catalog on the store's engine, within the query deadline, where
queries can be stopped: routing runs a changed rule over every asset inside the write, so a rule
that cannot finish must be refused first); the journal's callback then reapplies the rules
(``reasoning.classifier``). Who may manage rules is decided by the caller of these methods,
which all take the ``actor``.
"""

from __future__ import annotations

import re
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from graph_store.errors import Conflict, InputError, NotFound, QueryTimeout
from graph_store.journal import SYSTEM_PREDICATES, VERSION, Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from graph_store.query_pool import QueryPool
from graph_store.query_worker import sparql_json
from ontology.namespaces import RDF_TYPE, XSD
from reasoning.classifier import Classifier, DerivationReport
from reasoning.rules import (
    CONSTRUCT_TEXT,
    DESCRIPTION,
    ENABLED,
    NAME,
    RULE_CLASS,
    CompiledRule,
    compile_rule,
    evaluate,
)

__all__ = ["RuleService"]

PREFIX = "rule/"
FIELDS = frozenset({"id", "type", "name", "description", "construct", "enabled"})
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}\Z")
_TYPE = NamedNode(RDF_TYPE)
_BOOLEAN = NamedNode(XSD + "boolean")


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100]


class RuleService:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout,
                 classifier: Classifier, *, pool: QueryPool | None = None,
                 timeout_s: float = 30.0, max_bytes: int = 256 * 1024 * 1024) -> None:
        self._journal = journal
        self._store = store
        self._layout = layout
        self._classifier = classifier
        self._pool = pool  # where the dry run can be stopped (on-disk catalogs)
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes

    # -- reads -------------------------------------------------------------------------------
    def key(self, given: str) -> str:
        """``rule/{slug}`` from a slug, a key or an IRI; InputError for anything else."""
        slug = self._layout.key(given).removeprefix(PREFIX)
        if not _SLUG.match(slug):
            raise InputError(f"{given!r} is not a rule id: use rule/ and lower-case letters, "
                             "digits, '.', '_' or '-', e.g. rule/email-columns")
        return PREFIX + slug

    def _iri(self, key: str) -> NamedNode:
        return NamedNode(self._layout.iri(self.key(key)))

    def _current(self, iri: NamedNode) -> list[Quad]:
        return list(self._store.quads(iri, None, None, None))

    def list_all(self) -> list[dict[str, Any]]:
        return [self._document(NamedNode(r.iri.value)) for r in self._classifier.rules()]

    def get(self, key: str, *, conclusions: bool = False) -> dict[str, Any]:
        """One rule; with ``conclusions`` also how many statements it concludes now."""
        iri = self._iri(key)
        if not any(q.predicate == _TYPE and q.object == RULE_CLASS for q in self._current(iri)):
            raise NotFound(f"no classification rule {self.key(key)!r}")
        doc = self._document(iri)
        if conclusions:
            rule = next((r for r in self._classifier.rules() if r.iri == iri), None)
            if rule is not None and rule.compiled is not None:
                doc["conclusions"] = len(evaluate(self._store, self._classifier.dataset(),
                                                  rule.compiled, self._layout.id_base))
        return doc

    def _document(self, iri: NamedNode) -> dict[str, Any]:
        values = {q.predicate: q.object for q in self._current(iri)}
        doc: dict[str, Any] = {"id": self._layout.key(iri.value), "type": "ClassificationRule"}
        for key, p in (("name", NAME), ("description", DESCRIPTION), ("construct", CONSTRUCT_TEXT)):
            if p in values:
                doc[key] = values[p].value  # type: ignore[union-attr]
        enabled = values.get(ENABLED)
        doc["enabled"] = enabled is None or enabled.value in ("true", "1")  # type: ignore[union-attr]
        version = values.get(VERSION)
        if version is not None:
            doc["version"] = int(version.value)  # type: ignore[union-attr]
        rule = next((r for r in self._classifier.rules() if r.iri == iri), None)
        if rule is not None and rule.error:  # written around this service, e.g. by SPARQL Update
            doc["error"] = f"not applied: {rule.error}"
        return doc

    # -- writes ------------------------------------------------------------------------------
    def _quads(self, iri: NamedNode, body: Any) -> list[Quad]:
        """The rule's statements from a JSON body, after checking every field and the text."""
        if not isinstance(body, dict):
            raise InputError("a rule is a JSON object with name, construct and optionally "
                             "description and enabled")
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise InputError(f"unknown fields {unknown}; a rule has {sorted(FIELDS)}")
        if body.get("type", "ClassificationRule") != "ClassificationRule":
            raise InputError("'type' of a rule is ClassificationRule")
        name, text = body.get("name"), body.get("construct")
        description, enabled = body.get("description"), body.get("enabled", True)
        if not isinstance(name, str) or not name.strip():
            raise InputError("'name' is required: a short label such as 'E-mail columns'")
        if description is not None and not isinstance(description, str):
            raise InputError("'description' must be a string")
        if not isinstance(enabled, bool):
            raise InputError("'enabled' must be true or false")
        if not isinstance(text, str):
            raise InputError("'construct' is required: the rule's SPARQL CONSTRUCT text")
        self._dry_run(compile_rule(text, self._layout.id_base))
        graph = self._layout.directory
        quads = [Quad(iri, _TYPE, RULE_CLASS, graph), Quad(iri, NAME, Literal(name), graph),
                 Quad(iri, CONSTRUCT_TEXT, Literal(text), graph),
                 Quad(iri, ENABLED, Literal(str(enabled).lower(), datatype=_BOOLEAN), graph)]
        if description:
            quads.append(Quad(iri, DESCRIPTION, Literal(description), graph))
        return quads

    def _dry_run(self, compiled: CompiledRule) -> None:
        """The rule over every asset on the store's own engine (its SPARQL dialect is what will
        run the rule), stopped at the query deadline where a pool of workers runs queries."""
        dataset = self._classifier.dataset()
        if self._pool is None:
            evaluate(self._store, dataset, compiled, self._layout.id_base)
            return
        try:
            self._pool.run(compiled.bound(None), dataset, self._layout.id_base, accept=None,
                           choose=sparql_json, extra_types=(), timeout_s=self._timeout_s,
                           max_bytes=self._max_bytes)
        except QueryTimeout as e:
            raise InputError(
                f"the rule did not finish over the catalog within {self._timeout_s:g} s, and "
                "every write that changes rules runs it; bind ?this in every pattern") from e

    def create(self, body: Any, *, actor: str) -> dict[str, Any]:
        """A new rule; its id is the body's ``id`` or made from its name. Conflict if taken."""
        if not isinstance(body, dict):
            raise InputError("a rule is a JSON object")
        given = body.get("id")
        if given is None:
            if not isinstance(body.get("name"), str):
                raise InputError("'name' is required: a short label such as 'E-mail columns'")
            given = _slugify(body["name"])
        if not isinstance(given, str):
            raise InputError("'id' must be a string such as rule/email-columns")
        key = self.key(given)
        if self._current(self._iri(key)):
            raise Conflict(f"rule {key!r} exists; replace it with PUT /api/v1/rules/"
                           f"{key.removeprefix(PREFIX)} or pick another id")
        return self._write(key, body, actor=actor, verb="create")

    def put(self, key: str, body: Any, *, actor: str) -> tuple[dict[str, Any], bool]:
        """Create or replace the rule ``key``; True when it was created."""
        key = self.key(key)
        if isinstance(body, dict) and body.get("id") is not None and \
                self.key(str(body["id"])) != key:
            raise InputError(f"the body's id {body['id']!r} differs from the URL's {key!r}")
        created = not self._current(self._iri(key))
        return self._write(key, body, actor=actor, verb="create" if created else "update"), created

    def _write(self, key: str, body: Any, *, actor: str, verb: str) -> dict[str, Any]:
        iri = self._iri(key)
        new = self._quads(iri, {k: v for k, v in body.items() if k != "id"})
        with self._journal.lock:
            old = [q for q in self._current(iri) if q.predicate.value not in SYSTEM_PREDICATES]
            self._journal.commit(old, new, actor=actor, message=f"rule {key}: {verb}")
        return self._document(iri)

    def delete(self, key: str, *, actor: str) -> None:
        """Remove a rule; its conclusions are retracted."""
        iri = self._iri(key)
        with self._journal.lock:
            current = self._current(iri)
            if not any(q.predicate == _TYPE and q.object == RULE_CLASS for q in current):
                raise NotFound(f"no classification rule {self.key(key)!r}")
            self._journal.commit(current, [], actor=actor, message=f"rule {self.key(key)}: delete",
                                 exact=True)

    def reapply(self) -> DerivationReport:
        """Recompute every rule conclusion, propagated classification and inherited tag."""
        return self._classifier.reapply()
