"""`semcat lineage`: the lineage around an asset as a tree, or its impact as a table."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from semcat.backends import connect
from semcat.console import DEFAULT_DATA, DataDir, Listing, err, out


def lineage(
    asset: Annotated[str, typer.Argument(help="Asset id, e.g. acme/table/postgres/shop.public.orders")],
    data: DataDir = DEFAULT_DATA,
    upstream: Annotated[bool, typer.Option("--upstream", help="Only where it comes from.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only where it goes.")] = False,
    depth: Annotated[int | None, typer.Option(min=1, max=50, help="Edges away at most "
                                              "(default 3; 10 with --impact).")] = None,
    column: Annotated[bool, typer.Option("--column", help="Column-level lineage (a table "
                                         "stands for its columns).")] = False,
    impact: Annotated[bool, typer.Option("--impact", help="Everything downstream, nearest "
                                         "first, with the owners to notify.")] = False,
    format: Listing = "table",
) -> None:
    """Show the lineage of an asset as a tree, or what breaks if it changes (--impact)."""
    if upstream and downstream:
        upstream = downstream = False  # both, as without either
    direction = "upstream" if upstream else "downstream" if downstream else "both"
    with connect(data) as backend:
        if impact:
            found = backend.lineage(asset, impact=True, depth=depth or 10)
        else:
            found = backend.lineage(asset, impact=False, direction=direction, depth=depth or 3,
                                    level="column" if column else "table")
    if format == "json":
        print(json.dumps(found, indent=2))
        return
    if impact:
        _impact(found)
        return
    for side in ("upstream", "downstream"):
        if direction in (side, "both"):
            out.print(_tree(found, side))
    if found["partial"]:
        err.print("[yellow]the walk stopped at its bound; narrow it with --depth[/]")
    err.print(f"{len(found['nodes'])} assets, {len(found['edges'])} edges")


def _label(node: dict[str, Any]) -> str:
    return f"{escape(node['id'])} [dim]({node.get('type') or '?'})[/]"


def _tree(found: dict[str, Any], side: str) -> Tree:
    """Each asset under the one it was reached from (upstream: what it comes from)."""
    nodes = {n["id"]: n for n in found["nodes"]}
    below: dict[str, list[str]] = {}
    for e in found["edges"]:
        parent, child = (e["target"], e["source"]) if side == "upstream" else \
            (e["source"], e["target"])
        if nodes.get(child, {}).get("direction") == side:
            below.setdefault(parent, []).append(child)
    roots = [n for n in found["nodes"] if n["distance"] == 0]
    tree = Tree(f"[bold]{side}[/]")
    shown: set[str] = set()

    def grow(branch: Tree, key: str) -> None:
        for child in sorted(set(below.get(key, ())), key=lambda k: (nodes[k]["distance"], k)):
            if child in shown:
                branch.add(f"{escape(child)} [dim](see above)[/]")
                continue
            shown.add(child)
            grow(branch.add(_label(nodes[child])), child)

    for root in roots:
        shown.add(root["id"])
        grow(tree.add(_label(root)), root["id"])
    return tree


def _impact(found: dict[str, Any]) -> None:
    table = Table("distance", "asset", "type", "owners", title=f"downstream of {found['asset']}")
    for n in found["nodes"]:
        table.add_row(str(n["distance"]), n["id"], n.get("type") or "", ", ".join(n["owners"]))
    out.print(table)
    notify = Table("owner", "nearest", "assets", title="owners to notify")
    for entry in found["notify"]:
        notify.add_row(entry["owner"], str(entry["distance"]), str(len(entry["assets"])))
    out.print(notify)
