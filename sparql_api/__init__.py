"""The web layer: SPARQL protocol, Graph Store protocol and the JSON-LD REST API."""

from sparql_api.app import create_app

__all__ = ["create_app"]
