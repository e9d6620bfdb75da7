"""The bodies of the HTTP API, described for the OpenAPI document so that generated clients get
typed models.

Documentation only: handlers read their bodies by hand (for 415s and bounded JSON depth) and
build their answers as ``Response`` objects, which FastAPI sends untouched, so nothing here
validates or reshapes a request or a response at run time. tests/test_openapi_schemas.py holds
real responses against these schemas, so a schema that drifts from its handler fails there.

Conventions: a field with the default ``None`` is a key the body may leave out (never null);
a nullable key is declared without a default. Closed shapes (``_Closed``) list every key;
JSON-LD documents (``_Open``) list the common terms and allow any other term of the context.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from catalog.attributes import Kind
from graph_store.formats import GRAPH_RESULT_TYPES, SOLUTION_RESULT_TYPES

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


class _Closed(BaseModel):
    """A body whose keys are all listed here."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_absent_not_null)


class _Open(BaseModel):
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


def _time(*, absent: bool = False) -> Any:
    """An ISO 8601 UTC time; with ``absent`` a key the body may leave out."""
    extra: JsonDict = {"format": "date-time"}
    return Field(default=None, json_schema_extra=extra) if absent else \
        Field(json_schema_extra=extra)


# -- home and JSON-LD -----------------------------------------------------------------------------
class Health(_Closed):
    status: Literal["ok", "degraded"]
    appliedSeq: int = Field(description="The last change-log seq the store has applied")
    problems: dict[str, str] = Field(description="Component → what is wrong with it")


class ContextDocument(_Closed):
    context: dict[str, Any] = Field(alias="@context", description="Terms, class names and "
                                    "prefixes of every REST body")


# -- assets ---------------------------------------------------------------------------------------
class AssetNode(_Open):
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
    createdAt: str | None = _time(absent=True)
    createdBy: str | None = None
    updatedAt: str | None = _time(absent=True)
    updatedBy: str | None = None


class AssetDocument(AssetNode):
    context: Context = _context()
    inferred: dict[str, Any] | None = Field(default=None, description="With ?infer=true: the "
                                            "inferred statements, keyed as in the document")


class AssetPage(_Closed):
    context: Context = _context()
    items: list[AssetNode]
    next: str | None = Field(description="Cursor of the next page (also in the Link header)")


class ShaclResult(_Closed):
    focusNode: str
    path: str = Field(description="Property IRI; ^IRI for an inverse path")
    constraint: str = Field(description="SHACL constraint component, e.g. "
                            "MinCountConstraintComponent")
    severity: str = Field(description="Violation, Warning or Info")
    message: str
    value: str | None = None


class AssetWrite(_Closed):
    id: str
    version: int
    status: Literal["created", "updated", "unchanged", "deleted"]
    warnings: list[ShaclResult] = Field(description="SHACL warnings about this asset")


class AssetWrites(_Closed):
    items: list[AssetWrite]


class BulkWrite(AssetWrites):
    created: int
    updated: int
    unchanged: int


class Version(_Closed):
    version: int
    seq: int = Field(description="The change-log changeset")
    time: str = _time()
    actor: str
    message: str


class AssetVersions(_Closed):
    id: str
    versions: list[Version]


class AssetDiff(_Closed):
    id: str
    from_: int = Field(alias="from")
    to: int
    removed: dict[str, Any] = Field(description="Properties only the old version has")
    added: dict[str, Any] = Field(description="Properties only the new version has")


class Statement(_Closed):
    subject: str
    predicate: str
    object: str


class Explanation(_Closed):
    statement: Statement
    asserted: bool
    graph: str | None
    rule: str = Field(description="The OWL 2 RL rule or axiom, or `asserted`")
    premises: list[Explanation]


class Explanations(_Closed):
    id: str
    explanations: list[Explanation]


class IdRef(_Closed):
    id_: str = Field(alias="@id")


