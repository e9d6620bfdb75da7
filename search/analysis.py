"""Text analysis shared by the index and the query side, so both split words the same way.

Catalog text is full of identifiers: ``order_items``, ``customerId``, ``HTTPServer``,
``shop.public.orders``. The tantivy analyzers below split snake_case and camelCase inside the
engine (a regex tokenizer keeps offsets, so highlights land on the original text);
``prepare`` adds the one split a regex without look-ahead cannot make (``HTTPServer`` →
``HTTP Server``), and ``compounds`` keeps the joined form (``paypal`` for ``PayPal``) so a
query written either way finds the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import tantivy

# One token: a capitalised word, an upper-case run (acronym), a lower-case run, digits, or any
# other letters (scripts without case). Underscores, dots and punctuation separate tokens.
TOKEN_PATTERN = r"\p{Lu}\p{Ll}+|\p{Lu}+|\p{Ll}+|\p{N}+|[\p{L}\p{M}]+"
STEMMED = "semcat_en"  # split, lower-case, ASCII-fold, English stemming: BM25 fields
PLAIN = "semcat_plain"  # the same without stemming: term lookups for prefixes and typos
EXACT = "semcat_exact"  # the whole value, lower-cased: exact name matches

_ACRONYM_WORD = re.compile(r"(?<=[A-Z])(?=[A-Z][a-z])")  # HTTPServer -> HTTP|Server
_PARTS = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|[0-9]+|[^\W\d_]+")
_IDENTIFIER = re.compile(r"[^\W_][\w]*(?:[._-][\w]+)*")
_SPACES = re.compile(r"\s+")

STOPWORDS = frozenset("""
a an and any are as at be been by can could did do does find for from get give has have how i in
into is it its list me my of on or our show that the their them there these this those to was we
were what when where which who whose why will with you your all about want need looking many
much each every some
""".split())  # noqa: SIM905
# Words that name the kind of thing sought rather than the topic ("tables with card data"):
# they still score, but a query need not match them (type filters come from NL parsing).
SOFT_WORDS = frozenset("""
table tables view views column columns field fields dataset datasets data dashboard dashboards
report reports chart charts record records detail details info information asset assets
""".split())  # noqa: SIM905


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN_PATTERN))
               .filter(tantivy.Filter.remove_long(40))
               .filter(tantivy.Filter.lowercase())
               .filter(tantivy.Filter.ascii_fold()))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


def _exact_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
            .filter(tantivy.Filter.lowercase()).build())


ANALYZERS: dict[str, tantivy.TextAnalyzer] = {
    STEMMED: _analyzer(stem=True), PLAIN: _analyzer(stem=False), EXACT: _exact_analyzer()}


def prepare(text: str) -> str:
    """The text the analyzers see: acronym-word boundaries opened (``XMLParser`` → ``XML
    Parser``); everything else as written, so highlights show the original."""
    return _ACRONYM_WORD.sub(" ", text)


def words(text: str) -> list[str]:
    """Lower-case, unstemmed words of ``text``: what a query means word by word."""
    return ANALYZERS[PLAIN].analyze(prepare(text))


def stems(text: str) -> list[str]:
    return ANALYZERS[STEMMED].analyze(prepare(text))


def stem(word: str) -> str:
    """One word's stem (a word the plain analyzer produced stays one token)."""
    out = ANALYZERS[STEMMED].analyze(word)
    return out[0] if out else word


def exact_key(text: str) -> str:
    """How exact matches compare: lower-cased, inner whitespace collapsed."""
    return _SPACES.sub(" ", text.strip()).lower()


def split_identifier(name: str) -> str:
    """``order_items`` → ``order items``, ``customerId`` → ``customer Id``: for embedding text,
    where the model reads words better than identifiers."""
    return " ".join(_PARTS.findall(name)) or name


def compounds(texts: Iterable[str]) -> list[str]:
    """The joined, lower-cased form of every multi-part identifier (``PayPal`` → ``paypal``,
    ``order_items`` → ``orderitems``), so a query that writes it as one word still matches."""
    out: dict[str, None] = {}
    for text in texts:
        for ident in _IDENTIFIER.findall(text):
            for piece in re.split(r"[.\-]", ident):
                parts = _PARTS.findall(piece)
                if len(parts) > 1:
                    out["".join(parts).lower()] = None
    return list(out)


def content_words(query_words: list[str]) -> list[str]:
    """The words that carry meaning; all of them when the query is only stop words."""
    kept = [w for w in query_words if w not in STOPWORDS]
    return kept or query_words


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition costs 1), stopping past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
