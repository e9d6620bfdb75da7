"""Autocomplete: prefix completions of asset names, qualified names and facet values.

Three edge-n-gram fields of the text index hold every prefix (up to ``MAX_GRAM`` characters)
of an asset's name, of the name from each inner word on (``churn`` finds
``customer_churn_scores``), and of its qualified name from each dot on (``marts.fct`` finds
``analytics.marts.fct_orders``). A completion is then one term lookup per field: constant
scores by tier (whole-name prefix > inner-word prefix > qualified-name prefix), multiplied
by a popularity prior (kind of asset and its degree: columns, owners, tags, terms), so a table
named ``customers`` comes before the fifteen columns named ``customer_id``. Tags, glossary
terms, owners, classifications and platforms are assets too: they complete the same way and
say which filter they stand for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import tantivy

if TYPE_CHECKING:
    from search.documents import AssetDoc


class Index(Protocol):
    """What suggestions need of search/text_index.py's TextIndex (which builds on this module)."""

    def term(self, field: str, value: str | int) -> tantivy.Query: ...

    def any_of(self, field: str, values: Sequence[str | int]) -> tantivy.Query: ...

    def searcher(self) -> tantivy.Searcher: ...

EDGE = "semcat_edge"  # the whole value lower-cased, as prefixes of 1..MAX_GRAM characters
MAX_GRAM = 32
MAX_SUGGEST = 50
# field -> constant score of a hit in it (tiers stay ordered after the popularity weight,
# which multiplies by at most log2(2 + 1.1) < 2)
FIELDS: dict[str, float] = {"suggest_name": 8.0, "suggest_word": 4.0, "suggest_qname": 2.0}
MATCH = {"suggest_name": "name", "suggest_word": "word", "suggest_qname": "qualifiedName"}
# kinds of asset that stand for a facet value: completing one offers the filter
FACET_OF_TYPE = {"Tag": "tag", "GlossaryTerm": "term", "Team": "owner", "User": "owner",
                 "Classification": "classification", "DataPlatform": "platform",
                 "Workspace": "workspace", "Domain": "domain"}
# where a word starts inside an identifier (snake_case, camelCase, digits)
_WORD_START = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|[0-9]+|[^\W\d_]+")


def edge_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(1, MAX_GRAM, True))
            .filter(tantivy.Filter.lowercase()).build())


def add_fields(schema: tantivy.SchemaBuilder) -> None:
    for name in FIELDS:
        schema.add_text_field(name, tokenizer_name=EDGE, index_option="basic")
    schema.add_float_field("popularity", fast=True)


def _inner_suffixes(name: str) -> list[str]:
    """The name from each word after the first: ``customer_churn_scores`` → ``churn_scores``,
    ``scores``; ``CustomerId`` → ``Id``."""
    starts = [m.start() for m in _WORD_START.finditer(name)][1:]
    return list(dict.fromkeys(name[s:] for s in starts))


def _qualified_suffixes(qualified: str) -> list[str]:
    parts = qualified.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))] if len(parts) > 1 else [qualified]


def popularity(doc: AssetDoc, prior: float) -> float:
    """The kind's prior plus up to 0.5 for being connected (columns, owners, tags, terms)."""
    degree = (len(doc.columns) + len(doc.owners) + len(doc.tags) + len(doc.terms)
              + len(doc.classifications))
    return prior + 0.5 * min(1.0, degree / 20)


def fill(d: tantivy.Document, doc: AssetDoc, prior: float) -> None:
    """Add the completion fields of ``doc`` to its tantivy document."""
    if doc.name:
        d.add_text("suggest_name", doc.name)
        for suffix in _inner_suffixes(doc.name):
            d.add_text("suggest_word", suffix)
    if doc.qualified_name and doc.qualified_name != doc.name:
        for suffix in _qualified_suffixes(doc.qualified_name):
            d.add_text("suggest_qname", suffix)
    d.add_float("popularity", popularity(doc, prior))


@dataclass(frozen=True)
class Suggestion:
    text: str
    id: str
    type: str
    qualified_name: str
    match: str
    score: float
    facet: str | None  # the facet this asset is a value of (tag, term, owner, ...)
    more: int  # other assets with the same name and type, folded into this one

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "id": self.id, "type": self.type,
                               "qualifiedName": self.qualified_name or None,
                               "match": self.match, "score": round(self.score, 4)}
        if self.facet:
            out["filter"] = {self.facet: [self.id]}
        if self.more:
            out["more"] = self.more
        return out


def suggest(index: Index, q: str, limit: int = 10,
            graphs: Collection[str] | None = None) -> tuple[list[Suggestion], float]:
    """Completions of ``q`` (best first) and the milliseconds it took."""
    from tantivy import Occur, Query

    t0 = time.perf_counter()
    prefix = q.strip().lower()
    if not prefix:
        return [], 0.0
    probe = prefix[:MAX_GRAM]
    clauses = [(Occur.Should, Query.const_score_query(index.term(f, probe), score))
               for f, score in FIELDS.items()]
    query = Query.boolean_query(clauses)
    if graphs is not None:
        query = Query.boolean_query([(Occur.Must, query), (Occur.Must, Query.const_score_query(
            index.any_of("f_graph", sorted(graphs)), 0.0))])
    searcher = index.searcher()
    found = searcher.search(query, max(limit * 4, 40), count=False,
                            weight_by_field="popularity").hits
    rows: list[tuple[float, str, dict[str, Any]]] = []
    for score, address in found:
        fields = searcher.doc(address).to_dict()
        name = str((fields.get("name") or fields["id"])[0])
        qualified = str((fields.get("qualified_name") or [""])[0])
        match = _which(prefix, name, qualified)
        if match is None:  # only the first MAX_GRAM characters were looked up
            continue
        rows.append((float(score), match, {"id": str(fields["id"][0]), "name": name,
                                           "qualified": qualified,
                                           "type": str((fields.get("f_type") or ["Asset"])[0])}))
    rows.sort(key=lambda r: (-round(r[0], 6), len(r[2]["name"]), r[2]["name"].lower(),
                             r[2]["id"]))
    out: list[Suggestion] = []
    folded: dict[tuple[str, str], int] = {}
    for score, match, f in rows:
        same = (f["name"].lower(), f["type"])
        if same in folded:
            kept = out[folded[same]]
            out[folded[same]] = replace(kept, more=kept.more + 1)
            continue
        if len(out) >= limit:
            continue
        folded[same] = len(out)
        out.append(Suggestion(f["name"], f["id"], f["type"], f["qualified"], match, score,
                              FACET_OF_TYPE.get(f["type"]), 0))
    return out, (time.perf_counter() - t0) * 1000


def _which(prefix: str, name: str, qualified: str) -> str | None:
    low = name.lower()
    if low.startswith(prefix):
        return "name"
    if any(s.lower().startswith(prefix) for s in _inner_suffixes(name)):
        return "word"
    if any(s.lower().startswith(prefix) for s in _qualified_suffixes(qualified)):
        return "qualifiedName"
    return None
