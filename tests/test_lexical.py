"""The reasoner skips the store look-up for literals it deems canonical already
(reasoning/lexical.py): each such literal must read back from the store exactly as given."""

from __future__ import annotations

import pytest
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, Store

from graph_store.journal import utc_now
from reasoning.lexical import spelled_as_stored

XSD = "http://www.w3.org/2001/XMLSchema#"
SPELLINGS = [
    ("12", "integer"), ("0", "integer"), ("-7", "integer"), ("0012", "integer"),
    ("-0", "integer"), ("+5", "integer"), ("true", "boolean"), ("1", "boolean"),
    ("2026-12-07T07:30:03.38Z", "dateTime"), ("2026-12-07T07:30:03.380Z", "dateTime"),
    ("2026-12-07T07:30:03Z", "dateTime"), ("2026-12-07T07:30:03.381+00:00", "dateTime"),
    ("2026-12-07T07:30:03.000Z", "dateTime"), ("2026-12-07T07:30:03.5+02:00", "dateTime"),
    ("1.5", "decimal"), ("1.50", "decimal"), ("2026-12-07", "date"), ("x", "string"),
]


@pytest.mark.parametrize(("lexical", "datatype"), SPELLINGS)
def test_a_literal_deemed_canonical_reads_back_unchanged(lexical: str, datatype: str) -> None:
    given = Literal(lexical, datatype=NamedNode(XSD + datatype))
    store = Store()
    store.add(Quad(NamedNode("http://a"), NamedNode("http://p"), given, DefaultGraph()))
    (stored,) = [q.object for q in store]
    if spelled_as_stored(given):
        assert stored == given
    if stored != given:
        assert not spelled_as_stored(given)


def test_the_journal_stamps_and_other_terms_need_no_look_up() -> None:
    assert spelled_as_stored(Literal(utc_now(), datatype=NamedNode(XSD + "dateTime")))
    assert spelled_as_stored(NamedNode("http://a"))
    assert spelled_as_stored(Literal("hello", language="en"))
    assert not spelled_as_stored(Literal("1.50", datatype=NamedNode(XSD + "decimal")))
