"""A health check (the landing page is the web UI: sparql_api/routes/ui.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sparql_api.deps import catalog_of
from sparql_api.schemas import Health

router = APIRouter(tags=["Home"])


@router.get("/healthz", summary="Liveness, and how far the store has applied the change log",
            response_model=Health)
async def health(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    problems = dict(cat.problems)
    return JSONResponse({"status": "degraded" if problems else "ok",
                         "appliedSeq": cat.journal.applied_seq, "problems": problems,
                         "role": cat.leadership.role, "leader": cat.leadership.holder})
