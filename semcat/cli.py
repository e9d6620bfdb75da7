"""The ``semcat`` command. Thin commands: parse, call one Catalog method, render."""

from __future__ import annotations

import faulthandler
import importlib.metadata
import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from catalog import Settings
from catalog.data_dir import wipe
from graph_store.errors import (
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    SemcatError,
    Unauthenticated,
    ValidationFailed,
)
from semcat.admin_commands import audit_app, backup, keys_app, restore, rules_app, snapshot
from semcat.backends import connect
from semcat.console import (
    DEFAULT_DATA,
    DataDir,
    Listing,
    err,
    open_catalog,
    out,
    print_results,
    write_output,
)
from semcat.graph_projection_command import graph_app
from semcat.ingest_command import ingest
from semcat.jobs_command import jobs_app
from semcat.lineage_command import lineage
from semcat.mcp_command import mcp
from sparql_api.search_body import SearchBody

app = typer.Typer(
    help="semcat — a graph-native knowledge catalog.\n\n"
    "Start with `semcat demo` (a fresh catalog of a believable company) and `semcat serve`, "
    "then open http://127.0.0.1:8000. Every command works on the data directory given by "
    "--data (default: $SEMCAT_DATA, else ./.semcat).\n\n"
    "Exit codes: 0 done; 1 failed (or, for validate, does not conform); 2 bad input, "
    "refused (a typo, a file that is not RDF or reads as no triples, a write the shapes "
    "refuse, a non-empty directory for demo) or bad settings; 3 not found; 4 the data "
    "directory is in use by another process that is not a semcat server; 5 the server refused "
    "the call. Unexpected failures print one line; --debug shows their traceback.\n\n"
    "While `semcat serve` holds the data directory, query, history, search, explain, validate, "
    "export and rules ask that server over HTTP, with the same output.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,  # main() turns failures into one line (tracebacks: --debug)
)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(rules_app, name="rules")
app.add_typer(jobs_app, name="jobs")
app.add_typer(graph_app, name="graph-projection")
app.command()(backup)
app.command()(snapshot)
app.command()(lineage)
app.command()(mcp)
app.command()(ingest)
app.command()(restore)
EXIT_CODES: dict[type[SemcatError], int] = {InputError: 2, ValidationFailed: 2, NotFound: 3,
                                             Conflict: 4, Unauthenticated: 5, Forbidden: 5}


def _report(e: SemcatError) -> int:
    """Print what went wrong; the exit code for it. ``main`` is the one caller: commands just
    raise."""
    err.print(f"[red]error:[/red] {escape(e.detail)}")
    for r in e.extra.get("errors", [])[:50]:
        where = " ".join(str(r.get(k, "")) for k in ("severity", "focusNode", "path", "item"))
        err.print(f"  {where.strip()}: {r.get('message', '')}", markup=False)
    return next((c for cls, c in EXIT_CODES.items() if isinstance(e, cls)), 1)


def _report_settings(e: ValidationError) -> int:
    for problem in e.errors():
        name = "SEMCAT_" + "_".join(map(str, problem["loc"])).upper() if problem["loc"] else ""
        message = problem["msg"].removeprefix("Value error, ")
        err.print(f"[red]error:[/red] {escape(f'{name}: {message}' if name else message)}")
    return 2


_debug = False


def _version(value: bool) -> None:
    if value:
        out.print(f"semcat {importlib.metadata.version('semcat')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an unexpected "
                                        "failure.")] = False,
) -> None:
    global _debug
    _debug = debug


