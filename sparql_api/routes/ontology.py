"""REST /api/v1/ontology (edits, history, diffs) and the human-readable /ontology document.

Edits are checked by a DL reasoner and against the data's shapes before they are committed;
a refusal is a 422 problem whose ``errors`` carry the reasoner's explanation.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from graph_store.errors import InputError
from sparql_api.deps import MAX_SEQ, actor_of, call, catalog_of
from sparql_api.negotiation import choose
from sparql_api.ontology_page import render
from sparql_api.schemas import (
    AssetWrite,
    AssetWrites,
    OntologyDiff,
    OntologyEdit,
    OntologyHistory,
    OntologySummary,
)
from sparql_api.schemas_protocols import rdf

router = APIRouter(tags=["Ontology"])
HTML = "text/html"
OFFERED = (HTML, "text/turtle", "application/ld+json", "application/n-triples",
           "application/rdf+xml", "application/n-quads", "application/trig")
FORMATS = {"html": HTML, "ttl": "text/turtle", "turtle": "text/turtle",
           "jsonld": "application/ld+json", "nt": "application/n-triples",
           "rdf": "application/rdf+xml"}
TermRef = Field(description="A term: a bare name (Table), a CURIE (semcat:Table, local:X) or an IRI")


class ClassIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9_]{0,63}$",
                      description="UpperCamelCase local name: the class is {base}/ontology#name")
    label: str = Field(min_length=1)
    comment: str = ""
    parent: str = TermRef
    disjointWith: list[str] = Field(default_factory=list, description="Existing classes")


class PropertyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][A-Za-z0-9_]{0,63}$",
                      description="lowerCamelCase local name: {base}/ontology#name")
    label: str = Field(min_length=1)
    comment: str = ""
    kind: Literal["object", "datatype"]
    domain: str | None = Field(default=None, description="An existing class")
    range: str | None = Field(default=None, description="A class, or a datatype (xsd:string)")
    parent: str | None = Field(default=None, description="An existing property of the same kind")


class DeprecationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = Field(description="A class or property (Table, local:X, IRI), or the id of a "
                                  "glossary term, classification or scheme")
    replacedBy: str | None = None


class GlossaryTermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    glossary: str = "glossary/business"
    slug: str | None = Field(default=None, description="Defaults to the name, lower-cased")


class ConceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str
    name: str = Field(min_length=1)
    description: str = ""


class SchemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    values: list[ConceptIn] = Field(default_factory=list)


@router.get("/api/v1/ontology", summary="Classes and properties, with labels, deprecations and "
                                        "the version", response_model=OntologySummary)
async def ontology_summary(request: Request) -> JSONResponse:
    return JSONResponse((await call(catalog_of(request).ontology.summary)).to_json())


@router.post("/api/v1/ontology/classes", status_code=201,
             summary="Add a subclass of an existing class (DL- and SHACL-checked)",
             response_model=OntologyEdit)
async def add_class(request: Request, body: ClassIn) -> JSONResponse:
    edit = await call(catalog_of(request).ontology.add_class, body.name, label=body.label,
                      comment=body.comment, parent=body.parent, disjoint_with=body.disjointWith,
                      actor=actor_of(request))
    return JSONResponse(asdict(edit), status_code=201, headers={"Location": f"/ontology#{body.name}"})


@router.post("/api/v1/ontology/properties", status_code=201,
             summary="Add an object or datatype property (DL- and SHACL-checked)",
             response_model=OntologyEdit)
async def add_property(request: Request, body: PropertyIn) -> JSONResponse:
    edit = await call(catalog_of(request).ontology.add_property, body.name, label=body.label,
                      comment=body.comment, kind=body.kind, domain=body.domain, range=body.range,
                      parent=body.parent, actor=actor_of(request))
    return JSONResponse(asdict(edit), status_code=201, headers={"Location": f"/ontology#{body.name}"})


@router.post("/api/v1/ontology/deprecations",
             summary="Deprecate a class, property, glossary term or classification (never deleted)",
             response_model=OntologyEdit | AssetWrite,
             responses={200: {"description": "The ontology edit (a class or property), or the "
                                             "asset write (a term or classification)"}})
async def deprecate_term(request: Request, body: DeprecationIn) -> JSONResponse:
    editor = catalog_of(request).ontology
    if editor.is_asset_reference(body.term):
        result = await call(editor.deprecate_asset, body.term, actor=actor_of(request),
                            replaced_by=body.replacedBy)
        return JSONResponse(asdict(result))
    edit = await call(editor.deprecate, body.term, actor=actor_of(request),
                      replaced_by=body.replacedBy)
    return JSONResponse(asdict(edit))


@router.post("/api/v1/ontology/glossary-terms", status_code=201, summary="Add a glossary term",
             response_model=AssetWrite)
async def add_glossary_term(request: Request, body: GlossaryTermIn) -> JSONResponse:
    result = await call(catalog_of(request).ontology.add_glossary_term, body.name,
                        definition=body.definition, glossary=body.glossary, slug=body.slug,
                        actor=actor_of(request))
    return JSONResponse(asdict(result), status_code=201,
                        headers={"Location": f"/api/v1/assets/{quote(result.id, safe='/')}"})


@router.post("/api/v1/ontology/classification-schemes", status_code=201,
             summary="Add a classification scheme with its values", response_model=AssetWrites)
async def add_scheme(request: Request, body: SchemeIn) -> JSONResponse:
    results = await call(catalog_of(request).ontology.add_classification_scheme, body.slug,
                         name=body.name, description=body.description, actor=actor_of(request),
                         values=[(v.slug, v.name, v.description) for v in body.values])
    return JSONResponse({"items": [asdict(r) for r in results]}, status_code=201,
                        headers={"Location": f"/api/v1/assets/{quote(results[0].id, safe='/')}"})


@router.get("/api/v1/ontology/history", summary="The ontology's changesets, oldest first",
            response_model=OntologyHistory)
async def ontology_history(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    version, revision = await call(cat.ontology.version)
    return JSONResponse({"version": version, "revision": revision,
                         "changes": await call(cat.ontology.history)})


@router.get("/api/v1/ontology/diff",
            summary="Triples added and removed between two changesets (default: the last edit)",
            response_model=OntologyDiff)
async def ontology_diff(
    request: Request,
    from_: Annotated[int | None, Query(alias="from", ge=0, le=MAX_SEQ, description="Changeset seq")] = None,
    to: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="Changeset seq")] = None,
) -> JSONResponse:
    return JSONResponse(await call(catalog_of(request).ontology.diff, from_, to))


@router.get("/ontology", summary="The ontology, documented: HTML for browsers, RDF by content "
                                 "negotiation (or ?format=ttl|jsonld|nt|rdf)",
            response_class=Response, responses={200: {"content": rdf(OFFERED)}})
async def ontology_document(
    request: Request,
    format: Annotated[str | None, Query(description="Overrides Accept: " + ", ".join(FORMATS))]
    = None,
) -> Response:
    cat = catalog_of(request)
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    chosen = FORMATS[format] if format else choose(request.headers.get("accept"), OFFERED)
    headers = {"Vary": "Accept"}
    if chosen == HTML:
        page = render((await call(cat.ontology.summary)).to_json())
        return HTMLResponse(page, headers=headers)
    return Response(await call(cat.ontology.serialize, chosen), media_type=chosen,
                    headers=headers)
