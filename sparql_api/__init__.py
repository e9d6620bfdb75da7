"""The web layer: SPARQL protocol, Graph Store protocol and the JSON-LD REST API.

``create_app`` is imported on first use, so that the CLI, which borrows a request model from
the routes, does not import the whole application with them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sparql_api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from sparql_api.app import create_app

        return create_app
    raise AttributeError(f"module 'sparql_api' has no attribute {name!r}")
