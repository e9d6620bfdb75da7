"""Reading ``AssetDoc``s out of the graph store, and which documents a changeset touches.

An asset's document depends on more than its own triples: the labels of the tags, owners,
terms and platform it references, and, for a table, its columns. So a changeset re-indexes
the assets it touched, the tables of the columns it touched, and, when a referenced asset is
renamed, the assets that reference it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pyoxigraph import Literal, NamedNode

from graph_store.changeset import Changeset
from graph_store.journal import CREATED_AT, UPDATED_AT, VERSION
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import CLASSES, DCAT, RDF_TYPE, SEMCAT
from search.documents import AssetDoc, Column, Ref

ABSTRACT = frozenset({"Asset", "DataAsset"})  # superclasses: no facet value of their own
WITH_COLUMNS = frozenset({"Table", "View"})
_NAME = SEMCAT + "name"
_TYPE = NamedNode(RDF_TYPE)
KEYWORD = DCAT + "keyword"  # free-text keywords (the DCAT connector keeps them)
_P = {local: NamedNode(SEMCAT + local) for local in (
    "name", "qualifiedName", "description", "partOf", "platform", "workspace", "owner", "tag",
    "glossaryTerm", "classification", "dataType", "position", "domain", "references")}
# predicates whose objects' labels are part of the referencing asset's text
REFERENCES = ("platform", "workspace", "owner", "tag", "glossaryTerm", "classification",
              "partOf", "domain")


def _value(term: object) -> str:
    """The IRI or lexical form of a term (quoted triples have none)."""
    return str(getattr(term, "value", ""))


def _semcat_classes() -> dict[str, str]:
    return _SEMCAT_CLASSES


_SEMCAT_CLASSES = {SEMCAT + c: c for c in CLASSES}


class DocBuilder:
    """``custom`` gives the catalog's custom attributes: predicate IRI → JSON key; ``classes``
    its classes, shipped and added to the ontology: class IRI → type name."""

    def __init__(self, store: GraphStore, layout: GraphLayout,
                 custom: Callable[[], dict[str, str]],
                 classes: Callable[[], dict[str, str]] = _semcat_classes) -> None:
        self.store = store
        self.layout = layout
        self.custom = custom
        self.classes = classes
        self._labels: dict[str, str] = {}
        self._inferred_graphs: tuple[list[NamedNode], float] | None = None

    def forget_inferred_graphs(self) -> None:
        """After a reasoner wrote new inferred graphs (they are cached for a second)."""
        self._inferred_graphs = None

    def inferred_graphs(self) -> list[NamedNode]:
        """The reasoners' graphs (OWL 2 RL twins of the partitions, rule-derived graphs)."""
        cached = self._inferred_graphs
        if cached is None or time.monotonic() - cached[1] > 1.0:
            graphs = [g for g in self.store.named_graphs() if isinstance(g, NamedNode)
                      and self.layout.is_inferred(g) and g != self.layout.inferred_root
                      and not self.layout.is_provenance(g)]
            cached = self._inferred_graphs = (graphs, time.monotonic())
        return cached[0]

    def _entailed(self, iri: str, asserted_types: tuple[str, ...],
                  asserted: tuple[Ref, ...]) -> tuple[tuple[str, ...], tuple[Ref, ...]]:
        """Types and classifications the inferred graphs hold about ``iri`` and the asserted
        triples do not: indexed beside the asserted ones, marked so hits can say so."""
        types: set[str] = set()
        classes: set[str] = set()
        names = self.classes()
        me = NamedNode(iri)  # by predicate: an asset's other inferred triples are many
        for q in self.store.derived(me, _TYPE):
            if isinstance(q.object, NamedNode) and q.object.value in names:
                types.add(names[q.object.value])
        for q in self.store.derived(me, _P["classification"]):
            if isinstance(q.object, NamedNode):
                classes.add(q.object.value)
        own = {r.key for r in asserted}
        refs = sorted((r for r in map(self._ref, map(NamedNode, classes)) if r.key not in own),
                      key=lambda r: r.key)
        return tuple(sorted(types - set(asserted_types) - ABSTRACT)), tuple(refs)

    def entailed_subjects(self) -> set[str]:
        """Assets the inferred graphs give a semcat type or a classification."""
        found: set[str] = set()
        for g in self.inferred_graphs():
            for q in self.store.quads(None, None, None, g):
                p, o = q.predicate.value, q.object
                if (p == RDF_TYPE and isinstance(o, NamedNode) and o.value.startswith(SEMCAT)
                        and o.value.removeprefix(SEMCAT) not in ABSTRACT) or \
                        p == _P["classification"].value:
                    found.add(_value(q.subject))
        return {i for i in found if self.layout.is_versioned(i)}

    def asset_iris(self) -> Iterator[str]:
        """Every asset in the store (each carries exactly one version stamp)."""
        seen: set[str] = set()
        for q in self.store.quads(None, VERSION, None, None):
            iri = _value(q.subject)
            if iri not in seen and self.layout.is_versioned(iri):
                seen.add(iri)
                yield iri

    def forget_labels(self) -> None:
        self._labels.clear()

    def _label(self, iri: str) -> str:
        label = self._labels.get(iri)
        if label is None:
            names = self.store.quads(NamedNode(iri), _P["name"], None, None)
            first = next(iter(names), None)
            label = _value(first.object) if first is not None else self.layout.key(iri)
            if len(self._labels) > 100_000:
                self._labels.clear()
            self._labels[iri] = label
        return label

    def _ref(self, term: Any) -> Ref:
        iri = term.value
        return Ref(self.layout.key(iri), self._label(iri))

    def build(self, iri: str) -> AssetDoc | None:
        """The asset's document as the store has it now; None when it is gone."""
        quads = list(self.store.quads(NamedNode(iri), None, None, None))
        if not quads:
            return None
        values: dict[str, list[Any]] = {}
        for q in quads:
            values.setdefault(q.predicate.value, []).append(q.object)
        def text(local: str) -> str:
            found = values.get(SEMCAT + local)
            return str(found[0].value) if found else ""
        def refs(local: str) -> tuple[Ref, ...]:
            return tuple(sorted((self._ref(o) for o in values.get(SEMCAT + local, [])
                                 if isinstance(o, NamedNode)), key=lambda r: r.key))
        names = self.classes()
        types = tuple(sorted(
            names[o.value] for o in values.get(RDF_TYPE, [])
            if isinstance(o, NamedNode) and o.value in names and names[o.value] not in ABSTRACT))
        key = self.layout.key(iri)
        custom = self.custom()
        attributes: dict[str, tuple[str, ...]] = {}
        for predicate, objects in values.items():
            if predicate in custom:
                attributes[custom[predicate]] = tuple(
                    self.layout.key(o.value) if isinstance(o, NamedNode) else str(o.value)
                    for o in objects)
        domains = refs("domain")
        if "domain" in attributes and not domains:
            domains = tuple(Ref(v, self._label(self.layout.iri(v)) if "/" in v else v)
                            for v in attributes["domain"])
        parents = refs("partOf")
        home = next((q.graph_name for q in quads if q.predicate.value == RDF_TYPE), None)
        updated = values.get(UPDATED_AT.value)
        created = values.get(CREATED_AT.value)
        classifications = refs("classification")
        inferred_types, inferred_classes = self._entailed(iri, types, classifications)
        return AssetDoc(
            key=key, types=types, name=text("name") or key, qualified_name=text("qualifiedName"),
            description=text("description"),
            columns=self._columns(iri, home) if WITH_COLUMNS.intersection(types) else (),
            joins=self._joins(iri) if WITH_COLUMNS.intersection(types) else (),
            parent=parents[0] if parents else None, platform=next(iter(refs("platform")), None),
            workspace=next(iter(refs("workspace")), None), owners=refs("owner"),
            tags=refs("tag"), terms=refs("glossaryTerm"),
            classifications=classifications, domains=domains, attributes=attributes,
            data_type=text("dataType"),
            keywords=tuple(sorted({str(o.value) for o in values.get(KEYWORD, [])
                                   if isinstance(o, Literal)})),
            graphs=tuple(sorted({q.graph_name.value for q in quads
                                 if isinstance(q.graph_name, NamedNode)})),
            updated_at=str(updated[0].value) if updated else "",
            inferred_types=inferred_types, inferred_classifications=inferred_classes,
            created_at=str(created[0].value) if created else "")

    def _columns(self, table: str, home: object) -> tuple[Column, ...]:
        """The table's columns that share its graph: a column another access partition holds
        (a PII column of a general table) must not make the table findable by its name."""
        found: list[tuple[int, str, Column]] = []
        for q in self.store.quads(None, _P["partOf"], NamedNode(table), None):
            column = q.subject
            props: dict[str, str] = {}
            is_column = False
            for c in self.store.quads(column, None, None, None):  # type: ignore[arg-type]
                p = c.predicate.value
                if p == RDF_TYPE and _value(c.object) == SEMCAT + "Column":
                    is_column = c.graph_name == home
                elif isinstance(c.object, Literal) and p.startswith(SEMCAT):
                    props.setdefault(p.removeprefix(SEMCAT), c.object.value)
            if is_column:
                position = props.get("position", "")
                found.append((int(position) if position.isdigit() else 1 << 30,
                              props.get("name", ""), Column(props.get("name", _value(column)),
                                                             props.get("description", ""))))
        return tuple(c for _, _, c in sorted(found, key=lambda t: (t[0], t[1])))

    def _joins(self, table: str) -> tuple[str, ...]:
        """The tables ``table`` is joined to by a foreign key of a column of either: the tables
        a question often needs beside it. (Lineage is not a join: lifting a table's upstream
        and downstream tables cost the demo's questions relevance, measured.)"""
        me = NamedNode(table)
        tables: set[NamedNode] = set()
        refs = _P["references"]
        for q in self.store.quads(None, _P["partOf"], me, None):
            column = q.subject
            linked = [r.object for r in self.store.quads(column, refs, None, None)]  # type: ignore[arg-type]
            linked += [r.subject for r in self.store.quads(None, refs, column, None)]
            tables.update(p.object for c in linked if isinstance(c, NamedNode)
                          for p in self.store.quads(c, _P["partOf"], None, None)
                          if isinstance(p.object, NamedNode))
        tables.discard(me)
        return tuple(sorted(self.layout.key(t.value) for t in tables))

    # -- what a change touches -----------------------------------------------------------------
    def affected(self, changesets: Iterable[Changeset], limit: int | None = None) -> set[str] | None:
        """Assets whose documents the changesets may change; None past ``limit`` of them
        (rebuilding everything is then cheaper)."""
        out: set[str] = set()
        for cs in changesets:
            touched = set(cs.versions)
            renamed: set[str] = set()
            for q in (*cs.removed, *cs.added):
                s = _value(q.subject)
                if s not in touched:
                    continue
                p = q.predicate.value
                if p == _P["partOf"].value and isinstance(q.object, NamedNode):
                    out.add(q.object.value)  # a column moved in or out of a table
                elif p == _P["references"].value and isinstance(q.object, NamedNode):
                    out |= self._parents({q.object.value})  # the referenced column's table
                elif p == _NAME:
                    renamed.add(s)
            out |= touched
            out |= self._parents(touched)
            out |= self._referrers(renamed)
            if renamed:
                self._labels.clear()
            if limit is not None and len(out) > limit:
                return None
        return {i for i in out if self.layout.is_versioned(i)}

    def _parents(self, iris: set[str]) -> set[str]:
        return {q.object.value for i in iris
                for q in self.store.quads(NamedNode(i), _P["partOf"], None, None)
                if isinstance(q.object, NamedNode)}

    def _referrers(self, iris: set[str]) -> set[str]:
        found: set[str] = set()
        for i in iris:
            for local in REFERENCES:
                found.update(_value(q.subject) for q in
                             self.store.quads(None, _P[local], NamedNode(i), None))
        return found
