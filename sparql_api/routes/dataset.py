"""REST on the whole catalog at once: its SHACL validation report and its RDF export, both
narrowed to what the caller may read (the CLI's `validate` and `export` beside a server)."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from sparql_api.deps import call, catalog_of
from sparql_api.negotiation import choose
from sparql_api.schemas import ShaclReport
from sparql_api.schemas_protocols import rdf

router = APIRouter(prefix="/api/v1", tags=["Catalog"])
EXPORT_TYPES = ("application/n-quads", "application/trig", "text/turtle", "application/n-triples",
                "application/ld+json", "application/rdf+xml")
REPORT_TYPES = ("application/json", "text/turtle")


@router.get("/validate", summary="SHACL-validate the catalog (or one workspace) as it is now",
            response_model=ShaclReport,
            responses={200: {"content": rdf(REPORT_TYPES[1:]), "description":
                             "The report: JSON, or an sh:ValidationReport as Turtle"}})
async def validate_catalog(
    request: Request,
    workspace: Annotated[str | None, Query(description="Only this workspace's assets")] = None,
) -> Response:
    cat = catalog_of(request)
    chosen = choose(request.headers.get("accept"), REPORT_TYPES)
    report = await call(cat.validate, workspace=workspace)
    if chosen == "text/turtle":
        return Response(cat.serialize_report(report, chosen), media_type=chosen)
    return JSONResponse(report.to_json())


@router.get("/export", summary="Dump the catalog (data, ontology, shapes) as RDF",
            response_class=Response,
            responses={200: {"content": rdf(EXPORT_TYPES),
                             "description": "Quad formats keep the graphs; triple formats merge"}})
async def export_catalog(
    request: Request,
    inferred: Annotated[bool, Query(description="Add the inferred graphs")] = False,
) -> Response:
    chosen = choose(request.headers.get("accept"), EXPORT_TYPES)
    buffer = io.BytesIO()
    await call(catalog_of(request).export, buffer, chosen, inferred=inferred)
    return Response(buffer.getvalue(), media_type=chosen, headers={"Vary": "Accept"})
