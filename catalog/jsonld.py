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
        ("owners", "owner", ID, True),
        ("tags", "tag", ID, True),
        ("terms", "glossaryTerm", ID, True),
        ("classifications", "classification", ID, True),
        ("derivedFrom", "derivedFrom", ID, True),
        ("consumes", "consumes", ID, True),
        ("produces", "produces", ID, True),
        ("runOf", "runOf", ID, False),
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
    """The JSON keys of REST bodies: the built-in terms plus the custom attributes governance
    teams define, so attribute values read and write like any other property."""

    def __init__(self, custom: tuple[Term, ...] = ()) -> None:
        self.terms = (*TERMS, *custom)
        self.custom = custom
        self.by_key = {t.key: t for t in self.terms}
        self.by_iri = {t.iri: t for t in self.terms}
        self.order = {k: i for i, k in enumerate(("id", "type", *self.by_key))}

    def context(self) -> dict[str, Any]:
        """The published context (served at /api/v1/context.jsonld)."""
        ctx: dict[str, Any] = {"@version": 1.1, "id": "@id", "type": "@type", **PREFIXES}
        ctx.update({c: f"semcat:{c}" for c in CLASSES})
        for t in self.terms:
            iri = "semcat:" + t.iri.removeprefix(SEMCAT) if t.iri.startswith(SEMCAT) else t.iri
            entry: dict[str, Any] = {"@id": iri}
            if t.kind == ID:
                entry["@type"] = "@id"
            elif t.kind != STRING:
                entry["@type"] = "xsd:" + t.kind
            if t.many:
                entry["@container"] = "@set"
            ctx[t.key] = entry
        return ctx

    def is_property_key(self, key: str) -> bool:
        """Keys the context maps: its terms, absolute IRIs and CURIEs of known prefixes."""
        if key in self.by_key or key in KEYWORDS:
            return True
        prefix = key.split(":", 1)[0]
        return ":" in key and (prefix in PREFIXES or bool(_ABSOLUTE.match(key) and "//" in key))


BUILT_IN = Vocabulary()
BY_KEY = BUILT_IN.by_key


def compact_iri(iri: str, id_base: str) -> str:
    return iri[len(id_base):] if iri.startswith(id_base) else iri


def compact_type(iri: str) -> str:
    local = iri.removeprefix(SEMCAT)
    return local if local in CLASSES and iri.startswith(SEMCAT) else iri


def compact_value(term: Term | None, value: Any, id_base: str) -> Any:
    """``value`` is a pyoxigraph term; plain JSON where the term's coercion allows."""
    kind = type(value).__name__
    if kind == "NamedNode":
        if term is not None and term.kind == ID:
            return compact_iri(value.value, id_base)
        return {"@id": compact_iri(value.value, id_base)}
    if kind == "BlankNode":
        return {"@id": f"_:{value.value}"}
    if term is not None and term.kind != ID and value.datatype.value == DATATYPES[term.kind]:
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
            types.append(compact_type(q.object.value))
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
