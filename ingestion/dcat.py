"""The RDF and DCAT connector: a DCAT catalog from a file (Turtle, RDF/XML, JSON-LD, N-Triples,
N-Quads, TriG, whose graphs are read as one; parsed by pyoxigraph) or from a SPARQL endpoint
(a CONSTRUCT over HTTP).

    connector: dcat
    workspace: acme
    config:
      path: catalog.ttl                       # or file:///data/catalog.jsonld
      # endpoint: https://data.example.org/sparql    (instead of path)
      # graph: https://data.example.org/graph/dcat   (the endpoint's named graph; default: its default graph)
      language: en                            # which title/description/keywords to keep

What it yields (ingestion/dcat_map.py has the mapping), all on ``platform/{platform}`` (default
``dcat``): a Database and its Schema per ``dcat:Catalog`` (qualified name: the catalog's IRI),
a Table per ``dcat:Dataset`` (qualified name: the dataset's IRI; ``name`` from ``dct:title``,
``description`` from ``dct:description``; keywords, themes, landing pages, identifiers, dates,
licences and the distributions' access URLs and formats under their DCAT/DCTERMS IRIs), and
warnings summing up what has no place in semcat (``dct:publisher``, ``dcat:contactPoint``,
other properties, counted by property). The whole graph is read and parsed before anything is
written: a missing file, malformed RDF or an unreachable endpoint is an InputError, and nothing
is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlparse

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pyoxigraph import NamedNode, RdfFormat, parse

from graph_store.errors import InputError
from ingestion.connector import Record, RunContext
from ingestion.dcat_map import CATALOG, DATASET_TYPES, DISTRIBUTION, OWNS, Graph, Mapper

__all__ = ["DcatConfig", "DcatConnector"]

FORMATS: dict[str, RdfFormat] = {
    "turtle": RdfFormat.TURTLE, "rdf-xml": RdfFormat.RDF_XML, "json-ld": RdfFormat.JSON_LD,
    "n-triples": RdfFormat.N_TRIPLES, "n-quads": RdfFormat.N_QUADS, "trig": RdfFormat.TRIG}
EXTENSIONS: dict[str, str] = {
    ".ttl": "turtle", ".turtle": "turtle", ".rdf": "rdf-xml", ".xml": "rdf-xml",
    ".owl": "rdf-xml", ".jsonld": "json-ld", ".json": "json-ld", ".nt": "n-triples",
    ".nq": "n-quads", ".trig": "trig"}
ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
DCAT_PREFIX = "PREFIX dcat: <http://www.w3.org/ns/dcat#>\n"

FormatName = Literal["turtle", "rdf-xml", "json-ld", "n-triples", "n-quads", "trig"]


class DcatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(None, min_length=1, description="A DCAT file: a local path or a "
                             "file:// URL.")
    endpoint: str | None = Field(None, min_length=1, description="A SPARQL endpoint's URL "
                                 "(http or https), read with a CONSTRUCT query.")
    graph: str | None = Field(None, min_length=1, description="The endpoint's named graph to "
                              "read (default: its default graph).")
    format: FormatName | None = Field(None, description="The file's syntax (default: from its "
                                      "extension).")
    database: str | None = Field(None, min_length=1, description="The Database of datasets in "
                                 "no dcat:Catalog (default: the file's stem or the endpoint's "
                                 "host).")
    platform: str = Field("dcat", pattern=r"^[a-z0-9][a-z0-9_-]*$",
                          description="Platform slug in ids.")
    language: str = Field("en", min_length=1, description="The language whose titles, "
                          "descriptions and keywords are kept when there are several.")
    timeout: float = Field(30, gt=0, le=600, description="Seconds to wait for the endpoint.")

    @model_validator(mode="after")
    def _one(self) -> DcatConfig:
        if (self.path is None) == (self.endpoint is None):
            raise ValueError("give either path (a DCAT file) or endpoint (a SPARQL endpoint)")
        if self.graph is not None and self.endpoint is None:
            raise ValueError("graph names a graph of the endpoint; give endpoint too")
        return self

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and "://" in value and not value.startswith("file://"):
            raise ValueError("a local path or a file:// URL; for a SPARQL endpoint use endpoint")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return value
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("an http:// or https:// URL, like https://host/sparql")
        if url.username or url.password:
            raise ValueError("the URL holds credentials; endpoints are read without them")
        return value

    @field_validator("graph")
    @classmethod
    def _graph(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                NamedNode(value)
            except ValueError:
                raise ValueError("not an absolute IRI") from None
        return value

    def file(self) -> Path:
        assert self.path is not None
        if self.path.startswith("file://"):
            return Path(unquote(urlparse(self.path).path))
        return Path(self.path).expanduser()

    def location(self) -> str:
        """Where the graph comes from: the file's absolute path, or the endpoint (and graph)."""
        if self.endpoint is not None:
            return self.endpoint + (f"#graph={self.graph}" if self.graph else "")
        return str(self.file().resolve())

    def database_name(self) -> str:
        if self.database:
            return self.database
        if self.endpoint is not None:
            return urlparse(self.endpoint).netloc
        return self.file().stem or "dcat"


