"""Search inside SPARQL, and SPARQL inside search.

Analysts join search hits with graph patterns through a magic SERVICE::

    PREFIX semcat: <https://w3id.org/semcat#>
    SELECT ?asset ?score ?owner WHERE {
      SERVICE semcat:search { ?asset semcat:searchQuery "customer email" ;
                                     semcat:searchMode "hybrid" ; semcat:searchLimit 50 ;
                                     semcat:score ?score ; semcat:searchRank ?rank }
      ?asset semcat:owner ?owner .
    } ORDER BY DESC(?score)

Before the query reaches the engine, each such block is run as a search and replaced by a
``VALUES`` block of its hits, so the join, ordering and aggregation are the engine's own and
any SPARQL 1.1 store (embedded or remote) evaluates the result. Other SERVICE IRIs are left
in place for the outbound guard to refuse. The search sees what the query's dataset sees:
when the dataset is a list of graphs (a caller's readable partitions, FROM clauses), only
assets in those graphs are hits. (pyoxigraph 0.5's ``custom_functions`` could bind a
``semcat:textScore(?asset, "q")`` instead, but only on the embedded store, and per solution.)

The other direction, ``SearchRequest.where`` and the lineage filters, runs SELECTs through
``SparqlService.query`` via ``graph_select``: guarded, over the caller's readable graphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyoxigraph import NamedNode

from graph_store.errors import InputError, QuerySyntaxError
from graph_store.layout import GraphLayout
from graph_store.protocol import Dataset
from graph_store.query_worker import sparql_json
from ontology.namespaces import SEMCAT, XSD
from search.model import MODES, SearchRequest

if TYPE_CHECKING:
    from catalog.search import SearchService
    from catalog.sparql import SparqlService

SEARCH_SERVICE = SEMCAT + "search"
MAX_HITS = 1_000
DEFAULT_HITS = 50
_PAGE = 200
# strings and comments blanked (same length), so keywords and braces are found only in code;
# IRIs are matched first (a '#' in them starts no comment) and kept
_NOT_CODE = re.compile(
    r"<[^<>\"{}|^`\\\s]*>"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|#[^\n]*",
    re.DOTALL,
)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE\s+(SILENT\s+)?(<[^<>\s]*>|[A-Za-z][\w.-]*:[\w.-]*|"
                      r":[\w.-]*)\s*\{", re.IGNORECASE)
_PREFIX = re.compile(r"(?<![\w:?$])PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^<>\s]*)>", re.IGNORECASE)
_BASE = re.compile(r"(?<![\w:?$])BASE\s*<[^<>\s]*>", re.IGNORECASE)
_PREDICATES = {"searchQuery", "searchMode", "searchLimit", "score", "searchRank"}


def _blank(text: str) -> str:
    return _NOT_CODE.sub(lambda m: m.group(0) if m.group(0).startswith("<")
                         else " " * len(m.group(0)), text)


def _closing_brace(code: str, start: int) -> int:
    """The index of the brace closing the one at ``start``."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise QuerySyntaxError("a SERVICE semcat:search block is not closed: add the missing '}'")


@dataclass(frozen=True)
class SearchCall:
    """One SERVICE semcat:search block: the search to run and the variables it binds."""

    asset: str
    q: str
    mode: str = "hybrid"
    limit: int = DEFAULT_HITS
    score: str | None = None
    rank: str | None = None


def _parse_block(prologue: str, inner: str) -> SearchCall:
    """Read the block's triple patterns with rdflib's SPARQL parser (prefixes, ``;`` lists,
    typed literals are all standard)."""
    from rdflib import Literal, URIRef, Variable
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        algebra: Any = translateQuery(parseQuery(f"{prologue}\nSELECT * WHERE {{ {inner} }}"))
    except Exception as e:  # pyparsing's and rdflib's errors: all are the client's input
        raise QuerySyntaxError(f"SERVICE semcat:search: cannot read its patterns: {e}") from e
    node = algebra.algebra.p.p  # SelectQuery → Project → the pattern
    if node.name != "BGP":
        raise QuerySyntaxError("SERVICE semcat:search takes triple patterns only (no FILTER, "
                               "OPTIONAL or nested groups): filter outside the block")
    subjects = {t[0] for t in node.triples}
    if len(subjects) != 1 or not isinstance(next(iter(subjects)), Variable):
        raise QuerySyntaxError("SERVICE semcat:search: every pattern must share one subject "
                               "variable, the asset (e.g. ?asset semcat:searchQuery \"...\")")
    found: dict[str, Any] = {}
    for _, p, o in node.triples:
        local = str(p).removeprefix(SEMCAT) if isinstance(p, URIRef) and \
            str(p).startswith(SEMCAT) else None
        if local not in _PREDICATES:
            raise QuerySyntaxError(f"SERVICE semcat:search does not know {p}; use "
                                   f"semcat:{', semcat:'.join(sorted(_PREDICATES))}")
        if local in found:
            raise QuerySyntaxError(f"SERVICE semcat:search: semcat:{local} is given twice")
        found[local] = o
    def literal(name: str) -> Any:
        value = found.get(name)
        if value is not None and not isinstance(value, Literal):
            raise QuerySyntaxError(f"SERVICE semcat:search: semcat:{name} takes a literal, not "
                                   f"{value.n3()}")
        return None if value is None else value.toPython()
    def variable(name: str) -> str | None:
        value = found.get(name)
        if value is not None and not isinstance(value, Variable):
            raise QuerySyntaxError(f"SERVICE semcat:search: semcat:{name} binds a variable, "
                                   f"not {value.n3()}")
        return None if value is None else str(value)
    q = literal("searchQuery")
    if not isinstance(q, str) or not q.strip():
        raise QuerySyntaxError('SERVICE semcat:search needs semcat:searchQuery "words"')
    mode = literal("searchMode") or "hybrid"
    if mode not in MODES:
        raise QuerySyntaxError(f"SERVICE semcat:search: semcat:searchMode is one of "
                               f"{', '.join(MODES)}, not {mode!r}")
    limit = literal("searchLimit")
    if limit is None:
        limit = DEFAULT_HITS
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_HITS:
        raise QuerySyntaxError(f"SERVICE semcat:search: semcat:searchLimit is an integer from "
                               f"1 to {MAX_HITS}, not {found['searchLimit'].n3()}")
    return SearchCall(str(next(iter(subjects))), q, str(mode), limit, variable("score"),
                      variable("searchRank"))


