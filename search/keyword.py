"""From the words a user typed to one tantivy query: BM25 over boosted fields, synonyms,
prefixes and typos, a phrase bonus, and an exact-name match that always wins.

Each query *unit* (a word, or a multi-word expression such as "date of birth") becomes a
disjunction-max over its alternatives in every field, so a word found in the name counts more
than the same word in a column description, and one word found everywhere cannot outweigh
two words found once. Typos and prefixes are resolved against the index's own term
dictionary into real terms, which keeps them BM25-scored and highlightable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tantivy import Occur, Query

from search.analysis import SOFT_WORDS, content_words, edit_distance, exact_key, stem, stems, words
from search.synonyms import GROUPS
from search.text_index import TEXT_FIELDS, TextIndex

EXACT_BONUS = 1000.0  # above any BM25 sum: exact name and qualified-name matches rank first
PHRASE_FIELDS = ("name", "qualified_name", "description", "columns", "terms", "tags")
SYNONYM_WEIGHT = 0.7
PREFIX_WEIGHT = 0.8  # a word absent from the index completed to words that are in it
AUTOCOMPLETE_WEIGHT = 0.3  # the last word also completed, though it exists
TYPO_WEIGHT = 0.7
MAX_EXPANSIONS = 8
# Coordination, where not every unit is required: each unit an asset matches adds this, more than
# BM25 differences usually are, so assets holding more of a question's units come first and BM25
# (times the type prior, which multiplies the whole score) orders within a tier. Without
# it, one word in a table's name (weight 6) outranked three of a question's words in another
# table's columns: nDCG@10 0.65 against 0.76 on the tuning questions of bench/table_search.
UNIT_BONUS = 50.0
COMMON_SHARE = 0.2  # of the documents: a word found in more only scores (see _common)
COMMON_MIN_DOCS = 50_000  # below this every search is cheap, and nothing changes
_EXPRESSIONS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _expressions() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Each synonym expression (as stems, so plurals match) → the group it belongs to."""
    if not _EXPRESSIONS:
        for group in GROUPS:
            for expression in group:
                _EXPRESSIONS.setdefault(tuple(stem(w) for w in words(expression)), group)
    return _EXPRESSIONS


@dataclass
class Unit:
    """One thing the query asks for, and the alternatives that satisfy it."""

    text: str
    terms: dict[str, float] = field(default_factory=dict)  # stem -> weight
    phrases: list[tuple[list[str], float]] = field(default_factory=list)
    compounds: list[str] = field(default_factory=list)  # joined forms of single words
    expanded: list[str] = field(default_factory=list)  # what synonyms/prefixes/typos added


@dataclass
class TextQuery:
    units: list[Unit]
    min_match: int
    match: Query  # what keyword search matches and scores (without filters)
    exact: Query  # documents whose name, qualified name or key is the whole query
    stems: frozenset[str]  # every term looked for: which fields matched, for `why`
    filter: Query  # exactly what ``match`` matches, without scoring: totals and facets

    def interpretation(self) -> dict[str, object]:
        return {"words": [u.text for u in self.units], "minimumMatch": self.min_match,
                "expanded": {u.text: u.expanded for u in self.units if u.expanded}}


def _segment(query_words: list[str]) -> list[tuple[str, tuple[str, ...] | None]]:
    """Split into units: longest synonym expressions first, then single content words."""
    table = _expressions()
    longest = max((len(k) for k in table), default=1)
    units: list[tuple[str, tuple[str, ...] | None]] = []
    content = set(content_words(query_words))
    stemmed = [stem(w) for w in query_words]
    i = 0
    while i < len(query_words):
        for n in range(min(longest, len(query_words) - i), 0, -1):
            group = table.get(tuple(stemmed[i:i + n]))
            if group is not None and (n > 1 or query_words[i] in content):
                units.append((" ".join(query_words[i:i + n]), group))
                i += n
                break
        else:
            if query_words[i] in content:
                units.append((query_words[i], None))
            i += 1
    return units


def _completions(index: TextIndex, prefix: str, limit: int) -> list[str]:
    searcher = index.searcher()
    return [t for t, _ in searcher.terms_with_prefix("plain", prefix, limit=limit + 1)
            if t != prefix][:limit]


def _typos(index: TextIndex, word: str) -> list[str]:
    """Indexed words within 1 edit (2 from 8 letters) sharing the first two letters."""
    limit = 1 if len(word) < 8 else 2
    candidates = index.searcher().terms_with_prefix("plain", word[:2], limit=5000)
    close = [(t, n) for t, n in candidates if t != word and edit_distance(word, t, limit) <= limit]
    close.sort(key=lambda tn: (edit_distance(word, tn[0], limit), -tn[1]))
    return [t for t, _ in close[:MAX_EXPANSIONS]]


def _unit(index: TextIndex, text: str, group: tuple[str, ...] | None, last: bool) -> Unit:
    unit = Unit(text)
    own = text.split()
    if len(own) == 1:
        unit.terms[stem(own[0])] = 1.0
        unit.compounds.append(own[0])
    else:
        unit.phrases.append((stems(text), 1.0))
    for alternative in group or ():
        alt_words = words(alternative)
        if [stem(w) for w in alt_words] == [stem(w) for w in own]:
            continue
        unit.expanded.append(alternative)
        if len(alt_words) == 1:
            unit.terms.setdefault(stem(alt_words[0]), SYNONYM_WEIGHT)
            unit.compounds.append(alt_words[0])
        else:
            unit.phrases.append((stems(alternative), SYNONYM_WEIGHT))
    if len(own) == 1:
        word = own[0]
        known = index.doc_freq("plain", word) > 0
        added: list[tuple[str, float]] = []
        if not known and len(word) >= 3:
            added += [(t, PREFIX_WEIGHT) for t in _completions(index, word, MAX_EXPANSIONS)]
        if not known and len(word) >= 4:
            added += [(t, TYPO_WEIGHT) for t in _typos(index, word)]
        if known and last and len(word) >= 3:
            added += [(t, AUTOCOMPLETE_WEIGHT) for t in _completions(index, word, 4)]
        for term, weight in added:
            s = stem(term)
            if s not in unit.terms:
                unit.terms[s] = weight
                unit.expanded.append(term)
    return unit


