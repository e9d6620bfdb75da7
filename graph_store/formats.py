"""RDF and SPARQL-results formats: media types, parsing with precise errors, serialisation.

The web layer negotiates by media type strings; this module alone turns them into pyoxigraph
formats, so nothing above ``graph_store`` imports pyoxigraph for I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from pyoxigraph import DefaultGraph, NamedNode, Quad, QueryResultsFormat, RdfFormat, parse, serialize

from graph_store.errors import InputError, UnsupportedMediaType

RDF_MEDIA_TYPES = {
    "text/turtle": RdfFormat.TURTLE,
    "application/x-turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,
    "application/n-quads": RdfFormat.N_QUADS,
    "application/trig": RdfFormat.TRIG,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/xml": RdfFormat.RDF_XML,
    "text/n3": RdfFormat.N3,
}
RESULTS_MEDIA_TYPES = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "application/xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}
# What each kind of result may be served as, the first being the default.
GRAPH_RESULT_TYPES = ("text/turtle", "application/n-triples", "application/ld+json",
                      "application/rdf+xml", "application/n-quads", "application/trig")
SOLUTION_RESULT_TYPES = ("application/sparql-results+json", "application/sparql-results+xml",
                         "text/csv", "text/tab-separated-values", "application/json",
                         "application/xml")
QUAD_FORMATS = (RdfFormat.N_QUADS, RdfFormat.TRIG)
# pyoxigraph's JSON-LD parser recurses per level: 5,000 levels overflow an 8 MiB stack
MAX_JSONLD_DEPTH = 100
_POSITION = re.compile(r"line (\d+)(?:,? (?:between )?columns? (\d+))?|at (\d+):(\d+)")


def rdf_format(media_type: str) -> RdfFormat:
    fmt = RDF_MEDIA_TYPES.get(media_type.split(";")[0].strip().lower())
    if fmt is None:
        raise UnsupportedMediaType(
            f"unsupported RDF media type {media_type!r}; use one of {', '.join(RDF_MEDIA_TYPES)}"
        )
    return fmt


def rdf_format_for_path(path: Path) -> RdfFormat:
    name = path.name.removesuffix(".gz")
    suffix = Path(name).suffix.lstrip(".")
    fmt = RdfFormat.RDF_XML if suffix == "owl" else (  # OWL files are RDF/XML by convention
        RdfFormat.from_extension(suffix) if suffix else None)
    if fmt is None:
        raise InputError(f"cannot tell the RDF format of {path.name}: use .ttl .nt .nq .trig "
                         ".jsonld or .rdf (optionally .gz)")
    return fmt


def media_type_of(fmt: RdfFormat) -> str:
    return fmt.media_type


def parse_rdf(data: bytes | str, fmt: RdfFormat, *, base_iri: str | None = None,
              to_graph: NamedNode | None = None) -> list[Quad]:
    """Parse a whole document or fail with the parser's message and position."""
    if fmt == RdfFormat.JSON_LD:
        try:
            check_json_depth(orjson.loads(data), MAX_JSONLD_DEPTH)
        except orjson.JSONDecodeError as e:
            raise InputError(f"invalid JSON_LD: {e.msg}", line=e.lineno, column=e.colno) from e
    try:
        quads = list(parse(data, format=fmt, base_iri=base_iri))
    except SyntaxError as e:
        raise syntax_error(e, f"invalid {fmt.name}") from e
    if to_graph is not None:
        quads = [Quad(q.subject, q.predicate, q.object, to_graph)
                 if isinstance(q.graph_name, DefaultGraph) else q for q in quads]
    return quads


def syntax_error(e: SyntaxError, what: str) -> InputError:
    m = _POSITION.search(str(e))
    line = int(m.group(1) or m.group(3)) if m else None
    column = int(m.group(2) or m.group(4)) if m and (m.group(2) or m.group(4)) else None
    return InputError(f"{what}: {e}", line=line, column=column)


def serialize_quads(quads: Iterable[Quad], fmt: RdfFormat,
                    prefixes: dict[str, str] | None = None) -> bytes:
    if fmt not in QUAD_FORMATS:
        quads = [q.triple for q in quads]  # type: ignore[misc]
    kwargs = {"prefixes": prefixes} if prefixes and fmt in (RdfFormat.TURTLE, RdfFormat.TRIG) else {}
    try:
        return serialize(quads, format=fmt, **kwargs) or b""  # type: ignore[arg-type]
    except OSError as e:
        if "RDF 1.2" in str(e):  # JSON-LD and the triple terms of statement provenance
            raise InputError(f"{fmt.media_type} cannot carry RDF 1.2 triple terms (statement "
                             "provenance); ask for Turtle or N-Triples") from e
        raise


def check_json_depth(value: Any, limit: int) -> None:
    """Refuse JSON nested deeper than ``limit`` before any recursive code walks it."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(
            node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    raise InputError(f"the JSON nests more than {limit} levels deep")
                stack.append((child, depth + 1))
