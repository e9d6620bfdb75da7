"""Bounds on a SPARQL request's shape, checked before any engine parses it.

pyoxigraph's parser, optimiser and evaluator recurse once per nesting level and once per joined
pattern or operator, so a 10 KB query of 5,000 nested parentheses overflows the native stack and
kills the process (a segmentation fault no Python code can catch). We count nesting and joins
with one regular-expression scan over the text outside strings, IRIs and comments; the defaults
lie far inside what an 8 MiB stack survives (about 2,000 of either, measured), and the server
runs queries on threads with larger stacks still (``ENGINE_STACK_BYTES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph_store.errors import InputError
from graph_store.sparql_guard import blank_non_code, readings

ENGINE_STACK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SparqlLimits:
    max_bytes: int = 1024 * 1024
    max_depth: int = 100
    max_patterns: int = 1000
    max_regex_repeat: int = 1000


_TOKEN = re.compile(
    r"(?P<name>[\w-]+(?:\.[\w-]+)+)"  # 1.5, ex:a.b: dots inside names and numbers join nothing
    r"|(?P<data>\b(?:INSERT|DELETE)\s+DATA\b)"
    r"|(?P<open>[{(\[])|(?P<close>[})\]])"
    r"|(?P<join>&&|\|\||!=|<=|>=|[.;,+*/|^=<>]"
    r"|\b(?:OPTIONAL|UNION|MINUS|FILTER|BIND|GRAPH|VALUES|SERVICE|EXISTS)\b)",
    re.IGNORECASE,
)
_REGEX_CALL = re.compile(
    r"\b(?:REGEX|REPLACE)\s*\((?:[^\"')]|\([^)]*\))*?,\s*"
    r"(?P<q>\"\"\"|'''|\"|')(?P<pattern>.*?)(?P=q)", re.IGNORECASE | re.DOTALL)
_REPEAT = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")


def _shape(code: str) -> tuple[int, int]:
    """How deep ``code`` (strings, IRIs and comments blanked) nests, and how many joins it has
    outside INSERT DATA / DELETE DATA blocks."""
    depth = deepest = joins = 0
    data_at: int | None = None  # depth of the open INSERT DATA / DELETE DATA block
    pending_data = False
    for token in _TOKEN.finditer(code):
        kind = token.lastgroup
        if kind == "data":
            pending_data = True
        elif kind == "open":
            depth += 1
            deepest = max(deepest, depth)
            if pending_data and token.group() == "{":
                data_at, pending_data = depth, False
        elif kind == "close":
            if data_at is not None and depth == data_at:
                data_at = None
            depth -= 1
        elif kind == "join" and data_at is None:
            joins += 1
    return deepest, joins


def check_sparql(text: str, limits: SparqlLimits, *, what: str = "query") -> None:
    """Refuse ``text`` (400, naming the limit and its setting) when it is too large, too deeply
    nested, joins too many patterns, or asks a regular expression for huge repetitions.

    Triples inside INSERT DATA / DELETE DATA are a flat list the engines never nest, so they
    count towards size and depth only: a bulk update of 100,000 triples stays legal."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        hint = "; load bulk data with the Graph Store protocol" if what == "update" else ""
        raise InputError(f"the {what} is {size:,} bytes; the limit is {limits.max_bytes:,} "
                         f"(SEMCAT_SPARQL_MAX_BYTES){hint}", limit="sparql_max_bytes")
    # as written and with codepoint escapes replaced: an escape must not hide a bracket
    shapes = [_shape(blank_non_code(t)) for t in readings(text)]
    deepest, joins = max(d for d, _ in shapes), max(j for _, j in shapes)
    if deepest > limits.max_depth:
        raise InputError(f"the {what} nests brackets, braces or parentheses {deepest} deep; the "
                         f"limit is {limits.max_depth} (SEMCAT_SPARQL_MAX_DEPTH)",
                         limit="sparql_max_depth")
    if joins > limits.max_patterns:
        raise InputError(
            f"the {what} joins {joins:,} triple patterns and operators; the limit is "
            f"{limits.max_patterns:,} (SEMCAT_SPARQL_MAX_PATTERNS). Split it, or give long "
            "lists of values as VALUES rather than IN (...) or UNION", limit="sparql_max_patterns")
    _check_regexes(text, limits.max_regex_repeat)


def _check_regexes(text: str, max_repeat: int) -> None:
    """Counted repetitions compile to copies of their atom: ``a{99999999}`` costs seconds per
    row to refuse inside the engine, so we refuse it once, here, for literal patterns."""
    for call in _REGEX_CALL.finditer(text):
        for rep in _REPEAT.finditer(call.group("pattern")):
            count = max(int(n) for n in rep.groups() if n)
            if count > max_repeat:
                raise InputError(
                    f"the regular expression {call.group('pattern')[:60]!r} repeats {count:,} "
                    f"times; the limit is {max_repeat:,}", limit="sparql_max_regex_repeat")