def _phrase(index: TextIndex, field: str, terms: list[str], slop: int) -> Query:
    words: list[str | tuple[int, str]] = list(terms)
    return Query.phrase_query(index.schema, field, words, slop)


def _unit_query(index: TextIndex, unit: Unit) -> Query:
    alternatives: list[Query] = []
    for term, weight in unit.terms.items():
        alternatives += [Query.boost_query(index.term(f, term), boost * weight)
                         for f, boost in TEXT_FIELDS.items()]
    for phrase, weight in unit.phrases:
        if len(phrase) < 2:  # a phrase query needs two terms
            alternatives += [Query.boost_query(index.term(f, t), boost * weight)
                             for t in phrase for f, boost in TEXT_FIELDS.items()]
            continue
        alternatives += [Query.boost_query(_phrase(index, f, phrase, 1),
                                           TEXT_FIELDS[f] * weight) for f in PHRASE_FIELDS]
    alternatives += [Query.boost_query(index.term("compounds", c), 3.0) for c in unit.compounds]
    return Query.disjunction_max_query(alternatives, 0.1)


def _unit_filter(index: TextIndex, unit: Unit) -> Query:
    """What ``_unit_query`` matches, as a plain union and without the phrases that one of
    the unit's own terms already matches (a phrase holds its terms, and every term is looked
    for in every field a phrase is): checking the positions of a common phrase such as
    "phone number" in every document that has both words cost most of a 20-30 ms facet
    count at a million assets, though it can add no document."""
    alternatives = [index.term(f, term) for term in unit.terms for f in TEXT_FIELDS]
    for phrase, _ in unit.phrases:
        if len(phrase) < 2:
            alternatives += [index.term(f, t) for t in phrase for f in TEXT_FIELDS]
        elif not unit.terms.keys() & set(phrase):
            alternatives += [_phrase(index, f, phrase, 1) for f in PHRASE_FIELDS]
    alternatives += [index.term("compounds", c) for c in unit.compounds]
    return Query.boolean_query([(Occur.Should, a) for a in alternatives], 1)


def minimum_match(n: int) -> int:
    """All of one or two units (a name, "order items"); any one of three or more. Longer
    queries are mostly questions, whose words are rarely all in one asset ("how many heads of
    the departments are older than 56" wants the table ``head``): requiring most of them
    failed for over half of the questions in issue 15's outside run. Assets holding more of the
    units still rank higher (``UNIT_BONUS``)."""
    return n if n <= 2 else 1


def _common(index: TextIndex, unit: Unit) -> bool:
    """A word in more than ``COMMON_SHARE`` of a big index (``analytics`` in every qualified
    name) says little about what is sought, and requiring it makes every search walk most
    of the index (qualified-name queries took 60-80 ms at a million assets): it still
    scores, but only the rarer words decide what matches (Lucene's cutoff frequency)."""
    if " " in unit.text:
        return False
    total = int(index.searcher().num_docs)
    return total >= COMMON_MIN_DOCS and index.doc_freq("plain", unit.text) > COMMON_SHARE * total


def build(index: TextIndex, q: str, *, relaxed: bool = False) -> TextQuery | None:
    """The keyword query for ``q``; None when ``q`` holds no words."""
    query_words = words(q)
    if not query_words:
        return None
    segments = _segment(query_words)
    units = [_unit(index, text, group, last=i == len(segments) - 1)
             for i, (text, group) in enumerate(segments)]
    required = [u for u in units if u.text not in SOFT_WORDS] or units
    required = [u for u in required if not _common(index, u)] or required
    optional = [u for u in units if u not in required]
    min_match = 1 if relaxed else minimum_match(len(required))
    core = Query.boolean_query([(Occur.Should, _unit_query(index, u)) for u in required],
                               min_match)
    scored: list[tuple[Occur, Query]] = [(Occur.Must, core)]
    scored += [(Occur.Should, _unit_query(index, u)) for u in optional]
    if min_match < len(required):  # a question: rank by how many of its units match
        scored += [(Occur.Should, Query.const_score_query(_unit_filter(index, u), UNIT_BONUS))
                   for u in required]
    content = [stem(w) for w in content_words(query_words)]
    if len(content) > 1:
        scored += [(Occur.Should, Query.boost_query(_phrase(index, f, content, 2),
                                                    TEXT_FIELDS[f]))
                   for f in ("name", "description", "columns")]
    exact = index.term("exact", exact_key(q))
    match = Query.boolean_query([
        (Occur.Should, Query.boolean_query(scored)),
        (Occur.Should, Query.const_score_query(exact, EXACT_BONUS)),
    ], 1)
    all_stems = frozenset(t for u in units for t in (*u.terms, *(s for p, _ in u.phrases for s in p)))
    # the same match set: ``scored`` matches where its one MUST clause does
    matched = Query.boolean_query([(Occur.Should, _unit_filter(index, u)) for u in required],
                                  min_match)
    filter_q = Query.boolean_query([(Occur.Should, matched), (Occur.Should, exact)], 1)
    return TextQuery(units, min_match, match, exact, all_stems, filter_q)
