"""Core SHACL shapes (shapes/core.ttl), checked with real pySHACL.

The shapes must stay inside the SHACL subset that shapes/model.py compiles, agree exactly with
the conformance corpus in tests/shapes_cases/ (each file names its results), and accept the
demo catalog and the synthetic benchmark data without a Violation.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pyshacl
import pytest
from pyoxigraph import Quad
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef

from bench.synthetic import synthetic_assets
from catalog import Catalog
from catalog.asset_input import prepare
from demo import demo_assets
from graph_store.layout import GraphLayout
from graph_store.rdflib_bridge import to_rdflib
from ontology import ontology_turtle
from ontology.namespaces import CLASSES, OWL, RDF, RDFS, SEMCAT, SH, XSD

ROOT = Path(__file__).resolve().parent.parent
# Read from the source tree (not importlib.resources) so that this test does not depend on the
# validator modules imported by shapes/__init__.py.
CORE = ROOT / "shapes" / "core.ttl"
CASES = Path(__file__).resolve().parent / "shapes_cases"
BASE = "http://127.0.0.1:8000"

SC = "https://w3id.org/semcat/shapes#"
# Plain namespaces: pytest's collection trips over rdflib's closed DefinedNamespace (XSD).
S, SH_, RDF_, RDFS_, OWL_ = (Namespace(n) for n in (SEMCAT, SH, RDF, RDFS, OWL))

# The subset shapes/model.py compiles: every sh: predicate, and every sh: term used as a value.
ALLOWED_PREDICATES = {SH_[p] for p in (
    "targetClass", "property", "path", "inversePath", "minCount", "maxCount", "datatype", "class",
    "nodeKind", "in", "pattern", "flags", "minInclusive", "maxInclusive", "minExclusive",
    "maxExclusive", "minLength", "maxLength", "severity", "message", "name", "description",
    "deactivated",
)}
ALLOWED_VALUES = {SH_[v] for v in (
    "NodeShape", "Violation", "Warning", "Info", "IRI", "Literal", "BlankNodeOrIRI",
)}
OTHER_PREDICATES = {RDF_.type, RDFS_.label, RDFS_.comment, RDF_.first, RDF_.rest}
CONSTRAINT_NAMES = (
    "minCount", "maxCount", "datatype", "class", "nodeKind", "in", "pattern", "minInclusive",
    "maxInclusive", "minExclusive", "maxExclusive", "minLength", "maxLength",
)
CONSTRAINTS = {SH_[p] for p in CONSTRAINT_NAMES}
COMPONENTS = {p[0].upper() + p[1:] + "ConstraintComponent" for p in CONSTRAINT_NAMES}
# Classes the issue names: each has its own node shape (View is covered by Table's).
REQUIRED_TARGETS = (
    "Asset", "DataAsset", "Database", "Schema", "Table", "Column", "Dashboard", "Chart", "Pipeline",
    "PipelineRun", "MLModel", "Feature", "Glossary", "GlossaryTerm", "ClassificationScheme",
    "Classification", "Tag", "User", "Team", "Role", "Permission", "Workspace", "DataPlatform",
)

Result = tuple[str, str, str, str]  # (severity, focus, path or ^path, component)


@cache
def ontology() -> Graph:
    return Graph().parse(data=ontology_turtle(), format="turtle")


@cache
def shapes() -> Graph:
    return Graph().parse(CORE, format="turtle")


def node_shapes() -> list[URIRef]:
    return sorted(shapes().subjects(RDF_.type, SH_.NodeShape))  # type: ignore[arg-type]


def property_shapes() -> list[URIRef]:
    return sorted(set(shapes().objects(None, SH_.property)))  # type: ignore[arg-type]


def superclasses(cls: URIRef) -> set[URIRef]:
    return set(ontology().transitive_objects(cls, RDFS_.subClassOf))  # type: ignore[arg-type]


def validate(data: Graph) -> tuple[set[Result], Counter[tuple[str, str, str]], float]:
    """pySHACL over ``data`` + the ontology: the results, their count per (severity, source
    shape, component), and the seconds it took."""
    graph = Graph()
    graph += ontology()
    graph += data
    start = time.perf_counter()
    _, report, _ = pyshacl.validate(data_graph=graph, shacl_graph=shapes(), inference="none",
                                    allow_warnings=True)
    elapsed = time.perf_counter() - start
    results: set[Result] = set()
    by_shape: Counter[tuple[str, str, str]] = Counter()
    for r in report.subjects(RDF_.type, SH_.ValidationResult):
        severity = str(report.value(r, SH_.resultSeverity)).removeprefix(SH)
        path = report.value(r, SH_.resultPath)
        if isinstance(path, BNode):
            path = "^" + str(report.value(path, SH_.inversePath))
        component = str(report.value(r, SH_.sourceConstraintComponent)).removeprefix(SH)
        results.add((severity, str(report.value(r, SH_.focusNode)), str(path), component))
        by_shape[severity, str(report.value(r, SH_.sourceShape)).removeprefix(SC), component] += 1
    return results, by_shape, elapsed


# --- the shapes file ----------------------------------------------------------------------


def test_only_the_supported_shacl_subset_is_used() -> None:
    used_predicates = {p for p in shapes().predicates() if str(p).startswith(SH)}
    assert used_predicates <= ALLOWED_PREDICATES, used_predicates - ALLOWED_PREDICATES
    other = {p for p in shapes().predicates() if not str(p).startswith(SH)}
    assert other <= OTHER_PREDICATES, other - OTHER_PREDICATES
    used_values = {o for o in shapes().objects() if isinstance(o, URIRef)
                   and str(o).startswith(SH)}
    assert used_values <= ALLOWED_VALUES, used_values - ALLOWED_VALUES
    assert not {s for s in shapes().subjects() if str(s).startswith(SH)}


def test_node_shapes_target_ontology_classes_and_are_labelled() -> None:
    classes = set(ontology().subjects(RDF_.type, OWL_.Class))
    assert len(node_shapes()) >= len(REQUIRED_TARGETS) - 1  # Workspace/DataPlatform share Asset's
    for shape in node_shapes():
        assert str(shape).startswith(SC), shape
        targets = set(shapes().objects(shape, SH_.targetClass))
        assert targets, f"{shape} has no sh:targetClass"
        assert targets <= classes, f"{shape} targets unknown classes {targets - classes}"
        assert shapes().value(shape, RDFS_.label) is not None, f"{shape} has no rdfs:label"
        assert list(shapes().objects(shape, SH_.property)), f"{shape} has no property shapes"
    targeted = {t for s in node_shapes() for t in shapes().objects(s, SH_.targetClass)}
    missing = [c for c in REQUIRED_TARGETS if S[c] not in targeted]
    assert not missing, f"no node shape targets {missing}"


def test_property_shapes_are_complete() -> None:
    properties = set(ontology().subjects(RDF_.type, OWL_.ObjectProperty)) | set(
        ontology().subjects(RDF_.type, OWL_.DatatypeProperty))
    classes = set(ontology().subjects(RDF_.type, OWL_.Class))
    g = shapes()
    assert property_shapes()
    for ps in property_shapes():
        assert isinstance(ps, URIRef) and str(ps).startswith(SC), f"{ps}: name property shapes"
        assert len(list(g.subjects(SH_.property, ps))) == 1, f"{ps} is shared by node shapes"
        paths = list(g.objects(ps, SH_.path))
        assert len(paths) == 1, f"{ps} needs exactly one sh:path"
        path = paths[0]
        if isinstance(path, BNode):
            assert set(g.predicates(path)) == {SH_.inversePath}, f"{ps}: only sh:inversePath paths"
        prop = g.value(path, SH_.inversePath) if isinstance(path, BNode) else path
        assert isinstance(prop, URIRef) and prop in properties, f"{ps}: {prop} not in the ontology"
        for key in (SH_.name, SH_.message):
            values = list(g.objects(ps, key))
            assert len(values) == 1 and isinstance(values[0], Literal) and len(values[0]) > 3, \
                f"{ps} needs one {key}"
        constraints = [p for p in g.predicates(ps) if p in CONSTRAINTS]
        assert constraints, f"{ps} constrains nothing"
        # shapes/model.py reads one value per parameter.
        assert len(constraints) == len(set(constraints)), f"{ps} repeats a constraint"
        assert len(list(g.objects(ps, SH_.severity))) <= 1
        assert g.value(ps, SH_.severity) != SH_.Violation, f"{ps}: Violation is the default"
        for cls in g.objects(ps, SH_["class"]):
            assert cls in classes, f"{ps}: sh:class {cls} is not an ontology class"
        for dt in g.objects(ps, SH_.datatype):
            assert str(dt).startswith(XSD), f"{ps}: datatype {dt}"


def test_every_demo_class_is_targeted() -> None:
    targeted = {t for s in node_shapes() for t in shapes().objects(s, SH_.targetClass)}
    used = {a["type"] for a in demo_assets()}
    assert used <= set(CLASSES)
    untargeted = sorted(c for c in used if not superclasses(S[c]) & targeted)
    assert not untargeted, f"no shape applies to {untargeted}"


# --- the conformance corpus ---------------------------------------------------------------


def case_files() -> list[Path]:
    return sorted(CASES.glob("*/*.ttl"))


def expectations(path: Path) -> set[Result]:
    """The ``# expect:`` lines of the file's leading comment block (``# expect: none``: empty)."""
    expected: set[Result] = set()
    none = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# expect:"):
            continue
        words = [w.strip("<>") for w in line.removeprefix("# expect:").split()]
        if words == ["none"]:
            none = True
            continue
        assert len(words) == 4, f"{path.name}: malformed {line!r}"
        severity, focus, prop, component = words
        assert severity in ("Violation", "Warning", "Info"), f"{path.name}: {line!r}"
        assert component.endswith("ConstraintComponent"), f"{path.name}: {line!r}"
        expected.add((severity, focus, prop, component))
    assert none != bool(expected), f"{path.name}: say '# expect: none' or list results, not both"
    return expected


