"""The landing page and a health check."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from sparql_api.deps import call, catalog_of
from sparql_api.schemas import Health

router = APIRouter(tags=["Home"])

_EXAMPLE = """PREFIX semcat: <https://w3id.org/semcat#>
SELECT ?table ?name (COUNT(?column) AS ?columns) WHERE {
  ?table a semcat:Table ; semcat:name ?name .
  ?column semcat:partOf ?table .
} GROUP BY ?table ?name ORDER BY DESC(?columns) LIMIT 10"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    cat = catalog_of(request)
    page = await call(cat.assets.page, type="Table", limit=10)
    rows = "".join(
        f'<li><a href="/api/v1/assets/{escape(a["id"])}">{escape(a.get("name", a["id"]))}</a>'
        f' — {escape(str(a.get("description", ""))[:120])}</li>' for a in page.items)
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>semcat</title><style>body{{font-family:system-ui;max-width:60rem;margin:2rem auto}}
textarea{{width:100%;height:9rem;font-family:monospace}}</style></head><body>
<h1>semcat</h1><p>A graph-native knowledge catalog. Everything here is RDF: browse it over
REST (JSON-LD), query it with SPARQL 1.1, or read and write whole graphs.</p>
<ul><li><a href="/docs">REST API and OpenAPI docs</a></li>
<li><a href="/api/v1/assets?type=Table">Tables</a> ·
<a href="/api/v1/assets?type=Dashboard">Dashboards</a> ·
<a href="/api/v1/assets?type=Pipeline">Pipelines</a> ·
<a href="/api/v1/assets?type=MLModel">ML models</a> ·
<a href="/api/v1/assets?type=GlossaryTerm">Glossary</a></li>
<li><a href="/ontology">Ontology</a> (classes and properties, Turtle or JSON-LD by Accept)</li>
<li><a href="/sparql">SPARQL service description</a> · <a href="/store?default">Graph Store</a></li>
</ul><h2>Ask the graph</h2><form action="/sparql" method="get">
<textarea name="query">{escape(_EXAMPLE)}</textarea>
<p><button>Run query</button></p></form>
<h2>Some tables</h2><ul>{rows}</ul></body></html>""")


@router.get("/healthz", summary="Liveness, and how far the store has applied the change log",
            response_model=Health)
async def health(request: Request) -> JSONResponse:
    cat = catalog_of(request)
    problems = dict(cat.problems)
    return JSONResponse({"status": "degraded" if problems else "ok",
                         "appliedSeq": cat.journal.applied_seq, "problems": problems})
