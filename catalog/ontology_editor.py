"""Ontology editing: the catalog's own classes and properties, deprecations, glossary terms and
classification schemes.

Custom terms are ``{base}/ontology#Name`` and live in their own graph
(``layout.custom_ontology``), because re-syncing the shipped semcat.ttl replaces the shipped
ontology graph wholesale. Every logical change to the ontology graphs is checked before it is
committed: a DL reasoner (HermiT) must find the proposed ontology, together with a sample of the
catalog's own facts that covers every distinct combination of types, consistent and without
unsatisfiable classes; and no asset may newly violate the SHACL shapes compiled against it. The
reasoner runs without the write lock, so writes go on meanwhile. A refusal carries the
reasoner's explanation and writes nothing.

Versioning: the custom graph's header ``{base}/ontology`` (which imports the shipped ontology)
holds ``owl:versionInfo "<shipped version>+<revision>"``. The revision counts this catalog's
ontology edits and is bumped in the same changeset as each edit; SemVer build metadata ("+N")
says "the shipped release, locally extended N times" without pretending to be a release.
History and diffs come from the change log: ontology changesets' messages start "ontology".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any
from typing import Literal as Lit

from pyoxigraph import Literal, NamedNode, Quad

from catalog.assets import AssetService, WriteResult
from catalog.ontology_checks import (
    CLASS,
    DATATYPE_PROPERTY,
    DECLARATIONS,
    DIGEST,
    IMPORTS,
    KINDS,
    OBJECT_PROPERTY,
    ONTOLOGY,
    OWL2_DATATYPES,
    TYPE,
    VERSION_INFO,
    OntologyChecker,
    lexical,
)
from catalog.ontology_history import MESSAGE_PREFIX, ontology_diff, ontology_history
from graph_store.changeset import Changeset
from graph_store.errors import Conflict, Forbidden, InputError, NotFound
from graph_store.formats import rdf_format, serialize_quads
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import GraphStore
from ontology.namespaces import DCTERMS, OWL, PREFIXES, RDF_TYPE, RDFS, SEMCAT, XSD
from shapes import Validator

# The change of an edit, (removed, added), as of the store now (see ``OntologyEditor._commit``).
Build = Callable[[], tuple[Iterable[Quad], Iterable[Quad]]]
ATTEMPTS = 3  # reasoner runs per edit while other edits keep landing

SHIPPED_IRI = "https://w3id.org/semcat"
PropertyKind = Lit["object", "datatype"]

_SUBCLASS = NamedNode(RDFS + "subClassOf")
_SUBPROPERTY = NamedNode(RDFS + "subPropertyOf")
_DOMAIN = NamedNode(RDFS + "domain")
_RANGE = NamedNode(RDFS + "range")
_LABEL = NamedNode(RDFS + "label")
_COMMENT = NamedNode(RDFS + "comment")
_DEFINED_BY = NamedNode(RDFS + "isDefinedBy")
_DISJOINT = NamedNode(OWL + "disjointWith")
_DEPRECATED = NamedNode(OWL + "deprecated")
_REPLACED_BY = NamedNode(DCTERMS + "isReplacedBy")
_TRUE = Literal("true", datatype=NamedNode(XSD + "boolean"))
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}\Z")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
_REVISION = re.compile(r"\+(\d+)$")


@dataclass(frozen=True)
class OntologyTerm:
    """One class or property as documentation shows it."""

    iri: str
    kind: str  # class | object | datatype | annotation
    label: str
    comment: str
    custom: bool  # defined by this catalog, not shipped
    deprecated: bool
    parents: tuple[str, ...] = ()  # superclasses or superproperties
    children: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
    range: tuple[str, ...] = ()
    disjoint_with: tuple[str, ...] = ()
    replaced_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["disjointWith"] = out.pop("disjoint_with")
        out["replacedBy"] = out.pop("replaced_by")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


@dataclass(frozen=True)
class OntologySummary:
    iri: str
    version: str
    revision: int
    namespace: str
    terms: tuple[OntologyTerm, ...]

    def to_json(self) -> dict[str, Any]:
        return {"iri": self.iri, "version": self.version, "revision": self.revision,
                "namespace": self.namespace, "imports": SHIPPED_IRI,
                "classes": [t.to_json() for t in self.terms if t.kind == "class"],
                "properties": [t.to_json() for t in self.terms if t.kind != "class"]}


@dataclass(frozen=True)
class OntologyEdit:
    """The outcome of a committed ontology edit."""

    term: str
    status: str  # created | deprecated
    version: str
    revision: int
    seq: int


class OntologyEditor:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout,
                 assets: AssetService, *, data_graphs: Callable[[], list[NamedNode]],
                 validator: Callable[[], Validator], reasoner: str = "hermit") -> None:
        self._journal = journal
        self._store = store
        self._layout = layout
        self._assets = assets
        self._checker = OntologyChecker(store, layout, (layout.ontology, layout.custom_ontology),
                                        data_graphs=data_graphs, validator=validator,
                                        reasoner=reasoner)
        self.iri = f"{layout.base}/ontology"
        self.namespace = self.iri + "#"
        self.graph = layout.custom_ontology
        self.graphs = (layout.ontology, layout.custom_ontology)
        self._header = NamedNode(self.iri)

    @property
    def reasoner(self) -> str:
        """The DL reasoner edits are checked with."""
        return self._checker.reasoner

    @reasoner.setter
    def reasoner(self, name: str) -> None:
        self._checker.reasoner = name

    def governs(self, graph: object) -> bool:
        """Whether writes to ``graph`` are ontology edits (and must go through ``write_graph``)."""
        return graph in self.graphs

    # -- reads ---------------------------------------------------------------------------------
    def quads(self) -> list[Quad]:
        """Both ontology graphs: shipped and custom."""
        return [q for g in self.graphs for q in self._store.quads(None, None, None, g)]

    def _shipped_version(self) -> str:
        found = next(iter(self._store.quads(NamedNode(SHIPPED_IRI), VERSION_INFO, None,
                                            self._layout.ontology)), None)
        return lexical(found.object) if found is not None else "0"

    def version(self) -> tuple[str, int]:
        """(version string, revision): "1.0.0+3" is the shipped 1.0.0 edited three times."""
        found = next(iter(self._store.quads(self._header, VERSION_INFO, None, self.graph)), None)
        m = _REVISION.search(lexical(found.object)) if found is not None else None
        revision = int(m.group(1)) if m else 0
        return f"{self._shipped_version()}+{revision}", revision

    def _declared(self, iri: NamedNode) -> set[NamedNode]:
        """What ``iri`` is declared as (owl:Class, owl:ObjectProperty, ...) in either graph."""
        return {q.object for g in self.graphs  # type: ignore[misc]
                for q in self._store.quads(iri, TYPE, None, g) if q.object in DECLARATIONS}

    def _deprecated(self, iri: NamedNode) -> bool:
        return any(lexical(q.object) == "true" for g in self.graphs
                   for q in self._store.quads(iri, _DEPRECATED, None, g))

    def summary(self) -> OntologySummary:
        """Every named class and property with what documentation needs to show about it."""
        index: dict[str, dict[str, list[Any]]] = {}
        custom: set[str] = set()
        for q in self.quads():
            if not isinstance(q.subject, NamedNode) or q.predicate == DIGEST:
                continue
            index.setdefault(q.subject.value, {}).setdefault(q.predicate.value, []).append(q.object)
            if q.graph_name == self.graph and q.predicate == TYPE and q.object in KINDS:
                custom.add(q.subject.value)

        def iris(node: dict[str, list[Any]], p: NamedNode) -> tuple[str, ...]:
            return tuple(sorted({o.value for o in node.get(p.value, ()) if isinstance(o, NamedNode)}))

        def text(node: dict[str, list[Any]], p: NamedNode) -> str:
            values = [o for o in node.get(p.value, ()) if isinstance(o, Literal)]
            best = next((o for o in values if o.language == "en"), values[0] if values else None)
            return best.value if best is not None else ""

        kinds = {s: next((KINDS[o] for o in node.get(RDF_TYPE, ()) if o in KINDS), None)
                 for s, node in index.items()}
        children: dict[str, set[str]] = {}
        for s, node in index.items():
            for p in (_SUBCLASS, _SUBPROPERTY):
                for parent in iris(node, p):
                    children.setdefault(parent, set()).add(s)
        terms = []
        for s, node in index.items():
            kind = kinds.get(s)
            if kind is None:
                continue
            replaced = iris(node, _REPLACED_BY)
            terms.append(OntologyTerm(
                iri=s, kind=kind, label=text(node, _LABEL), comment=text(node, _COMMENT),
                custom=s in custom, deprecated=any(o.value == "true" for o in
                                                   node.get(_DEPRECATED.value, ())),
                parents=iris(node, _SUBCLASS if kind == "class" else _SUBPROPERTY),
                children=tuple(sorted(children.get(s, ()))), domain=iris(node, _DOMAIN),
                range=iris(node, _RANGE), disjoint_with=iris(node, _DISJOINT),
                replaced_by=replaced[0] if replaced else None))
        terms.sort(key=lambda t: (t.kind != "class", (t.label or t.iri).lower(), t.iri))
        version, revision = self.version()
        return OntologySummary(self.iri, version, revision, self.namespace, tuple(terms))

    def serialize(self, media_type: str) -> bytes:
        """Both ontology graphs in ``media_type`` (triple formats merge them)."""
        quads = [q for q in self.quads() if q.predicate != DIGEST]
        return serialize_quads(quads, rdf_format(media_type), {**PREFIXES, "local": self.namespace})

    def history(self) -> list[dict[str, Any]]:
        """The ontology's changesets, oldest first (the shipped file's syncs included)."""
        return ontology_history(self._journal.changelog, self.graphs,
                                (self._header, NamedNode(SHIPPED_IRI)))

    def diff(self, from_seq: int | None = None, to_seq: int | None = None) -> dict[str, Any]:
        """The ontology's net change after changeset ``from_seq`` up to ``to_seq`` (defaults:
        the last edit alone)."""
        return ontology_diff(self._journal.changelog, self.graphs,
                             (self._header, NamedNode(SHIPPED_IRI)), from_seq, to_seq)

    # -- naming --------------------------------------------------------------------------------
    def _resolve(self, ref: str) -> NamedNode:
        """A term reference: full IRI, CURIE (semcat:Table) or bare name (shipped, then custom)."""
        ref = ref.strip().removeprefix("<").removesuffix(">")
        try:
            if "://" in ref or ref.startswith("urn:"):
                return NamedNode(ref)
            if ":" in ref:
                prefix, local = ref.split(":", 1)
                if prefix == "local":
                    return NamedNode(self.namespace + local)
                if prefix not in PREFIXES:
                    raise InputError(f"unknown prefix in {ref!r}; use a full IRI or one of "
                                     f"{sorted(PREFIXES)}")
                return NamedNode(PREFIXES[prefix] + local)
            for candidate in (NamedNode(SEMCAT + ref), NamedNode(self.namespace + ref)):
                if self._declared(candidate):
                    return candidate
            return NamedNode(self.namespace + ref)
        except ValueError as e:
            raise InputError(f"{ref!r} is not a valid IRI: {e}") from e

    def _existing(self, ref: str, kinds: set[NamedNode], what: str) -> NamedNode:
        iri = self._resolve(ref)
        if not self._declared(iri) & kinds:
            raise NotFound(f"{what} {ref!r} is not a {' or '.join(KINDS[k] for k in kinds)} "
                           f"of the ontology ({iri.value}); see GET /api/v1/ontology")
        return iri

    def _term_iri(self, name: str) -> NamedNode:
        if not _NAME.match(name):
            raise InputError(f"{name!r} is not a usable term name: a letter, then up to 63 "
                             "letters, digits or underscores")
        return NamedNode(self.namespace + name)

    def _new_term(self, name: str) -> NamedNode:
        """The IRI of a term to be made; Conflict when the name is taken."""
        iri = self._term_iri(name)
        if any(next(iter(self._store.quads(iri, None, None, g)), None) for g in self.graphs):
            raise Conflict(f"the ontology already has a term {iri.value}; deprecate it or "
                           "choose another name")
        if self._declared(NamedNode(SEMCAT + name)):
            raise Conflict(f"semcat:{name} exists; a custom term of the same name would make "
                           "bare references ambiguous; choose another name")
        vocabulary = self._assets.vocabulary  # REST bodies name custom terms by local name
        if vocabulary.taken(name):
            raise Conflict(f"{name!r} is a REST key, type name or prefix already; choose "
                           "another name")
        return iri

    # -- class and property edits --------------------------------------------------------------
    def add_class(self, name: str, *, label: str, parent: str, actor: str, comment: str = "",
                  disjoint_with: Iterable[str] = ()) -> OntologyEdit:
        """A subclass of an existing class, optionally disjoint with other existing classes."""
        g = self.graph
        iri = self._term_iri(name)
        disjoint_with = list(disjoint_with)

        def build() -> tuple[list[Quad], list[Quad]]:
            self._new_term(name)
            sup = self._existing(parent, {CLASS}, "parent")
            if self._deprecated(sup):
                raise InputError(f"{sup.value} is deprecated; subclass its replacement instead")
            disjoint = [self._existing(d, {CLASS}, "disjoint class") for d in disjoint_with]
            return [], [Quad(iri, TYPE, CLASS, g), Quad(iri, _SUBCLASS, sup, g),
                        *self._annotations(iri, label, comment),
                        *(Quad(iri, _DISJOINT, d, g) for d in disjoint)]

        cs = self._commit(build, actor=actor, message=f"add class {name}")
        return self._edit(iri, "created", cs)

    def add_property(self, name: str, *, label: str, kind: PropertyKind, actor: str,
                     comment: str = "", domain: str | None = None, range: str | None = None,
                     parent: str | None = None) -> OntologyEdit:
        """An object or datatype property with an optional domain, range and super-property."""
        g = self.graph
        owl_kind = OBJECT_PROPERTY if kind == "object" else DATATYPE_PROPERTY
        iri = self._term_iri(name)

        def build() -> tuple[list[Quad], list[Quad]]:
            self._new_term(name)
            quads = [Quad(iri, TYPE, owl_kind, g), *self._annotations(iri, label, comment)]
            if domain is not None:
                quads.append(Quad(iri, _DOMAIN, self._existing(domain, {CLASS}, "domain"), g))
            if range is not None:
                quads.append(Quad(iri, _RANGE, self._existing(range, {CLASS}, "range")
                                  if kind == "object" else self._datatype(range), g))
            if parent is not None:
                quads.append(Quad(iri, _SUBPROPERTY,
                                  self._existing(parent, {owl_kind}, "parent property"), g))
            return [], quads

        cs = self._commit(build, actor=actor, message=f"add {kind} property {name}")
        return self._edit(iri, "created", cs)

    def _datatype(self, ref: str) -> NamedNode:
        iri = self._resolve(ref if ":" in ref else "xsd:" + ref)
        if iri.value not in OWL2_DATATYPES:
            raise InputError(f"{ref!r} is not an OWL 2 datatype; use e.g. xsd:string, "
                             "xsd:integer, xsd:decimal, xsd:boolean or xsd:dateTime")
        return iri

    def _annotations(self, iri: NamedNode, label: str, comment: str) -> list[Quad]:
        if not label.strip():
            raise InputError("a term needs a non-empty label")
        g = self.graph
        quads = [Quad(iri, _LABEL, Literal(label.strip(), language="en"), g),
                 Quad(iri, _DEFINED_BY, self._header, g)]
        if comment.strip():
            quads.append(Quad(iri, _COMMENT, Literal(comment.strip(), language="en"), g))
        return quads

    def deprecate(self, term: str, *, actor: str, replaced_by: str | None = None) -> OntologyEdit:
        """Mark a class or property (shipped or custom) owl:deprecated; terms are never deleted,
        since data and queries may still use them."""
        kinds = set(KINDS)
        iri = self._existing(term, kinds, "term")

        def build() -> tuple[list[Quad], list[Quad]]:
            if self._deprecated(iri):
                raise Conflict(f"{iri.value} is deprecated already")
            quads = [Quad(iri, _DEPRECATED, _TRUE, self.graph)]
            if replaced_by is not None:
                quads.append(Quad(iri, _REPLACED_BY,
                                  self._existing(replaced_by, kinds, "replacement"), self.graph))
            return [], quads

        cs = self._commit(build, actor=actor, message=f"deprecate {iri.value}")
        return self._edit(iri, "deprecated", cs)

    def _edit(self, iri: NamedNode, status: str, cs: Changeset | None) -> OntologyEdit:
        version, revision = self.version()
        return OntologyEdit(iri.value, status, version, revision, cs.seq if cs else 0)

    # -- glossary terms and classification schemes (catalog assets) ----------------------------
    def _asset_exists(self, key: str) -> bool:
        return next(iter(self._store.quads(NamedNode(self._layout.iri(key)), None, None, None)),
                    None) is not None

    def add_glossary_term(self, name: str, *, definition: str, actor: str,
                          glossary: str = "glossary/business",
                          slug: str | None = None) -> WriteResult:
        """A glossary term (a SKOS concept, stored as an asset); the glossary is created if new."""
        slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if not _SLUG.match(slug) or not glossary.startswith("glossary/"):
            raise InputError(f"glossary term ids are glossary/<glossary>/<slug>; got "
                             f"{glossary}/{slug}")
        key = f"{glossary}/{slug}"
        items: list[dict[str, Any]] = []
        with self._journal.lock:
            if self._asset_exists(key):
                raise Conflict(f"glossary term {key!r} exists; edit it with PATCH "
                               f"/api/v1/assets/{key}")
            if not self._asset_exists(glossary):
                title = glossary.rsplit("/", 1)[-1].replace("-", " ").title()
                items.append({"id": glossary, "type": "Glossary", "name": f"{title} Glossary"})
            items.append({"id": key, "type": "GlossaryTerm", "name": name,
                          "description": definition, "partOf": glossary})
            results = self._assets.upsert_many(items, actor=actor,
                                               message=f"glossary: add term {key}")
        return results[-1]

    def add_classification_scheme(self, slug: str, *, name: str, description: str, actor: str,
                                  values: Iterable[tuple[str, str, str]] = ()) -> list[WriteResult]:
        """A classification scheme and its values, (slug, name, description) each."""
        scheme = f"classification/{slug}"
        values = list(values)
        if not _SLUG.match(slug) or any(not _SLUG.match(v[0]) for v in values):
            raise InputError("scheme and value slugs are lower-case letters, digits and '-'")
        with self._journal.lock:
            if self._asset_exists(scheme):
                raise Conflict(f"classification scheme {scheme!r} exists")
            items = [{"id": scheme, "type": "ClassificationScheme", "name": name,
                      "description": description},
                     *({"id": f"{scheme}/{v}", "type": "Classification", "name": n,
                        "description": d, "partOf": scheme} for v, n, d in values)]
            return self._assets.upsert_many(items, actor=actor,
                                            message=f"classification: add scheme {scheme}")

    def is_asset_reference(self, term: str) -> bool:
        """Glossary terms, classifications and schemes are assets: ids like glossary/x/y."""
        term = term.strip()
        if "://" in term:
            return self._layout.is_versioned(term)
        return "/" in term and ":" not in term

    def deprecate_asset(self, key: str, *, actor: str, replaced_by: str | None = None) -> WriteResult:
        """Deprecate a glossary term, classification or scheme: kept, marked owl:deprecated."""
        key = self._layout.key(key.strip())
        with self._journal.lock:
            iri = NamedNode(self._layout.iri(key))
            if not self._asset_exists(key):
                raise NotFound(f"no asset with id {key!r}")
            if any(lexical(q.object) == "true" for q in self._store.quads(iri, _DEPRECATED, None, None)):
                raise Conflict(f"{key!r} is deprecated already")
            patch: dict[str, Any] = {_DEPRECATED.value: True}
            if replaced_by is not None:
                replacement = self._layout.key(replaced_by.strip())
                if not self._asset_exists(replacement):
                    raise NotFound(f"no asset with id {replacement!r} to replace {key!r}")
                patch[_REPLACED_BY.value] = {"@id": self._layout.iri(replacement)}
            return self._assets.patch(key, patch, actor=actor)

    # -- the write path ------------------------------------------------------------------------
    def write_graph(self, graph: NamedNode, removed: Iterable[Quad], added: Iterable[Quad], *,
                    actor: str, message: str) -> Changeset | None:
        """A Graph Store protocol write to an ontology graph: checked and versioned like every
        edit. The header and custom attributes' definitions (managed by their own API) stay."""
        if graph == self._layout.ontology:
            raise Forbidden(f"{graph.value} mirrors the shipped semcat.ttl and is replaced when "
                            f"it changes; write custom terms to {self.graph.value}",
                            reason="read-only graph")
        kept = [q for q in removed if q.subject != self._header and not (
            isinstance(q.subject, NamedNode) and self._layout.is_versioned(q.subject.value))]
        added = list(added)
        return self._commit(lambda: (kept, added), actor=actor, message=message)

    def _commit(self, build: Build, *, actor: str, message: str) -> Changeset | None:
        """Check, bump the revision and commit. ``build`` gives the change (removed, added) as of
        now, under the write lock, before and after the DL reasoner runs without it (seconds):
        if the ontology or the change moved meanwhile, the check is made again."""
        for _ in range(ATTEMPTS):
            with self._journal.lock:
                rem, add = self._net(*build())
                if not rem and not add:
                    return None
                state = self._checker.state()
            self._checker.reason(rem, add)
            with self._journal.lock:
                if self._net(*build()) != (rem, add) or self._checker.state() != state:
                    continue  # another edit landed while the reasoner ran
                self._checker.check_shapes(rem, add)
                _, revision = self.version()
                old_header = set(self._store.quads(self._header, None, None, self.graph))
                new_header = self._header_quads(revision + 1)
                return self._journal.commit(rem | (old_header - new_header),
                                            add | (new_header - old_header), actor=actor,
                                            message=f"{MESSAGE_PREFIX}: {message}", exact=True)
        raise Conflict(f"the ontology changed {ATTEMPTS} times while this edit was being "
                       "checked; nothing was written, send it again")

    def _net(self, removed: Iterable[Quad], added: Iterable[Quad]) -> tuple[set[Quad], set[Quad]]:
        def exists(q: Quad) -> bool:
            return next(iter(self._store.quads(*q)), None) is not None  # type: ignore[arg-type]
        rem = {q for q in removed if q.subject != self._header and exists(q)}
        add = {q for q in added if q.subject != self._header and not exists(q)}
        return rem - add, add - rem

    def _header_quads(self, revision: int) -> set[Quad]:
        h, g = self._header, self.graph
        return {Quad(h, TYPE, ONTOLOGY, g), Quad(h, IMPORTS, NamedNode(SHIPPED_IRI), g),
                Quad(h, _LABEL, Literal("Custom terms of this catalog", language="en"), g),
                Quad(h, _COMMENT, Literal("Classes and properties this catalog added to the "
                                          "semcat ontology, edited through /api/v1/ontology.",
                                          language="en"), g),
                Quad(h, VERSION_INFO, Literal(f"{self._shipped_version()}+{revision}"), g)}
