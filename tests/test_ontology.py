"""The shipped ontology: it parses, declares exactly the terms code names, and is DL-consistent."""

from __future__ import annotations

import pyoxigraph
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from ontology import namespaces as ns
from ontology import ontology_turtle
from ontology.namespaces import (
    CLASSES,
    DATATYPE_PROPERTIES,
    DCAT,
    DCTERMS,
    FOAF,
    OBJECT_PROPERTIES,
    ODRL,
    ORG,
    PROV,
    SEMCAT,
    SKOS,
)
from reasoning import check_consistency

# Plain Namespaces (not rdflib's DefinedNamespaces, which warn when pytest inspects them).
RDF, RDFS, OWL, XSD = (Namespace(iri) for iri in (ns.RDF, ns.RDFS, ns.OWL, ns.XSD))

ONTOLOGY_IRI = URIRef("https://w3id.org/semcat")
KINDS = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}
TERMS = (
    [(n, OWL.Class) for n in CLASSES]
    + [(n, OWL.ObjectProperty) for n in OBJECT_PROPERTIES]
    + [(n, OWL.DatatypeProperty) for n in DATATYPE_PROPERTIES]
)
REASONERS = ("hermit", "pellet")


def s(local: str) -> URIRef:
    return URIRef(SEMCAT + local)


@pytest.fixture(scope="module")
def turtle() -> bytes:
    return ontology_turtle()


@pytest.fixture(scope="module")
def graph(turtle: bytes) -> Graph:
    return Graph().parse(data=turtle, format="turtle")


def test_parses_with_rdflib_and_pyoxigraph_alike(turtle: bytes, graph: Graph) -> None:
    quads = set(pyoxigraph.parse(turtle, format=pyoxigraph.RdfFormat.TURTLE))
    assert len(quads) == len(graph) > 300
    header = pyoxigraph.Triple(
        pyoxigraph.NamedNode(str(ONTOLOGY_IRI)),
        pyoxigraph.NamedNode(str(RDF.type)),
        pyoxigraph.NamedNode(str(OWL.Ontology)),
    )
    assert header in {q.triple for q in quads}


