"""The schema of the current vocabulary, and running a request against it.

Strawberry builds the static types once per vocabulary; custom attributes are added as typed
fields (custom_fields.py). ``Catalog.vocabulary`` is replaced whenever an attribute or the
ontology changes, so comparing it by identity finds a change at the cost of one ``is``;
the rebuild (tens of milliseconds) happens on the next request, in any process serving the
catalog, with no restart."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError, get_operation_ast, parse
from graphql.language import OperationType
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from catalog import Catalog
from catalog.jsonld import Vocabulary
from graphql_api.context import Context
from graphql_api.custom_fields import add_custom_attributes
from graphql_api.errors import format_error
from graphql_api.limits import Limits
from graphql_api.operations import Mutation, Query

MAX_TOKENS = 5_000  # a query's tokens: a parser's work is bounded before any limit is checked
MAX_ALIASES = 50


@dataclass(frozen=True)
class Response:
    """A GraphQL response body and the HTTP status that fits it."""
    body: dict[str, Any]
    status: int


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        """Only what is a bug is logged with its traceback (errors.py); a not-found or a
        refused write is the caller's answer, not the server's problem."""


def build_schema(vocabulary: Vocabulary) -> strawberry.Schema:
    # strawberry's parser and validation caches, shared across requests: a client repeating
    # its query (a page, the next page) skips 10 ms of validation each time. Tokens and aliases
    # are limited by GraphQL.execute (its parse, limits.py): strawberry's limiters would add a
    # new validation rule to every request, which no cache would then find again.
    schema = _Schema(query=Query, mutation=Mutation, extensions=[
        lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)])
    add_custom_attributes(schema._schema, vocabulary)
    return schema


class GraphQL:
    """Runs GraphQL requests against ``catalog``, with the schema of its vocabulary now."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._built: tuple[Vocabulary, strawberry.Schema] | None = None
        self.limits = Limits(catalog.settings.graphql_max_depth, catalog.settings.graphql_max_cost,
                             max_aliases=MAX_ALIASES)

    def schema(self) -> strawberry.Schema:
        vocabulary = self.catalog.vocabulary
        built = self._built
        if built is None or built[0] is not vocabulary:
            with self._lock:
                built = self._built
                if built is None or built[0] is not vocabulary:
                    built = self._built = (vocabulary, build_schema(vocabulary))
        return built[1]

    async def execute(self, query: str, *, context: Context,
                      variables: dict[str, Any] | None = None, operation: str | None = None,
                      read_only: bool = False) -> Response:
        """One request; ``read_only`` (a GET) refuses mutations."""
        schema = self.schema()
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as e:
            return Response({"errors": [format_error(e)]}, 400)
        chosen = get_operation_ast(document, operation)
        if read_only and chosen is not None and chosen.operation != OperationType.QUERY:
            return Response({"errors": [{"message": "mutations are sent with POST", "extensions": {
                "code": "method-not-allowed", "status": 405}}]}, 405)
        refused = self.limits.check(schema._schema, document, operation, variables)
        if refused:
            return Response({"errors": [format_error(e) for e in refused]}, 400)
        result = await schema.execute(
            query, variable_values=variables, context_value=context, operation_name=operation)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        # errors with a path happened while running: data is there, null where they struck;
        # errors without one refused the request before it ran (GraphQL over HTTP: 400)
        ran = result.data is not None or not result.errors or any(
            e.path is not None for e in result.errors)
        if ran:
            body["data"] = result.data
        return Response(body, 200 if ran else 400)
