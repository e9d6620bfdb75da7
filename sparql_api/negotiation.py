"""Content negotiation: the media type to answer with, from an Accept header (RFC 9110 §12.5.1:
q-values, then specificity; ties go to the server's order, so offered[0] is the default),
parsed by werkzeug."""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from graph_store.errors import SemcatError


class NotAcceptable(SemcatError):
    status = 406
    code = "not-acceptable"
    title = "Not acceptable"


def choose(accept: str | None, offered: tuple[str, ...] | list[str]) -> str:
    """The offered type the client prefers most; 406 when it accepts none of them."""
    if not accept or not accept.strip():
        return offered[0]
    # nothing offered here has parameters: a range's own (charset=utf-8) must not exclude it
    ranges = [(value.split(";")[0].strip(), q) for value, q in parse_accept_header(accept)]
    best = MIMEAccept(ranges).best_match(offered)
    if best is None:
        raise NotAcceptable(f"none of the requested types ({accept}) can be served here; "
                            f"available: {', '.join(offered)}")
    return best