@app.command()
def serve(
    data: DataDir = DEFAULT_DATA,
    host: Annotated[str | None, typer.Option(help="Address to bind [default: $SEMCAT_HOST or "
                                             "127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: $SEMCAT_PORT or 8000].")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    log_format: Annotated[Literal["text", "json"], typer.Option(
        help="text for people, json for log pipelines (one object per line, with request "
        "ids).")] = "text",
    open_: Annotated[bool, typer.Option("--open", help="Anonymous callers act as admin "
                                        "(single-user local use only).")] = False,
    log: Annotated[str | None, typer.Option("--log", help="A change log shared with other "
                                            "nodes: nats://host:port[,host:port...] "
                                            "[default: $SEMCAT_LOG_URL, else the embedded "
                                            "one].")] = None,
) -> None:
    """Serve the catalog: web page, REST API (/docs), SPARQL (/sparql) and Graph Store (/store)."""
    import uvicorn

    from sparql_api import create_app
    from sparql_api.request_log import configure_logging

    configure_logging(log_level, log_format)
    # `kill -USR1 PID` writes every thread's stack to stderr: what an operator (or a test
    # whose request timed out) needs to see where a stuck server waits
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    overrides: dict[str, object] = {k: v for k, v in (("host", host), ("port", port), (
        "open", open_ or None), ("log_url", log)) if v is not None}
    settings = Settings(data=data, **overrides)  # type: ignore[arg-type]
    err.print(f"semcat serving {data} on [bold]http://{settings.host}:{settings.port}[/bold] "
              "(docs at /docs)")
    # our logging, and our access records (with request ids) instead of uvicorn's
    uvicorn.run(create_app(settings=settings), host=settings.host, port=settings.port,
                log_level=log_level, log_config=None, access_log=False)


@app.command()
def demo(
    data: DataDir = DEFAULT_DATA,
    keep: Annotated[bool, typer.Option(help="Load the demo into the catalog already there.")]
    = False,
    force: Annotated[bool, typer.Option("--force", help="Replace (delete) the catalog already "
                                        "there, unless another process has it open.")] = False,
) -> None:
    """Create a data directory holding the demo catalog (Acme Outfitters).

    Refuses a non-empty directory unless --keep or --force; --force deletes only a semcat
    catalog, and never one another process (a server) has open."""
    if keep and force:
        raise InputError("--keep loads into the catalog there and --force replaces it: give one")
    if not keep and data.is_dir() and any(data.iterdir()):
        if not force:
            raise InputError(f"{data} is not empty; `semcat demo --force` replaces the catalog "
                             "in it, --keep adds the demo to it; or choose another --data")
        wipe(data)
    with open_catalog(data) as cat, err.status("Loading the demo catalog..."):
        results = cat.load_demo()
        cat.load_demo_governance()
        _, token = cat.keys.create("admin", admin=True, label="demo bootstrap")
    counts = {s: sum(r.status == s for r in results) for s in ("created", "updated", "unchanged")}
    said = ", ".join(f"{n:,} {status}" for status, n in counts.items() if n)
    err.print(f"demo catalog in {data}: {len(results):,} assets ({said})", highlight=False)
    key_file = data / "admin.key"
    key_file.touch(mode=0o600)
    key_file.chmod(0o600)
    key_file.write_text(token + "\n")
    err.print(f"admin API key (also in {key_file}; send it as Authorization: Bearer <key>):")
    print(token)


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="Turtle, N-Triples, N-Quads, TriG, "
                                                "JSON-LD or RDF/XML files (.gz too).")],
    data: DataDir = DEFAULT_DATA,
    graph: Annotated[str | None, typer.Option(help="Put triples in this named graph instead of "
                                              "their subjects' partition graphs.")] = None,
) -> None:
    """Load RDF files through the change log: one versioned changeset per file.

    A file that is not RDF, or reads as no triples (e.g. a DataHub JSON export), stops the load
    there with exit code 2; the files before it stay loaded."""
    with open_catalog(data) as cat, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err,
    ) as progress:
        task = progress.add_task("loading", total=len(files))
        for path in files:
            progress.update(task, description=f"loading {path.name}")
            cs = cat.load([path], graph=graph)[0]
            n = cs.size if cs else 0
            progress.console.print(f"{path}: {n} triples changed")
            progress.advance(task)


@app.command()
def query(
    sparql: Annotated[str, typer.Argument(help="The query, @file.rq to read a file, or - for stdin.")],
    data: DataDir = DEFAULT_DATA,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv, json or xml "
                                        "(SELECT/ASK); turtle, ntriples or jsonld (CONSTRUCT)")] = "table",
    infer: Annotated[bool, typer.Option("--infer/--no-infer", help="Include inferred triples "
                                        "(kept current by every write), or asserted ones only.")] = True,
) -> None:
    """Run a SPARQL query against the catalog.

    Example: `semcat query 'SELECT ?t WHERE { ?t a <https://w3id.org/semcat#Table> } LIMIT 5'`
    """
    text = sys.stdin.read() if sparql == "-" else (
        Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql)
    with connect(data) as backend:
        media, body, behind = backend.query(text, format, infer=infer)
    if behind:
        err.print(f"[yellow]warning:[/yellow] the inferred graphs are {behind} changeset(s) "
                  "behind: answers may miss inferences; `semcat reason` brings them up to date")
    if format == "table" and media == "application/sparql-results+json":
        print_results(body)
    else:
        write_output(body)


