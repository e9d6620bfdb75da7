"""semcat: a graph-native knowledge catalog. The public Python API."""

from catalog import Catalog, Settings
from graph_store.errors import (
    BackendError,
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    PreconditionFailed,
    QuerySyntaxError,
    QueryTimeout,
    SemcatError,
    Unauthenticated,
    ValidationFailed,
)

__all__ = [
    "BackendError", "Catalog", "Conflict", "Forbidden", "InputError", "NotFound",
    "PreconditionFailed", "QuerySyntaxError", "QueryTimeout", "SemcatError", "Settings",
    "Unauthenticated", "ValidationFailed",
]
