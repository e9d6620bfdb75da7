"""What a query worker process runs (graph_store/query_pool.py): pyoxigraph and the result
serialiser only, so a worker starts fast after the pool ends one at a deadline."""

from __future__ import annotations

from collections.abc import Callable

from pyoxigraph import NamedNode, Store

from graph_store.formats import rdf_format, serialize_quads
from graph_store.oxigraph_store import run_query
from graph_store.protocol import Dataset
from graph_store.results import QueryResult

_open: dict[str, Store] = {}  # the snapshot this worker reads, by path


def execute(path: str, text: str, dataset: Dataset, base_iri: str, accept: str | None,
            choose: Callable[[str | None, tuple[str, ...]], str], extra_types: tuple[str, ...],
            timeout_s: float, max_bytes: int) -> tuple[str, str, bytes]:
    result = QueryResult(run_query(_store(path), text, dataset, base_iri))
    return result.answer(accept, choose, extra_types, timeout_s=timeout_s, max_bytes=max_bytes)


def export(path: str, graphs: list[str], media_type: str) -> bytes:
    """``graphs`` of the snapshot at ``path`` in ``media_type`` (triple formats merge them)."""
    store = _store(path)
    quads = [q for g in graphs for q in store.quads_for_pattern(None, None, None, NamedNode(g))]
    return serialize_quads(quads, rdf_format(media_type))


def sparql_json(accept: str | None, offered: tuple[str, ...]) -> str:
    """The ``Choose`` of callers inside the server that parse an answer (a search's graph
    filter, a rule's dry run): SPARQL JSON results for solutions, N-Triples for graphs."""
    return "application/sparql-results+json" if "application/sparql-results+json" in offered \
        else "application/n-triples"


def _store(path: str) -> Store:
    if path not in _open:
        _open.clear()  # an older snapshot: its directory goes once nobody reads it
        _open[path] = Store.read_only(path)
    return _open[path]
