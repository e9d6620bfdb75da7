"""The REST representation: compact JSON-LD under one published ``@context``.

Input is turned into RDF by pyoxigraph's JSON-LD parser (the context is inlined, never fetched);
output is compacted here from the same term table, so every response is linked data that a
JSON-LD processor expands back to the stored triples (a test checks this with rdflib).
References are IRIs relative to ``{base}/id/`` (the ``@base``), i.e. asset keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ontology.namespaces import CLASSES, PREFIXES, RDF_TYPE, SEMCAT, XSD

ID, STRING, INTEGER, DATETIME = "id", "string", "integer", "dateTime"
DECIMAL, BOOLEAN, DATE = "decimal", "boolean", "date"


@dataclass(frozen=True)
class Term:
    key: str  # the JSON key
    iri: str
    kind: str
    many: bool
    datatype: str = ""  # the literal datatype when not the kind's own (xsd:double is a DECIMAL)

    @property
    def datatype_iri(self) -> str:
        return self.datatype or DATATYPES.get(self.kind, "")


TERMS: tuple[Term, ...] = tuple(
    Term(key, SEMCAT + local, kind, many)
    for key, local, kind, many in (
        ("name", "name", STRING, False),
        ("qualifiedName", "qualifiedName", STRING, False),
        ("description", "description", STRING, False),
        ("workspace", "workspace", ID, False),
        ("platform", "platform", ID, False),
        ("partOf", "partOf", ID, False),
        ("dataType", "dataType", STRING, False),
        ("position", "position", INTEGER, False),
        ("nullable", "nullable", BOOLEAN, False),
        ("defaultValue", "defaultValue", STRING, False),
        ("primaryKey", "primaryKey", BOOLEAN, False),
        ("references", "references", ID, True),
        ("rowCount", "rowCount", INTEGER, False),
        ("nullFraction", "nullFraction", DECIMAL, False),
        ("distinctCount", "distinctCount", INTEGER, False),
        ("ingestionSource", "ingestionSource", STRING, False),
        ("assertsOn", "assertsOn", ID, True),
        ("assertionType", "assertionType", STRING, False),
        ("lastResult", "lastResult", STRING, False),
        ("lastEvaluatedAt", "lastEvaluatedAt", DATETIME, False),
        ("failureCount", "failureCount", INTEGER, False),
        ("owners", "owner", ID, True),
        ("tags", "tag", ID, True),
        ("terms", "glossaryTerm", ID, True),
        ("classifications", "classification", ID, True),
        ("derivedFrom", "derivedFrom", ID, True),
        ("copiedFrom", "copiedFrom", ID, True),
        ("transformedFrom", "transformedFrom", ID, True),
        ("aggregatedFrom", "aggregatedFrom", ID, True),
        ("influencedBy", "influencedBy", ID, True),
        ("transformation", "transformation", STRING, False),
        ("consumes", "consumes", ID, True),
        ("produces", "produces", ID, True),
        ("runOf", "runOf", ID, False),
        ("used", "used", ID, True),
        ("generated", "generated", ID, True),
        ("facets", "facets", STRING, False),
        ("status", "status", STRING, False),
        ("startedAt", "startedAt", DATETIME, False),
        ("endedAt", "endedAt", DATETIME, False),
        ("email", "email", STRING, False),
        ("memberOf", "memberOf", ID, True),
        ("hasRole", "hasRole", ID, True),
        ("grants", "grants", ID, True),
        ("sharedWith", "sharedWith", ID, True),
        ("effect", "effect", STRING, False),
        ("action", "action", STRING, False),
        ("targetClassification", "targetClassification", ID, False),
        ("targetWorkspace", "targetWorkspace", ID, False),
        ("callerMemberOf", "callerMemberOf", ID, False),
        ("callerProperty", "callerProperty", ID, False),
        ("callerValue", "callerValue", STRING, False),
        ("exceptOwners", "exceptOwners", BOOLEAN, False),
        ("declassifies", "declassifies", ID, True),
        ("propagates", "propagates", BOOLEAN, False),
        ("inheritable", "inheritable", BOOLEAN, False),
        ("version", "version", INTEGER, False),
        ("createdAt", "createdAt", DATETIME, False),
        ("createdBy", "createdBy", ID, False),
        ("updatedAt", "updatedAt", DATETIME, False),
        ("updatedBy", "updatedBy", ID, False),
    )
)
SYSTEM_KEYS = frozenset({"version", "createdAt", "createdBy", "updatedAt", "updatedBy"})
KEYWORDS = frozenset({"@context", "id", "type", "@id", "@type"})
DATATYPES = {STRING: XSD + "string", INTEGER: XSD + "integer", DATETIME: XSD + "dateTime",
             DECIMAL: XSD + "decimal", BOOLEAN: XSD + "boolean", DATE: XSD + "date"}
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class Vocabulary:
    """The JSON keys and type names of REST bodies: the built-in terms and classes plus what
    the catalog defines (custom attributes, and classes and properties added to the ontology),
    so that they read and write like built-in ones as soon as they are defined.

    ``superclasses`` maps a class IRI to every class it belongs to (itself included);
    ``meant`` maps a term's key to the classes it is meant for (its rdfs:domain or appliesTo,
    else the classes whose SHACL shapes check it), absent for terms meant for anything: what an
    unknown-property error lists. ``domains`` maps the catalog's own terms to their declared
    domains: using one on anything else is refused, since OWL would infer the asset to be of
    those classes (built-in terms keep their documented, more permissive use)."""

    def __init__(self, custom: tuple[Term, ...] = (), classes: dict[str, str] | None = None,
                 superclasses: dict[str, frozenset[str]] | None = None,
                 meant: dict[str, frozenset[str]] | None = None,
                 domains: dict[str, frozenset[str]] | None = None) -> None:
        self.terms = (*TERMS, *custom)
        self.custom = custom
        self.by_key = {t.key: t for t in self.terms}
        self.by_iri = {t.iri: t for t in self.terms}
        self.order = {k: i for i, k in enumerate(("id", "type", *self.by_key))}
        self.classes = {**{c: SEMCAT + c for c in CLASSES}, **(classes or {})}
        self.class_names = {iri: name for name, iri in self.classes.items()}
        self.superclasses = superclasses or {}
        self.meant = meant or {}
        self.domains = domains or {}

    def context(self) -> dict[str, Any]:
        """The published context (served at /api/v1/context.jsonld)."""
        ctx: dict[str, Any] = {"@version": 1.1, "id": "@id", "type": "@type", **PREFIXES}
        ctx.update({c: _curie(iri) for c, iri in self.classes.items()})
        for t in self.terms:
            entry: dict[str, Any] = {"@id": _curie(t.iri)}
            if t.kind == ID:
                entry["@type"] = "@id"
            elif t.datatype_iri != DATATYPES[STRING]:
                entry["@type"] = _curie(t.datatype_iri)
            if t.many:
                entry["@container"] = "@set"
            ctx[t.key] = entry
        return ctx

    def taken(self, name: str) -> bool:
        """Whether ``name`` is a term of the published context already (a key, a type name, a
        prefix or a keyword alias): a new term of that name would redefine it."""
        return name in self.by_key or name in self.classes or name in PREFIXES or \
            name in KEYWORDS

    def is_property_key(self, key: str) -> bool:
        """Keys the context maps: its terms, absolute IRIs and CURIEs of known prefixes."""
        if key in self.by_key or key in KEYWORDS:
            return True
        prefix = key.split(":", 1)[0]
        return ":" in key and (prefix in PREFIXES or bool(_ABSOLUTE.match(key) and "//" in key))

    def class_iri(self, name: str) -> str | None:
        """A known class by short name (Table, Sensor), CURIE (semcat:Table) or IRI."""
        if name in self.classes:
            return self.classes[name]
        prefix, colon, local = name.partition(":")
        iri = PREFIXES[prefix] + local if colon and prefix in PREFIXES else name
        return iri if iri in self.class_names else None

    def kinds_of(self, class_iris: list[str]) -> set[str]:
        """Every class that instances of ``class_iris`` belong to."""
        return {c for i in class_iris for c in self.superclasses.get(i, frozenset({i}))}

    def allowed(self, key: str, class_iris: list[str]) -> bool:
        """Whether instances of ``class_iris`` may have the term ``key`` (its declared domain)."""
        domain = self.domains.get(key)
        return domain is None or bool(domain & self.kinds_of(class_iris))

    def applicable(self, class_iris: list[str]) -> list[str]:
        """The keys of the terms meant for instances of ``class_iris``."""
        kinds = self.kinds_of(class_iris)
        return sorted(k for k in self.by_key if k not in SYSTEM_KEYS and (
            k not in self.meant or bool(self.meant[k] & kinds)))


def _curie(iri: str) -> str:
    return "semcat:" + iri.removeprefix(SEMCAT) if iri.startswith(SEMCAT) else \
        "xsd:" + iri.removeprefix(XSD) if iri.startswith(XSD) else iri


BUILT_IN = Vocabulary()
BY_KEY = BUILT_IN.by_key


def compact_iri(iri: str, id_base: str) -> str:
    return iri[len(id_base):] if iri.startswith(id_base) else iri


def compact_type(iri: str, vocabulary: Vocabulary = BUILT_IN) -> str:
    return vocabulary.class_names.get(iri, iri)


def compact_value(term: Term | None, value: Any, id_base: str) -> Any:
    """``value`` is a pyoxigraph term; plain JSON where the term's coercion allows."""
    kind = type(value).__name__
    if kind == "NamedNode":
        if term is not None and term.kind == ID:
            return compact_iri(value.value, id_base)
        return {"@id": compact_iri(value.value, id_base)}
    if kind == "BlankNode":
        return {"@id": f"_:{value.value}"}
    if term is not None and term.kind != ID and value.datatype.value == term.datatype_iri:
        if term.kind == INTEGER and value.value.lstrip("-").isdigit():
            return int(value.value)
        if term.kind == BOOLEAN and value.value in ("true", "false"):
            return value.value == "true"
        return value.value
    if value.language:
        return {"@value": value.value, "@language": value.language}
    if value.datatype.value == DATATYPES[STRING]:
        return {"@value": value.value}
    return {"@value": value.value, "@type": value.datatype.value}


def compact(subject: str, quads: list[Any], id_base: str,
            vocabulary: Vocabulary = BUILT_IN) -> dict[str, Any]:
    """One resource's quads as a compact JSON-LD node (without ``@context``)."""
    node: dict[str, Any] = {"id": compact_iri(subject, id_base)}
    types: list[str] = []
    for q in quads:
        p = q.predicate.value
        if p == RDF_TYPE and type(q.object).__name__ == "NamedNode":
            types.append(compact_type(q.object.value, vocabulary))
            continue
        term = vocabulary.by_iri.get(p)
        key = term.key if term else p
        value = compact_value(term, q.object, id_base)
        if term is not None and not term.many and key not in node:
            node[key] = value
        else:
            current = node.get(key, [])
            node[key] = [*(current if isinstance(current, list) else [current]), value]
    if types:
        node["type"] = types[0] if len(types) == 1 else sorted(types)
    order = vocabulary.order
    return {k: (sorted(node[k], key=str) if isinstance(node[k], list) else node[k])
            for k in sorted(node, key=lambda k: (order.get(k, len(order)), k))}
