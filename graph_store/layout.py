"""Named-graph layout: where each kind of statement lives.

Asset statements live in a few partition graphs, one per (workspace, access partition), so that a
caller's readable dataset stays a short list of graphs (DESIGN.md, "Named graphs").
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from pyoxigraph import NamedNode


@dataclass(frozen=True)
class GraphLayout:
    base: str

    @property
    def id_base(self) -> str:
        """Every catalogued resource's IRI starts here; the rest of the IRI is its key."""
        return f"{self.base}/id/"

    def graph(self, *parts: str) -> NamedNode:
        return NamedNode(f"{self.base}/graph/" + "/".join(quote(p, safe="") for p in parts))

    @property
    def ontology(self) -> NamedNode:
        return self.graph("ontology")

    @property
    def custom_ontology(self) -> NamedNode:
        """The catalog's own terms (ontology edits, custom attributes): kept apart from the
        shipped ontology graph, which is replaced whenever semcat.ttl changes."""
        return self.graph("ontology", "custom")

    @property
    def shapes(self) -> NamedNode:
        return self.graph("shapes")

    @property
    def directory(self) -> NamedNode:
        """Workspace-independent resources: platforms, people, tags, classifications, glossary."""
        return self.graph("directory")

    def partition(self, workspace: str, partition: str) -> NamedNode:
        return self.graph(workspace, partition)

    def is_versioned(self, iri: str) -> bool:
        """Resources under the id base are assets: each change bumps their version."""
        return iri.startswith(self.id_base)

    def key(self, iri: str) -> str:
        return iri[len(self.id_base) :] if iri.startswith(self.id_base) else iri

    def iri(self, key: str) -> str:
        return key if "://" in key or key.startswith("urn:") else self.id_base + key
