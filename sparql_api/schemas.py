"""The bodies of the HTTP API, described for the OpenAPI document so that generated clients get
typed models.

Documentation only: handlers read their bodies by hand (for 415s and bounded JSON depth) and
build their answers as ``Response`` objects, which FastAPI sends untouched, so nothing here
validates or reshapes a request or a response at run time. tests/test_openapi_schemas.py holds
real responses against these schemas, so a schema that drifts from its handler fails there.

Conventions: a field with the default ``None`` is a key the body may leave out (never null);
a nullable key is declared without a default. Closed shapes (``Closed``) list every key;
JSON-LD documents (``Open``) list the common terms and allow any other term of the context.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from catalog.attributes import Kind

JSONLD = "application/ld+json"
TEXT: dict[str, Any] = {"type": "string"}
JSONLD_ANY: dict[str, Any] = {"type": ["object", "array"],
                              "description": "A JSON-LD document (expanded or compacted)"}


def _absent_not_null(schema: dict[str, Any]) -> None:
    """A field defaulting to None may be missing but is never null: drop the null and the
    default from its schema."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]
            kinds = [s for s in prop.pop("anyOf", []) if s != {"type": "null"}]
            if len(kinds) == 1:
                prop.update(kinds[0])
            elif kinds:
                prop["anyOf"] = kinds


class Closed(BaseModel):
    """A body whose keys are all listed here."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_absent_not_null)


class Open(BaseModel):
    """A JSON-LD node: the listed keys plus any other term of the context, custom attribute
    or full IRI."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_absent_not_null)


class JSONLDResponse(JSONResponse):
    """Declares a route's JSON body as ``application/ld+json`` in the document; the handlers
    set that media type on the responses they build themselves."""

    media_type = JSONLD


Context = list[str | dict[str, str]]


def _context() -> Any:
    return Field(alias="@context", description="The published context's URL and the @base that "
                 "makes ids asset keys (and `items` or `hits` the @graph, where listed)")


def timestamp(*, absent: bool = False) -> Any:
    """An ISO 8601 UTC time; with ``absent`` a key the body may leave out."""
    extra: JsonDict = {"format": "date-time"}
    return Field(default=None, json_schema_extra=extra) if absent else \
        Field(json_schema_extra=extra)


# -- home and JSON-LD -----------------------------------------------------------------------------
class Health(Closed):
    status: Literal["ok", "degraded"]
    appliedSeq: int = Field(description="The last change-log seq the store has applied")
    problems: dict[str, str] = Field(description="Component → what is wrong with it")
    role: Literal["leader", "follower"] = Field(
        description="Whether this node runs the work done once per cluster (always the leader "
        "with the embedded change log; elected among the nodes of a shared one)")
    leader: str | None = Field(description="The elected node's name, as this node last saw "
                               "it (null with the embedded change log)")


class ContextDocument(Closed):
    context: dict[str, Any] = Field(alias="@context", description="Terms, class names and "
                                    "prefixes of every REST body")


# -- assets ---------------------------------------------------------------------------------------
class AssetNode(Open):
    """An asset as a compact JSON-LD node; references are asset ids (relative to @base)."""

    id: str
    type: str | list[str] | None = Field(default=None, description="Class name(s), e.g. Table")
    name: str | None = None
    qualifiedName: str | None = None
    description: str | None = None
    workspace: str | None = None
    platform: str | None = None
    partOf: str | None = None
    owners: list[str] | None = None
    tags: list[str] | None = None
    terms: list[str] | None = None
    classifications: list[str] | None = None
    derivedFrom: list[str] | None = None
    version: int | None = None
    createdAt: str | None = timestamp(absent=True)
    createdBy: str | None = None
    updatedAt: str | None = timestamp(absent=True)
    updatedBy: str | None = None


class AssetDocument(AssetNode):
    context: Context = _context()
    inferred: dict[str, Any] | None = Field(default=None, description="With ?infer=true: the "
                                            "inferred statements, keyed as in the document")


class AssetPage(Closed):
    context: Context = _context()
    items: list[AssetNode]
    next: str | None = Field(description="Cursor of the next page (also in the Link header)")


