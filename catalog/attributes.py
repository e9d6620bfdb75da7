"""Custom attributes: governance teams define them; each compiles to an OWL property (custom
ontology graph) plus a SHACL property shape (shapes graph), is versioned like an asset, can be
changed with an impact analysis first, and retired.

An attribute's IRI is ``{base}/id/attribute/{name}``, so it has a history like any asset; its
values sit on assets under that IRI and appear in REST bodies under ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Literal as Lit

from pydantic import BaseModel, ConfigDict, Field
from pyoxigraph import Literal, NamedNode, Quad

from catalog.asset_input import reference
from catalog.jsonld import (
    BOOLEAN,
    BUILT_IN,
    DATATYPES,
    DATE,
    DATETIME,
    DECIMAL,
    ID,
    INTEGER,
    STRING,
    Term,
    Vocabulary,
)
from graph_store.errors import Conflict, InputError, NotFound
from graph_store.journal import Journal
from graph_store.layout import GraphLayout
from graph_store.protocol import Dataset, GraphStore
from ontology.namespaces import OWL, RDF, RDF_TYPE, RDFS, SEMCAT, SH, SKOS, XSD
from shapes import StoreView, Validator, compile_shapes, superclass_closure

Kind = Lit["string", "integer", "decimal", "boolean", "date", "dateTime", "iri", "enum",
           "reference"]
Migration = Lit["none", "drop-invalid", "default"]
_REFERENCE_KINDS = ("iri", "enum", "reference")
_TRUE = Literal("true", datatype=NamedNode(XSD + "boolean"))
# A custom datatype property's REST kind by its range: what JSON value it takes.
_KIND_OF_RANGE = {
    **{XSD + t: INTEGER for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                  "positiveInteger", "nonPositiveInteger", "negativeInteger")},
    **{XSD + t: DECIMAL for t in ("decimal", "double", "float")},
    XSD + "boolean": BOOLEAN, XSD + "date": DATE, XSD + "dateTime": DATETIME,
    XSD + "dateTimeStamp": DATETIME,
}
_PLAIN_RANGES = frozenset((XSD + "string", RDFS + "Literal", RDF + "PlainLiteral",
                           RDF + "langString"))


class AttributeSpec(BaseModel):
    """What a governance team says about an attribute (the REST body)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][A-Za-z0-9_]{1,62}$",
                      description="The JSON key of its values, e.g. costCenter")
    label: str = Field(min_length=1)
    description: str = ""
    datatype: Kind
    appliesTo: list[str] = Field(min_length=1, description="Class names, e.g. Table")
    required: bool = False
    minCount: int = Field(default=0, ge=0)
    maxCount: int | None = Field(default=1, ge=1, description="null for any number")
    values: list[str | int | float | bool] | None = Field(
        default=None, description="Allowed values; for enum the ids of SKOS concepts")
    referenceClass: str | None = Field(default=None, description="For reference: a class name")
    pattern: str | None = None
    minInclusive: float | str | None = None
    maxInclusive: float | str | None = None
    severity: Lit["Violation", "Warning"] = "Violation"


@dataclass(frozen=True)
class Impact:
    """Which existing assets a definition would make invalid, and how."""

    attribute: str
    affected: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "affectedAssets": len(self.affected),
                "affected": self.affected}