class ValueObject(_Closed):
    value: str | int | float | bool = Field(alias="@value")
    type_: str | None = Field(default=None, alias="@type")
    language: str | None = Field(default=None, alias="@language")


# What a property takes on input: plain JSON for the context's terms, JSON-LD value objects
# or references for full IRIs; a list for several values. Typed rather than "any JSON": besides
# typing clients, it keeps schemathesis (tests/test_hostile_requests.py) off its free-form JSON
# strategy, whose first use in two worker threads at once trips a CPython 3.11 ast.parse race.
Value = str | int | float | bool | IdRef | ValueObject


class AssetIn(_Open):
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
class AttributeDefinition(_Closed):
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


class AttributeList(_Closed):
    items: list[AttributeDefinition]


class AffectedAsset(_Closed):
    id: str
    problems: list[ShaclResult]


class AttributeImpact(_Closed):
    attribute: str
    affectedAssets: int
    affected: list[AffectedAsset]


class AttributeDryRun(AttributeImpact):
    dryRun: Literal[True]


class AttributeDefined(AttributeDefinition):
    migrated: AttributeImpact = Field(description="The assets the definition invalidated and "
                                      "what the migration did about them")


class AttributeVersions(_Closed):
    name: str
    versions: list[Version]


# -- reasoning and validation ---------------------------------------------------------------------
class Fact(_Closed):
    subject: str
    predicate: str
    object: str
    graph: str | None
    asserted: bool


class Finding(_Closed):
    rule: str
    message: str
    focusNode: str
    facts: list[Fact]
    derivations: list[Explanation]


class ConsistencyReport(_Closed):
    consistent: bool
    findings: list[Finding]


class ShaclReport(_Closed):
    conforms: bool
    focusNodes: int
    results: list[ShaclResult]


# -- ontology -------------------------------------------------------------------------------------
class OntologyTerm(_Closed):
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


class OntologySummary(_Closed):
    iri: str
    version: str
    revision: int
    namespace: str
    imports: str
    classes: list[OntologyTerm]
    properties: list[OntologyTerm]


class OntologyEdit(_Closed):
    term: str
    status: Literal["created", "deprecated"]
    version: str
    revision: int
    seq: int


class OntologyChange(_Closed):
    seq: int
    time: str = _time()
    actor: str
    message: str
    version: str | None
    added: int
    removed: int


class OntologyHistory(_Closed):
    version: str
    revision: int
    changes: list[OntologyChange]


class OntologyDiff(_Closed):
    from_: int = Field(alias="from")
    to: int
    added: list[str] = Field(description="N-Triples lines")
    removed: list[str] = Field(description="N-Triples lines")


# -- search ---------------------------------------------------------------------------------------
class SearchHit(_Closed):
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


class FacetCount(_Closed):
    value: str
    count: int
    label: str


class SearchInterpretation(_Open):
    """What the engine understood (words, expansions, relaxation, dates, nl)."""

    q: str
    filters: dict[str, list[str]]


class IndexFreshness(_Closed):
    seq: int = Field(description="The store's applied change-log seq")
    text: int
    vectors: int | None
    pending: int
    embedded: int


class SearchResults(_Closed):
    context: Context = _context()
    mode: Literal["keyword", "semantic", "hybrid"]
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetCount]]
    next: str | None
    interpretation: SearchInterpretation
    freshness: IndexFreshness
    tookMs: float


class SimilarAssets(_Closed):
    context: Context = _context()
    id: str
    hits: list[SearchHit]


class Suggestion(_Closed):
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


class Suggestions(_Closed):
    q: str
    suggestions: list[Suggestion]
    tookMs: float


# -- identity, audit and rules --------------------------------------------------------------------
class Grant(_Closed):
    workspace: str
    role: str


class Principal(_Closed):
    subject: str
    via: Literal["api-key", "oidc", "open", "local"]
    groups: list[str]
    grants: list[Grant]
    admin: bool
    keyId: str | None