@app.command()
def reason(data: DataDir = DEFAULT_DATA) -> None:
    """Rematerialise the OWL 2 RL inferences of the whole catalog (data + ontology) into its
    inferred graphs; queries see them unless they ask for infer=false."""
    with open_catalog(data) as cat, err.status("reasoning...") as status:
        report = cat.reason(on_phase=lambda phase: status.update(f"{phase}..."))
        status.update("checking consistency...")
        findings = cat.consistency()
    dropped = ", ".join(f"{n:,} {rule}" for rule, n in sorted(report.dropped_by_rule.items()))
    err.print(f"{report.inferred:,} inferred triples in {report.graphs} graphs from "
              f"{report.asserted:,} asserted, in {report.seconds:.1f} s (reasoner "
              f"{report.reasoner_seconds:.1f} s); up to changeset {report.seq}")
    if dropped:
        err.print(f"dropped {report.dropped:,}: {dropped}")
    if not findings:
        err.print("consistent: no OWL 2 RL inconsistencies")
    for finding in findings:
        out.print(f"[bold red]{finding.rule}[/]: {escape(finding.message)}", highlight=False)
        for fact in finding.facts:
            where = fact.graph if fact.asserted else "inferred"
            out.print(escape(f"    {fact.subject} {fact.predicate} {fact.object}") +
                      f"  [dim]({escape(str(where))})[/]", highlight=False)


@app.command()
def explain(
    asset: Annotated[str, typer.Argument(help="Asset id or IRI, e.g. acme/view/pg/db.s.v1")],
    data: DataDir = DEFAULT_DATA,
    predicate: Annotated[str | None, typer.Option(help="Only this property, e.g. "
                                                  "semcat:upstream or rdf:type.")] = None,
    object: Annotated[str | None, typer.Option("--object", help="Only this object (IRI, "
                                               "prefixed name or asset id).")] = None,
    format: Listing = "table",
) -> None:
    """Explain why inferred statements about an asset hold, down to asserted facts."""
    with connect(data) as backend:
        found = backend.explain(asset, predicate, object)
    if format == "json":
        print(json.dumps(found, indent=2))
        return
    for x in found:
        _print_explanation(x, 0)
    err.print(f"{len(found)} statements explained")


def _print_explanation(node: dict[str, Any], level: int) -> None:
    st = node["statement"]
    why = f"asserted in {node['graph']}" if node["asserted"] else node["rule"]
    print(f"{'  ' * level}{st['subject']} {st['predicate']} {st['object']}  [{why}]")
    for premise in node["premises"]:
        _print_explanation(premise, level + 1)


EXPORTS = {"nq": "application/n-quads", "trig": "application/trig", "ttl": "text/turtle",
           "nt": "application/n-triples", "jsonld": "application/ld+json", "rdf": "application/rdf+xml"}


@app.command()
def export(
    data: DataDir = DEFAULT_DATA,
    format: Annotated[str | None, typer.Option("--format", "-f", help="nq (default), trig (keep "
                      "graphs), ttl (default for dcat-ap), nt, jsonld or rdf (merge graphs)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default stdout).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="dcat-ap: a DCAT-AP 3 catalog "
                                                "of the data assets instead of a dump")] = None,
) -> None:
    """Dump the whole catalog (data, ontology, shapes) as RDF, or its DCAT-AP catalog."""
    if profile not in (None, "dcat-ap"):
        raise InputError(f"unknown profile {profile!r}; the one profile is dcat-ap")
    format = format or ("ttl" if profile else "nq")
    if format not in EXPORTS or (profile and format in ("nq", "trig")):
        kinds = [f for f in EXPORTS if not profile or f not in ("nq", "trig")]
        raise InputError(f"unknown format {format!r}; use one of {', '.join(kinds)}")
    with connect(data) as backend:
        body = backend.export(EXPORTS[format], profile=profile)
    if output:
        output.write_bytes(body)
        err.print(f"wrote {output}")
    else:
        write_output(body)


@app.command()
def history(
    asset: Annotated[str, typer.Argument(help="Asset id, e.g. acme/table/postgres/shop.public.orders")],
    data: DataDir = DEFAULT_DATA,
    format: Listing = "table",
) -> None:
    """Show every version of an asset: when, who, why."""
    with connect(data) as backend:
        versions = backend.versions(asset)
    if format == "json":
        print(json.dumps(versions, indent=2))
        return
    table = Table("version", "time", "actor", "message", "changeset", title=asset)
    for v in versions:
        table.add_row(str(v["version"]), v["time"], v["actor"], v["message"], str(v["seq"]))
    out.print(table)


REPORT_FORMATS = ("table", "json", "turtle")


