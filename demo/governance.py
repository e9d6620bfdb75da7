"""The demo's governance beyond its assets: which classifications propagate along lineage,
which tags schemas pass down to their tables, and two example classification rules."""

from __future__ import annotations

from typing import Any

Asset = dict[str, Any]

INHERITABLE_TAGS = ("finance", "marketing", "raw", "staging", "mart", "experimental")


def demo_governance(id_base: str) -> str:
    """A SPARQL update flagging the demo's vocabulary for ``reasoning.propagation``: sensitivity
    levels are judged per table, so they do not propagate along lineage (PII does, the
    default); domain and layer tags of a schema apply to its tables."""
    tags = " ".join(f"<{id_base}tag/{t}> semcat:inheritable true ." for t in INHERITABLE_TAGS)
    return (f"PREFIX semcat: <https://w3id.org/semcat#>\n"
            f"INSERT DATA {{ <{id_base}classification/sensitivity> semcat:propagates false . "
            f"{tags} }}")


def demo_rules() -> list[Asset]:
    """Two example classification rules, as REST bodies of /api/v1/rules."""
    return [
        {"id": "rule/email-columns", "name": "E-mail columns",
         "description": "A text column whose name says e-mail holds e-mail addresses.",
         "construct": "CONSTRUCT { ?this semcat:classification <classification/pii/email> }\n"
                      "WHERE { ?this a semcat:Column ; semcat:name ?name ; "
                      "semcat:dataType ?type .\n"
                      '  FILTER(REGEX(?name, "(^|_)e_?mail($|_)", "i") && '
                      'REGEX(?type, "CHAR|TEXT|STRING", "i")) }'},
        {"id": "rule/customer-address-term", "name": "Customer address columns",
         "description": "A column linked to the glossary term Customer Address is PII.Address.",
         "construct": "CONSTRUCT { ?this semcat:classification <classification/pii/address> }\n"
                      "WHERE { ?this a semcat:Column ; semcat:glossaryTerm ?term .\n"
                      '  ?term semcat:name "Customer Address" }'},
    ]
