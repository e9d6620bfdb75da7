"""`semcat graph-projection`: the property graph on a Bolt server (SEMCAT_NEO4J_*), rebuilt
from the store or asked where it is. A served catalog keeps it in sync by itself; these are
for a first copy of a large catalog, a graph that was lost or edited by hand, and checks."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from graph_store.errors import InputError
from property_graph import Neo4jConfig
from semcat.console import DEFAULT_DATA, DataDir, Listing, err, open_catalog, out

graph_app = typer.Typer(help="The catalog as a property graph on Neo4j (or another Bolt "
                        "server): rebuild it, or see how far it follows the change log.",
                        no_args_is_help=True)


def _config(config: Neo4jConfig | None) -> Neo4jConfig:
    if config is None:
        raise InputError("no property graph is configured: set SEMCAT_NEO4J_URL (and "
                         "SEMCAT_NEO4J_USER, SEMCAT_NEO4J_PASSWORD, SEMCAT_NEO4J_DATABASE); "
                         "see docs/property-graph.md")
    return config


@graph_app.command()
def rebuild(
    data: DataDir = DEFAULT_DATA,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before replacing the "
                                      "graph.")] = False,
) -> None:
    """Replace every projected node and relationship with a fresh copy of the store."""
    from property_graph.follower import PropertyGraphProjection

    with open_catalog(data) as cat:
        config = _config(cat.settings.property_graph())
        if not yes:
            where = config.database or "the default database"
            typer.confirm(f"Replace the property graph in {where} at {config.url}?", abort=True,
                          err=True)
        projection = PropertyGraphProjection(cat, config)
        try:
            with Progress(TextColumn("{task.description:>8}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=err) as progress:
                task = progress.add_task("nodes", total=None)
                nodes = projection.rebuild(
                    lambda done, total: progress.update(task, completed=done, total=total))
        finally:
            projection.close()
    err.print(f"projected {nodes} nodes up to changeset {projection.position} into "
              f"{config.url}")


@graph_app.command()
def status(data: DataDir = DEFAULT_DATA, format: Listing = "table") -> None:
    """The changeset the graph reflects, against the last one the catalog applied."""
    from property_graph.cypher import GraphWriter

    with open_catalog(data) as cat:
        config = _config(cat.settings.property_graph())
        writer = GraphWriter(config)
        try:
            position = writer.position()
        finally:
            writer.close()
        applied = cat.journal.applied_seq
    found = {"url": config.url, "database": config.database, "position": position,
             "applied": applied, "behind": None if position is None else applied - position}
    if format == "json":
        print(json.dumps(found, indent=2))
        return
    if position is None:
        out.print(f"{config.url} holds no projection yet: the next `semcat serve` (or "
                  "`semcat graph-projection rebuild`) copies the catalog there")
    else:
        out.print(f"{config.url}: changeset {position} of {applied} "
                  f"({applied - position} behind)")
