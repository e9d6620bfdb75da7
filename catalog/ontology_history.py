"""The ontology's history and diffs, read from the change log.

Split from ``catalog.ontology_editor``: ontology changesets are recognised by their message
prefix, and their quads in the ontology graphs are summarised per changeset (history) or netted
across a range of changesets (diff). Pure reads; never imports the editor.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import NamedNode, Quad

from catalog.ontology_checks import DIGEST, VERSION_INFO, lexical
from graph_store.changelog import ChangeLogBackend
from graph_store.errors import InputError, NotFound

MESSAGE_PREFIX = "ontology"


def _ntriple(q: Quad) -> str:
    return f"{q.subject} {q.predicate} {q.object} ."


def ontology_history(changelog: ChangeLogBackend, graphs: tuple[NamedNode, ...],
                     headers: tuple[NamedNode, ...]) -> list[dict[str, Any]]:
    """The ontology's changesets, oldest first (the shipped file's syncs included); a version is
    read from an ``owl:versionInfo`` added to one of ``headers``."""
    out = []
    for cs in changelog.changesets(MESSAGE_PREFIX):
        mine = [q for q in (*cs.removed, *cs.added) if q.graph_name in graphs]
        if not mine:
            continue
        version = next((lexical(q.object) for q in cs.added if q.predicate == VERSION_INFO
                        and q.subject in headers), None)
        out.append({"seq": cs.seq, "time": cs.time, "actor": cs.actor, "message": cs.message,
                    "version": version, "added": sum(q in cs.added for q in mine),
                    "removed": sum(q in cs.removed for q in mine)})
    return out


def ontology_diff(changelog: ChangeLogBackend, graphs: tuple[NamedNode, ...],
                  headers: tuple[NamedNode, ...], from_seq: int | None = None,
                  to_seq: int | None = None) -> dict[str, Any]:
    """The ontology's net change after changeset ``from_seq`` up to ``to_seq`` (defaults:
    the last edit alone)."""
    seqs = [h["seq"] for h in ontology_history(changelog, graphs, headers)]
    if not seqs:
        raise NotFound("the ontology has no history yet")
    to = to_seq if to_seq is not None else seqs[-1]
    start = from_seq if from_seq is not None else max([s for s in seqs if s < to], default=0)
    if start > to:
        raise InputError(f"'from' ({start}) must not be after 'to' ({to})")
    first: dict[Quad, bool] = {}  # was the quad there before?
    last: dict[Quad, bool] = {}  # is it there after?
    for cs in changelog.changesets(MESSAGE_PREFIX, after=start, upto=to):
        for present, quads in ((True, cs.removed), (False, cs.added)):
            for q in quads:
                if q.graph_name in graphs and q.predicate != DIGEST:
                    first.setdefault(q, present)
                    last[q] = not present
    return {"from": start, "to": to,
            "added": sorted(_ntriple(q) for q, now in last.items() if now and not first[q]),
            "removed": sorted(_ntriple(q) for q, now in last.items() if not now and first[q])}