class ShaclResult(Closed):
    focusNode: str
    path: str = Field(description="Property IRI; ^IRI for an inverse path")
    constraint: str = Field(description="SHACL constraint component, e.g. "
                            "MinCountConstraintComponent")
    severity: str = Field(description="Violation, Warning or Info")
    message: str
    value: str | None = None


class AssetWrite(Closed):
    id: str
    version: int
    status: Literal["created", "updated", "unchanged", "deleted"]
    warnings: list[ShaclResult] = Field(description="SHACL warnings about this asset")


class AssetWrites(Closed):
    items: list[AssetWrite]


class WarningKind(Closed):
    severity: str
    constraint: str
    path: str
    count: int = Field(description="Warnings of this kind in the whole write")
    examples: list[ShaclResult] = Field(description="The first few of them")


class WarningSummary(Closed):
    total: int = Field(description="SHACL warnings about the written assets")
    kinds: list[WarningKind] = Field(description="Counts per kind, most frequent first")


class BulkItem(Closed):
    id: str
    version: int
    status: Literal["created", "updated", "unchanged", "deleted"]
    warnings: list[ShaclResult] | None = Field(
        default=None, description="SHACL warnings about this asset; only with ?warnings=all")


class BulkWrite(Closed):
    items: list[BulkItem]
    created: int
    updated: int
    unchanged: int
    warnings: WarningSummary = Field(description="The warnings summarised (every one is on "
                                     "its item with ?warnings=all)")


class Version(Closed):
    version: int
    seq: int = Field(description="The change-log changeset")
    time: str = timestamp()
    actor: str
    message: str


class AssetVersions(Closed):
    id: str
    versions: list[Version]


class AssetDiff(Closed):
    id: str
    from_: int = Field(alias="from")
    to: int
    removed: dict[str, Any] = Field(description="Properties only the old version has")
    added: dict[str, Any] = Field(description="Properties only the new version has")


class Statement(Closed):
    subject: str
    predicate: str
    object: str


class Explanation(Closed):
    statement: Statement
    asserted: bool
    graph: str | None
    rule: str = Field(description="The OWL 2 RL rule or axiom, or `asserted`")
    premises: list[Explanation]


class Explanations(Closed):
    id: str
    explanations: list[Explanation]


class IdRef(Closed):
    id_: str = Field(alias="@id")


class ValueObject(Closed):
    value: str | int | float | bool = Field(alias="@value")
    type_: str | None = Field(default=None, alias="@type")
    language: str | None = Field(default=None, alias="@language")


# What a property takes on input: plain JSON for the context's terms, JSON-LD value objects
# or references for full IRIs; a list for several values. Typed rather than "any JSON": besides
# typing clients, it keeps schemathesis (tests/test_hostile_requests.py) off its free-form JSON
# strategy, whose first use in two worker threads at once trips a CPython 3.11 ast.parse race.
Value = str | int | float | bool | IdRef | ValueObject


class AssetIn(Open):
    """An asset to write: any term of the context (GET /api/v1/context.jsonld), a custom
    attribute or a full IRI; system keys (version, createdAt, ...) are ignored."""

    __pydantic_extra__: dict[str, Value | list[Value]] = Field(init=False)
    context: str | Context | None = Field(default=None, alias="@context",
                                          description="The published context, or left out")
    id: str | None = Field(default=None, description="Required unless type, workspace, platform "
                           "and qualifiedName give a natural key")
    type: str | list[str] = Field(description="Class name(s), e.g. Table")
    name: str = Field(min_length=1)
    qualifiedName: str | None = None
    description: str | None = None
    workspace: str | None = None
    platform: str | None = None
    partOf: str | None = None
    owners: str | list[str] | None = None
    tags: str | list[str] | None = None
    terms: str | list[str] | None = None
    classifications: str | list[str] | None = None
    derivedFrom: str | list[str] | None = None


class AssetPatch(BaseModel):
    """A JSON Merge Patch (RFC 7396): the keys to change, each as in a full asset; null
    removes one."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Value | list[Value] | None] = Field(init=False)


class GraphNode(BaseModel):
    """A JSON-LD node object (the Graph Store takes any JSON-LD; this is its flat form)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Value | list[Value]] = Field(init=False)


