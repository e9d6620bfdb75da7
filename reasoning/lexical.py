"""Whether a term is spelled as the store keeps it.

The store keeps typed literals in canonical form (``…03.380Z`` reads back as ``…03.38Z``), so
the reasoner looks up how a literal it was given is stored before comparing it with what it
reads. Most literals a write carries are canonical already (the journal's own stamps are), and
those need no look-up: one store read per new statement was a tenth of a write's inference.
"""

from __future__ import annotations

import re
from typing import Final

from pyoxigraph import Literal

_XSD: Final = "http://www.w3.org/2001/XMLSchema#"
_STRINGS: Final = frozenset({_XSD + "string",
                             "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"})
# spellings that are canonical as they stand; other spellings of these types may not be
_CANONICAL: Final = {
    _XSD + "integer": re.compile(r"-?[1-9][0-9]*|0"),
    _XSD + "boolean": re.compile(r"true|false"),
    _XSD + "dateTime": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                  r"(\.[0-9]*[1-9])?Z"),
}


def spelled_as_stored(term: object) -> bool:
    """True when the store reads ``term`` back exactly as given: anything but a typed literal,
    a string, or a typed literal already in canonical form."""
    if not isinstance(term, Literal) or term.language:
        return True
    datatype = term.datatype.value
    if datatype in _STRINGS:
        return True
    pattern = _CANONICAL.get(datatype)
    return pattern is not None and pattern.fullmatch(term.value) is not None
