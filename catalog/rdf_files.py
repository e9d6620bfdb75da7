"""RDF files into the catalog: each file one changeset (all of it or none), its default-graph
statements routed to their subject's access partition unless a target graph is given."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat

from graph_store.changeset import Changeset
from graph_store.errors import InputError
from graph_store.formats import parse_rdf, rdf_format_for_path
from graph_store.journal import Journal
from graph_store.layout import GraphLayout


def load(journal: Journal, layout: GraphLayout, route: Callable[[Any], NamedNode],
         paths: Iterable[Path], *, actor: str, graph: str | None,
         on_file: Callable[[Path, int], None] | None = None) -> list[Changeset | None]:
    target = NamedNode(graph) if graph else None
    if target is not None and layout.is_inferred(target):
        raise InputError(f"{graph} is an inferred graph, maintained by the reasoner; load "
                         "into an asserted graph")
    results = []
    for path in paths:
        if not path.is_file():
            raise InputError(f"no such file: {path}")
        fmt = rdf_format_for_path(path)
        raw = path.read_bytes()
        data = gzip.decompress(raw) if path.suffix == ".gz" else raw
        quads = parse_rdf(data, fmt, base_iri=path.resolve().as_uri())
        if not quads:
            raise InputError(f"{path.name}: no triples in it, read as {fmt.name}" + (
                " (JSON without a JSON-LD @context, such as a DataHub export, yields none)"
                if fmt == RdfFormat.JSON_LD else "") + "; nothing loaded")
        routes: dict[Any, NamedNode] = {}
        placed = []
        for q in quads:
            if not isinstance(q.graph_name, DefaultGraph):
                placed.append(q)
                continue
            g = target or routes.get(q.subject)
            if g is None:
                g = routes[q.subject] = route(q.subject)
            placed.append(Quad(q.subject, q.predicate, q.object, g))
        results.append(journal.commit([], placed, actor=actor, message=f"load {path.name}",
                                      pinned=target))
        if on_file:
            on_file(path, len(placed))
    return results
