"""The semcat ontology (OWL 2, aligned to DCAT 3, PROV-O, SKOS, DCTERMS, ORG/FOAF)."""

from __future__ import annotations

from importlib.resources import files

from ontology.namespaces import PREFIXES, SEMCAT, term

__all__ = ["PREFIXES", "SEMCAT", "ontology_turtle", "term"]


def ontology_turtle() -> bytes:
    """The shipped ontology document, read as package data."""
    return files("ontology").joinpath("semcat.ttl").read_bytes()
