"""Turning REST JSON-LD items into the quads of one asset each, with per-item errors.

Checks here are the ones JSON-LD itself cannot make (it silently drops unknown keys and invalid
IRIs): unknown properties, wrong value shapes, missing names, ids that don't match natural keys.
SHACL validation of the resulting graph comes on top (DESIGN.md, principle 4).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from catalog.jsonld import (
    BOOLEAN,
    BUILT_IN,
    DATE,
    DATETIME,
    DECIMAL,
    ID,
    INTEGER,
    SYSTEM_KEYS,
    Vocabulary,
)
from graph_store.errors import InputError, ValidationFailed
from graph_store.keys import canonical_key, encode_segment
from graph_store.layout import DATA_KINDS, RESERVED_WORKSPACES, GraphLayout
from ontology.namespaces import SEMCAT
from publishing.urls import served

IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)\Z")


@dataclass(frozen=True)
class AssetInput:
    index: int
    key: str
    iri: str
    graph: NamedNode
    workspace: str | None
    quads: tuple[Quad, ...]


def as_key(value: str) -> str | None:
    """The canonical spelling of an asset id given in any form (graph_store/keys.py), or None
    when ``value`` can be no id."""
    try:
        return canonical_key(value)
    except InputError:
        return None


def data_kind(types: list[str], vocabulary: Vocabulary) -> str | None:
    """The id segment of a data asset's kind: its type's, or its nearest superclass's (a custom
    subclass of Table is keyed like a Table); None for other assets."""
    kinds = vocabulary.kinds_of([vocabulary.classes[t] for t in types
                                 if isinstance(t, str) and t in vocabulary.classes])
    found = [(len(vocabulary.kinds_of([SEMCAT + name])), kind) for name, kind in DATA_KINDS.items()
             if SEMCAT + name in kinds]
    return max(found)[1] if found else None  # the most specific: a View is a Table too


def natural_key(item: dict[str, Any], vocabulary: Vocabulary = BUILT_IN) -> str | None:
    """``{workspace}/{kind}/{platform}/{qualifiedName}``, each part one encoded segment."""
    types = item.get("type")
    kind = data_kind(types if isinstance(types, list) else [str(types)], vocabulary)
    ws, platform, qn = item.get("workspace"), item.get("platform"), item.get("qualifiedName")
    if not (kind and isinstance(ws, str) and isinstance(platform, str) and isinstance(qn, str)
            and qn and as_key(ws) and as_key(platform)):
        return None
    return f"{as_key(ws)}/{kind}/{as_key(platform).rsplit('/', 1)[-1]}/{encode_segment(qn)}"  # type: ignore[union-attr]


def _nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_nul(k) or _nul(v) for k, v in value.items())
    return False


def _check_value(key: str, value: Any, vocabulary: Vocabulary) -> str | None:
    term = vocabulary.by_key.get(key)
    if term is None:  # an IRI-named property: plain JSON-LD values, no nested nodes
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, dict) and not ({"@id"} >= v.keys() or "@value" in v):
                return f"'{key}' holds a nested object; give it its own id and refer to it"
        return None
    if term.many and not isinstance(value, list):
        value = [value]
    elif not term.many and isinstance(value, list):
        return f"'{key}' takes one value, got a list of {len(value)}"
    for v in value if term.many else [value]:
        if term.kind == ID:
            if not isinstance(v, str) or reference(v) is None:
                return f"'{key}' must be an asset id (a key like 'acme/table/pg/db.s.t') or an IRI; got {v!r}"
        elif term.kind == INTEGER:
            if not isinstance(v, int) or isinstance(v, bool):
                return f"'{key}' must be an integer; got {v!r}"
        elif term.kind == DECIMAL:
            if not isinstance(v, int | float | str) or isinstance(v, bool) or not _DECIMAL.match(str(v)):
                return f"'{key}' must be a decimal number; got {v!r}"
        elif term.kind == BOOLEAN:
            if not isinstance(v, bool):
                return f"'{key}' must be true or false; got {v!r}"
        elif term.kind in (DATETIME, DATE):
            try:
                (datetime.fromisoformat(str(v).replace("Z", "+00:00")) if term.kind == DATETIME
                 else date.fromisoformat(str(v)))
            except ValueError:
                example = "2026-01-31T12:00:00Z" if term.kind == DATETIME else "2026-01-31"
                return f"'{key}' must be an ISO 8601 {term.kind} like {example}; got {v!r}"
        elif not isinstance(v, str):
            return f"'{key}' must be a string; got {v!r}"
    return None


def reference(value: str) -> str | None:
    """What a reference names: an absolute IRI as given, an id in its canonical spelling;
    None for neither."""
    if IRI.match(value) and not value.startswith("./"):
        try:
            return NamedNode(value).value
        except ValueError:
            return None
    return as_key(value)


def _canonical_references(clean: dict[str, Any], vocabulary: Vocabulary) -> None:
    """References in their canonical spelling, so that each form names one IRI."""
    for k, v in clean.items():
        term = vocabulary.by_key.get(k)
        if term is not None and term.kind == ID:
            values = [reference(x) or x if isinstance(x, str) else x
                      for x in (v if isinstance(v, list) else [v])]
            clean[k] = values if isinstance(v, list) else values[0]


def _check_type(kind: Any, vocabulary: Vocabulary) -> str | None:
    kinds = kind if isinstance(kind, list) and kind else [kind]
    unknown = [k for k in kinds if not isinstance(k, str) or k not in vocabulary.classes]
    if unknown:
        return (f"'type' must be one of {sorted(vocabulary.classes)} (or a list of them); got "
                f"{kind!r}")
    return None


def _check_item(item: Any, context_url: str,
                vocabulary: Vocabulary) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"an asset must be a JSON object, got {type(item).__name__}"]
    problems: list[str] = []
    ctx = item.get("@context")
    urls = (context_url, served(context_url))  # as the base names it, or this server
    if ctx is not None and ctx not in urls and not (isinstance(ctx, list) and
                                                    any(u in ctx for u in urls)):
        problems.append(f"'@context' must be {context_url} (or left out); for arbitrary JSON-LD "
                        "use the Graph Store protocol at /store")
    clean = {k: v for k, v in item.items() if k not in SYSTEM_KEYS and k != "@context"}
    for alias, keyword in (("@id", "id"), ("@type", "type")):
        if alias in clean:
            clean[keyword] = clean.pop(alias)
    if _nul(clean):
        return clean, ["a NUL character (\\u0000) is no part of any name or value; remove it"]
    kind = clean.get("type")
    problem = _check_type(kind, vocabulary)
    if problem:
        problems.append(problem)
    types = [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]
    # Keys the vocabulary lacks, and keys of terms declared for other classes (Vocabulary
    # .allowed); the message lists the terms meant for the item's types.
    class_iris = [vocabulary.classes[t] for t in types if t in vocabulary.classes]
    unknown = sorted(k for k in clean if not vocabulary.is_property_key(k) or (
        not problem and k in vocabulary.by_key and not vocabulary.allowed(k, class_iris)))
    if unknown:
        what = f"for {' and '.join(types)}" if not problem else "properties"
        known = vocabulary.applicable(class_iris) if not problem else sorted(vocabulary.by_key)
        problems.append(f"unknown properties {unknown} {what}; known {what}: {known} or full "
                        "IRIs")
    name = clean.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("'name' is required and must be a non-empty string")
    for k, v in clean.items():
        if k not in ("id", "type") and vocabulary.is_property_key(k):
            problem = _check_value(k, v, vocabulary)
            if problem:
                problems.append(problem)
    _canonical_references(clean, vocabulary)
    derived = natural_key(clean, vocabulary)
    given = clean.get("id")
    if given is None:
        if derived is None:
            problems.append("'id' is required unless type, workspace, platform and qualifiedName "
                            "give a natural key")
        clean["id"] = derived
    elif not isinstance(given, str) or as_key(given) is None:
        problems.append(f"'id' must be an asset id: segments separated by '/', each a name "
                        f"encoded as the README's 'Ids and names' says; got {given!r}")
    else:
        clean["id"] = as_key(given)
        if derived is not None and clean["id"] != derived:
            problems.append(f"'id' {given!r} does not match its natural key {derived!r}")
    ws = clean.get("workspace")
    if isinstance(ws, str) and ws in RESERVED_WORKSPACES:
        problems.append(f"{ws!r} is reserved (graph names and id prefixes use it); name the "
                        "workspace otherwise")
    if isinstance(ws, str) and isinstance(clean.get("id"), str) and \
            data_kind(types, vocabulary) and not clean["id"].startswith(ws + "/"):
        problems.append(f"'id' must start with its workspace '{ws}/'")
    return clean, problems


def prepare(items: list[Any], layout: GraphLayout, context_url: str,
            vocabulary: Vocabulary = BUILT_IN) -> list[AssetInput]:
    """Validate and convert ``items``; all-or-nothing: any problem raises with every item's."""
    report: list[dict[str, Any]] = []
    cleaned: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        clean, problems = _check_item(item, context_url, vocabulary)
        if clean is not None and isinstance(clean.get("id"), str):
            if clean["id"] in seen:
                problems.append(f"duplicate id {clean['id']!r} (also item {seen[clean['id']]})")
            seen.setdefault(clean["id"], i)
        report += [{"item": i, "id": (clean or {}).get("id"), "message": p} for p in problems]
        if clean is not None:
            cleaned.append(clean)
    if report:
        raise ValidationFailed(
            f"{len({r['item'] for r in report})} of {len(items)} items are invalid; nothing was "
            "written", report=report)
    placed: dict[str, list[dict[str, Any]]] = {}  # graph IRI -> its items
    where: list[tuple[NamedNode, str | None]] = []
    for item in cleaned:
        ws = item.get("workspace")
        # The journal moves each asset on to the access partition its classifications call for
        # (access/service.py); every asset starts in its workspace's general graph.
        graph = layout.partition(ws, "general") if ws else layout.directory
        placed.setdefault(graph.value, []).append(item)
        where.append((graph, ws))
    # One JSON-LD document whose named graphs are the partitions: the parser emits every quad
    # in its final graph, so no quad is built twice.
    doc = {"@context": [vocabulary.context(), {"@base": layout.id_base}],
           "@graph": [{"@id": g, "@graph": members} for g, members in placed.items()]}
    try:
        quads = parse(json.dumps(doc), format=RdfFormat.JSON_LD)
        by_subject: dict[str, list[Quad]] = {}
        for q in quads:
            by_subject.setdefault(q.subject.value, []).append(q)
    except SyntaxError as e:
        raise InputError(f"the items are not valid JSON-LD: {e}") from e
    return [AssetInput(i, item["id"], iri, graph, ws, tuple(by_subject.get(iri, ())))
            for i, (item, (graph, ws)) in enumerate(zip(cleaned, where, strict=True))
            for iri in (layout.iri(item["id"]),)]
