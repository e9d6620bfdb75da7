"""Assets: upsert by natural key, read (at any version), list, patch, delete, history and diffs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyoxigraph import Literal, NamedNode, Quad

from catalog.asset_input import AssetInput, prepare
from catalog.jsonld import ID, Vocabulary, compact
from graph_store.changelog import VersionInfo
from graph_store.errors import InputError, NotFound, PreconditionFailed
from graph_store.journal import RETRIES, SYSTEM_PREDICATES, VERSION, Journal, StaleChange
from graph_store.layout import GraphLayout
from graph_store.overlay import scratch
from graph_store.protocol import Dataset, GraphStore
from ontology.namespaces import RDFS, SEMCAT
from publishing.urls import served

if TYPE_CHECKING:
    from access.service import AccessService


class StaleRead(Exception):
    """A write landed on an asset after a patch read it without the lock: it reads again."""


@dataclass(frozen=True)
class WriteResult:
    id: str
    version: int
    status: str  # created | updated | unchanged | deleted
    warnings: tuple[dict[str, Any], ...] = ()  # SHACL warnings about this asset


WARNING_EXAMPLES = 3  # per kind, in a bulk write's warning summary


def warning_summary(results: list[WriteResult], *, examples: int = WARNING_EXAMPLES
                    ) -> dict[str, Any]:
    """A bulk write's SHACL warnings as counts per kind (severity, constraint and path) with
    a few examples each: 5,700 assets without descriptions or owners gave 6,587 warnings
    (2.8 MB) when every one was listed."""
    kinds: dict[tuple[str, str, str], dict[str, Any]] = {}
    total = 0
    for r in results:
        for w in r.warnings:
            total += 1
            key = (str(w.get("severity", "")), str(w.get("constraint", "")),
                   str(w.get("path", "")))
            kind = kinds.setdefault(key, {"severity": key[0], "constraint": key[1],
                                          "path": key[2], "count": 0, "examples": []})
            kind["count"] += 1
            if len(kind["examples"]) < examples:
                kind["examples"].append(w)
    return {"total": total, "kinds": sorted(kinds.values(), key=lambda k: -k["count"])}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]  # compact nodes, without @context
    next_cursor: str | None


SORTS = {"name": "name", "qualifiedName": "qualifiedName", "updatedAt": "updatedAt",
         "createdAt": "createdAt"}
FILTERS = {"platform": "platform", "tag": "tag", "owner": "owner", "workspace": "workspace",
           "partOf": "partOf", "classification": "classification", "term": "glossaryTerm"}


def _sparql_cursor(cursor: str | None) -> bool:
    """Whether a cursor is the SPARQL list's ([sort value, IRI]) rather than the index's."""
    if not cursor:
        return False
    try:
        return isinstance(json.loads(base64.urlsafe_b64decode(cursor.encode())), list)
    except (ValueError, TypeError):
        return False


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = _merge_patch(result.get(k), v)
    return result


# Lists a page of asset keys from the text index: (type, filters, sort, limit, cursor) ->
# (keys, next cursor), or None while the index is behind the store (catalog/search.py browse).
Browse = Callable[[tuple[str, ...], dict[str, str], str, int, str | None],
                  tuple[list[str], str | None] | None]
# filters whose values the text index holds exactly as asserted (tags may be inherited and
# classifications derived there: those lists take the index only with infer)
ASSERTED_IN_INDEX = frozenset({"platform", "owner", "workspace", "term"})


class AssetService:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout,
                 access: AccessService, *, vocabulary: Callable[[], Vocabulary],
                 context_url: str, max_page_size: int, browse: Browse | None = None) -> None:
        self._journal = journal
        self._browse = browse
        self._store = store
        self._layout = layout
        self.access = access  # hides what the caller may not read
        self._vocabulary = vocabulary  # changes when custom attributes do
        self.context_url = context_url
        self._max_page = max_page_size

    @property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary()

    # -- reads -------------------------------------------------------------------------------
    def _iri(self, key: str) -> str:
        """The IRI of an asset id in any spelling (encoded or as the source names it)."""
        iri = self._layout.iri(key)
        if not self._layout.is_versioned(iri):
            raise InputError(f"{key!r} is not an asset id (ids look like acme/table/pg/db.s.t)")
        return iri

    def key(self, key: str) -> str:
        """The canonical spelling of an asset id (README, "Ids and names")."""
        return self._layout.key(self._iri(key))

    def _current(self, iri: str) -> list[Quad]:
        return list(self._store.quads(NamedNode(iri), None, None, None))

    def _visible(self, iri: str) -> list[Quad]:
        """The asset's statements in graphs the caller may read."""
        quads = self._current(iri)
        return self.access.visible(quads)

    def _dataset(self, infer: bool = True) -> Dataset:
        """The caller's graphs; without ``infer``, the asserted ones only (no inferred graphs)."""
        dataset = Dataset() if infer else Dataset(default=tuple(
            g for g in self._store.named_graphs() if not self._layout.is_inferred(g)))
        return self.access.restrict(dataset, infer=infer)

    def inferred(self, iri: str) -> list[Quad]:
        """What the reasoners infer about ``iri``, in the inferred graphs the caller may read."""
        return self.access.visible(self._store.derived(NamedNode(iri)))

    def _version_of(self, quads: list[Quad]) -> int:
        return next((int(q.object.value) for q in quads if q.predicate == VERSION), 0)  # type: ignore[union-attr]

    def context(self, **extra: str) -> list[Any]:
        """A body's @context: the published one plus the @base that makes ids asset keys."""
        return [served(self.context_url), {"@base": self._layout.id_base, **extra}]

    def document(self, iri: str, quads: list[Quad]) -> dict[str, Any]:
        return {"@context": self.context(),
                **compact(iri, quads, self._layout.id_base, self.vocabulary)}

    def canonical(self, items: list[Any]) -> list[dict[str, Any]]:
        """``items`` as ``get`` would give them back once written (values in the store's
        lexical forms, ids canonical), without writing; InputError as a write would raise."""
        inputs = prepare(items, self._layout, self.context_url, self.vocabulary)
        stored = scratch(q for a in inputs for q in a.quads)  # the store's lexical forms
        return [compact(a.iri, list(stored.quads(NamedNode(a.iri))), self._layout.id_base,
                        self.vocabulary) for a in inputs]

    def get(self, key: str, version: int | None = None, *, infer: bool = False) -> dict[str, Any]:
        """The asset's document; with ``infer`` (current version only) its inferred statements
        too, apart under ``inferred`` so that a document read back and written stays asserted."""
        iri = self._iri(key)
        if version is not None:
            return self.document(iri, self._at_version(iri, version))
        quads = self._visible(iri)
        if not quads:
            history = self._journal.changelog.versions(iri)
            if history and not self._current(iri) and self._was_visible(iri, history[-1].version):
                raise NotFound(f"asset {key!r} was deleted in version {history[-1].version}; "
                               f"read an older one with ?version=N")
            raise NotFound(f"no asset with id {key!r}")
        doc = self.document(iri, quads)
        if infer:
            entailed = compact(iri, self.inferred(iri), self._layout.id_base, self.vocabulary)
            doc["inferred"] = {k: v for k, v in entailed.items() if k != "id"}
        return doc

    def _at_version(self, iri: str, version: int) -> list[Quad]:
        history = self._journal.changelog.versions(iri)
        if not history:
            raise NotFound(f"no asset with id {self._layout.key(iri)!r}")
        if not 1 <= version <= history[-1].version:
            raise NotFound(f"asset {self._layout.key(iri)!r} has versions 1 to "
                           f"{history[-1].version}; there is no version {version}")
        state: set[Quad] = set()
        for _, removed, added in self._journal.changelog.deltas(iri, version):
            state.difference_update(removed)
            state.update(added)
        if self.access.readable() is not None:
            if not self._was_visible(iri, version):
                raise NotFound(f"no asset with id {self._layout.key(iri)!r}")
            state = set(self.access.visible(state))
        if not state:
            raise NotFound(f"version {version} of {self._layout.key(iri)!r} is its deletion")
        return sorted(state, key=str)

    def _was_visible(self, iri: str, version: int) -> bool:
        """Whether the caller may read the asset as it is now or, once deleted, as it was
        before: what a caller may not read has no history for them either."""
        if self.access.readable() is None:
            return True
        current = self._current(iri)
        if current:
            return bool(self.access.visible(current))
        state: set[Quad] = set()
        for _, removed, added in self._journal.changelog.deltas(iri, max(1, version - 1)):
            state.difference_update(removed)
            state.update(added)
        return bool(self.access.visible(state))

    def versions(self, key: str) -> list[VersionInfo]:
        history = self._journal.changelog.versions(self._iri(key))
        if history and not self._was_visible(self._iri(key), history[-1].version):
            history = []
        if not history:
            raise NotFound(f"no asset with id {key!r}")
        return history

    def diff(self, key: str, from_version: int, to_version: int) -> dict[str, Any]:
        iri = self._iri(key)
        def content(v: int) -> set[Quad]:
            try:
                return {q for q in self._at_version(iri, v) if q.predicate.value not in
                        SYSTEM_PREDICATES}
            except NotFound:
                if v < 1:
                    raise
                return set()  # the deletion
        old, new = content(from_version), content(to_version)
        def part(quads: set[Quad]) -> dict[str, Any]:
            node = compact(iri, sorted(quads, key=str), self._layout.id_base, self.vocabulary)
            node.pop("id")
            return node
        return {"id": key, "from": from_version, "to": to_version,
                "removed": part(old - new), "added": part(new - old)}

    def page(self, *, type: str | None = None, q: str | None = None, sort: str = "name",
             limit: int = 50, cursor: str | None = None,
             attributes: dict[str, str] | None = None, infer: bool = False,
             **filters: str | None) -> Page:
        """A page of assets; ``attributes`` filters by custom attribute values (key → value);
        with ``infer`` the filters match inferred statements too (entailed types,
        classifications), else asserted ones only."""
        limit = max(1, min(limit, self._max_page))
        desc = sort.startswith("-")
        field = sort.lstrip("-")
        if field not in SORTS:
            raise InputError(f"cannot sort by {field!r}; use one of {sorted(SORTS)} (prefix - "
                             "for descending)")
        given = {k: v for k, v in filters.items() if v is not None}
        # The index knows asserted types only: a list by type asks it for the type and every
        # subclass the ontology gives it (as the store's ``?t rdfs:subClassOf* type`` would);
        # entailed types (``infer``) are the store's to answer.
        kinds = self._kinds(type) if type else ()
        if self._browse is not None and not q and not attributes and not (type and infer) and \
                field in ("name", "updatedAt") and not _sparql_cursor(cursor) and \
                (infer or set(given) <= ASSERTED_IN_INDEX):
            found = self._browse(kinds, given, sort, limit, cursor)
            if found is not None:  # else the index lags behind the store: SPARQL answers
                keys, nxt = found
                items = [compact(iri, quads, self._layout.id_base, self.vocabulary)
                         for iri in map(self._layout.iri, keys) if (quads := self._visible(iri))]
                return Page(items, nxt)
        where = [f"?s <{SEMCAT}name> ?name .", f"?s <{SEMCAT}{SORTS[field]}> ?v ."]
        if type:
            cls = self.vocabulary.class_iri(type)
            assert cls is not None  # checked by _kinds
            where.append(f"?s a ?t . ?t <{RDFS}subClassOf>* {NamedNode(cls)} .")
        for name, value in filters.items():
            if value is None:
                continue
            if name not in FILTERS:
                raise InputError(f"unknown filter {name!r}; use one of {sorted(FILTERS)}")
            where.append(f"?s <{SEMCAT}{FILTERS[name]}> {NamedNode(self._iri(value))} .")
        for key, value in (attributes or {}).items():
            term = self.vocabulary.by_key.get(key)
            if term is None or term not in self.vocabulary.custom:
                raise InputError(f"no custom attribute {key!r} to filter by")
            obj = NamedNode(self._iri(value)) if term.kind == ID else \
                Literal(value, datatype=NamedNode(term.datatype_iri))
            where.append(f"?s <{term.iri}> {obj} .")
        conditions = [f"STRSTARTS(STR(?s), {Literal(self._layout.id_base)})"]
        if q:
            conditions.append(f"STRSTARTS(LCASE(STR(?name)), LCASE({Literal(q)}))")
        if cursor:
            try:
                if not _sparql_cursor(cursor):
                    raise ValueError(cursor)
                last_v, last_s = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            except (ValueError, TypeError) as e:
                raise InputError("the cursor is not one this server returned for this list; "
                                 "send the same filters and sort") from e
            op = "<" if desc else ">"
            lv, ls = Literal(str(last_v)), Literal(str(last_s))
            conditions.append(f"(STR(?v) {op} {lv} || (STR(?v) = {lv} && STR(?s) > {ls}))")
        order = f"{'DESC' if desc else 'ASC'}(STR(?v)) ?s"
        sparql = (f"SELECT ?s ?v WHERE {{ {' '.join(where)} FILTER({' && '.join(conditions)}) }}"
                  f" ORDER BY {order} LIMIT {limit + 1}")
        rows = [(r["s"].value, r["v"].value)
                for r in self._store.query(sparql, dataset=self._dataset(infer))]  # type: ignore[attr-defined]
        items = [compact(s, self._visible(s), self._layout.id_base, self.vocabulary)
                 for s, _ in rows[:limit]]
        nxt = None
        if len(rows) > limit:
            last_s, last_v = rows[limit - 1]
            nxt = base64.urlsafe_b64encode(json.dumps([last_v, last_s]).encode()).decode()
        return Page(items, nxt)

    def _kinds(self, type: str) -> tuple[str, ...]:
        """The class named ``type`` and its subclasses, by name."""
        vocabulary = self.vocabulary
        cls = vocabulary.class_iri(type)
        if cls is None:
            raise InputError(f"unknown type {type!r}; use one of {sorted(vocabulary.classes)}")
        subclasses = {c for c, kinds in vocabulary.superclasses.items() if cls in kinds}
        return tuple(sorted(vocabulary.class_names[c] for c in subclasses | {cls}
                            if c in vocabulary.class_names))

    # -- writes ------------------------------------------------------------------------------
    def upsert_many(self, items: list[Any], *, actor: str, message: str = "bulk upsert",
                    expected: dict[str, int] | None = None,
                    read: dict[str, frozenset[Quad]] | None = None) -> list[WriteResult]:
        """All-or-nothing upsert; each item replaces its asset's statements. ``read``: what
        the items were made from, by asset IRI; StaleRead when an asset no longer reads so."""
        inputs = prepare(items, self._layout, self.context_url, self.vocabulary)
        for attempt in range(RETRIES + 1):
            try:
                return self._upsert(inputs, actor=actor, message=message, expected=expected,
                                    read=read)
            except StaleChange:  # on a shared log, another node wrote them first: read again
                if attempt == RETRIES:
                    raise
        raise AssertionError("unreachable")

    def _upsert(self, inputs: list[AssetInput], *, actor: str, message: str,
                expected: dict[str, int] | None,
                read: dict[str, frozenset[Quad]] | None = None) -> list[WriteResult]:
        with self._journal.lock:
            removed: list[Quad] = []
            added: list[Quad] = []
            plan: list[tuple[AssetInput, int, str]] = []
            known: dict[str, list[Quad]] = {}
            unchanged: set[Quad] = set()
            for a in inputs:
                # What the caller may not read is no part of what it replaces: statements in
                # graphs hidden from it (a lineage edge to a PII column) stay as they are, and
                # an asset hidden from it as a whole looks absent.
                current = known[a.iri] = self._current(a.iri)
                current = self.access.visible(current)
                if read is not None and a.iri in read and read[a.iri] != frozenset(current):
                    raise StaleRead(f"asset {a.key!r} changed since it was read")
                version = self._version_of(current)
                if expected is not None and a.key in expected and expected[a.key] != version:
                    raise PreconditionFailed(
                        f"asset {a.key!r} is at version {version}, not {expected[a.key]}; "
                        "re-read it and retry")
                old = {q for q in current if q.predicate.value not in SYSTEM_PREDICATES}
                new = set(a.quads)
                if old == new:
                    plan.append((a, version, "unchanged"))
                    unchanged |= new
                    continue
                removed += old - new
                added += new - old
                plan.append((a, version, "updated" if old else "created"))
            if unchanged:  # a write that changes nothing needs the right to make it all the same
                self.access.permit(set(), unchanged)
            cs = self._journal.commit(removed, added, actor=actor, message=message, exact=True,
                                      known=known, workspace=",".join(sorted({a.workspace or "" for a in
                                                                 inputs} - {""})))
        versions = cs.versions if cs else {}
        warnings: dict[str, list[dict[str, Any]]] = {}
        for w in cs.warnings if cs else ():
            warnings.setdefault(w["focusNode"], []).append(w)
        return [WriteResult(a.key, versions.get(a.iri, v), status, tuple(warnings.get(a.iri, ())))
                for a, v, status in plan]

    def upsert(self, item: Any, *, actor: str, if_match: int | None = None,
               key: str | None = None, read: dict[str, frozenset[Quad]] | None = None
               ) -> WriteResult:
        if key is not None:
            key = self.key(key)
        if key is not None and isinstance(item, dict):
            given = item.get("id", item.get("@id"))
            if given is not None and (not isinstance(given, str) or self.key(given) != key):
                raise InputError(f"the body's id {given!r} differs from the URL's {key!r}")
            item = {**item, "id": key}
        expected = {key: if_match} if key is not None and if_match is not None else None
        return self.upsert_many([item], actor=actor, message="upsert", expected=expected,
                                read=read)[0]

    def patch(self, key: str, patch: Any, *, actor: str, if_match: int | None = None) -> WriteResult:
        if not isinstance(patch, dict):
            raise InputError("a merge patch must be a JSON object")
        key = self.key(key)
        bad = sorted(k for k in patch if k in ("id", "@id") and
                     (not isinstance(patch[k], str) or self.key(patch[k]) != key))
        if bad:
            raise InputError("a patch cannot change an asset's id")
        iri = self._iri(key)
        for attempt in range(RETRIES + 1):
            # Read and merge without the journal's lock, so writers queue only for the commit;
            # the commit checks that the asset still reads as merged (else this tries again).
            # The last try holds the lock throughout: a busy asset still gets its patch.
            last = attempt == RETRIES
            with self._journal.lock if last else nullcontext():
                quads = self._visible(iri)
                if not quads:
                    self.get(key)  # the right NotFound, deleted or never there
                current = self.document(iri, quads)
                merged = _merge_patch(current, patch)
                merged.pop("@context", None)
                try:
                    return self.upsert(merged, actor=actor, key=key,
                                       if_match=if_match if if_match is not None else
                                       int(current.get("version", 0)),
                                       read={iri: frozenset(quads)})
                except StaleRead:
                    continue
                except PreconditionFailed:  # another node changed it meanwhile (shared log)
                    if if_match is not None or last:
                        raise
        raise AssertionError("unreachable")

    def delete(self, key: str, *, actor: str, if_match: int | None = None) -> WriteResult:
        key = self.key(key)
        iri = self._iri(key)
        with self._journal.lock:
            current = self._current(iri)
            if not current or not self._visible(iri):
                raise NotFound(f"no asset with id {key!r}")
            version = self._version_of(current)
            if if_match is not None and if_match != version:
                raise PreconditionFailed(f"asset {key!r} is at version {version}, not {if_match}")
            cs = self._journal.commit(current, [], actor=actor, message=f"delete {key}",
                                      exact=True)
        return WriteResult(key, cs.versions.get(iri, version + 1) if cs else version, "deleted")


__all__ = ["AssetService", "Page", "WriteResult"]
