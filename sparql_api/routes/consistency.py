"""REST /api/v1/consistency: OWL 2 RL inconsistencies with the facts behind them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sparql_api.deps import call, catalog_of
from sparql_api.schemas import ConsistencyReport

router = APIRouter(prefix="/api/v1/consistency", tags=["Reasoning"])


@router.get("", summary="OWL 2 RL inconsistencies (disjoint classes, owl:Nothing, irreflexive, "
                        "asymmetric and disjoint properties, sameAs with differentFrom)",
            response_model=ConsistencyReport)
async def check_consistency(request: Request) -> JSONResponse:
    findings = await call(catalog_of(request).consistency)
    return JSONResponse({"consistent": not findings,
                         "findings": [f.to_json() for f in findings]})
