"""One search: match, rank (keyword, semantic or fused), count facets, page, explain.

The *match set* of a request is what its total and facets count: keyword matches, semantic
matches (the ``semantic_k`` nearest vectors with cosine ≥ ``semantic_threshold``), or both,
always with exact-name matches, and intersected with the filters. The semantic part is a
top-k rather than every vector above the threshold: a radius search is a scan of every vector
(~140 ms at a million), while HNSW answers a top-k in a few ms. Relevance ranking of semantic and hybrid
results fuses at most ``window`` candidates per list (like Elasticsearch's rank window), then
lifts the join partners of the leading hits (search/graph_signals.py); keyword and field-sorted
results page through every match.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import tantivy
from tantivy import Occur, Order, Query

from search import facet_kinds, keyword
from search.analysis import ANALYZERS, STEMMED, exact_key, prepare
from search.dates import now_utc, range_clauses
from search.dates import resolve as resolve_dates
from search.documents import vector_id
from search.fusion import RRF_K, rrf
from search.graph_signals import join_boost, roll_up, vid_query
from search.model import FacetValue, Hit, SearchRequest
from search.text_index import STORED_TEXT, TextIndex, count_of, ints

WINDOW = 1000
SEMANTIC_THRESHOLD = 0.3
SEMANTIC_K = 200  # nearest vectors a semantic or hybrid search considers (before roll-up)
# hybrid's reciprocal-rank constant: 10 rather than the customary 60 lets the top of each list
# count more. Hybrid nDCG@10 with k = 60 / 20 / 10: demo set 0.786 / 0.788 / 0.791; about even
# (within 0.005) on the tuning questions of bench/table_search. With the tuned encoder, on its
# dev part: k = 5 / 10 / 20 / 60 give 0.870 / 0.868 / 0.865 / 0.859 (questions), and weighting
# the semantic list 1.5 or 2.5 times (or the keyword list 1.33 times) loses 0.004-0.015
HYBRID_RRF_K = 10
FACET_SIZE = 30
SNIPPET_CHARS = 160
# helper threads for one search's semantic half and facet counts, beside its keyword ranking
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search")
_FACET_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="facets")  # never waits
_SORT_FIELDS = {"name": ("sort_name", Order.Asc), "-name": ("sort_name", Order.Desc),
                "updatedAt": ("sort_updated", Order.Asc),
                "-updatedAt": ("sort_updated", Order.Desc)}


class VectorSearch(Protocol):
    """What the engine needs from a vector index (``embeddings`` provides it; this layer
    does not import it)."""

    def match_text(self, text: str, threshold: float, *, k: int = 1000,
                   allowed: Collection[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` vectors nearest to ``text``'s embedding with cosine ≥ ``threshold``,
        best first; only among the ``allowed`` vector ids when given (what a caller may
        read)."""
        ...


@dataclass(frozen=True)
class Outcome:
    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    interpretation: dict[str, Any]


def _both(a: Query, clauses: list[tuple[Occur, Query]]) -> Query:
    return Query.boolean_query([(Occur.Must, a), *clauses]) if clauses else a