class DcatConnector:
    """DCAT catalogs from RDF files or SPARQL endpoints: catalogs, datasets, distributions."""

    name: ClassVar[str] = "dcat"
    config_model: ClassVar[type[BaseModel]] = DcatConfig
    # what the DCAT source says; owners, tags, terms and other properties people add are kept
    owns: ClassVar[frozenset[str]] = OWNS

    def source(self, config: DcatConfig) -> str:
        """The file's absolute path, or the endpoint's URL (with ``#graph=`` and the graph)."""
        return config.location()

    def records(self, config: DcatConfig, context: RunContext) -> Iterator[Record]:
        graph = Graph.of(_read_file(config) if config.path is not None else _construct(config))
        if not (graph.typed(CATALOG, *DATASET_TYPES)):
            raise InputError(f"{config.location()}: no dcat:Catalog and no dcat:Dataset in it "
                             f"({len(graph.props)} subjects read); nothing was ingested")
        mapper = Mapper(graph, workspace=context.workspace, platform=config.platform,
                        database=config.database_name(), language=config.language)
        records = list(mapper.records())  # mapped whole first: no error after the first write
        for w in mapper.warnings():
            context.warn(w)
        yield from records


def _read_file(config: DcatConfig) -> list[Any]:
    path = config.file()
    fmt = config.format or EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"config.format: cannot tell the syntax of {path.name} from its "
                         f"extension; set format to one of {', '.join(FORMATS)}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"config.path: cannot read {path}: {e.strerror}") from None
    return _parse(data, FORMATS[fmt], base=path.resolve().as_uri(), where=str(path))


def _parse(data: bytes, fmt: RdfFormat, *, base: str | None, where: str) -> list[Any]:
    try:
        return list(parse(data, fmt, base_iri=base))
    except SyntaxError as e:
        hint = ("; inline the @context (remote contexts are not fetched)"
                if "remote context" in str(e) else "")
        raise InputError(f"{where} is not valid {fmt.name}: {e.msg or e}{hint}; nothing was "
                         "ingested", line=e.lineno) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{where} is not valid {fmt.name}: {e}; nothing was ingested") from None


def construct_query(graph: str | None) -> str:
    """The catalogs, datasets and distributions of the endpoint (or of one of its graphs), with
    every property they have."""
    body = (f"VALUES ?type {{ <{CATALOG}> {' '.join(f'<{t}>' for t in DATASET_TYPES)} "
            f"<{DISTRIBUTION}> }}\n"
            "  { ?s a ?type } UNION { ?d dcat:distribution ?s }\n  ?s ?p ?o")
    where = f"GRAPH <{graph}> {{\n  {body}\n}}" if graph else body
    return f"{DCAT_PREFIX}CONSTRUCT {{ ?s ?p ?o }} WHERE {{\n  {where}\n}}"


def _construct(config: DcatConfig) -> list[Any]:
    assert config.endpoint is not None
    where = config.endpoint
    try:
        response = httpx.post(where, data={"query": construct_query(config.graph)},
                              headers={"Accept": ACCEPT}, timeout=config.timeout,
                              follow_redirects=True)
    except httpx.TimeoutException:
        raise InputError(f"config.endpoint: {where} did not answer in {config.timeout:g} s; "
                         "try again or raise timeout") from None
    except httpx.HTTPError as e:
        raise InputError(f"config.endpoint: cannot reach {where} ({type(e).__name__}: {e}); "
                         "check the URL and that the server runs") from None
    if response.status_code != 200:
        text = " ".join(response.text.split())[:300]
        raise InputError(f"config.endpoint: {where} answered {response.status_code} to the "
                         f"CONSTRUCT query: {text or response.reason_phrase}")
    media = response.headers.get("content-type", "").split(";")[0].strip()
    fmt = RdfFormat.from_media_type(media) if media else None
    if fmt is None:
        raise InputError(f"config.endpoint: {where} answered {media or 'no content type'}, "
                         "not RDF; is it a SPARQL endpoint?")
    return _parse(response.content, fmt, base=None, where=f"the answer of {where}")
