"""Tool results an agent can afford: a JSON value cut down to a byte budget.

An agent pays for every token a tool returns, and a catalog answer (a lineage walk, a search
page, SPARQL rows) can be arbitrarily large. Instead of failing, the longest list is halved until
the whole fits, and the result says so (``truncated``), with how many items each cut list had.
"""

from __future__ import annotations

import json
from typing import Any

TRUNCATED = "truncated"


def size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def _longest(value: Any, path: tuple[Any, ...] = ()) -> tuple[int, tuple[Any, ...]]:
    """(length, path) of the longest list inside ``value``."""
    best: tuple[int, tuple[Any, ...]] = (-1, ())
    if isinstance(value, list):
        best = (len(value), path)
        children: Any = enumerate(value)
    elif isinstance(value, dict):
        children = value.items()
    else:
        return best
    for key, child in children:
        found = _longest(child, (*path, key))
        if found[0] > best[0]:
            best = found
    return best


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def bounded(value: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """``value`` if its JSON fits in ``max_bytes``; else a copy whose longest lists are halved
    until it fits, with ``truncated: {"path.to.list": original length}``. A value with no list
    left to cut is replaced by a note saying how large it was."""
    if size(value) <= max_bytes:
        return value
    out: dict[str, Any] = json.loads(json.dumps(value, default=str))
    cut: dict[str, int] = {}
    while size(out) > max_bytes:
        length, path = _longest(out)
        if length <= 0:
            return {TRUNCATED: {"": size(value)}, "note": (
                f"the result is {size(value)} bytes, over this tool's {max_bytes} byte limit "
                "(SEMCAT_MCP_MAX_RESULT_BYTES); narrow the request")}
        name = ".".join(map(str, path)) or "(result)"
        cut.setdefault(name, length)
        lst = _at(out, path)
        del lst[length // 2:]
        out[TRUNCATED] = dict(cut)
    return out