class SearchEngine:
    def __init__(self, index: TextIndex, *, semantic_threshold: float = SEMANTIC_THRESHOLD,
                 window: int = WINDOW, semantic_k: int = SEMANTIC_K) -> None:
        self.index = index
        self.semantic_threshold = semantic_threshold
        self.window = window
        self.semantic_k = semantic_k
        self.rrf_k = HYBRID_RRF_K
        self._allowed_cache: tuple[tuple[int, frozenset[str]], frozenset[int]] | None = None

    def run(self, req: SearchRequest, vectors: VectorSearch | None,
            graphs: Collection[str] | None = None, keys: Collection[str] | None = None
            ) -> Outcome:
        """``graphs``, when given, restricts results to assets in those partition graphs
        (the caller's readable dataset); ``keys`` to those assets (graph-aware filters). Both
        apply inside every query, so totals, facets and pages agree."""
        req = req.validated()
        offset = req.offset()
        filters = dict(req.filters)
        extra = self.restriction(graphs, keys)
        dated = resolve_dates(req.date_bounds())
        extra += range_clauses(self.index.schema, dated)
        searcher = self.index.searcher()
        text = keyword.build(self.index, req.q) if req.q else None
        interpretation: dict[str, Any] = {"q": req.q, "filters": filters}
        if dated:
            interpretation["dates"] = {r.field.removesuffix("_at") + "At": r.to_json()
                                       for r in dated}
        all_filters = self.index.filter_query(filters) + extra
        relaxable = text is not None and text.min_match > 1
        # Two things run side by side (torch and tantivy release the GIL): on a helper
        # thread, the query's embedding and nearest vectors, then the facet counts over the
        # match set they complete; here, the keyword ranking, which needs neither.
        wanted = text is not None and req.mode in ("semantic", "hybrid") and vectors is not None
        sem_ready: Future[list[tuple[int, float]]] = Future()
        counted: dict[str, int] = {}
        job: Future[tuple[Query, dict[str, list[FacetValue]], bool]] | None = None
        if wanted or req.facets:
            allowed = self._allowed_vids(searcher, graphs, keys) if wanted else None
            job = _POOL.submit(self._match_and_count, req, searcher, text,
                               vectors if wanted else None, allowed, filters, extra, counted,
                               sem_ready)
        else:
            sem_ready.set_result([])
        window: list[tuple[int, float]] | None = None
        if wanted and req.mode == "hybrid" and req.sort == "relevance" and text is not None:
            window = self._keyword_window(searcher, _both(text.match, all_filters))
        semantic = sem_ready.result()
        while True:
            core = self._core(req.mode, text, semantic)
            ranked, available = self._rank(req, searcher, text, semantic, core, all_filters,
                                           offset, window)
            hits = self._hits(req, searcher, text, ranked, filters)
            if job is not None:
                _, facets, counts_all = job.result()
            else:  # nothing ran beside the ranking, or a second (relaxed) pass
                _, facets, counts_all = self._count_pass(req, searcher, text, semantic, filters,
                                                         extra, counted)
            total = available if counts_all else counted.get("total")
            if total is None:
                total = count_of(searcher.search(_both(core, all_filters), 1, count=True))
            if total or not relaxable:
                break
            assert text is not None
            text = keyword.build(self.index, req.q, relaxed=True)
            relaxable = False
            window = None
            job = None
            counted = {}
            interpretation["relaxed"] = True
        if text is not None:
            interpretation.update(text.interpretation())
        end = offset + req.limit
        nxt = req.cursor_at(end) if available > end else None
        return Outcome(hits, total, facets, nxt, interpretation)

    def _match_and_count(self, req: SearchRequest, searcher: tantivy.Searcher,
                         text: keyword.TextQuery | None, vectors: VectorSearch | None,
                         allowed: Collection[int] | None, filters: dict[str, tuple[str, ...]],
                         extra: list[tuple[Occur, Query]], counted: dict[str, int],
                         sem_ready: Future[list[tuple[int, float]]]
                         ) -> tuple[Query, dict[str, list[FacetValue]], bool]:
        """The helper thread's part of ``run``: semantic matches (handed over through
        ``sem_ready`` as soon as they are known), then the facet counts."""
        try:
            semantic: list[tuple[int, float]] = []
            if vectors is not None:
                assert text is not None
                semantic = roll_up(self.index, searcher, vectors.match_text(
                    req.q, self.semantic_threshold, k=self.semantic_k, allowed=allowed))
        except BaseException as e:
            sem_ready.set_exception(e)
            raise
        sem_ready.set_result(semantic)
        return self._count_pass(req, searcher, text, semantic, filters, extra, counted)

    def _count_pass(self, req: SearchRequest, searcher: tantivy.Searcher,
                    text: keyword.TextQuery | None, semantic: list[tuple[int, float]],
                    filters: dict[str, tuple[str, ...]], extra: list[tuple[Occur, Query]],
                    counted: dict[str, int]) -> tuple[Query, dict[str, list[FacetValue]], bool]:
        """Facets over the match set, and whether the ranking will count the total itself
        (else the facet aggregation over exactly the match set counts it into ``counted``:
        each pass over the whole match set costs ~10 ms at a million assets)."""
        core = self._core(req.mode, text, semantic)
        counts_all = self._ranking_counts_all(req, text, semantic)
        facets = self._facets(req, searcher, core, filters, extra,
                              count_into=None if counts_all else counted)
        if not counts_all and "total" not in counted:
            counted["total"] = count_of(searcher.search(
                _both(core, self.index.filter_query(filters) + extra), 1, count=True))
        return core, facets, counts_all

    def _keyword_window(self, searcher: tantivy.Searcher,
                        query: Query) -> list[tuple[int, float]]:
        """The best ``window`` keyword matches (vid, BM25 x prior), for fusion."""
        result = searcher.search(query, self.window, count=False, weight_by_field="prior")
        vids = ints(searcher.fast_field_values("vid", [a for _, a in result.hits]))
        return [(v, float(s)) for v, (s, _) in zip(vids, result.hits, strict=True)]

    def restriction(self, graphs: Collection[str] | None,
                    keys: Collection[str] | None) -> list[tuple[Occur, Query]]:
        """Non-scoring MUST clauses: in one of ``graphs``, and one of ``keys``."""
        out = []
        for field_name, values in (("f_graph", graphs), ("id", keys)):
            if values is not None:
                out.append((Occur.Must, Query.const_score_query(
                    self.index.any_of(field_name, sorted(values)), 0.0)))
        return out

    def _allowed_vids(self, searcher: tantivy.Searcher, graphs: Collection[str] | None,
                      keys: Collection[str] | None) -> frozenset[int] | None:
        """The vector ids a restricted search may match, for the vector index to search
        among (its top-k would otherwise fill up with unreadable assets). Graph filters give
        keys (their ids are computed, not looked up); readable graphs are looked up once per
        index version and set of graphs."""
        if keys is not None:
            return frozenset(vector_id(k) for k in keys)
        if graphs is None:
            return None
        tag = (self.index.seq, frozenset(graphs))
        cached = self._allowed_cache
        if cached is not None and cached[0] == tag:
            return cached[1]
        query = Query.boolean_query(self.restriction(graphs, None))
        n = count_of(searcher.search(query, 1, count=True))
        vids = frozenset(self.index.vids(searcher, query, n)) if n else frozenset()
        self._allowed_cache = (tag, vids)
        return vids

    def allows(self, key: str, graphs: Collection[str] | None) -> bool:
        """Whether asset ``key`` lies in one of ``graphs`` (None: every graph)."""
        if graphs is None:
            return True
        query = Query.boolean_query(self.restriction(graphs, [key]))
        return bool(self.index.vids(self.index.searcher(), query, 1))

    @staticmethod
    def _ranking_counts_all(req: SearchRequest, text: keyword.TextQuery | None,
                            semantic: list[tuple[int, float]]) -> bool:
        """Whether ``_rank`` searched the match set itself with count=True (field sorts,
        keyword mode, hybrid without semantic matches): its count is then the total."""
        sort = req.sort if req.sort != "relevance" or text is not None else "name"
        return sort in _SORT_FIELDS or req.mode == "keyword" or (
            req.mode == "hybrid" and not semantic)

    # -- matching ------------------------------------------------------------------------------
    def _core(self, mode: str, text: keyword.TextQuery | None,
              semantic: list[tuple[int, float]]) -> Query:
        if text is None:
            return Query.all_query()
        sem = vid_query(self.index, [v for v, _ in semantic]) if semantic else None
        if mode == "keyword" or (sem is None and mode == "hybrid"):
            return text.filter  # (the same match set as text.match, cheaper to count)
        parts = [text.exact] if mode == "semantic" else [text.filter]
        if sem is not None:
            parts.append(sem)
        return Query.boolean_query([(Occur.Should, p) for p in parts], 1)

    # -- ranking -------------------------------------------------------------------------------
    def _rank(self, req: SearchRequest, searcher: tantivy.Searcher,
              text: keyword.TextQuery | None, semantic: list[tuple[int, float]], core: Query,
              filters: list[tuple[Occur, Query]], offset: int,
              window: list[tuple[int, float]] | None = None
              ) -> tuple[list[tuple[int, float, dict[str, Any]]], int]:
        """The page as (vid, score, why-so) and how many results can be paged through.
        ``window``: the keyword list for fusion, if already searched."""
        matched = _both(core, filters)
        sort = req.sort if req.sort != "relevance" or text is not None else "name"
        if sort in _SORT_FIELDS:
            name, order = _SORT_FIELDS[sort]
            result = searcher.search(matched, req.limit + 1, count=True, order_by_field=name,
                                     order=order, offset=offset)
            vids = ints(searcher.fast_field_values("vid", [a for _, a in result.hits]))
            return [(v, 0.0, {}) for v in vids[:req.limit]], count_of(result)
        assert text is not None
        keyword_q = _both(text.match, filters)
        if req.mode == "keyword" or (req.mode == "hybrid" and not semantic):
            result = searcher.search(keyword_q, req.limit, count=True, offset=offset,
                                     weight_by_field="prior")
            vids = ints(searcher.fast_field_values("vid", [a for _, a in result.hits]))
            page = [(v, float(s), {"keyword": {"rank": offset + i + 1, "score": round(s, 4)}})
                    for i, (v, (s, _)) in enumerate(zip(vids, result.hits, strict=True))]
            return page, count_of(result)
        exact = set(self.index.vids(searcher, _both(text.exact, filters), self.window))
        allowed = None
        if filters and semantic:  # (tantivy refuses a search for 0 documents)
            allowed = set(self.index.vids(searcher, _both(vid_query(
                self.index, [v for v, _ in semantic]), filters), len(semantic)))
        sem = [(v, s) for v, s in semantic if allowed is None or v in allowed][:self.window]
        sem_rank = {v: (i + 1, s) for i, (v, s) in enumerate(sem)}
        kw: list[tuple[int, float]] = []
        if req.mode == "hybrid":
            kw = window if window is not None else self._keyword_window(searcher, keyword_q)
        kw_rank = {v: (i + 1, s) for i, (v, s) in enumerate(kw)}
        if req.mode == "hybrid":
            scores = join_boost(self.index, searcher, rrf(
                [v for v, _ in kw], [v for v, _ in sem], k=self.rrf_k), k=self.rrf_k)
        else:
            scores = {v: s for v, s in sem}
        for v in exact:
            scores.setdefault(v, 0.0)
        ranking = sorted(scores, key=lambda v: (v not in exact, -scores[v], v))
        page = []
        for v in ranking[offset:offset + req.limit]:
            why: dict[str, Any] = {}
            if v in kw_rank:
                why["keyword"] = {"rank": kw_rank[v][0], "score": round(kw_rank[v][1], 4)}
            if v in sem_rank:
                why["semantic"] = {"rank": sem_rank[v][0], "score": round(sem_rank[v][1], 4)}
            if req.mode == "hybrid":
                why["fused"] = {"method": "rrf", "k": self.rrf_k, "score": round(scores[v], 6)}
            page.append((v, scores[v], why))
        return page, len(ranking)

    # -- more like this ------------------------------------------------------------------------
    def similar(self, key: str, neighbours: list[tuple[int, float]],
                filters: dict[str, tuple[str, ...]], limit: int,
                graphs: Collection[str] | None = None) -> list[Hit]:
        """Fuse the asset's vector neighbours with tantivy's more-like-this over its own
        stored text (shared rare terms); either list alone works. ``graphs`` as in ``run``."""
        searcher = self.index.searcher()
        clauses = self.index.filter_query(filters) + self.restriction(graphs, None)
        own = vector_id(key)
        kw: list[tuple[int, float]] = []
        found = searcher.search(self.index.term("id", key), 1, count=False).hits
        if found:
            mlt = Query.more_like_this_query(found[0][1], min_doc_frequency=1,
                                             min_term_frequency=1, max_query_terms=25,
                                             min_word_length=2, boost_factor=1.0)
            result = searcher.search(_both(mlt, clauses), 100, count=False)
            vids = ints(searcher.fast_field_values("vid", [a for _, a in result.hits]))
            kw = [(v, float(s)) for v, (s, _) in zip(vids, result.hits, strict=True) if v != own]
        sem = [(v, s) for v, s in neighbours if v != own]
        if clauses and sem:
            allowed = set(self.index.vids(searcher, _both(self.index.any_of(
                "vid", [v for v, _ in sem]), clauses), len(sem)))
            sem = [(v, s) for v, s in sem if v in allowed]
        kw_rank = {v: (i + 1, s) for i, (v, s) in enumerate(kw)}
        sem_rank = {v: (i + 1, s) for i, (v, s) in enumerate(sem)}
        scores = rrf([v for v, _ in kw], [v for v, _ in sem])
        ranked = []
        for v in sorted(scores, key=lambda v: (-scores[v], v))[:limit]:
            why: dict[str, Any] = {"fused": {"method": "rrf", "k": RRF_K,
                                             "score": round(scores[v], 6)}}
            if v in kw_rank:
                why["keyword"] = {"rank": kw_rank[v][0], "score": round(kw_rank[v][1], 4),
                                  "method": "more-like-this"}
            if v in sem_rank:
                why["semantic"] = {"rank": sem_rank[v][0], "score": round(sem_rank[v][1], 4)}
            ranked.append((v, scores[v], why))
        return self._hits(SearchRequest(), searcher, None, ranked, filters)

    # -- facets --------------------------------------------------------------------------------
    def _facets(self, req: SearchRequest, searcher: tantivy.Searcher, core: Query,
                filters: dict[str, tuple[str, ...]],
                extra: list[tuple[Occur, Query]],
                count_into: dict[str, int] | None = None) -> dict[str, list[FacetValue]]:
        """Counts over the match set; a facet that is filtered on counts as if it were not,
        so the other values of that facet stay visible (and each count equals the total of
        the search with that value chosen instead). With ``count_into``, the aggregation
        over exactly the match set (if one is made) also counts it: ``count_into["total"]``."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for facet in req.facets:
            others = tuple(sorted(f for f in filters if f != facet))
            groups.setdefault(others, []).append(facet)
        counts: dict[str, list[tuple[str, int, str | None]]] = {}
        now = now_utc()
        everything = tuple(sorted(filters))
        def aggregate(others: tuple[str, ...], facets: list[str]) -> dict[str, Any]:
            query = _both(core, self.index.filter_query({f: filters[f] for f in others}) + extra)
            aggs = {f: facet_kinds.aggregation(f, FACET_SIZE, now) for f in facets}
            if count_into is not None and others == everything:
                aggs[_TOTAL] = {"value_count": {"field": "vid"}}  # one vid per document
            return dict(searcher.aggregate(query, aggs))
        # a facet that is filtered on needs its own pass; passes run side by side
        pending = list(groups.items())
        later = [(g, _FACET_POOL.submit(aggregate, *g)) for g in pending[1:]]
        results = [(pending[0], aggregate(*pending[0]))] if pending else []
        results += [(g, job.result()) for g, job in later]
        for (others, facets), result in results:
            if count_into is not None and others == everything:
                count_into["total"] = int(result.get(_TOTAL, {}).get("value") or 0)
            for f in facets:
                counts[f] = facet_kinds.counts(f, result.get(f, {}))
        keys = sorted({v for f, vs in counts.items() if facet_kinds.labelled_by_assets(f)
                       for v, _, _ in vs})
        stored = self.index.by_keys(keys)
        def label(facet: str, value: str, given: str | None) -> str:
            if given is not None or not facet_kinds.labelled_by_assets(facet):
                return given or value
            names = stored.get(value, {}).get("name")
            return str(names[0]) if names else value
        return {f: [FacetValue(v, n, label(f, v, g)) for v, n, g in counts[f]]
                for f in req.facets}

    # -- hits ----------------------------------------------------------------------------------
    def _hits(self, req: SearchRequest, searcher: tantivy.Searcher,
              text: keyword.TextQuery | None, ranked: list[tuple[int, float, dict[str, Any]]],
              filters: dict[str, tuple[str, ...]]) -> list[Hit]:
        if not ranked:
            return []
        found = searcher.search(vid_query(self.index, [v for v, _, _ in ranked]),
                                len(ranked), count=False)
        by_vid: dict[int, tantivy.Document] = {}
        for _, address in found.hits:
            d = searcher.doc(address)
            by_vid[int(d["vid"][0])] = d
        snippets = {}
        if text is not None and req.highlight:
            for f in ("name", "qualified_name", "description", "columns", "tags", "terms",
                      "classifications"):
                gen = tantivy.SnippetGenerator.create(searcher, text.match, self.index.schema, f)
                gen.set_max_num_chars(SNIPPET_CHARS)
                snippets[f] = gen
        exact = exact_key(req.q) if req.q else None
        hits = []
        for vid, score, why in ranked:
            doc = by_vid.get(vid)
            if doc is None:
                continue  # deleted since ranking
            fields = doc.to_dict()
            def first(name: str, fields: dict[str, Any] = fields) -> str:
                values = fields.get(name) or [""]
                return str(values[0])
            name, qualified = first("name"), first("qualified_name")
            explained = dict(why)
            if text is not None:
                is_exact = exact in (exact_key(name), exact_key(qualified),
                                     first("id").lower())
                if is_exact:
                    explained["exact"] = True
                highlights = {}
                for f, gen in snippets.items():
                    if not fields.get(f):
                        continue
                    snippet = gen.snippet_from_doc(doc)
                    if snippet.highlighted():
                        highlights[_JSON_NAMES.get(f, f)] = snippet.to_html()
                # a field with a highlight matched; only the others need analysing
                explained["matched"] = self._matched(fields, text.stems, set(snippets),
                                                     highlights)
                if highlights:
                    explained["highlights"] = highlights
            if filters:
                explained["filters"] = {k: list(v) for k, v in filters.items()}
            hits.append(Hit(first("id"), tuple(str(t) for t in fields.get("f_type", [])), name,
                            qualified, first("description"), first("f_platform") or None,
                            first("f_workspace") or None, score, explained))
        return hits

    @staticmethod
    def _matched(fields: dict[str, Any], looked_for: frozenset[str],
                 highlighted: set[str] = frozenset(),  # type: ignore[assignment]
                 highlights: dict[str, str] | None = None) -> list[str]:
        """Stored fields holding a word looked for. Fields in ``highlighted`` had a snippet
        made with the same query terms, so a highlight already answers for them (analysing
        every stored field of every hit again cost ~2/3 of the hits' time)."""
        analyzer = ANALYZERS[STEMMED]
        out = []
        for f in STORED_TEXT:
            values = fields.get(f)
            name = _JSON_NAMES.get(f, f)
            if not values:
                continue
            if f in highlighted and highlights is not None:
                if name in highlights:
                    out.append(name)
            elif looked_for.intersection(analyzer.analyze(prepare(" ".join(values)))):
                out.append(name)
        return out


_JSON_NAMES = {"qualified_name": "qualifiedName"}
_TOTAL = "__total"  # an aggregation name no facet uses
