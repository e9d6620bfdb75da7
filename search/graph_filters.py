"""Graph-aware search filters, resolved to the set of assets a search is restricted to.

Lineage (``downstream_of`` / ``upstream_of``), glossary and classification hierarchies, and an
arbitrary SPARQL group graph pattern binding ``?asset`` are questions for the graph, not for
the text index. They are answered with SPARQL (through a ``Select`` the catalog provides, so
the caller's dataset and the query guard apply), and the answer, a set of asset keys, becomes
one more non-scoring clause of every tantivy query: totals, facets and pages stay consistent,
and relevance still comes from the text and the vectors.

Lineage follows asserted ``semcat:derivedFrom`` (and ``prov:wasDerivedFrom``) edges level by
level rather than the reasoner's transitive ``semcat:upstream``: it is right before ``semcat
reason`` has run, and it yields each asset's distance in hops, which ``depth`` bounds and the
hit's "why" reports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tantivy import Query

from graph_store.errors import InputError
from ontology.namespaces import PREFIXES, PROV, SEMCAT, SKOS
from search.analysis import ANALYZERS, STEMMED, prepare
from search.documents import AssetDoc
from search.model import MAX_DEPTH
from search.text_index import TextIndex, count_of

if TYPE_CHECKING:
    from search.model import Hit, SearchRequest

MAX_RESTRICTION = 1_000_000  # more assets than this: the pattern is too broad to be a filter
_CHUNK = 500  # frontier IRIs per VALUES block
PROLOGUE = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())
_LINEAGE = f"(<{SEMCAT}derivedFrom>|<{PROV}wasDerivedFrom>)"
# the narrower members of a glossary term or a classification (or of a glossary / scheme)
_NARROWER = f"(<{SEMCAT}partOf>|<{SKOS}broader>|^<{SKOS}narrower>)+"
HIERARCHIES = {"term": SEMCAT + "GlossaryTerm", "classification": SEMCAT + "Classification"}

Select = Callable[[str], Iterable[Sequence[str | None]]]
"""Runs a SPARQL SELECT (read-only, guarded, over the caller's dataset) and yields each
solution's values (IRIs or lexical forms) in the order of its projection."""


@dataclass(frozen=True)
class Restriction:
    """The assets every graph filter of a request allows, and per asset what it satisfied."""

    keys: frozenset[str]
    why: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _iri(value: str) -> str:
    return f"<{value}>"


def lineage(select: Select, start: str, direction: str, depth: int | None) -> dict[str, int]:
    """IRIs downstream (``direction="down"``) or upstream of ``start`` → hops away (≥ 1)."""
    hops: dict[str, int] = {start: 0}
    frontier = [start]
    level = 0
    while frontier and level < (depth or MAX_DEPTH):
        level += 1
        found: list[str] = []
        for i in range(0, len(frontier), _CHUNK):
            values = " ".join(_iri(v) for v in frontier[i:i + _CHUNK])
            edge = (f"?next {_LINEAGE} ?from" if direction == "down"
                    else f"?from {_LINEAGE} ?next")
            query = (f"SELECT DISTINCT ?next WHERE {{ VALUES ?from {{ {values} }} {edge} . "
                     "FILTER(isIRI(?next)) }")
            found += [row[0] for row in select(query) if row and row[0]]
        frontier = []
        for iri in found:
            if iri not in hops:
                hops[iri] = level
                frontier.append(iri)
    del hops[start]
    return hops


def narrower(select: Select, facet: str, values: Collection[str]) -> set[str]:
    """The glossary terms or classifications under ``values`` (IRIs), however deep."""
    if not values:
        return set()
    query = (f"SELECT DISTINCT ?n WHERE {{ VALUES ?top {{ {' '.join(map(_iri, values))} }} "
             f"?n {_NARROWER} ?top . ?n a <{HIERARCHIES[facet]}> }}")
    return {row[0] for row in select(query) if row and row[0]}


def pattern_assets(select: Select, where: str) -> set[str]:
    """The IRIs ``?asset`` takes in the caller's pattern (the semcat prefixes are declared)."""
    query = f"{PROLOGUE}SELECT DISTINCT ?asset WHERE {where.strip()}"
    found: set[str] = set()
    for row in select(query):
        if row and row[0]:
            found.add(row[0])
            if len(found) > MAX_RESTRICTION:
                raise InputError(f"the where pattern allows more than {MAX_RESTRICTION} "
                                 "assets; narrow it or use facet filters")
    return found


def resolve(req: SearchRequest, select: Select, key: Callable[[str], str],
            iri: Callable[[str], str]) -> Restriction | None:
    """The request's graph filters as one restriction (None when it has none): lineage and
    pattern filters intersect, like facets do."""
    sets: list[dict[str, dict[str, Any]]] = []
    for name, start, direction in (("downstreamOf", req.downstream_of, "down"),
                                   ("upstreamOf", req.upstream_of, "up")):
        if start is not None:
            hops = lineage(select, iri(start), direction, req.depth)
            sets.append({key(i): {"filter": name, "of": key(iri(start)), "hops": n}
                         for i, n in hops.items()})
    if req.where is not None:
        sets.append({key(i): {"filter": "where"} for i in pattern_assets(select, req.where)})
    if not sets:
        return None
    keys = set(sets[0]).intersection(*sets[1:])
    return Restriction(frozenset(keys), {k: [s[k] for s in sets] for k in keys})


def expand_hierarchies(filters: dict[str, tuple[str, ...]], select: Select,
                       key: Callable[[str], str],
                       iri: Callable[[str], str]) -> dict[str, tuple[str, ...]]:
    """``term`` and ``classification`` filters with their narrower terms added (a filter on
    ``classification/pii`` finds assets classified ``classification/pii/email``)."""
    out = dict(filters)
    for facet in HIERARCHIES:
        values = filters.get(facet)
        if values:
            below = narrower(select, facet, [iri(v) for v in values])
            out[facet] = tuple(dict.fromkeys((*values, *sorted(key(i) for i in below))))
    return out


def _words(text: str) -> set[str]:
    return set(ANALYZERS[STEMMED].analyze(prepare(text))) if text else set()


def _inferred_match(matched: list[str], fields: dict[str, Any], inferred: set[str],
                    words: set[str]) -> list[str]:
    """"classifications (inferred)" where the query's words are in an entailed
    classification's label (the stored text lists asserted labels first, then entailed)."""
    labels = str((fields.get("classifications") or [""])[0]).split("; ")
    asserted = sum(1 for v in fields.get("f_classification", [])
                   if f"classification:{v}" not in inferred)
    by_asserted = any(words & _words(label) for label in labels[:asserted])
    by_inferred = any(words & _words(label) for label in labels[asserted:])
    if not by_inferred:
        return matched
    out = [m for m in matched if m != "classifications" or by_asserted]
    return [*out, "classifications (inferred)"]


def explain(hits: Sequence[Hit], restriction: Restriction | None,
            requested: dict[str, tuple[str, ...]], expanded: dict[str, tuple[str, ...]],
            stored: dict[str, dict[str, Any]], q: str = "") -> None:
    """Add to each hit's "why" the graph filters it satisfied (``graph``), and say where a
    classification, matched or filtered on, is entailed rather than asserted."""
    words = _words(q)
    for hit in hits:
        fields = stored.get(hit.id, {})
        inferred = {str(v) for v in fields.get("f_inferred", [])}
        graph: list[dict[str, Any]] = list(restriction.why.get(hit.id, [])) if restriction else []
        own = {str(v) for v in fields.get("f_classification", [])} | \
            {str(v) for v in fields.get("f_term", [])}
        for facet in HIERARCHIES:
            asked = set(requested.get(facet, ()))
            for value in expanded.get(facet, ()):
                if value not in own:
                    continue
                entry: dict[str, Any] = {"filter": facet, "value": value}
                if value not in asked:
                    entry["narrowerOf"] = sorted(asked)
                if f"{facet}:{value}" in inferred:
                    entry["inferred"] = True
                graph.append(entry)
        if graph:
            hit.why["graph"] = graph
        matched = hit.why.get("matched")
        if isinstance(matched, list) and "classifications" in matched and words:
            hit.why["matched"] = _inferred_match(matched, fields, inferred, words)
        if inferred:
            hit.why["inferred"] = sorted(inferred)


@dataclass(frozen=True)
class Plan:
    """A request with its graph filters resolved: hierarchies expanded into its facet
    filters, lineage and pattern filters as the set of allowed asset keys."""

    request: SearchRequest
    restriction: Restriction | None
    asked: dict[str, tuple[str, ...]]

    @property
    def keys(self) -> frozenset[str] | None:
        return self.restriction.keys if self.restriction is not None else None

    def explain(self, hits: Sequence[Hit], stored: dict[str, dict[str, Any]]) -> None:
        explain(hits, self.restriction, self.asked, dict(self.request.filters), stored,
                self.request.q)


def plan(req: SearchRequest, select: Select | None, key: Callable[[str], str],
         iri: Callable[[str], str]) -> Plan:
    """Resolve a validated request's graph filters (``select`` None: no SPARQL available)."""
    asked = dict(req.filters)
    if select is None:
        if req.downstream_of or req.upstream_of or req.where:
            raise InputError("graph filters need the catalog's SPARQL service")
        return Plan(req, None, asked)
    expanded = expand_hierarchies(asked, select, key, iri)
    return Plan(replace(req, filters=expanded), resolve(req, select, key, iri), asked)


def entailed_keys(index: TextIndex) -> set[str]:
    """Assets whose indexed documents carry entailed types or classifications."""
    searcher = index.searcher()
    query = Query.exists_query("f_inferred")
    n = count_of(searcher.search(query, 1, count=True))
    if not n:
        return set()
    hits = searcher.search(query, n, count=False).hits
    return {str(searcher.doc(a)["id"][0]) for _, a in hits}


def _markers(doc: AssetDoc) -> set[str]:
    return {*(f"type:{t}" for t in doc.inferred_types),
            *(f"classification:{r.key}" for r in doc.inferred_classifications)}


def entailment_changed(docs: list[AssetDoc], gone: list[str],
                       index: TextIndex) -> tuple[list[AssetDoc], list[str]]:
    """The documents whose entailed types or classifications differ from the indexed ones
    (or that are not indexed yet), and the removals of indexed ones: what a reasoner's
    notification needs to rewrite."""
    stored = index.by_keys([*(d.key for d in docs), *gone])
    changed = [d for d in docs if d.key not in stored or _markers(d) != {
        str(v) for v in stored[d.key].get("f_inferred", [])}]
    return changed, [k for k in gone if k in stored]