class ApiKey(_Closed):
    id: str
    subject: str
    workspace: str | None
    role: str | None
    admin: bool
    label: str
    created: str = _time()
    expires: str | None = _time()
    revoked: str | None = _time()


class NewApiKey(ApiKey):
    token: str = Field(description="The secret: shown this once")


class ApiKeyList(_Closed):
    items: list[ApiKey]


class AuditEntry(_Closed):
    seq: int
    time: str = _time()
    actor: str
    via: str
    action: str
    targets: list[str]
    outcome: str = Field(description="allowed, denied or error")
    ip: str
    userAgent: str
    detail: dict[str, Any]
    changeset: int | None
    prevHash: str
    hash: str


class AuditPage(_Closed):
    items: list[AuditEntry]
    next: int | None = Field(description="Cursor of the next page (also in the Link header)")


class AuditCheck(_Closed):
    ok: bool
    checked: int
    firstBadSeq: int | None
    reason: str
    head: str = Field(description="The last entry's hash: keep a copy to detect truncation")


class Rule(_Closed):
    id: str
    type: Literal["ClassificationRule"]
    name: str | None = None
    description: str | None = None
    construct_: str | None = Field(default=None, alias="construct")
    enabled: bool
    version: int | None = None
    error: str | None = Field(default=None, description="Why a rule written around this API "
                              "is not applied")
    conclusions: int | None = Field(default=None, description="GET of one rule: statements "
                                    "it concludes now")


class RuleList(_Closed):
    items: list[Rule]


class RuleIn(_Closed):
    id: str | None = Field(default=None, description="rule/<slug>; POST makes it from the name "
                           "when left out")
    type: Literal["ClassificationRule"] | None = None
    name: str = Field(min_length=1)
    description: str | None = None
    construct_: str = Field(alias="construct", description="SPARQL CONSTRUCT about ?this")
    enabled: bool = True


# -- SPARQL protocol forms ------------------------------------------------------------------------
class QueryForm(_Closed):
    query: str | None = Field(default=None, description="Without it: the service description")
    default_graph_uri: list[str] | None = Field(default=None, alias="default-graph-uri")
    named_graph_uri: list[str] | None = Field(default=None, alias="named-graph-uri")
    infer: str | None = Field(default=None, description="false: asserted statements only")


class UpdateForm(_Closed):
    update: str
    using_graph_uri: list[str] | None = Field(default=None, alias="using-graph-uri")
    using_named_graph_uri: list[str] | None = Field(default=None, alias="using-named-graph-uri")


class QueryOrUpdateForm(QueryForm):
    update: str | None = None
    using_graph_uri: list[str] | None = Field(default=None, alias="using-graph-uri")
    using_named_graph_uri: list[str] | None = Field(default=None, alias="using-named-graph-uri")


