"""Namespace IRIs and the semcat terms every layer names in code.

Terms are plain IRI strings so that this bottom layer needs no RDF library; `graph_store`
wraps them in pyoxigraph terms where it builds quads.
"""

from __future__ import annotations

from typing import Final

SEMCAT: Final = "https://w3id.org/semcat#"
RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
OWL: Final = "http://www.w3.org/2002/07/owl#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
DCTERMS: Final = "http://purl.org/dc/terms/"
DCAT: Final = "http://www.w3.org/ns/dcat#"
PROV: Final = "http://www.w3.org/ns/prov#"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
ORG: Final = "http://www.w3.org/ns/org#"
ODRL: Final = "http://www.w3.org/ns/odrl/2/"
SH: Final = "http://www.w3.org/ns/shacl#"
SD: Final = "http://www.w3.org/ns/sparql-service-description#"

PREFIXES: Final[dict[str, str]] = {
    "semcat": SEMCAT,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "prov": PROV,
    "skos": SKOS,
    "foaf": FOAF,
    "org": ORG,
    "odrl": ODRL,
    "sh": SH,
}

RDF_TYPE: Final = RDF + "type"

# Classes: every one is declared, labelled and commented in semcat.ttl.
CLASSES: Final[tuple[str, ...]] = (
    "Asset", "DataAsset", "Catalog", "Workspace", "DataPlatform", "Database", "Schema",
    "Table", "View", "Column", "Dashboard", "Chart", "Pipeline", "PipelineRun", "MLModel",
    "Feature", "Glossary", "GlossaryTerm", "ClassificationScheme", "Classification", "Tag",
    "User", "Team", "Role", "Permission", "CustomAttribute", "AccessPolicy",
    "ClassificationRule", "QualityAssertion",
)

OBJECT_PROPERTIES: Final[tuple[str, ...]] = (
    "workspace", "platform", "partOf", "hasPart", "hasColumn", "owner", "tag",
    "glossaryTerm", "classification", "derivedFrom", "derivesInto", "copiedFrom",
    "transformedFrom", "aggregatedFrom", "influencedBy", "upstream", "downstream",
    "consumes", "produces", "runOf", "used", "generated", "createdBy", "updatedBy", "memberOf",
    "hasRole", "grants",
    "appliesTo", "targetClassification", "targetWorkspace", "callerMemberOf",
    "callerProperty", "sharedWith", "declassifies", "references", "assertsOn",
)

DATATYPE_PROPERTIES: Final[tuple[str, ...]] = (
    "name", "description", "qualifiedName", "dataType", "position", "version", "createdAt",
    "updatedAt", "status", "startedAt", "endedAt", "transformation", "facets", "email",
    "attributeKey", "valueKind",
    "effect", "action", "callerValue", "exceptOwners",
    "searchQuery", "searchMode", "searchLimit", "score", "searchRank",
    "construct", "enabled", "propagates", "inheritable",
    "nullable", "defaultValue", "primaryKey", "rowCount", "nullFraction", "distinctCount",
    "ingestionSource", "assertionType", "lastResult", "lastEvaluatedAt", "failureCount",
)


def term(local: str) -> str:
    """The full IRI of a semcat term, e.g. ``term("Table")``."""
    return SEMCAT + local
