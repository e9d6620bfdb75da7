"""GraphQL at /graphql: a typed view of the Catalog facade, generated from the ontology and shapes."""

from graphql_api.http import mount
from graphql_api.schema import GraphQL

__all__ = ["GraphQL", "mount"]
