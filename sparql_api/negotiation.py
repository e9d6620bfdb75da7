"""Content negotiation: pick the media type to answer with from an Accept header."""

from __future__ import annotations

from graph_store.errors import SemcatError


class NotAcceptable(SemcatError):
    status = 406
    code = "not-acceptable"
    title = "Not acceptable"


def _parse(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        ranges.append((fields[0].lower(), q))
    return ranges


def choose(accept: str | None, offered: tuple[str, ...] | list[str]) -> str:
    """The offered type the client prefers most; ties go to the server's order (offered[0] is
    the default). Raises 406 when nothing offered is acceptable."""
    if not accept or not accept.strip():
        return offered[0]
    best: tuple[float, int, str] | None = None
    for rank, media in enumerate(offered):
        main = media.split("/")[0]
        q = max((q for r, q in _parse(accept)
                 if r in (media, f"{main}/*", "*/*")), default=0.0)
        specific = max((q for r, q in _parse(accept) if r == media), default=None)
        if specific is not None:
            q = specific
        if q > 0 and (best is None or (q, -rank) > (best[0], -best[1])):
            best = (q, rank, media)
    if best is None:
        raise NotAcceptable(f"none of the requested types ({accept}) can be served here; "
                            f"available: {', '.join(offered)}")
    return best[2]