class AttributeService:
    def __init__(self, journal: Journal, store: GraphStore, layout: GraphLayout) -> None:
        self._journal = journal
        self._store = store
        self._layout = layout
        self.graph = layout.graph("ontology", "custom")

    # -- naming --------------------------------------------------------------------------------
    def iri(self, name: str) -> NamedNode:
        return NamedNode(self._layout.iri(f"attribute/{name}"))

    def _shape(self, name: str) -> NamedNode:
        return NamedNode(f"{self._layout.base}/shapes/attribute/{name}")

    # -- compile -------------------------------------------------------------------------------
    def compile(self, spec: AttributeSpec) -> list[Quad]:
        """The OWL property and the SHACL shape that carry ``spec``."""
        classes = self.vocabulary().classes
        for cls in [*spec.appliesTo, *([spec.referenceClass] if spec.referenceClass else [])]:
            if cls not in classes:
                raise InputError(f"unknown class {cls!r}; use one of {sorted(classes)}")
        if spec.datatype == "reference" and not spec.referenceClass:
            raise InputError("a reference attribute needs referenceClass")
        if spec.datatype == "enum" and not spec.values:
            raise InputError("an enum attribute needs values: the ids of its SKOS concepts")
        if spec.maxCount is not None and spec.maxCount < max(spec.minCount, int(spec.required)):
            raise InputError("maxCount is below minCount")
        a, g, sg = self.iri(spec.name), self.graph, self._layout.shapes
        owl_kind = "ObjectProperty" if spec.datatype in _REFERENCE_KINDS else "DatatypeProperty"
        quads = [Quad(a, NamedNode(RDF_TYPE), NamedNode(OWL + owl_kind), g),
                 Quad(a, NamedNode(RDF_TYPE), NamedNode(SEMCAT + "CustomAttribute"), g),
                 Quad(a, NamedNode(RDFS + "label"), Literal(spec.label), g),
                 Quad(a, NamedNode(SEMCAT + "attributeKey"), Literal(spec.name), g),
                 Quad(a, NamedNode(SEMCAT + "valueKind"), Literal(spec.datatype), g)]
        if spec.description:
            quads.append(Quad(a, NamedNode(RDFS + "comment"), Literal(spec.description), g))
        if spec.maxCount == 1:
            quads.append(Quad(a, NamedNode(RDF_TYPE), NamedNode(OWL + "FunctionalProperty"), g))
        range_ = (classes[spec.referenceClass] if spec.referenceClass else SKOS + "Concept"
                  if spec.datatype == "enum" else None if spec.datatype == "iri"
                  else DATATYPES[spec.datatype])
        if range_:
            quads.append(Quad(a, NamedNode(RDFS + "range"), NamedNode(range_), g))
        shape = self._shape(spec.name)
        prop = NamedNode(shape.value + "/property")
        quads += [Quad(a, NamedNode(SEMCAT + "appliesTo"), NamedNode(classes[c]), g)
                  for c in spec.appliesTo]
        quads += [Quad(shape, NamedNode(RDF_TYPE), NamedNode(SH + "NodeShape"), sg),
                  Quad(shape, NamedNode(SH + "property"), prop, sg),
                  *(Quad(shape, NamedNode(SH + "targetClass"), NamedNode(classes[c]), sg)
                    for c in spec.appliesTo)]

        def facet(name: str, value: Any) -> None:
            quads.append(Quad(prop, NamedNode(SH + name), value, sg))

        facet("path", a)
        facet("name", Literal(spec.label))
        facet("message", Literal(f"{spec.label} ({spec.name}): "
                                 f"{spec.description or 'see the attribute definition'}"))
        facet("severity", NamedNode(SH + spec.severity))
        min_count = max(spec.minCount, 1 if spec.required else 0)
        if min_count:
            facet("minCount", Literal(min_count))
        if spec.maxCount is not None:
            facet("maxCount", Literal(spec.maxCount))
        if spec.datatype in _REFERENCE_KINDS:
            facet("nodeKind", NamedNode(SH + "IRI"))
            if spec.referenceClass:
                facet("class", NamedNode(classes[spec.referenceClass]))
        else:
            facet("datatype", NamedNode(DATATYPES[spec.datatype]))
        if spec.pattern:
            facet("pattern", Literal(spec.pattern))
        for bound in ("minInclusive", "maxInclusive"):
            value = getattr(spec, bound)
            if value is not None:
                facet(bound, self._literal(spec.datatype, value, numeric_bound=True))
        if spec.values:
            head = NamedNode(shape.value + "/in/0")
            facet("in", head)
            for i, v in enumerate(spec.values):
                node = NamedNode(f"{shape.value}/in/{i}")
                rest = NamedNode(f"{shape.value}/in/{i + 1}") if i + 1 < len(spec.values) \
                    else NamedNode(RDF + "nil")
                quads += [Quad(node, NamedNode(RDF + "first"), self._value(spec, v), sg),
                          Quad(node, NamedNode(RDF + "rest"), rest, sg)]
        return quads

    def _literal(self, kind: str, value: Any, numeric_bound: bool = False) -> Literal:
        if numeric_bound and kind in ("integer", "decimal", "string"):
            kind = "decimal" if isinstance(value, float) or kind == "decimal" else "integer"
        if kind == "boolean":
            return Literal(str(value).lower(), datatype=NamedNode(XSD + "boolean"))
        return Literal(str(value), datatype=NamedNode(DATATYPES.get(kind, XSD + "string")))

    def _value(self, spec: AttributeSpec, value: Any) -> Any:
        if spec.datatype in _REFERENCE_KINDS:
            key = reference(str(value))
            if key is None:
                raise InputError(f"{str(value)!r} is not an asset id or IRI")
            return NamedNode(self._layout.iri(key))
        return self._literal(spec.datatype, value)

    # -- read ----------------------------------------------------------------------------------
    def stored(self, name: str) -> list[Quad]:
        """Everything an attribute's definition consists of, as stored."""
        shape = self._shape(name).value
        out = list(self._store.quads(self.iri(name), None, None, self.graph))
        out += [q for q in self._store.quads(None, None, None, self._layout.shapes)
                if q.subject.value.startswith(shape)]  # type: ignore[union-attr]
        return out

    def names(self) -> list[str]:
        rows = self._store.query(
            f"SELECT ?k WHERE {{ GRAPH {self.graph} {{ ?a <{SEMCAT}attributeKey> ?k }} }} "
            "ORDER BY ?k", dataset=Dataset())
        return [r["k"].value for r in rows]  # type: ignore[attr-defined]

    def get(self, name: str) -> dict[str, Any]:
        quads = self.stored(name)
        if not quads:
            raise NotFound(f"no attribute {name!r}")
        a, prop = self.iri(name), NamedNode(self._shape(name).value + "/property")
        names = self.vocabulary().class_names
        facts: dict[tuple[str, str], list[Any]] = {}
        for q in quads:
            facts.setdefault((q.subject.value, q.predicate.value), []).append(q.object)  # type: ignore[union-attr]

        def one(s: NamedNode, p: str) -> Any:
            values = facts.get((s.value, p))
            return values[0].value if values else None

        doc: dict[str, Any] = {
            "id": self._layout.key(a.value), "name": name, "label": one(a, RDFS + "label"),
            "description": one(a, RDFS + "comment") or "",
            "datatype": one(a, SEMCAT + "valueKind"),
            "appliesTo": sorted(names.get(t.value, t.value)
                                for t in facts.get((a.value, SEMCAT + "appliesTo"), [])),
            "minCount": int(one(prop, SH + "minCount") or 0),
            "maxCount": int(one(prop, SH + "maxCount")) if one(prop, SH + "maxCount") else None,
            "severity": (one(prop, SH + "severity") or SH + "Violation").removeprefix(SH),
            "retired": bool(facts.get((a.value, OWL + "deprecated"))),
        }
        for key, predicate in (("pattern", "pattern"), ("minInclusive", "minInclusive"),
                               ("maxInclusive", "maxInclusive")):
            if one(prop, SH + predicate) is not None:
                doc[key] = one(prop, SH + predicate)
        if one(prop, SH + "class"):
            doc["referenceClass"] = names.get(one(prop, SH + "class"), one(prop, SH + "class"))
        values, node = [], one(prop, SH + "in")
        while node and node != RDF + "nil":
            first = facts.get((node, RDF + "first"), [None])[0]
            values.append(self._layout.key(first.value) if isinstance(first, NamedNode)
                          else first.value if first is not None else None)
            node = one(NamedNode(node), RDF + "rest")
        if values:
            doc["values"] = values
        return doc

    def vocabulary(self) -> Vocabulary:
        """The REST vocabulary: built-in terms and classes, the classes and properties added to
        the ontology (by their local names) and every defined attribute, with what each term
        is meant for (rdfs:domain, SHACL targetClass, appliesTo) and the class hierarchy."""
        def rows(sparql: str, dataset: Dataset | None = None) -> list[Any]:
            return list(self._store.query(sparql, dataset=dataset or Dataset()))  # type: ignore[call-overload]

        ontology = Dataset(default=(self._layout.ontology, self.graph))
        namespace = f"{self._layout.base}/ontology#"
        terms: dict[str, Term] = {}
        for r in rows(f"SELECT ?a ?k ?kind ?f WHERE {{ GRAPH {self.graph} {{ ?a <{SEMCAT}"
                      f"attributeKey> ?k ; <{SEMCAT}valueKind> ?kind OPTIONAL {{ ?a a ?f FILTER("
                      f"?f = <{OWL}FunctionalProperty>) }} }} }}"):
            kind = ID if r["kind"].value in _REFERENCE_KINDS else r["kind"].value
            terms[r["k"].value] = Term(r["k"].value, r["a"].value, kind, r["f"] is None)
        classes: dict[str, str] = {}
        for r in rows(f"SELECT ?t ?kind ?range ?f WHERE {{ GRAPH {self.graph} {{ ?t a ?kind "
                      f"FILTER(?kind IN (<{OWL}Class>, <{OWL}ObjectProperty>, "
                      f"<{OWL}DatatypeProperty>) && STRSTARTS(STR(?t), {Literal(namespace)})) "
                      f"OPTIONAL {{ ?t <{RDFS}range> ?range }} OPTIONAL {{ ?t a ?f FILTER(?f = "
                      f"<{OWL}FunctionalProperty>) }} }} }}"):
            iri, local = r["t"].value, r["t"].value.removeprefix(namespace)
            if r["kind"].value == OWL + "Class":
                classes[local] = iri
            elif local not in terms:
                terms[local] = self._property_term(local, iri, r["kind"].value, r["range"],
                                                   r["f"] is not None)
        parents = rows(f"SELECT ?c ?p WHERE {{ ?c <{RDFS}subClassOf> ?p "
                       "FILTER(isIRI(?c) && isIRI(?p)) }", ontology)
        superclasses = superclass_closure([(r["c"].value, r["p"].value) for r in parents])
        domains: dict[str, set[str]] = {}
        for r in rows(f"SELECT ?p ?c WHERE {{ {{ ?p <{RDFS}domain> ?c }} UNION "
                      f"{{ ?p <{SEMCAT}appliesTo> ?c }} FILTER(isIRI(?c)) }}", ontology):
            domains.setdefault(r["p"].value, set()).add(r["c"].value)
        targets: dict[str, set[str]] = {}
        for r in rows(f"SELECT ?p ?c WHERE {{ GRAPH {self._layout.shapes} {{ ?s <{SH}targetClass>"
                      f" ?c ; <{SH}property>/<{SH}path> ?p FILTER(isIRI(?p)) }} }}"):
            targets.setdefault(r["p"].value, set()).add(r["c"].value)
        custom = tuple(t for k, t in sorted(terms.items()) if k not in BUILT_IN.by_key)
        meant = {t.key: frozenset(domains.get(t.iri) or targets[t.iri])
                 for t in (*BUILT_IN.terms, *custom) if t.iri in domains or t.iri in targets}
        return Vocabulary(custom, classes, superclasses, meant,
                          {t.key: frozenset(domains[t.iri]) for t in custom if t.iri in domains})

    @staticmethod
    def _property_term(key: str, iri: str, kind: str, range_: Any, functional: bool) -> Term:
        """A property added to the ontology, as a REST term its range makes JSON of."""
        if kind == OWL + "ObjectProperty":
            return Term(key, iri, ID, not functional)
        value = range_.value if isinstance(range_, NamedNode) else XSD + "string"
        if value in _PLAIN_RANGES:
            return Term(key, iri, STRING, not functional)
        return Term(key, iri, _KIND_OF_RANGE.get(value, STRING), not functional,
                    value if value not in DATATYPES.values() else "")

    # -- impact and writes ---------------------------------------------------------------------
    def impact(self, spec: AttributeSpec) -> Impact:
        """Dry run: the existing assets that ``spec`` would make invalid."""
        new = self.compile(spec)
        shape_prefix = self._shape(spec.name).value
        shapes = [q for q in self._store.quads(None, None, None, self._layout.shapes)
                  if not q.subject.value.startswith(shape_prefix)]  # type: ignore[union-attr]
        shapes += [q for q in new if q.graph_name == self._layout.shapes]
        ontology = [*self._store.quads(None, None, None, self._layout.ontology),
                    *self._store.quads(None, None, None, self.graph)]
        validator = Validator(compile_shapes(shapes, ontology))
        classes = self.vocabulary().classes
        targets = " ".join(f"<{classes[c]}>" for c in spec.appliesTo)
        rows = self._store.query(
            f"SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {targets} }} ?t <{RDFS}subClassOf>* ?c . "
            "?s a ?t }", dataset=Dataset())
        nodes = [r["s"] for r in rows]  # type: ignore[attr-defined]
        report = validator.validate(nodes, StoreView(self._store))
        path = self.iri(spec.name).value
        affected: dict[str, list[dict[str, Any]]] = {}
        for r in report.violations:
            if r.path == path:
                affected.setdefault(r.focus, []).append(r.to_json())
        return Impact(spec.name, [{"id": self._layout.key(f), "problems": p}
                                  for f, p in sorted(affected.items())])

    def define(self, spec: AttributeSpec, *, actor: str, create: bool, force: bool = False,
               migration: Migration = "none", default: Any = None) -> Impact:
        """Create (``create``) or change an attribute. Refused with the impact (409) when
        existing assets would break, unless ``force`` with a migration."""
        if spec.name in BUILT_IN.by_key:
            raise Conflict(f"{spec.name!r} is a built-in property; choose another name")
        vocabulary = self.vocabulary()
        taken = vocabulary.by_key.get(spec.name)
        if vocabulary.taken(spec.name) and (taken is None or taken.iri != self.iri(spec.name).value):
            raise Conflict(f"{spec.name!r} is a REST key, type name or prefix already (of "
                           f"{taken.iri if taken else 'the context'}); choose another name")
        with self._journal.lock:
            old = self.stored(spec.name)
            if create and old:
                raise Conflict(f"attribute {spec.name!r} exists; change it with PUT")
            if not create and not old:
                raise NotFound(f"no attribute {spec.name!r}")
            impact = self.impact(spec)
            if impact.affected and not force:
                raise Conflict(
                    f"{len(impact.affected)} existing assets would violate {spec.name!r}; "
                    "fix them, or retry with force=true and a migration (drop-invalid, default "
                    "or none)", impact=impact.to_json())
            removed, added = list(old), self.compile(spec)
            if impact.affected and migration != "none":
                removed, added = self._migrate(spec, impact, migration, default, removed, added)
            self._journal.commit(removed, added, actor=actor,
                                 message=f"attribute {spec.name}: {'create' if create else 'change'}"
                                 + (f" (migration {migration})" if impact.affected else ""),
                                 exact=False)
        return impact

    def _migrate(self, spec: AttributeSpec, impact: Impact, migration: Migration, default: Any,
                 removed: list[Quad], added: list[Quad]) -> tuple[list[Quad], list[Quad]]:
        a = self.iri(spec.name)
        for item in impact.affected:
            subject = NamedNode(self._layout.iri(item["id"]))
            current = list(self._store.quads(subject, a, None, None))
            if migration == "drop-invalid":
                bad = {p.get("value") for p in item["problems"]}
                removed += [q for q in current if str(q.object.value) in bad]  # type: ignore[union-attr]
            elif migration == "default":
                if default is None:
                    raise InputError("the default migration needs a default value")
                graph = next(iter(self._store.quads(subject, NamedNode(RDF_TYPE), None, None)))
                removed += current
                added.append(Quad(subject, a, self._value(spec, default), graph.graph_name))
        return removed, added

    def retire(self, name: str, *, actor: str) -> None:
        """Retire: the shape stops applying and the property is deprecated; values stay."""
        with self._journal.lock:
            if not self.stored(name):
                raise NotFound(f"no attribute {name!r}")
            prop = NamedNode(self._shape(name).value + "/property")
            self._journal.commit([], [
                Quad(self.iri(name), NamedNode(OWL + "deprecated"), _TRUE, self.graph),
                Quad(prop, NamedNode(SH + "deactivated"), _TRUE, self._layout.shapes),
            ], actor=actor, message=f"attribute {name}: retire")