def test_header_has_version_title_and_description(graph: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in graph
    assert graph.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("1.0.0")
    for prop in ("title", "description"):
        value = graph.value(ONTOLOGY_IRI, URIRef(DCTERMS + prop))
        assert isinstance(value, Literal) and value.language == "en" and len(value) > 10


@pytest.mark.parametrize(("local", "kind"), TERMS, ids=[n for n, _ in TERMS])
def test_term_is_declared_labelled_and_commented(graph: Graph, local: str, kind: URIRef) -> None:
    iri = s(local)
    assert set(graph.objects(iri, RDF.type)) & KINDS == {kind}
    for prop, min_length in ((RDFS.label, 2), (RDFS.comment, 30)):
        english = [o for o in graph.objects(iri, prop) if getattr(o, "language", None) == "en"]
        assert len(english) == 1, f"{local} needs one English {prop}"
        assert len(english[0]) >= min_length


def test_no_semcat_term_is_missing_from_namespaces(graph: Graph) -> None:
    """Every semcat IRI in the file (declared or merely used) is one that code can name."""
    named = {s(n) for n, _ in TERMS}
    used = {t for triple in graph for t in triple if isinstance(t, URIRef) and t.startswith(SEMCAT)}
    assert used - named == set()


def test_no_punning_clash_and_every_predicate_is_declared(graph: Graph) -> None:
    """OWL 2 DL: each IRI has one kind, and external predicates are not annotation-by-default."""
    kinds: dict[Node, set[Node]] = {}
    for subject, kind in graph.subject_objects(RDF.type):
        if kind in KINDS:
            kinds.setdefault(subject, set()).add(kind)
    assert {iri: k for iri, k in kinds.items() if len(k) > 1} == {}
    builtin = (ns.RDF, ns.RDFS, ns.OWL)  # str(): rdflib's URIRef.startswith takes no tuple
    undeclared = {p for p in graph.predicates() if not str(p).startswith(builtin)} - kinds.keys()
    assert undeclared == set()
    referenced = set(graph.objects(None, RDFS.subClassOf)) | set(graph.objects(None, RDFS.domain))
    referenced |= {r for r in graph.objects(None, RDFS.range) if not r.startswith(ns.XSD)}
    assert {c for c in referenced if kinds.get(c) != {OWL.Class}} == set()


AXIOMS = [
    (s("DataAsset"), RDFS.subClassOf, s("Asset")),
    (s("Workspace"), RDFS.subClassOf, URIRef(DCAT + "Catalog")),
    (s("DataPlatform"), RDFS.subClassOf, URIRef(DCAT + "DataService")),
    (s("Table"), RDFS.subClassOf, URIRef(DCAT + "Dataset")),
    (s("View"), RDFS.subClassOf, s("Table")),
    (s("Pipeline"), RDFS.subClassOf, URIRef(PROV + "Plan")),
    (s("PipelineRun"), RDFS.subClassOf, URIRef(PROV + "Activity")),
    (s("GlossaryTerm"), RDFS.subClassOf, URIRef(SKOS + "Concept")),
    (s("Glossary"), RDFS.subClassOf, URIRef(SKOS + "ConceptScheme")),
    (s("User"), RDFS.subClassOf, URIRef(FOAF + "Person")),
    (s("Team"), RDFS.subClassOf, URIRef(ORG + "OrganizationalUnit")),
    (s("Permission"), RDFS.subClassOf, URIRef(ODRL + "Permission")),
    (s("User"), OWL.disjointWith, s("Team")),
    (s("workspace"), RDF.type, OWL.FunctionalProperty),
    (s("version"), RDF.type, OWL.FunctionalProperty),
    (s("upstream"), RDF.type, OWL.TransitiveProperty),
    (s("downstream"), RDF.type, OWL.TransitiveProperty),
    (s("downstream"), OWL.inverseOf, s("upstream")),
    (s("derivesInto"), OWL.inverseOf, s("derivedFrom")),
    (s("hasPart"), OWL.inverseOf, s("partOf")),
    (s("derivedFrom"), RDFS.subPropertyOf, s("upstream")),
    (s("derivedFrom"), RDFS.subPropertyOf, URIRef(PROV + "wasDerivedFrom")),
    (s("hasColumn"), RDFS.subPropertyOf, s("hasPart")),
    (s("owner"), RDFS.subPropertyOf, URIRef(PROV + "wasAttributedTo")),
    (s("tag"), RDFS.subPropertyOf, URIRef(DCAT + "theme")),
    (s("name"), RDFS.subPropertyOf, URIRef(DCTERMS + "title")),
    (s("startedAt"), RDFS.subPropertyOf, URIRef(PROV + "startedAtTime")),
    (s("position"), RDFS.range, XSD.integer),
    (s("updatedAt"), RDFS.range, XSD.dateTime),
]


@pytest.mark.parametrize("axiom", AXIOMS, ids=lambda a: f"{a[0].split('#')[1]}-{a[2]}")
def test_key_axioms(graph: Graph, axiom: tuple[URIRef, URIRef, URIRef]) -> None:
    assert axiom in graph


def test_structural_kinds_are_pairwise_disjoint(graph: Graph) -> None:
    kinds = {"Database", "Schema", "Table", "Column", "Dashboard", "Chart", "Pipeline",
             "MLModel", "Feature"}
    lists = [graph.value(b, OWL.members) for b in graph.subjects(RDF.type, OWL.AllDisjointClasses)]
    assert {s(k) for k in kinds} in [set(graph.items(lst)) for lst in lists]


@pytest.mark.parametrize("reasoner", REASONERS)
def test_ontology_is_consistent_and_coherent(turtle: bytes, reasoner: str) -> None:
    result = check_consistency(turtle, reasoner=reasoner)
    assert result.consistent, result.explanation
    assert result.unsatisfiable == ()
    assert result.reasoner == reasoner


@pytest.mark.parametrize("reasoner", REASONERS)
def test_table_that_is_also_a_column_is_inconsistent(turtle: bytes, reasoner: str) -> None:
    clash = b"\n<https://example.org/x> a semcat:Table , semcat:Column .\n"
    result = check_consistency(turtle + clash, reasoner=reasoner)
    assert not result.consistent
    assert "inconsistent" in result.explanation
    assert "Column" in result.explanation and "Table" in result.explanation  # the justification


def test_unsatisfiable_class_is_reported(turtle: bytes) -> None:
    result = check_consistency(turtle + b"\nsemcat:View owl:disjointWith semcat:Table .\n")
    assert result.consistent
    assert result.unsatisfiable == (SEMCAT + "View",)
    assert "View" in result.explanation


def test_unknown_reasoner_is_refused(turtle: bytes) -> None:
    with pytest.raises(ValueError, match="hermit"):
        check_consistency(turtle, reasoner="fact++")
