"""A bulk job's body, read once at submission into one compact JSON item per line.

The body is a JSON array (or a JSON-LD document with an ``@graph``) or NDJSON, as
``POST /api/v1/assets:bulk`` takes it, but far larger: it is split into items while it streams
from the file the web layer spooled it to, never parsed whole (a JSON object body, which
cannot be split, only up to ``whole_limit`` bytes). A body that is not JSON is refused here,
before any job exists (InputError: 400); items that are JSON but not valid assets are for the
write to report, one by one. The normalised file makes resuming trivial: skip N lines.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import orjson

from graph_store.errors import InputError, UnsupportedMediaType
from graph_store.formats import check_json_depth

__all__ = ["JSON_TYPES", "NDJSON_TYPES", "normalise", "read_items"]

NDJSON_TYPES: Final = ("application/x-ndjson", "application/ndjson", "application/jsonl")
JSON_TYPES: Final = ("application/json", "application/ld+json", "")
MAX_JSON_DEPTH: Final = 64  # as the REST layer's bodies: code walking items recurses
READ_BYTES: Final = 1 << 20
WINDOW_CHARS: Final = 1 << 12  # orjson's view of the body: an item or a few
_NOT_SPACE = re.compile(r"[^ \t\r\n]")
_BOUNDARY = re.compile(r"[}\]][ \t\r\n]*,")
BATCH_CHARS: Final = 1 << 16  # elements parsed at once, when they are at least this long
_SPACE = frozenset(b" \t\r\n")


def normalise(body: Path, media_type: str, out: Path, *, whole_limit: int) -> int:
    """Write ``body``'s items to ``out``, one compact JSON document per line; their count."""
    if media_type in NDJSON_TYPES:
        items = _ndjson(body)
    elif media_type in JSON_TYPES:
        items = _json(body, whole_limit)
    else:
        raise UnsupportedMediaType(f"bulk bodies are application/json, application/ld+json or "
                                   f"application/x-ndjson, not {media_type!r}")
    count = 0
    with out.open("wb") as f:
        for item in items:
            f.write(orjson.dumps(item) + b"\n")
            count += 1
    if count == 0:
        raise InputError("the body holds no assets; send a JSON array of them (or NDJSON)")
    return count


def read_items(path: Path, skip: int = 0) -> Iterator[tuple[int, Any]]:
    """The normalised items with their positions in the body, after the first ``skip``."""
    with path.open("rb") as f:
        for n, line in enumerate(f):
            if n >= skip:
                yield n, orjson.loads(line)


def _parse(raw: bytes | str, where: str) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InputError(f"malformed JSON in {where}: {e.msg}") from e
    check_json_depth(value, MAX_JSON_DEPTH)
    return value


def _ndjson(path: Path) -> Iterator[Any]:
    with path.open("rb") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                yield _parse(line, f"line {n}")


def _json(path: Path, whole_limit: int) -> Iterator[Any]:
    with path.open("rb") as f:
        first = _first_byte(f)
        f.seek(0)
        if first == ord("["):
            yield from _array_values(f)
            return
        if path.stat().st_size > whole_limit:
            raise InputError(f"a bulk body over {whole_limit} bytes must be a JSON array or "
                             "NDJSON, which are read item by item")
        doc = _parse(f.read(), "the body")
    if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
        yield from doc["@graph"]
        return
    raise InputError("a bulk body is a JSON array of assets (or NDJSON, one per line)")


def _first_byte(f: IO[bytes]) -> int | None:
    while chunk := f.read(READ_BYTES):
        for b in chunk:
            if b not in _SPACE:
                return b
    raise InputError("the request body is empty; send a JSON array of assets (or NDJSON)")


class _Buffer:
    """The file decoded in pieces, with what is not yet consumed kept in front of the next
    (text, because orjson reports positions in characters)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.data, self.pos, self.eof = f, "", 0, False
        self.batches = True  # False once a batch failed to parse, until the next piece
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def more(self) -> bool:
        """Read the next piece; False at the end of the file."""
        chunk = self.f.read(READ_BYTES)
        self.eof = not chunk
        try:
            text = self._decoder.decode(chunk, final=self.eof)
        except UnicodeDecodeError as e:
            raise InputError(f"the body is not UTF-8 text: {e.reason}") from None
        self.data, self.pos, self.batches = self.data[self.pos:] + text, 0, True
        return bool(chunk)

    def next_char(self) -> str | None:
        """The next character that is not white space (consumed up to it), None at the end."""
        while True:
            found = _NOT_SPACE.search(self.data, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.data[self.pos]
            self.pos = len(self.data)
            if not self.more():
                return None


def _array_values(f: IO[bytes]) -> Iterator[Any]:
    """Each element of the top-level JSON array in ``f``, parsed. orjson parses an element
    and, finding more after it, says where it ended; an element cut by the end of a piece is
    parsed again once the next piece is read. Far faster than tokenising in Python."""
    buf = _Buffer(f)
    buf.next_char()
    buf.pos += 1  # the [ (the caller checked it)
    n = 0
    while True:
        c = buf.next_char()
        if c is None:
            raise InputError("malformed JSON: the array is not closed (a truncated body?)")
        if n and c in ",]":
            buf.pos += 1
            if c == "]":
                break
        elif n:
            raise InputError(f"malformed JSON after item {n}: expected , or ]")
        elif c == "]":  # []
            buf.pos += 1
            break
        buf.next_char()
        batch = _batch(buf, n)
        if batch is not None:
            n += len(batch)
            yield from batch
            continue
        n += 1
        yield _element(buf, n)
    if buf.next_char() is not None:
        raise InputError("malformed JSON: more after the array's closing ]")


def _batch(buf: _Buffer, n: int) -> list[Any] | None:
    """The elements up to the last place in the piece that looks like the end of one (a } or ]
    before a comma), parsed at once; None where there is none, or it was not such an end (then
    the elements are parsed one by one, which also finds and names any error)."""
    if not buf.batches:
        return None
    ends = [m.start() + 1 for m in _BOUNDARY.finditer(buf.data, buf.pos)]
    for end in reversed(ends[-3:]):
        if end - buf.pos < BATCH_CHARS:
            break
        try:
            values = orjson.loads("[" + buf.data[buf.pos:end] + "]")
        except orjson.JSONDecodeError:
            continue
        for value in values:
            check_json_depth(value, MAX_JSON_DEPTH)
        buf.pos = end
        return values  # type: ignore[no-any-return]
    buf.batches = False
    return None


def _element(buf: _Buffer, n: int) -> Any:
    """The value at the buffer's position. orjson reads all it is given, so it is given a
    window just past the element, widened while the element does not fit."""
    window = WINDOW_CHARS
    while True:
        left = len(buf.data) - buf.pos
        view = buf.data[buf.pos:buf.pos + window]
        try:
            value = orjson.loads(view)
            end = len(view)  # all of it is one value: it may go on past the window
            if len(view) < left:
                window *= 4
                continue
            if not buf.eof and buf.more():
                continue
        except orjson.JSONDecodeError as e:
            if e.msg == "unexpected content after document":
                end = e.pos
                value = _parse(view[:end], f"item {n}")
            elif e.pos >= len(view) - 8 and len(view) < left:
                window *= 4  # cut by the window
                continue
            elif e.pos >= len(view) - 8 and not buf.eof and buf.more():
                continue  # cut by the end of the piece
            else:
                raise InputError(f"malformed JSON in item {n}: {e.msg}") from e
        check_json_depth(value, MAX_JSON_DEPTH)
        buf.pos += end
        return value