@cache
def case_results(path: Path) -> tuple[set[Result], Counter[tuple[str, str, str]]]:
    results, by_shape, _ = validate(Graph().parse(path, format="turtle"))
    return results, by_shape


def test_corpus_size_and_kinds() -> None:
    valid = list((CASES / "valid").glob("*.ttl"))
    invalid = list((CASES / "invalid").glob("*.ttl"))
    assert len(valid) >= 8 and len(invalid) >= 20
    assert len(case_files()) == len(valid) + len(invalid), "cases live in valid/ or invalid/"


@pytest.mark.parametrize("path", case_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(path: Path) -> None:
    expected = expectations(path)
    severities = {e[0] for e in expected}
    if path.parent.name == "valid":
        assert "Violation" not in severities, "a valid case cannot expect a Violation"
    else:
        assert "Violation" in severities, "an invalid case must expect a Violation"
    results, _ = case_results(path)
    assert results == expected, (
        f"\nunexpected: {sorted(results - expected)}\nmissing:    {sorted(expected - results)}")


def test_corpus_covers_every_constraint_kind_and_shape() -> None:
    invalid = [case_results(p)[0] for p in case_files() if p.parent.name == "invalid"]
    components = {r[3] for results in invalid for r in results}
    assert components >= COMPONENTS, f"no invalid case shows {COMPONENTS - components}"
    assert {r[0] for results in invalid for r in results} >= {"Violation", "Warning"}
    fired = {shape for p in case_files() for _, shape, _ in case_results(p)[1]}
    silent = {str(ps).removeprefix(SC) for ps in property_shapes()} - fired
    assert not silent, f"no case makes these property shapes report: {sorted(silent)}"


# --- the demo and the synthetic data --------------------------------------------------------


def graph_of(quads: Iterable[Quad]) -> Graph:
    g = Graph()
    for q in quads:
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))  # type: ignore[arg-type]
    return g