# -- helpers for decorators -----------------------------------------------------------------------
def inline(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON Schema with its (non-recursive) $defs spelled out in place, for a body
    the handler reads itself: openapi_extra cannot add to the document's components."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def spelled(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return spelled(defs[ref.removeprefix("#/$defs/")])
            return {k: spelled(v) for k, v in node.items()}
        return [spelled(v) for v in node] if isinstance(node, list) else node

    spelled_out: dict[str, Any] = spelled(schema)
    return spelled_out


def request_body(content: dict[str, dict[str, Any]], description: str) -> dict[str, Any]:
    """``openapi_extra`` for a body the handler reads itself: media type → schema."""
    return {"requestBody": {"required": True, "description": description,
                            "content": {t: {"schema": s} for t, s in content.items()}}}


def rdf(types: tuple[str, ...] | list[str]) -> dict[str, dict[str, Any]]:
    """Content entries for RDF (and HTML) bodies: text, JSON-LD as JSON."""
    return {t: {"schema": JSONLD_ANY if t == JSONLD else TEXT} for t in types}


RDF_BODY_TYPES = ("text/turtle", "application/n-triples", "application/ld+json",
                  "application/rdf+xml", "text/n3", "application/n-quads", "application/trig")
_TERM: dict[str, Any] = {
    "type": "object", "required": ["type", "value"],
    "properties": {"type": {"enum": ["uri", "literal", "bnode", "triple"]},
                   "value": {"type": ["string", "object"]},
                   "xml:lang": {"type": "string"}, "datatype": {"type": "string"}}}
SPARQL_JSON: dict[str, Any] = {
    "type": "object", "required": ["head"],
    "description": "SPARQL 1.1 Query Results JSON: bindings for SELECT, boolean for ASK",
    "properties": {
        "head": {"type": "object", "properties": {"vars": {"type": "array",
                                                           "items": {"type": "string"}},
                                                  "link": {"type": "array",
                                                           "items": {"type": "string"}}}},
        "results": {"type": "object", "required": ["bindings"],
                    "properties": {"bindings": {"type": "array", "items": {
                        "type": "object", "additionalProperties": _TERM}}}},
        "boolean": {"type": "boolean"}}}


# -- request bodies the handlers read themselves (openapi_extra) ----------------------------------
_ASSET = inline(AssetIn)
ASSET_BODY = request_body({JSONLD: _ASSET, "application/json": _ASSET}, "One asset")
_PATCH = inline(AssetPatch)
ASSET_PATCH_BODY = request_body({"application/merge-patch+json": _PATCH,
                                 "application/json": _PATCH}, "The keys to change")
_ASSETS = {"anyOf": [{"type": "array", "items": _ASSET},
                     {"type": "object", "required": ["@graph"],
                      "properties": {"@graph": {"type": "array", "items": _ASSET}}}]}
BULK_BODY = request_body(
    {"application/json": _ASSETS, JSONLD: _ASSETS,
     "application/x-ndjson": {**TEXT, "description": "One asset per line"}},
    "Assets: a JSON array (or a JSON-LD @graph), or NDJSON")
RULE_BODY = request_body({"application/json": inline(RuleIn)}, "A classification rule")
_NODE = inline(GraphNode)
GRAPH_BODY = request_body(
    {**{t: TEXT for t in RDF_BODY_TYPES}, JSONLD: {"anyOf": [_NODE, {"type": "array",
                                                                     "items": _NODE}]}},
    "Triples in any of these RDF syntaxes (quad formats only when they name no graph)")
_SPARQL_QUERY = {**TEXT, "description": "A SPARQL 1.1 query"}
_SPARQL_UPDATE = {**TEXT, "description": "A SPARQL 1.1 update"}
_FORM = "application/x-www-form-urlencoded"
SPARQL_BODY = request_body({_FORM: inline(QueryOrUpdateForm),
                            "application/sparql-query": _SPARQL_QUERY,
                            "application/sparql-update": _SPARQL_UPDATE},
                           "A query or an update, as a form or directly")
QUERY_BODY = request_body({_FORM: inline(QueryForm), "application/sparql-query": _SPARQL_QUERY},
                          "A query, as a form or directly")
UPDATE_BODY = request_body({_FORM: inline(UpdateForm),
                            "application/sparql-update": _SPARQL_UPDATE},
                           "An update, as a form or directly")


# -- what the SPARQL endpoints answer -------------------------------------------------------------
SPARQL_ANSWER: dict[int | str, dict[str, Any]] = {200: {
    "description": "Solutions (SELECT, ASK), a graph (CONSTRUCT, DESCRIBE) or, without a query, "
                   "the service description; HTML only when asked for by name",
    "content": {**{t: {"schema": SPARQL_JSON if t.endswith("json") else TEXT}
                   for t in SOLUTION_RESULT_TYPES},
                **rdf((*GRAPH_RESULT_TYPES, "text/html"))}}}
