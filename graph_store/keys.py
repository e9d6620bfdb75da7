"""Asset ids from source names: one reversible encoding (README, "Ids and names").

An id is ``/``-separated segments (``acme/table/pg/shop.sales.Bestellungen_Übersicht``); its IRI
is ``{base}/id/{id}``. A name becomes one segment by keeping ASCII letters, digits and
``-._~@+`` and every non-ASCII character an IRI path may hold (letters of any script stay as
they are), and percent-encoding the UTF-8 bytes of everything else: spaces and invisible
formatting characters, ``/``, ``%``, quotes, ``<>`` and the rest of ASCII punctuation, controls.
A segment of dots alone is encoded too, since ``.`` and ``..`` are path steps to an IRI. Decoding
gives the name back exactly; NUL and unpaired surrogates are no part of any name.

Callers may give an id encoded or not: ``canonical_key`` decodes every valid ``%XX`` escape and
re-encodes, so ``a b``, ``a%20b`` and ``a%2520b`` read from a URL are all ``a%20b``, and a
``%`` that starts no escape is a literal percent sign.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from graph_store.errors import InputError

_PLAIN = re.compile(r"^[A-Za-z0-9._~@+-]+(/[A-Za-z0-9._~@+-]+)*\Z")
_SAFE_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~@+")
# RFC 3987 ucschar, less spaces and invisible formatting characters (a fixed list, so that an
# id never depends on the Unicode version of the Python that computes it).
_UCSCHAR = ((0xA0, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFEF),
            *((p, p + 0xFFFD) for p in range(0x10000, 0xE0000, 0x10000)), (0xE1000, 0xEFFFD))
_INVISIBLE = ((0xA0, 0xA0), (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C), (0x1680, 0x1680),
              (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x206F),
              (0x3000, 0x3000), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFF))


def _within(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _kept(c: str) -> bool:
    if c in _SAFE_ASCII:
        return True
    code = ord(c)
    return code >= 0x80 and _within(code, _UCSCHAR) and not _within(code, _INVISIBLE)


def _check(text: str, what: str) -> None:
    if "\x00" in text:
        raise InputError(f"{what} {text!r} holds a NUL character, which no name or id may hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InputError(f"{what} {text!r} is not valid Unicode (an unpaired surrogate)") from e


def encode_segment(name: str) -> str:
    """The id segment of ``name``: reversible (``decode_segment``), a valid IRI path segment."""
    _check(name, "the name")
    if name and set(name) == {"."}:
        return "%2E" * len(name)
    return "".join(c if _kept(c) else "".join(f"%{b:02X}" for b in c.encode("utf-8"))
                   for c in name)


def decode_segment(segment: str) -> str:
    """The name an id segment encodes (``%XX`` escapes decoded as UTF-8)."""
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError as e:
        raise InputError(f"{segment!r} holds percent-escapes that are not UTF-8") from e


def canonical_key(key: str) -> str:
    """The one spelling of an id given encoded, unencoded or half encoded; InputError for
    what no id can be (empty segments, NUL, invalid Unicode)."""
    if _PLAIN.match(key) and "/./" not in f"/{key}/" and "/../" not in f"/{key}/":
        return key
    _check(key, "the id")
    segments = key.split("/")
    if not all(segments):
        raise InputError(f"{key!r} is not an asset id: it has an empty segment (ids are "
                         "segments separated by single slashes, like acme/table/pg/db.s.t)")
    return "/".join(encode_segment(decode_segment(s)) for s in segments)
