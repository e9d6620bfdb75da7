"""Natural-language queries: "PII tables owned by the finance team changed last week" becomes
filters (classification, type, owner, time range, platform, tag, workspace, domain, term) plus
the words left over for full-text and semantic matching.

Rule- and vocabulary-based, no model: the vocabulary is the index's own facet values and their
names (teams, people, tags, classifications and their schemes, platforms, workspaces, domains,
glossary terms), the ontology's class names with their plurals and everyday synonyms, and time
phrases. Words are compared by stem (``tables`` = ``table``), platform names also with one
typo. Common words that happen to name a value (``finance``, ``marketing``, ``public``) only
become a filter with a cue (``owned by finance``, ``the finance team``, ``tagged finance``,
``confidential tables``); platforms, and tags, classifications and workspaces named by an
acronym or several words (``Snowflake``, ``PII``, ``GDPR``, ``Tier 1``) need none; owners and
glossary terms always do. Fuzzy matching by embeddings is not used. Every recognised span
is reported with the filter it became, so a user can see and correct the reading; explicit
filters of the request win.

Years and dates are content ("singers born before 1990", "orders after 2012") unless a verb
says they date the asset itself ("updated since 2024", "created in 2025"); relative phrases
("last week", "yesterday") need none. A question is never refused: a time reading that
leaves an empty range (or contradicts the request's own bounds) is dropped, with a note.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import weakref
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tantivy import Occur, Query

from graph_store.errors import InputError
from search.analysis import edit_distance, stem, words
from search.dates import iso, now_utc, period
from search.dates import resolve as resolve_dates
from search.model import SearchRequest

if TYPE_CHECKING:
    from search.text_index import TextIndex

# everyday words for the ontology's classes (singular; plurals match by stem)
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "table": ("Table",), "view": ("View",), "dataset": ("Table", "View"),
    "data set": ("Table", "View"), "column": ("Column",), "field": ("Column",),
    "dashboard": ("Dashboard",), "report": ("Dashboard",), "chart": ("Chart",),
    "visualisation": ("Chart",), "visualization": ("Chart",), "pipeline": ("Pipeline",),
    "dag": ("Pipeline",), "etl job": ("Pipeline",), "pipeline run": ("PipelineRun",),
    "model": ("MLModel",), "ml model": ("MLModel",), "machine learning model": ("MLModel",),
    "feature": ("Feature",), "schema": ("Schema",), "database": ("Database",),
    "glossary term": ("GlossaryTerm",), "business term": ("GlossaryTerm",),
    "classification scheme": ("ClassificationScheme",), "data platform": ("DataPlatform",),
}
FACETS = ("owner", "tag", "classification", "platform", "workspace", "domain", "term")
# words that say which facet the next or previous words name
CUES_BEFORE: dict[str, tuple[tuple[str, ...], ...]] = {
    "owner": (("owned", "by"), ("owner",), ("owners",), ("maintained", "by"),
              ("managed", "by"), ("by",), ("team",), ("from",), ("belonging", "to")),
    "tag": (("tagged", "with"), ("tagged", "as"), ("tagged",), ("with", "tag"), ("tag",),
            ("labelled",), ("labeled",)),
    "classification": (("classified", "as"), ("classified",), ("with", "classification"),
                       ("classification",), ("containing",), ("with",)),
    "platform": (("in",), ("on",), ("from",), ("platform",)),
    "workspace": (("in", "workspace"), ("workspace",), ("in",)),
    "domain": (("in", "domain"), ("domain",), ("in",)),
    "term": (("glossary", "term"), ("term",), ("defined", "by"), ("about", "term")),
}
CUES_AFTER: dict[str, tuple[tuple[str, ...], ...]] = {
    "owner": (("team", "s"), ("team",), ("s",)), "tag": (("tag",),),
    "classification": (("classification",), ("data",)), "platform": (("platform",),),
    "workspace": (("workspace",),), "domain": (("domain",),), "term": (("term",),),
}
# with these cues, a word that needs one may stand alone; weaker cues ("in", "by", "from",
# "with") only confirm values that would also match without them
STRONG_CUES = {("owned", "by"), ("owner",), ("owners",), ("maintained", "by"), ("managed", "by"),
               ("team",), ("team", "s"), ("s",), ("belonging", "to"), ("tagged", "with"),
               ("tagged", "as"), ("tagged",), ("with", "tag"), ("tag",), ("labelled",),
               ("labeled",), ("classified", "as"), ("classified",), ("with", "classification"),
               ("classification",), ("platform",), ("in", "workspace"), ("workspace",),
               ("in", "domain"), ("domain",), ("glossary", "term"), ("term",),
               ("defined", "by"), ("about", "term")}
ARTICLES = frozenset({"the", "a", "an", "our", "their"})
PRIORITY = ("type", "platform", "classification", "tag", "workspace", "owner", "domain", "term")
REFRESH_S = 1.0  # the vocabulary follows the index at most this stale

_UNITS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7),
          "fortnight": timedelta(days=14), "month": timedelta(days=30),
          "quarter": timedelta(days=91), "year": timedelta(days=365)}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "ten": 10, "twelve": 12, "thirty": 30, "ninety": 90}
_VERB = (r"(?:(?P<verb>created|added|new|changed|updated|modified|edited|touched|refreshed)"
         r"\s+)?")
_DATE = r"(?P<date>\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?|\d{4}-\d{2}|\d{4})"
_TIME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(
    r"(?<![\w-])" + _VERB + pattern + r"(?![\w-])")) for kind, pattern in (
    ("last", r"(?:(?:in|within|during|over)\s+)?(?:the\s+)?(?:last|past|previous)\s+"
             r"(?P<n>\d+|" + "|".join(_NUMBERS) + r")?\s*(?P<unit>" + "|".join(_UNITS) + r")s?"),
    ("yesterday", r"yesterday"), ("today", r"today"),
    ("this", r"(?:(?:in|during)\s+)?this\s+(?P<unit>week|month|quarter|year)"),
    ("since", r"(?P<op>since|after|from)\s+" + _DATE),
    ("before", r"(?P<op>before|until|till)\s+" + _DATE),
    ("in", r"(?:in|during)\s+" + _DATE),
))
_ANCHORED = frozenset({"since", "before", "in"})  # at a date: a time filter only with a verb


@dataclass(frozen=True)
class Entry:
    """One value a phrase can name."""

    facet: str
    values: tuple[str, ...]
    label: str
    strong: bool  # may stand without a cue


@dataclass
class Vocabulary:
    aliases: dict[tuple[str, ...], list[Entry]] = field(default_factory=dict)
    longest: int = 1

    def add(self, phrase: list[str], entry: Entry) -> None:
        key = tuple(_stem(w) for w in phrase if w)
        if not key:
            return
        found = self.aliases.setdefault(key, [])
        if all((e.facet, e.values) != (entry.facet, entry.values) for e in found):
            found.append(entry)
        self.longest = max(self.longest, len(key))

    def lookup(self, phrase: list[str]) -> list[Entry]:
        key = tuple(_stem(w) for w in phrase)
        found = self.aliases.get(key)
        if found or len(phrase) != 1 or len(phrase[0]) < 6:
            return found or []
        return [e for k, es in self.aliases.items() if len(k) == 1 and len(k[0]) >= 5
                and edit_distance(key[0], k[0], 1) <= 1 for e in es if e.facet == "platform"]


@dataclass(frozen=True)
class Recognised:
    text: str
    start: int
    end: int
    facet: str  # a facet, or a date bound (updated_after, ...)
    values: tuple[str, ...]
    label: str

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "filter": self.facet,
                "values": list(self.values), "label": self.label}


@dataclass(frozen=True)
class Parsed:
    text: str
    q: str  # what is left for full-text and semantic matching
    recognised: tuple[Recognised, ...]

    def filters(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for r in self.recognised:
            if not r.facet.endswith(("_after", "_before")):
                out[r.facet] = tuple(dict.fromkeys((*out.get(r.facet, ()), *r.values)))
        return out

    def dates(self) -> dict[str, str]:
        return {r.facet: r.values[0] for r in self.recognised
                if r.facet.endswith(("_after", "_before"))}


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower())
                   if not unicodedata.combining(c))


def _stem(word: str) -> str:
    return stem(_fold(word))


def _is_acronym(label: str) -> bool:
    letters = [c for c in label if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


# -- vocabulary from the index ----------------------------------------------------------------
Scope = frozenset[str] | None  # the graphs a caller may read; None: every graph
_CACHE: weakref.WeakKeyDictionary[TextIndex, dict[Scope, tuple[int, float, Vocabulary]]] = (
    weakref.WeakKeyDictionary())
_CACHE_LOCK = threading.Lock()
_SCOPES_KEPT = 64


def vocabulary(index: TextIndex, graphs: Scope = None) -> Vocabulary:
    """The vocabulary of what the caller may read in the index (``graphs``: its readable
    graphs), rebuilt when the index has changed (at most every second): a reader must not
    learn the names of owners, tags or workspaces that only hidden assets carry."""
    with _CACHE_LOCK:
        cached = _CACHE.get(index, {}).get(graphs)
        if cached and (cached[0] == index.seq or time.monotonic() - cached[1] < REFRESH_S):
            return cached[2]
    built = build_vocabulary(index, graphs)
    with _CACHE_LOCK:
        scopes = _CACHE.setdefault(index, {})
        if len(scopes) >= _SCOPES_KEPT:
            scopes.clear()
        scopes[graphs] = (index.seq, time.monotonic(), built)
    return built


def _scope(index: TextIndex, graphs: Scope) -> Query:
    return Query.all_query() if graphs is None else index.any_of("f_graph", sorted(graphs))


def _within(index: TextIndex, query: Query, graphs: Scope) -> Query:
    if graphs is None:
        return query
    return Query.boolean_query([(Occur.Must, query), (Occur.Must, _scope(index, graphs))])


def _values(index: TextIndex, field_name: str, graphs: Scope = None) -> list[str]:
    result = index.searcher().aggregate(_scope(index, graphs), {
        "v": {"terms": {"field": field_name, "size": 65_000}}})
    return [str(b["key"]) for b in result.get("v", {}).get("buckets", [])]


def _local_words(key: str) -> list[str]:
    return words(key.rsplit("/", 1)[-1].replace(".", " ").replace("-", " "))


def build_vocabulary(index: TextIndex, graphs: Scope = None) -> Vocabulary:
    vocab = Vocabulary()
    for phrase, types in TYPE_WORDS.items():
        vocab.add(phrase.split(), Entry("type", types, " or ".join(types), True))
    for facet in FACETS:
        keys = _values(index, "f_" + facet, graphs)
        if facet in ("classification", "term", "domain", "owner", "tag"):
            kinds = {"classification": ["Classification"], "term": ["GlossaryTerm"],
                     "domain": ["Domain"], "owner": ["Team", "User"], "tag": ["Tag"]}[facet]
            keys = sorted(set(keys) | set(_keys_of_types(index, kinds, graphs)))
        stored = index.by_keys(keys)
        for key in keys:
            fields = stored.get(key, {})
            label = str((fields.get("name") or [key])[0])
            _add_value(vocab, facet, key, (key,), label, fields)
    _add_schemes(vocab, index, graphs)
    return vocab


def _keys_of_types(index: TextIndex, types: list[str], graphs: Scope = None) -> list[str]:
    searcher = index.searcher()
    found = searcher.search(_within(index, index.any_of("f_type", types), graphs), 10_000,
                            count=False).hits
    return [str(searcher.doc(a)["id"][0]) for _, a in found]


def _add_value(vocab: Vocabulary, facet: str, key: str, values: tuple[str, ...], label: str,
               fields: dict[str, Any]) -> None:
    """Aliases of the value ``key`` (standing for ``values``): its name and its key's last
    segment."""
    label_words = words(label.replace(".", " "))
    local = _local_words(key)
    acronym = _is_acronym(label)
    for phrase in (label_words, local):
        if not phrase:
            continue
        multiword = len(phrase) > 1
        # glossary terms and owners are topics and people: always with a cue
        strong = facet == "platform" or ((acronym or multiword)
                                         and facet in ("tag", "classification", "workspace"))
        vocab.add(phrase, Entry(facet, values, label, strong))
    if facet == "classification" and len(label_words) > 1 and "." in label:
        vocab.add(label_words[-1:], Entry(facet, values, label, False))  # "email" of PII.Email
    if facet == "owner" and "User" in fields.get("f_type", []) and label_words:
        vocab.add(label_words[:1], Entry(facet, values, label, False))  # a first name
    if facet == "owner" and label_words and label_words[-1] == "team":
        vocab.add(label_words[:-1], Entry(facet, values, label, False))


def _add_schemes(vocab: Vocabulary, index: TextIndex, graphs: Scope = None) -> None:
    """A classification scheme (``PII``) stands for all of its classifications."""
    searcher = index.searcher()
    schemes = searcher.search(_within(index, index.term("f_type", "ClassificationScheme"),
                                      graphs), 1_000, count=False).hits
    for _, address in schemes:
        doc = searcher.doc(address).to_dict()
        key, label = str(doc["id"][0]), str((doc.get("name") or doc["id"])[0])
        members = searcher.search(_within(index, index.term("f_parent", key), graphs), 10_000,
                                  count=False).hits
        values = tuple(sorted(str(searcher.doc(a)["id"][0]) for _, a in members))
        if values:
            _add_value(vocab, "classification", key, values, label, doc)


# -- parsing ----------------------------------------------------------------------------------
def _time_spans(text: str, now: datetime) -> Iterator[Recognised]:
    low = text.lower()
    taken: list[tuple[int, int]] = []
    for kind, pattern in _TIME_PATTERNS:
        for m in pattern.finditer(low):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if kind in _ANCHORED and m.group("verb") is None:
                continue  # "before 2009": a year the question is about, not a filter
            created = m.group("verb") in ("created", "added", "new")
            field_name = "created" if created else "updated"
            try:
                bounds = _bounds(kind, m, now)
            except OverflowError:  # "in the last 99999999 years"
                continue
            if bounds is None:
                continue
            taken.append((m.start(), m.end()))
            span = text[m.start():m.end()]
            for suffix, moment in zip(("_after", "_before"), bounds, strict=True):
                if moment is not None:
                    yield Recognised(span, m.start(), m.end(), field_name + suffix,
                                     (iso(moment),), f"{field_name} {suffix[1:]} {iso(moment)}")


def _bounds(kind: str, m: re.Match[str], now: datetime
            ) -> tuple[datetime | None, datetime | None] | None:
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if kind == "last":
        n = m.group("n")
        count = int(n) if n and n.isdigit() else _NUMBERS.get(n or "one", 1)
        return now - count * _UNITS[m.group("unit")], None
    if kind == "yesterday":
        return day - timedelta(days=1), day
    if kind == "today":
        return day, None
    if kind == "this":
        unit = m.group("unit")
        if unit == "week":
            return day - timedelta(days=day.weekday()), None
        if unit == "month":
            return day.replace(day=1), None
        if unit == "quarter":
            return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1), None
        return day.replace(month=1, day=1), None
    start, end = period(m.group("date"))
    if start is None:
        return None
    if kind == "since":
        return (start if m.group("op") != "after" else end), None
    if kind == "before":
        return None, (start if m.group("op") == "before" else end)
    return start, end


def _words(text: str, taken: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    return [(_fold(m.group()), m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)
            if not any(s <= m.start() < e for s, e in taken)]


def _cue(seq: list[str], cues: tuple[tuple[str, ...], ...], before: bool
         ) -> tuple[tuple[str, ...], int] | None:
    """The longest cue at the end (before) or start (after) of ``seq``, and the words it
    spans including an article between it and the value."""
    for cue in sorted(cues, key=len, reverse=True):
        n = len(cue)
        if before:
            for skip in (0, 1):
                if skip and not (seq and seq[-1] in ARTICLES):
                    continue
                part = seq[len(seq) - n - skip:len(seq) - skip] if len(seq) >= n + skip else []
                if tuple(part) == cue:
                    return cue, n + skip
        elif tuple(seq[:n]) == cue:
            return cue, n
    return None


def _choose(entries: list[Entry], before: list[str], after: list[str], next_is_type: bool
            ) -> tuple[Entry, int, int] | None:
    """The entry a phrase names given the words around it, and how many words of cue it
    takes before and after; None when it names nothing with confidence."""
    options = []
    for e in entries:
        if e.facet == "type":
            options.append((1, PRIORITY.index("type"), e, 0, 0))  # a cued value wins
            continue
        cb = _cue(before, CUES_BEFORE.get(e.facet, ()), True)
        ca = _cue(after, CUES_AFTER.get(e.facet, ()), False)
        strong_cue = any(c is not None and c[0] in STRONG_CUES for c in (cb, ca))
        if not (e.strong or strong_cue or (e.facet == "classification" and next_is_type)):
            continue
        rank = 0 if strong_cue else 1
        options.append((rank, PRIORITY.index(e.facet), e, cb[1] if cb else 0, ca[1] if ca else 0))
    if not options:
        return None
    _, _, entry, nb, na = min(options, key=lambda o: (o[0], o[1]))
    return entry, nb, na


def parse(text: str, vocab: Vocabulary, now: datetime | None = None) -> Parsed:
    now = now or now_utc()
    found = list(_time_spans(text, now))
    taken = [(r.start, r.end) for r in found]
    ws = _words(text, taken)
    plain = [w for w, _, _ in ws]
    used = [False] * len(ws)
    i = 0
    while i < len(ws):
        hit = None
        for n in range(min(vocab.longest, len(ws) - i), 0, -1):
            if any(used[i:i + n]) or not _contiguous(ws, i, n, taken):
                continue
            entries = vocab.lookup(plain[i:i + n])
            if not entries:
                continue
            before = [w for k, w in enumerate(plain[max(0, i - 3):i], max(0, i - 3))
                      if not used[k]]
            after = plain[i + n:i + n + 2]
            next_is_type = any(e.facet == "type" for m in (1, 2, 3)
                               for e in vocab.lookup(plain[i + n:i + n + m])
                               if i + n + m <= len(ws))
            chosen = _choose(entries, before, after, next_is_type)
            if chosen is not None:
                hit = (n, *chosen)
                break
        if hit is None:
            i += 1
            continue
        n, entry, nb, na = hit
        first, last = max(0, i - nb), min(len(ws), i + n + na) - 1
        for k in range(first, last + 1):
            used[k] = True
        start, end = ws[first][1], ws[last][2]
        found.append(Recognised(text[start:end], start, end, entry.facet, entry.values,
                                entry.label))
        taken.append((start, end))
        i = last + 1
    found.sort(key=lambda r: r.start)
    return Parsed(text, _leftover(text, [(r.start, r.end) for r in found]), tuple(found))


def _contiguous(ws: list[tuple[str, int, int]], i: int, n: int,
                taken: list[tuple[int, int]]) -> bool:
    """No recognised time phrase between the words of a candidate phrase."""
    return all(not any(ws[k][2] <= s < ws[k + 1][1] for s, _ in taken) for k in range(i, i + n - 1))


def _leftover(text: str, spans: list[tuple[int, int]]) -> str:
    kept, pos = [], 0
    for s, e in sorted(spans):
        kept.append(text[pos:s])
        pos = max(pos, e)
    kept.append(text[pos:])
    return re.sub(r"\s+", " ", " ".join(kept)).strip(" ,;")


# -- applying to a request --------------------------------------------------------------------
def apply(request: SearchRequest, parsed: Parsed) -> tuple[SearchRequest, dict[str, Any]]:
    """The request with the parsed filters and dates added (explicit ones win) and ``q``
    replaced by the leftover words; and the interpretation to show."""
    filters = {k: tuple(v) if not isinstance(v, str) else (v,)
               for k, v in request.filters.items()}
    overridden: list[str] = []
    for facet, values in parsed.filters().items():
        if filters.get(facet):
            overridden.append(facet)
        else:
            filters[facet] = values
    dates: dict[str, str] = {}
    for name, value in parsed.dates().items():
        if getattr(request, name):
            overridden.append(name)
        else:
            dates[name] = value
    new = replace(request, q=parsed.q, filters=filters, **dates)  # type: ignore[arg-type]
    dropped: dict[str, Any] = {}
    try:
        resolve_dates(new.date_bounds())
    except InputError as e:  # the reading's range is empty: its words are content again
        kept = [(r.start, r.end) for r in parsed.recognised if r.facet in parsed.filters()]
        new = replace(request, q=_leftover(parsed.text, kept), filters=filters)
        dropped = {"dropped": sorted(dates), "note": f"the time reading was dropped: {e}"}
    applied: dict[str, Any] = {"filters": {k: list(v) for k, v in filters.items()}}
    applied.update({k: v for k, v in new.date_bounds().items()})
    return new, {"input": parsed.text, "q": new.q,
                 "recognised": [r.to_json() for r in parsed.recognised],
                 "applied": applied, "overridden": sorted(set(overridden)), **dropped}


def interpret(request: SearchRequest, index: TextIndex, now: datetime | None = None, *,
              graphs: Collection[str] | None = None
              ) -> tuple[SearchRequest, dict[str, Any] | None]:
    """``request`` unchanged unless it asks for natural-language parsing (``nl``); then the
    request to run and the reading to show under ``interpretation.nl``, read with the
    vocabulary of what the caller may read (``graphs``)."""
    if not request.nl or not request.q.strip():
        return request, None
    scope = frozenset(graphs) if graphs is not None else None
    return apply(request, parse(request.q, vocabulary(index, scope), now))
