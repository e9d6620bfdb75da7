"""Named-graph layout: where each kind of statement lives.

Asset statements live in a few partition graphs, one per (workspace, access partition), so that a
caller's readable dataset stays a short list of graphs (DESIGN.md, "Named graphs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote

from pyoxigraph import NamedNode

from graph_store.errors import InputError
from graph_store.keys import canonical_key

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


# Data assets get ids from their natural key: {workspace}/{kind}/{platform}/{qualifiedName}.
DATA_KINDS = {
    "Database": "database", "Schema": "schema", "Table": "table", "View": "view",
    "Column": "column", "Dashboard": "dashboard", "Chart": "chart", "Pipeline": "pipeline",
    "PipelineRun": "run", "MLModel": "model", "Feature": "feature",
}
# Workspace names that would collide with graph names ({base}/graph/{ws}/...) or id prefixes.
RESERVED_WORKSPACES = frozenset({
    "inferred", "ontology", "shapes", "directory", "system", "user", "team", "role",
    "permission", "platform", "tag", "classification", "glossary", "attribute", "rules",
    "rule", "policy"})


@dataclass(frozen=True)
class GraphLayout:
    base: str

    @cached_property  # the layout never changes; reasoning asks per statement
    def id_base(self) -> str:
        """Every catalogued resource's IRI starts here; the rest of the IRI is its key."""
        return f"{self.base}/id/"

    def graph(self, *parts: str) -> NamedNode:
        return NamedNode(f"{self.base}/graph/" + "/".join(quote(p, safe="") for p in parts))

    @cached_property
    def ontology(self) -> NamedNode:
        return self.graph("ontology")

    @cached_property
    def custom_ontology(self) -> NamedNode:
        """The catalog's own terms (ontology edits, custom attributes): kept apart from the
        shipped ontology graph, which is replaced whenever semcat.ttl changes."""
        return self.graph("ontology", "custom")

    @cached_property
    def shapes(self) -> NamedNode:
        return self.graph("shapes")

    @cached_property
    def directory(self) -> NamedNode:
        """Workspace-independent resources: platforms, people, tags, classifications, glossary."""
        return self.graph("directory")

    def partition(self, workspace: str, partition: str) -> NamedNode:
        return self.graph(workspace, partition)

    @cached_property
    def inferred_root(self) -> NamedNode:
        """Inferred graphs sit under this IRI (itself a graph: the reasoner's status)."""
        return self.graph("inferred")

    def inferred(self, source: NamedNode | None = None) -> NamedNode:
        """The graph holding what is inferred about the subjects of asserted graph ``source``:
        its path under ``graph/inferred/``, so inferences share their subject's access
        partition; ``graph/inferred/default`` for subjects with no graph in this layout."""
        prefix = f"{self.base}/graph/"
        if source is not None and source.value.startswith(prefix):
            return NamedNode(f"{prefix}inferred/{source.value[len(prefix):]}")
        return self.graph("inferred", "default")

    def rule_inferred(self, source: NamedNode | None = None, *,
                      propagated: bool = False) -> NamedNode:
        """Where classification rules' conclusions about the subjects of asserted graph
        ``source`` go (``graph/inferred/rules/{ws}/{partition}``), or with ``propagated`` what
        lineage propagation and tag inheritance add (``graph/inferred/rules/propagated/...``).
        Kept apart from the OWL RL graphs (``inferred(source)``) so that neither maintainer
        deletes the other's triples; under the inferred root, so ``is_inferred`` covers them.
        ``source=None`` gives the root of the family (its status graph)."""
        prefix = f"{self.base}/graph/"
        root = f"{prefix}inferred/rules" + ("/propagated" if propagated else "")
        if source is None:
            return NamedNode(root)
        if source.value.startswith(prefix):
            return NamedNode(f"{root}/{source.value[len(prefix):]}")
        return NamedNode(f"{root}/default")

    def provenance(self, source: NamedNode | None = None) -> NamedNode:
        """Where who asserted the statements of asserted graph ``source`` is kept
        (``graph/inferred/provenance/{ws}/{partition}``, graph_store/provenance.py); ``None``
        gives the family's root (its position in the log)."""
        prefix = f"{self.base}/graph/"
        root = f"{prefix}inferred/provenance"
        if source is None:
            return NamedNode(root)
        if source.value.startswith(prefix):
            return NamedNode(f"{root}/{source.value[len(prefix):]}")
        return NamedNode(f"{root}/default")

    @cached_property
    def log_positions(self) -> NamedNode:
        """Where a store that several nodes share keeps the last position of their log applied
        to it (graph_store/remote_store.py): under the inferred root, so that reads of the
        asserted graphs skip it, and replaced by no reasoner."""
        return self.graph("inferred", "log-positions")

    def is_provenance(self, graph: object) -> bool:
        root = f"{self.base}/graph/inferred/provenance"
        value = graph.value if isinstance(graph, NamedNode) else ""
        return value == root or value.startswith(root + "/")

    def is_inferred(self, graph: object) -> bool:
        """True for the reasoner's graphs: projections, never written through the change log."""
        root = self.inferred_root.value
        value = graph.value if isinstance(graph, NamedNode) else ""
        return value == root or value.startswith(root + "/")

    def is_versioned(self, iri: str) -> bool:
        """Resources under the id base are assets: each change bumps their version."""
        return iri.startswith(self.id_base)

    def key(self, iri: str) -> str:
        return iri[len(self.id_base) :] if iri.startswith(self.id_base) else iri

    def iri(self, key: str) -> str:
        """The IRI of an asset id (in any spelling ``canonical_key`` accepts) or of an absolute
        IRI given as is or as SPARQL writes it (``<...>``); InputError for what is neither."""
        if key.startswith("<") and key.endswith(">"):
            key = key[1:-1]
        if _SCHEME.match(key):
            try:
                return NamedNode(key).value
            except ValueError as e:
                raise InputError(f"{key!r} is not a valid IRI: {e}") from e
        return self.id_base + canonical_key(key)
