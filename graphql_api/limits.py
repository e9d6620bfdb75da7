"""How much a query may ask for, checked before it runs: its depth, and an estimate of its cost
where each field counts 1, times the page sizes (``limit``) of the lists around it, so a page of
500 assets each with 500 lineage nodes is refused where 50 with their owners is not.
Introspection (``__schema``, ``__type``) is not counted: the schema bounds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

UNPAGED_LIST = 10  # what a list without a limit (owners, tags, history) is taken to hold


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_cost: int
    max_aliases: int = 50

    def check(self, schema: GraphQLSchema, document: DocumentNode, operation: str | None,
              variables: dict[str, Any] | None) -> list[GraphQLError]:
        """Errors for each operation (or the one named) that goes too deep or costs too much."""
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        errors = []
        for op in document.definitions:
            if not isinstance(op, OperationDefinitionNode) or (
                    operation is not None and (op.name is None or op.name.value != operation)):
                continue
            root = schema.get_root_type(op.operation)
            if root is None:
                continue
            walk = _Walk(fragments, variables or {})
            cost = walk.cost(op.selection_set, root, 1)
            name = op.name.value if op.name else "the query"
            if walk.depth > self.max_depth:
                errors.append(GraphQLError(
                    f"{name} nests {walk.depth} levels deep; the limit is {self.max_depth} "
                    "(SEMCAT_GRAPHQL_MAX_DEPTH): ask for fewer nested fields",
                    extensions={"code": "query-too-deep", "status": 400}))
            if walk.aliases > self.max_aliases:
                errors.append(GraphQLError(
                    f"{name} uses {walk.aliases} aliases; the limit is {self.max_aliases}",
                    extensions={"code": "query-too-costly", "status": 400}))
            if cost > self.max_cost:
                errors.append(GraphQLError(
                    f"{name} may cost {cost:,}, over the limit of {self.max_cost:,} "
                    "(SEMCAT_GRAPHQL_MAX_COST): ask for smaller pages (limit) or fewer fields",
                    extensions={"code": "query-too-costly", "status": 400}))
        return errors


class _Walk:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables
        self.depth = 0
        self.aliases = 0
        self._seen: set[str] = set()

    def cost(self, selections: SelectionSetNode | None, parent: Any, level: int,
             page: int | None = None) -> int:
        """``page``: the limit of a field above that returns a page object (``assets``), taken
        by the first list inside it (``items``)."""
        if selections is None:
            return 0
        self.depth = max(self.depth, level)
        total = 0
        for sel in selections.selections:
            if isinstance(sel, FieldNode):
                total += self._field(sel, parent, level, page)
            elif isinstance(sel, InlineFragmentNode):
                total += self.cost(sel.selection_set, parent, level, page)
            elif isinstance(sel, FragmentSpreadNode):
                fragment = self.fragments.get(sel.name.value)
                if fragment is not None and sel.name.value not in self._seen:
                    self._seen.add(sel.name.value)  # a cycle is refused by validation anyway
                    total += self.cost(fragment.selection_set, parent, level, page)
                    self._seen.discard(sel.name.value)
        return total

    def _field(self, node: FieldNode, parent: Any, level: int, page: int | None) -> int:
        self.aliases += node.alias is not None
        if node.selection_set is None or node.name.value.startswith("__"):
            return 1  # introspection (GraphiQL's nests 15 deep) is bounded by the schema
        field = parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) \
            else None
        if field is None:  # unknown fields are validation's to refuse
            return 1 + self.cost(node.selection_set, None, level + 1)
        child = get_named_type(field.type)
        limit = self._limit(node, field)
        if is_list_type(get_nullable_type(field.type)):
            size = limit or page or UNPAGED_LIST
            return 1 + size * self.cost(node.selection_set, child, level + 1)
        return 1 + self.cost(node.selection_set, child, level + 1, limit)

    def _limit(self, node: FieldNode, field: Any) -> int | None:
        """The page size the field is asked for: its limit argument, given or default."""
        if "limit" not in field.args:
            return None
        for arg in node.arguments or ():
            if arg.name.value == "limit":
                value = arg.value
                if isinstance(value, IntValueNode):
                    return max(1, int(value.value))
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    return max(1, given) if isinstance(given, int) else None
        default = field.args["limit"].default_value
        return default if isinstance(default, int) else None