@app.command()
def validate(
    data: DataDir = DEFAULT_DATA,
    workspace: Annotated[str | None, typer.Option(help="Only this workspace's assets.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or turtle "
                                        "(an sh:ValidationReport)")] = "table",
) -> None:
    """SHACL-validate the whole catalog (or one workspace) against the core and custom shapes.

    Exits 1 when there are violations, 0 when it conforms (warnings allowed)."""
    if format not in REPORT_FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(REPORT_FORMATS)}")
    with connect(data) as backend, Progress(TextColumn("validating"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} nodes"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("validate", total=None)
        report, turtle = backend.validate(workspace, lambda done, total: progress.update(
            task, completed=done, total=total), turtle=format == "turtle")
    if turtle:
        write_output(turtle)
    results = report["results"]
    violations = sum(r["severity"] == "Violation" for r in results)
    if format == "json":
        print(json.dumps(report, indent=2))
    elif format == "table":
        table = Table("severity", "focus node", "path", "constraint", "message",
                      title=f"{report['focusNodes']} nodes checked")
        for r in results:
            table.add_row(r["severity"], r["focusNode"], r["path"], r["constraint"].removesuffix(
                "ConstraintComponent"), r["message"])
        out.print(table)
    err.print(f"{'conforms' if report['conforms'] else 'does NOT conform'}: "
              f"{violations} violations, {len(results) - violations} warnings")
    if not report["conforms"]:
        raise typer.Exit(1)


@app.command()
def search(
    q: Annotated[str, typer.Argument(help="Words, names, identifiers or a question.")],
    data: DataDir = DEFAULT_DATA,
    mode: Annotated[Literal["keyword", "semantic", "hybrid"], typer.Option(
        help="keyword, semantic or hybrid.")] = "hybrid",
    type: Annotated[list[str] | None, typer.Option("--type", "-t", help="Only this class "
                                                   "(repeatable), e.g. Table.")] = None,
    where: Annotated[list[str] | None, typer.Option("--filter", help="facet=value (repeatable), "
                                                    "e.g. tag=tag/tier-1.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many hits.")] = 10,
    format: Listing = "table",
    nl: Annotated[bool, typer.Option("--nl", help="Read Q as natural language: 'PII tables "
                                     "owned by finance changed last week'.")] = False,
    updated_after: Annotated[str | None, typer.Option(help="ISO date/datetime or P7D.")] = None,
    updated_before: Annotated[str | None, typer.Option(help="ISO date/datetime or P7D.")] = None,
    created_after: Annotated[str | None, typer.Option(help="ISO date/datetime or P7D.")] = None,
    created_before: Annotated[str | None, typer.Option(help="ISO date/datetime or P7D.")] = None,
) -> None:
    """Search the catalog. The first semantic search of a data directory embeds every asset."""
    filters: dict[str, list[str]] = {"type": list(type)} if type else {}
    for f in where or []:
        facet, _, value = f.partition("=")
        filters.setdefault(facet, []).append(value)
    body = SearchBody(q=q, mode=mode, limit=limit, filters=filters, wait=True, nl=nl,
                      updatedAfter=updated_after, updatedBefore=updated_before,
                      createdAfter=created_after, createdBefore=created_before)
    with connect(data) as backend, err.status(
            "searching (semantic search may first embed the catalog)..."):
        result = backend.search(body)
    if format == "json":
        print(json.dumps(result, indent=2))
        return
    table = Table("score", "type", "id", "matched", title=f"{result['mode']} search: {q}")
    for h in result["hits"]:
        types = h["type"] if isinstance(h["type"], list) else [h["type"]]
        table.add_row(f"{h['score']:.3f}", ",".join(types), h["id"],
                      ", ".join(h["why"].get("matched", [])) or "semantic")
    out.print(table)
    for r in result["interpretation"].get("nl", {}).get("recognised", []):
        err.print(f"understood {r['text']!r} as {r['filter']}={', '.join(r['values'])}")
    err.print(f"{result['total']} matches in {result['tookMs']:.0f} ms")


@app.command()
def reindex(
    data: DataDir = DEFAULT_DATA,
    vectors: Annotated[bool, typer.Option("--vectors/--no-vectors", help="Also re-embed every "
                                          "asset (the slow part).")] = True,
    threads: Annotated[int, typer.Option(help="Torch threads for embedding; more than 1 only "
                                         "helps on an otherwise idle machine.")] = 1,
) -> None:
    """Rebuild the full-text and vector search indexes from the store."""
    from rich.progress import TaskID

    with open_catalog(data) as cat, Progress(
        TextColumn("{task.description:>8}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def show(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        report = cat.search.reindex(vectors=vectors, threads=threads, on_progress=show)
    rate = f" ({report.vectors / report.vector_seconds:.0f}/s)" if report.vector_seconds else ""
    err.print(f"reindexed {report.documents} assets up to changeset {report.seq}: text in "
              f"{report.text_seconds:.1f} s, {report.vectors} vectors in "
              f"{report.vector_seconds:.1f} s{rate}")


def main() -> None:
    """Errors become a message and an exit code here, the one place (EXIT_CODES)."""
    try:
        app(prog_name="semcat")
    except SemcatError as e:
        sys.exit(_report(e))
    except ValidationError as e:  # settings, from the environment or the options
        sys.exit(_report_settings(e))
    except Exception as e:
        if _debug:
            raise
        err.print(f"[red]error:[/red] {escape(type(e).__name__)}: {escape(str(e))} "
                  "(run with --debug for the traceback)", soft_wrap=True)
        sys.exit(1)
