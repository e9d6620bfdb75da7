"""The bodies of the HTTP API's identity, audit, rules and SPARQL protocol operations, and the
helpers the route decorators describe bodies with (see ``sparql_api/schemas.py``)."""


from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from graph_store.formats import GRAPH_RESULT_TYPES, SOLUTION_RESULT_TYPES
from sparql_api.schemas import JSONLD, JSONLD_ANY, TEXT, AssetIn, AssetPatch, Closed, GraphNode, timestamp


# -- identity, audit and rules --------------------------------------------------------------------
class Grant(Closed):
    workspace: str
    role: str


class Principal(Closed):
    subject: str
    via: Literal["api-key", "oidc", "open", "local"]
    groups: list[str]
    grants: list[Grant]
    admin: bool
    keyId: str | None
    delegated: bool = Field(False, description="A key a workspace admin made: its grants "
                            "only, none of the subject's own roles, teams or attributes")


class ApiKey(Closed):
    id: str
    subject: str
    workspace: str | None
    role: str | None
    admin: bool
    label: str
    created: str = timestamp()
    expires: str | None = timestamp()
    revoked: str | None = timestamp()
    delegated: bool = Field(False, description="Made by a workspace admin for someone else: "
                            "carries its workspace role only, none of the subject's own roles, "
                            "teams or attributes")


class NewApiKey(ApiKey):
    token: str = Field(description="The secret: shown this once")


class ApiKeyList(Closed):
    items: list[ApiKey]


class AuditEntry(Closed):
    seq: int
    time: str = timestamp()
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


class AuditPage(Closed):
    items: list[AuditEntry]
    next: int | None = Field(description="Cursor of the next page (also in the Link header)")


class AuditCheck(Closed):
    ok: bool
    checked: int
    firstBadSeq: int | None
    reason: str
    head: str = Field(description="The last entry's hash: keep a copy to detect truncation")


class Rule(Closed):
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


class RuleList(Closed):
    items: list[Rule]


class RuleIn(Closed):
    id: str | None = Field(default=None, description="rule/<slug>; POST makes it from the name "
                           "when left out")
    type: Literal["ClassificationRule"] | None = None
    name: str = Field(min_length=1)
    description: str | None = None
    construct_: str = Field(alias="construct", description="SPARQL CONSTRUCT about ?this")
    enabled: bool = True


# -- SPARQL protocol forms ------------------------------------------------------------------------
class QueryForm(Closed):
    query: str | None = Field(default=None, description="Without it: the service description")
    default_graph_uri: list[str] | None = Field(default=None, alias="default-graph-uri")
    named_graph_uri: list[str] | None = Field(default=None, alias="named-graph-uri")
    infer: str | None = Field(default=None, description="false: asserted statements only")


class UpdateForm(Closed):
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
