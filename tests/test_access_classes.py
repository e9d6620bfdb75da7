"""The routing derivation's memoised propagation agrees with ``Facts.propagated``, the definition
the classifier projects, on random lineage with declassifiers, flags and cycles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad

from graph_store.layout import GraphLayout
from graph_store.overlay import Overlay
from graph_store.oxigraph_store import OxigraphStore
from reasoning.access_classes import Derivation
from reasoning.propagation import CLASSIFICATION, DECLASSIFIES, DERIVED_FROM, PROPAGATES

LAYOUT = GraphLayout("http://example.org")
G = LAYOUT.partition("w", "general")
CLASSES = [NamedNode(LAYOUT.iri(f"classification/c{i}")) for i in range(3)]


def node(i: int) -> NamedNode:
    return NamedNode(LAYOUT.iri(f"w/column/pg/c{i}"))


lineage = st.tuples(
    st.integers(2, 12).flatmap(lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 2)), max_size=n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 2)), max_size=n))),
    st.booleans())


@settings(max_examples=200, deadline=None)
@given(lineage)
def test_memoised_propagation_matches_the_definition(case: tuple) -> None:  # type: ignore[type-arg]
    (n, edges, holds, declassifies), flag = case
    quads = [Quad(node(a), DERIVED_FROM, node(b), G) for a, b in edges if a != b or flag]
    quads += [Quad(node(a), CLASSIFICATION, CLASSES[c], G) for a, c in holds]
    quads += [Quad(node(a), DECLASSIFIES, CLASSES[c], G) for a, c in declassifies]
    if flag:
        quads.append(Quad(CLASSES[2], PROPAGATES, Literal("false"), G))
    store = OxigraphStore(None)
    store.load_quads(quads)
    derivation = Derivation(store, Overlay(store, set(), []), LAYOUT, [], [], ([], []),
                            rollup=False)
    for i in range(n):
        expected = set(derivation.facts.propagated(node(i), derivation.own))
        assert derivation._received(node(i)) == expected, (i, quads)
