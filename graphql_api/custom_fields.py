"""Custom attributes as typed GraphQL fields, read from the vocabulary when the schema is built.

A governance team defines ``costCenter`` (a string, say) through /api/v1/attributes; the next
request finds a new vocabulary and gets a schema whose ``Asset`` has ``costCenter: String`` and
whose ``CustomAttributesInput`` takes it, typed, in ``upsertAsset`` and ``updateAsset``; a
reference attribute ``steward`` also gets ``stewardAsset``, the asset its id names. The
static types come from strawberry; these fields are added to the GraphQL types it built, so
introspection, validation and execution all see them."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
)

from catalog.jsonld import BOOLEAN, DECIMAL, ID, INTEGER, Term, Vocabulary
from graphql_api.asset_types import assets_of

log = logging.getLogger(__name__)
INPUT = "CustomAttributesInput"
_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_SCALARS: dict[str, GraphQLScalarType] = {INTEGER: GraphQLInt, DECIMAL: GraphQLFloat,
                                          BOOLEAN: GraphQLBoolean}
_INT32 = 2**31


def _value(term: Term, value: Any) -> Any:
    """A compacted JSON-LD value as the field's scalar (None where it does not fit)."""
    if isinstance(value, dict):
        value = value.get("@value", value.get("@id"))
    if value is None:
        return None
    try:
        if term.kind == INTEGER:
            number = int(value)
            return number if -_INT32 <= number < _INT32 else None
        if term.kind == DECIMAL:
            return float(value)
        if term.kind == BOOLEAN:
            return value if isinstance(value, bool) else str(value) == "true"
    except (TypeError, ValueError):
        return None
    return str(value)


def _resolver(term: Term) -> Callable[..., Any]:
    def resolve(asset: Any, _info: Any) -> Any:
        found = asset.doc.get(term.key)
        if term.many:
            values = found if isinstance(found, list) else [] if found is None else [found]
            return [v for v in (_value(term, x) for x in values) if v is not None]
        return _value(term, found[0] if isinstance(found, list) and found else found)
    return resolve


def _assets_resolver(term: Term) -> Callable[..., Any]:
    """The catalog assets a reference attribute names, as ``Asset``s the caller may read
    (batched like ``owners``; a hidden or unknown one is left out)."""
    async def resolve(asset: Any, info: Any) -> Any:
        found = asset.doc.get(term.key)
        keys = [v.get("@id") if isinstance(v, dict) else v
                for v in (found if isinstance(found, list) else [] if found is None else [found])]
        assets = await assets_of(info, keys)
        return assets if term.many else (assets[0] if assets else None)
    return resolve


def _description(term: Term) -> str:
    return f"Custom attribute {term.key} ({term.kind}{', many' if term.many else ''}): {term.iri}"


def add_custom_attributes(schema: GraphQLSchema, vocabulary: Vocabulary) -> list[str]:
    """Add every custom attribute of ``vocabulary`` to ``Asset`` (output) and to
    ``CustomAttributesInput`` (the typed ``attributes`` argument of the asset mutations).
    Returns the names added; a name the schema already uses is left to ``attributes``."""
    asset = schema.type_map["Asset"]
    assert isinstance(asset, GraphQLObjectType)
    terms = [t for t in vocabulary.custom if _NAME.match(t.key) and t.key not in asset.fields]
    for t in vocabulary.custom:
        if t not in terms:
            log.info("custom attribute %s has no field of its own in GraphQL (its name is "
                     "taken or not a GraphQL name); it is under attributes", t.key)
    if not terms:
        return []
    inputs: dict[str, GraphQLInputField] = {}
    for t in terms:
        scalar = _SCALARS.get(t.kind, GraphQLString)
        asset.fields[t.key] = GraphQLField(
            GraphQLList(GraphQLNonNull(scalar)) if t.many else scalar,
            resolve=_resolver(t), description=_description(t))
        linked = f"{t.key}Assets" if t.many else f"{t.key}Asset"
        if t.kind == ID and linked not in asset.fields:  # the ids as the assets they name
            asset.fields[linked] = GraphQLField(
                GraphQLNonNull(GraphQLList(GraphQLNonNull(asset))) if t.many else asset,
                resolve=_assets_resolver(t),
                description=f"The catalog assets {t.key} names that you may read")
        inputs[t.key] = GraphQLInputField(GraphQLList(GraphQLNonNull(scalar)) if t.many
                                          else scalar, description=_description(t))
    typed = GraphQLInputObjectType(INPUT, inputs, description="Values of custom attributes, "
                                   "typed from their definitions (null removes one)")
    schema.type_map[INPUT] = typed
    mutation = schema.mutation_type
    assert mutation is not None
    for name in ("upsertAsset", "updateAsset"):
        old = mutation.fields[name].args["attributes"]
        mutation.fields[name].args["attributes"] = GraphQLArgument(
            typed, description=old.description, out_name=old.out_name)
    return [t.key for t in terms]