# -- custom attributes ----------------------------------------------------------------------------
class AttributeDefinition(Closed):
    id: str
    name: str
    label: str
    description: str
    datatype: Kind
    appliesTo: list[str]
    minCount: int
    maxCount: int | None
    severity: str = Field(description="Violation or Warning")
    retired: bool
    values: list[str] | None = None
    referenceClass: str | None = None
    pattern: str | None = None
    minInclusive: str | None = None
    maxInclusive: str | None = None


class AttributeList(Closed):
    items: list[AttributeDefinition]


class AffectedAsset(Closed):
    id: str
    problems: list[ShaclResult]


class AttributeImpact(Closed):
    attribute: str
    affectedAssets: int
    affected: list[AffectedAsset]


class AttributeDryRun(AttributeImpact):
    dryRun: Literal[True]


class AttributeDefined(AttributeDefinition):
    migrated: AttributeImpact = Field(description="The assets the definition invalidated and "
                                      "what the migration did about them")


class AttributeVersions(Closed):
    name: str
    versions: list[Version]


# -- reasoning and validation ---------------------------------------------------------------------
class Fact(Closed):
    subject: str
    predicate: str
    object: str
    graph: str | None
    asserted: bool


class Finding(Closed):
    rule: str
    message: str
    focusNode: str
    facts: list[Fact]
    derivations: list[Explanation]


class ConsistencyReport(Closed):
    consistent: bool
    findings: list[Finding]


class ShaclReport(Closed):
    conforms: bool
    focusNodes: int
    results: list[ShaclResult]


# -- ontology -------------------------------------------------------------------------------------
class OntologyTerm(Closed):
    iri: str
    kind: Literal["class", "object", "datatype", "annotation"]
    label: str
    comment: str
    custom: bool
    deprecated: bool
    parents: list[str]
    children: list[str]
    domain: list[str]
    range: list[str]
    disjointWith: list[str]
    replacedBy: str | None


class OntologySummary(Closed):
    iri: str
    version: str
    revision: int
    namespace: str
    imports: str
    classes: list[OntologyTerm]
    properties: list[OntologyTerm]


class OntologyEdit(Closed):
    term: str
    status: Literal["created", "deprecated"]
    version: str
    revision: int
    seq: int


class OntologyChange(Closed):
    seq: int
    time: str = timestamp()
    actor: str
    message: str
    version: str | None
    added: int
    removed: int


class OntologyHistory(Closed):
    version: str
    revision: int
    changes: list[OntologyChange]


class OntologyDiff(Closed):
    from_: int = Field(alias="from")
    to: int
    added: list[str] = Field(description="N-Triples lines")
    removed: list[str] = Field(description="N-Triples lines")


# -- search ---------------------------------------------------------------------------------------
class SearchHit(Closed):
    id: str
    type: str | list[str]
    name: str
    qualifiedName: str | None
    description: str | None
    platform: str | None
    workspace: str | None
    score: float
    why: dict[str, Any] = Field(description="Why it matched: keyword, semantic, fused, "
                                "filters, highlights, inferred")


class FacetCount(Closed):
    value: str
    count: int
    label: str


class SearchInterpretation(Open):
    """What the engine understood (words, expansions, relaxation, dates, nl)."""

    q: str
    filters: dict[str, list[str]]


class IndexFreshness(Closed):
    seq: int = Field(description="The store's applied change-log seq")
    text: int
    vectors: int | None
    pending: int
    embedded: int


class SearchResults(Closed):
    context: Context = _context()
    mode: Literal["keyword", "semantic", "hybrid"]
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]]
    next: str | None
    interpretation: SearchInterpretation
    freshness: IndexFreshness
    tookMs: float


class SimilarAssets(Closed):
    context: Context = _context()
    id: str
    hits: list[SearchHit]


class Suggestion(Closed):
    text: str
    id: str
    type: str
    qualifiedName: str | None
    match: str
    score: float
    filter: dict[str, list[str]] | None = Field(default=None, description="The facet filter a "
                                                "tag, term, owner, ... stands for")
    more: int | None = Field(default=None, description="Assets of the same name and type "
                             "folded into this one")


class Suggestions(Closed):
    q: str
    suggestions: list[Suggestion]
    tookMs: float