def summary(counts: Counter[tuple[str, str, str]]) -> str:
    return "; ".join(f"{sev} {component} ({shape}): {n}"
                     for (sev, shape, component), n in sorted(counts.items())) or "no results"


def assets_in(data: Graph) -> int:
    """How many resources the data types with a semcat class (so a pass is not vacuous)."""
    return len({s for c in CLASSES for s in data.subjects(RDF_.type, S[c])})


def test_demo_catalog_conforms(demo_catalog: Catalog) -> None:
    """The demo as stored (with the change log's version and created/updated stamps)."""
    buffer = io.BytesIO()
    demo_catalog.export(buffer, "application/n-quads")
    dataset = Dataset()
    dataset.parse(data=buffer.getvalue(), format="nquads")
    data = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        data.add((s, p, o))
    assert assets_in(data) == len(demo_assets())
    results, by_shape, seconds = validate(data)
    print(f"\ndemo: {len(data)} triples validated in {seconds:.1f} s; {summary(by_shape)}")
    violations = sorted(r for r in results if r[0] == "Violation")
    assert not violations, "\n".join(map(str, violations[:50]))


@cache
def synthetic_graph() -> Graph:
    items = prepare(synthetic_assets(50, 5), GraphLayout(BASE), f"{BASE}/api/v1/context.jsonld")
    return graph_of(q for item in items for q in item.quads)


def test_synthetic_data_conforms() -> None:
    assert assets_in(synthetic_graph()) == len(synthetic_assets(50, 5))
    results, by_shape, seconds = validate(synthetic_graph())
    print(f"\nsynthetic: {len(synthetic_graph())} triples in {seconds:.1f} s; {summary(by_shape)}")
    violations = sorted(r for r in results if r[0] == "Violation")
    assert not violations, "\n".join(map(str, violations[:50]))


def test_data_validation_is_not_vacuous() -> None:
    """Breaking one synthetic table is caught, so the conformance above means something."""
    data = Graph()
    data += synthetic_graph()
    table = next(s for s in data.subjects(RDF_.type, S.Table))
    data.remove((table, S.name, None))
    data.remove((table, S.partOf, None))
    results, _, _ = validate(data)
    assert results == {("Violation", str(table), str(S.name), "MinCountConstraintComponent"),
                       ("Violation", str(table), str(S.partOf), "MinCountConstraintComponent")}