def readable_graphs(dataset: Dataset, layout: GraphLayout) -> list[str] | None:
    """The asserted graphs a query's dataset reads (None: every graph)."""
    if dataset.default is None:
        return None
    return [g.value for g in dataset.default
            if isinstance(g, NamedNode) and not layout.is_inferred(g)]


class SparqlSearch:
    """Rewrites ``SERVICE semcat:search`` blocks into VALUES of hits (``SparqlService.rewrite``)."""

    def __init__(self, search: SearchService, layout: GraphLayout) -> None:
        self.search = search
        self.layout = layout

    def rewrite(self, text: str, dataset: Dataset) -> str:
        code = _blank(text)
        calls = [m for m in _SERVICE.finditer(code) if self._is_search(m.group(2), code)]
        if not calls:
            return text
        prologue = "\n".join(text[m.start():m.end()] for m in (*_BASE.finditer(code),
                                                               *_PREFIX.finditer(code)))
        if not any(m.group(1) == "semcat" for m in _PREFIX.finditer(code)):
            prologue += f"\nPREFIX semcat: <{SEMCAT}>"
        readable = readable_graphs(dataset, self.layout)
        out, last = [], 0
        for m in calls:
            brace = m.end() - 1
            end = _closing_brace(code, brace)
            try:
                call = _parse_block(prologue, text[brace + 1:end])
                values = self._values(call, readable)
            except InputError:
                if not m.group(1):  # SERVICE SILENT: a failing search binds nothing
                    raise
                values = "{ FILTER(false) }"
            out += [text[last:m.start()], values]
            last = end + 1
        out.append(text[last:])
        return "".join(out)

    def _is_search(self, service: str, code: str) -> bool:
        if service.startswith("<"):
            return service[1:-1] == SEARCH_SERVICE
        prefix, _, local = service.partition(":")
        declared = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(code)}
        namespace = declared.get(prefix, SEMCAT if prefix == "semcat" else None)
        return namespace is not None and namespace + local == SEARCH_SERVICE

    def _values(self, call: SearchCall, readable: list[str] | None) -> str:
        variables = [call.asset, *(v for v in (call.score, call.rank) if v)]
        rows = []
        for rank, (key, score) in enumerate(self.hits(call, readable), start=1):
            row = [f"<{self.layout.iri(key)}>"]
            if call.score:
                row.append(f'"{score!r}"^^<{XSD}double>')
            if call.rank:
                row.append(f'"{rank}"^^<{XSD}integer>')
            rows.append(f"({' '.join(row)})")
        head = " ".join(f"?{v}" for v in variables)
        return f"{{ VALUES ({head}) {{ {' '.join(rows)} }} }}"

    def hits(self, call: SearchCall, readable: Collection[str] | None) -> Iterator[tuple[str,
                                                                                    float]]:
        """(asset key, score) of the best ``call.limit`` hits, paging through cursors."""
        cursor, left = None, call.limit
        while left > 0:
            result = self.search.run(SearchRequest(
                q=call.q, mode=call.mode, limit=min(left, _PAGE), cursor=cursor, facets=(),
                highlight=False), readable=readable)
            for hit in result.hits:
                yield hit.id, hit.score
            left -= len(result.hits)
            cursor = result.next_cursor
            if cursor is None or not result.hits:
                return


def graph_select(sparql: SparqlService, layout: GraphLayout, *, timeout_s: float,
                 max_bytes: int
                 ) -> Callable[[str, Collection[str] | None], Iterator[Sequence[str | None]]]:
    """A ``search.graph_filters.Select`` factory: SELECTs through the guarded SPARQL service,
    over the readable graphs and their inferred twins (everything when ``readable`` is None),
    answered where ``/sparql`` answers, so a pathological filter is stopped at the deadline."""
    def select(query: str, readable: Collection[str] | None) -> Iterator[Sequence[str | None]]:
        dataset_args: dict[str, Any] = {}
        if readable is not None:
            graphs = [i for g in readable for i in (g, layout.inferred(NamedNode(g)).value)]
            # nothing readable: a graph that does not exist, since no graphs means all of them
            graphs = graphs or [layout.graph("nothing-readable").value]
            dataset_args = {"default_graph_uris": graphs, "named_graph_uris": graphs}
        try:
            kind, _, body = sparql.answer(query, accept=None, choose=sparql_json,
                                          timeout_s=timeout_s, max_bytes=max_bytes,
                                          **dataset_args)
        except QuerySyntaxError as e:
            raise InputError(f"the graph filter is not valid SPARQL: {e}") from e
        if kind != "solutions":
            raise InputError("the graph filter must be a SELECT query")
        answer = json.loads(body)
        variables = answer["head"]["vars"]
        for row in answer["results"]["bindings"]:
            yield tuple(row[v]["value"] if v in row else None for v in variables)
    return select
