"""What every semcat command shares: the consoles, the --data and --format options, opening
the catalog, and writing results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import typer.core
from rich.console import Console
from rich.table import Table

from catalog import Catalog, Settings

# typer 0.29 prints a flag's type, `<bool>`, as if it took a value; a flag takes none. Its help
# panel asks this one method for the type column, the help option's own row included.
_value_type = typer.core.TyperOption.display_type_rich


def _flag_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    return None if self.is_flag else _value_type(self, ctx)


typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign,assignment]

err = Console(stderr=True)
out = Console()

DataDir = Annotated[Path, typer.Option("--data", envvar="SEMCAT_DATA",
                                       help="Data directory (store + change log).")]
DEFAULT_DATA = Path(".semcat")
# what --format names, as media types
FORMATS = {"json": "application/sparql-results+json", "csv": "text/csv",
           "tsv": "text/tab-separated-values", "xml": "application/sparql-results+xml",
           "turtle": "text/turtle", "ntriples": "application/n-triples",
           "jsonld": "application/ld+json"}
# one --format everywhere: commands that list or explain things print a table (or tree) for
# people, or JSON for scripts; query, export and audit add the RDF formats that fit them
Listing = Annotated[Literal["table", "json"], typer.Option(
    "--format", "-f", help="table for people, json for scripts.")]
@contextmanager
def open_catalog(data: Path, **overrides: object) -> Iterator[Catalog]:
    with Catalog.open(Settings(data=data, **overrides), elect=False) as cat:  # type: ignore[arg-type]
        yield cat


def write_output(body: bytes) -> None:
    """Serialised output ends with a newline, as shell tools expect."""
    sys.stdout.buffer.write(body if body.endswith(b"\n") or not body else body + b"\n")


def print_results(body: bytes) -> None:
    """SPARQL JSON results for people: a table of the solutions, or true/false."""
    results = json.loads(body)
    if "boolean" in results:
        print("true" if results["boolean"] else "false")
        return
    table = Table(*results["head"]["vars"])
    rows = results["results"]["bindings"]
    for row in rows:
        table.add_row(*(_cell(row.get(v)) for v in results["head"]["vars"]))
    out.print(table)
    err.print(f"{len(rows)} rows")


def _cell(term: dict[str, str] | None) -> str:
    if term is None:
        return ""
    return "_:" + term["value"] if term["type"] == "bnode" else term["value"]
