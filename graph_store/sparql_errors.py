"""pyoxigraph's SPARQL syntax errors, made readable: line, column, what was found there and a
short list of what would have fitted, instead of the parser's dump of Unicode ranges."""

from __future__ import annotations

import re

from graph_store.errors import QuerySyntaxError

_AT = re.compile(r"error at (\d+):(\d+): expected (?:one of )?(.*)", re.DOTALL)
_EXPECTED = re.compile(r'"((?:[^"\\]|\\.)*)"|(\[[^\]]*\])|([A-Za-z][\w-]*)')
_MOST = 8


def readable_syntax_error(error: SyntaxError | str, text: str) -> QuerySyntaxError:
    message = str(error)
    m = _AT.match(message)
    if m is None:
        return QuerySyntaxError(message)
    line, column = int(m.group(1)), int(m.group(2))
    expected: list[str] = []
    for quoted, chars, word in _EXPECTED.findall(m.group(3)):
        item = f'"{quoted}"' if quoted else word if word else (
            "a name" if "'A'" in chars else "a number" if "'0'" in chars else "")
        if item and item not in expected:
            expected.append(item)
    more = f" or {len(expected) - _MOST} more" if len(expected) > _MOST else ""
    wanted = ", ".join(expected[:_MOST]) + more
    return QuerySyntaxError(f"line {line}, column {column}: found {_found(text, line, column)}"
                            + (f"; expected {wanted}" if wanted else ""),
                            line=line, column=column)


def _found(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    rest = lines[line - 1][column - 1:] if 0 < line <= len(lines) else ""
    token = re.match(r"\s*(\S{1,30})", rest)
    if token is None:
        return "the end of the line" if line < len(lines) else "the end of the text"
    return repr(token.group(1))
