"""DCAT triples onto semcat assets: what the RDF and DCAT connector (ingestion/dcat.py) yields.

``dcat:Catalog`` → Database (and its one Schema, the catalog itself, as a MariaDB database is
its own schema); ``dcat:Dataset`` / ``dcat:DatasetSeries`` → Table, ``partOf`` its catalog's
schema (datasets in no catalog go to a default catalog). The qualified names are the IRIs, so
ids are as stable as the source's IRIs; a blank node is keyed by its ``dct:identifier``, and
skipped without one. ``dct:title`` → ``name``, ``dct:description`` → ``description`` (one
value, in the configured language when there is a choice); the DCAT and DCTERMS properties in
``PASSED`` keep their own IRIs (the REST shape takes any DCAT or DCTERMS term as a key), with
the distributions' access and download URLs, formats, media types and licences flattened onto
their dataset. Everything else on a catalog, dataset or distribution is counted and reported
as one warning; ``dct:publisher`` and ``dcat:contactPoint`` have a warning of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from graph_store.keys import encode_segment
from ingestion.connector import Record
from ontology.namespaces import DCAT, DCTERMS, PREFIXES, RDF_TYPE, XSD

__all__ = ["DATASET_TYPES", "OWNS", "Mapper"]

Node = NamedNode | BlankNode
CATALOG: Final = DCAT + "Catalog"
DATASET_TYPES: Final = (DCAT + "Dataset", DCAT + "DatasetSeries")
DISTRIBUTION: Final = DCAT + "Distribution"
TITLE, DESCRIPTION, IDENTIFIER = DCTERMS + "title", DCTERMS + "description", DCTERMS + "identifier"
# kept on the Table under their own IRIs
PASSED: Final = tuple(DCAT + p for p in ("keyword", "theme", "landingPage")) + tuple(
    DCTERMS + p for p in ("identifier", "issued", "modified", "language", "license",
                          "accessRights", "accrualPeriodicity", "conformsTo", "spatial"))
# a distribution's, flattened onto its dataset
FROM_DISTRIBUTION: Final = (DCAT + "accessURL", DCAT + "downloadURL", DCTERMS + "format",
                            DCAT + "mediaType", DCTERMS + "license")
STRUCTURE: Final = frozenset({RDF_TYPE, TITLE, DESCRIPTION, DCAT + "dataset",
                              DCAT + "distribution"})
UNMAPPABLE: Final = {DCTERMS + "publisher": "dct:publisher", DCAT + "contactPoint":
                     "dcat:contactPoint"}
OWNS: Final = frozenset({"type", "name", "qualifiedName", "workspace", "platform", "partOf",
                         "description", *PASSED, *FROM_DISTRIBUTION})
SHOWN: Final = 15  # unmapped properties named in the summary


def curie(iri: str) -> str:
    for prefix, ns in (("dct", DCTERMS), *PREFIXES.items()):
        if iri.startswith(ns) and prefix != "dcterms":
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


@dataclass
class Graph:
    """Triples indexed by subject: subject -> predicate IRI -> objects, in file order."""

    props: dict[Node, dict[str, list[Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, triples: Iterable[Triple | Quad]) -> Graph:
        g = cls()
        for t in triples:
            if isinstance(t.subject, NamedNode | BlankNode):
                g.props.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(
                    t.object)
        return g

    def objects(self, s: Node, p: str) -> list[Any]:
        return self.props.get(s, {}).get(p, [])

    def typed(self, *types: str) -> list[Node]:
        wanted = {NamedNode(t) for t in types}
        return [s for s, ps in self.props.items() if wanted & set(ps.get(RDF_TYPE, []))]


class Mapper:
    """One parsed graph's records, and what could not be mapped (``warnings()``)."""

    def __init__(self, graph: Graph, *, workspace: str, platform: str, database: str,
                 language: str) -> None:
        self.g = graph
        self.ws = workspace
        self.platform = platform
        self.database = database
        self.language = language.lower()  # parsers lower-case language tags
        self.unmapped: Counter[str] = Counter()
        self.unmappable: Counter[str] = Counter()
        self.notes: list[str] = []

    def key(self, kind: str, qn: str) -> str:
        return f"{self.ws}/{kind}/{self.platform}/{encode_segment(qn)}"

    def asset(self, kind: str, qn: str, name: str, **extra: Any) -> Record:
        return {"type": kind, "name": name, "qualifiedName": qn, "workspace": self.ws,
                "platform": f"platform/{self.platform}",
                **{k: v for k, v in extra.items() if v is not None and v != []}}

    def qn(self, node: Node) -> str | None:
        """A stable name: the IRI, else the blank node's dct:identifier."""
        if isinstance(node, NamedNode):
            return node.value
        ids = sorted(o.value for o in self.g.objects(node, IDENTIFIER) if isinstance(o, Literal))
        return ids[0] if ids else None

    def pick(self, node: Node, p: str) -> str | None:
        """One literal of ``node``'s ``p``: in the configured language, else without one, else
        the first language in order."""
        values = [o for o in self.g.objects(node, p) if isinstance(o, Literal)]
        for wanted in (self.language, None):
            chosen = sorted(o.value for o in values if o.language == wanted)
            if chosen:
                return chosen[0].strip() or None
        return sorted(values, key=lambda o: (o.language or "", o.value))[0].value.strip() \
            if values else None

    def records(self) -> Iterator[Record]:
        catalogs = {c: q for c in self.g.typed(CATALOG) if (q := self.qn(c)) is not None}
        skipped = len(self.g.typed(CATALOG)) - len(catalogs)
        datasets = set(self.g.typed(*DATASET_TYPES))
        home: dict[Node, Node] = {}
        several = 0
        for c in sorted(catalogs, key=lambda c: catalogs[c]):
            for d in self.g.objects(c, DCAT + "dataset"):
                if isinstance(d, NamedNode | BlankNode):
                    datasets.add(d)
                    if d in home:
                        several += 1
                    else:
                        home[d] = c
        if several:
            self.notes.append(f"{several} datasets are in more than one dcat:Catalog; each is "
                              "placed in the first catalog by IRI")
        keyed = {d: q for d in datasets if (q := self.qn(d)) is not None}
        if skipped or len(keyed) < len(datasets):
            self.notes.append(f"{skipped + len(datasets) - len(keyed)} catalogs or datasets are "
                              "blank nodes without a dct:identifier; skipped (they have no "
                              "name that stays the same from one run to the next)")
        for c, cqn in sorted(catalogs.items(), key=lambda x: x[1]):
            yield from self.catalog(c, cqn)
            for d in sorted((d for d in keyed if home.get(d) == c), key=lambda d: keyed[d]):
                yield self.dataset(d, keyed[d], cqn)
        loose = sorted((d for d in keyed if d not in home or home[d] not in catalogs),
                       key=lambda d: keyed[d])
        if loose:
            yield self.asset("Database", self.database, self.database)
            yield self.asset("Schema", self.database, self.database,
                             partOf=self.key("database", self.database))
            for d in loose:
                yield self.dataset(d, keyed[d], self.database)

    def catalog(self, c: Node, cqn: str) -> Iterator[Record]:
        name = self.pick(c, TITLE) or _local(cqn)
        self.count(c, set())
        yield self.asset("Database", cqn, name, description=self.pick(c, DESCRIPTION))
        yield self.asset("Schema", cqn, name, partOf=self.key("database", cqn))

    def dataset(self, d: Node, dqn: str, cqn: str) -> Record:
        extra: dict[str, list[Any]] = {}
        for p in PASSED:
            extra[p] = self.values(d, p)
        self.count(d, set(PASSED))
        for dist in self.g.objects(d, DCAT + "distribution"):
            if not isinstance(dist, NamedNode | BlankNode):
                continue
            for p in FROM_DISTRIBUTION:
                extra.setdefault(p, []).extend(self.values(dist, p))
            self.count(dist, set(FROM_DISTRIBUTION))
        extra = {p: _unique(v) for p, v in extra.items() if v}
        return self.asset("Table", dqn, self.pick(d, TITLE) or _local(dqn),
                          partOf=self.key("schema", cqn),
                          description=self.pick(d, DESCRIPTION), **extra)

    def values(self, node: Node, p: str) -> list[Any]:
        """``node``'s ``p`` as JSON-LD values: IRIs as ``{"@id"}``, literals with their
        datatype or language (other languages than the configured one left out when it has
        some); blank nodes, which would need an asset of their own, are counted unmapped."""
        out: list[Any] = []
        literals = [o for o in self.g.objects(node, p) if isinstance(o, Literal)]
        languages = {o.language for o in literals}
        keep = {self.language, None} if self.language in languages else languages
        for o in self.g.objects(node, p):
            if isinstance(o, NamedNode):
                out.append({"@id": o.value})
            elif isinstance(o, BlankNode):
                self.unmapped[f"{curie(p)} (a blank node)"] += 1
            elif o.language is not None:
                if o.language in keep:
                    out.append({"@value": o.value, "@language": o.language})
            elif o.datatype.value == XSD + "string":
                out.append(o.value)
            else:
                out.append({"@value": o.value, "@type": o.datatype.value})
        return out

    def count(self, node: Node, mapped: set[str]) -> None:
        for p, objects in self.g.props.get(node, {}).items():
            if p in STRUCTURE or p in mapped:
                continue
            if p in UNMAPPABLE:
                self.unmappable[UNMAPPABLE[p]] += 1
            else:
                self.unmapped[curie(p)] += len(objects)

    def warnings(self) -> list[str]:
        out = list(self.notes)
        for what, n in sorted(self.unmappable.items()):
            out.append(f"{n} catalogs, datasets or distributions name a {what}: semcat has no "
                       "place for an outside agent (owners are the catalog's users and teams); "
                       "not ingested")
        if self.unmapped:
            top = self.unmapped.most_common()
            shown = ", ".join(f"{p} x{n}" for p, n in top[:SHOWN])
            more = f", and {len(top) - SHOWN} more" if len(top) > SHOWN else ""
            out.append(f"{sum(self.unmapped.values())} values of {len(top)} properties have no "
                       f"term in semcat and were not ingested: {shown}{more}")
        return out


def _local(iri: str) -> str:
    """The last segment of an IRI, for a name when there is no title."""
    tail = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return tail or iri


def _unique(values: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for v in values:
        seen.setdefault(repr(sorted(v.items())) if isinstance(v, dict) else repr(v), v)
    return [seen[k] for k in sorted(seen)]
