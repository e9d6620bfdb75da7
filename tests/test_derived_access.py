"""Derived classifications protect like asserted ones (issue 10, items 3, 8 and 13): whatever
makes an asset PII or Restricted (a rule, lineage, its container) decides its partition in the
changeset that makes it so, and containers carry a derived, explained "contains PII"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import NamedNode

from access.identity import Principal
from catalog import Catalog, Settings
from graph_store.errors import NotFound
from search.model import SearchRequest
from tests.access_scenario import CUSTOMERS, EMAIL, PAYROLL, assets, directory, policies

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
BOB = Principal("user/bob", "api-key")  # an acme reader and a contractor: no PII for him
ALICE = Principal("alice@example.org", "oidc", groups=frozenset({"finance"}),
                  grants=(("acme", "viewer"),))
CONTAINS = "classification/contains-pii"
RULE = {"id": "rule/emails", "name": "E-mail columns",
        "construct": "CONSTRUCT { ?this semcat:classification <classification/pii/email> } "
                     "WHERE { ?this a semcat:Column ; semcat:name ?n . "
                     "FILTER(REGEX(?n, \"e_?mail\", \"i\")) }"}


def column(table: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Column", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": f"db.s.{table}.{name}", "name": name, "dataType": "TEXT",
            "partOf": f"acme/table/pg/db.s.{table}", "description": name, **extra}


def table(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Table", "workspace": "acme", "platform": "platform/pg",
            "qualifiedName": f"db.s.{name}", "name": name, "description": name,
            "partOf": "acme/schema/pg/db.s", **extra}


def key(table_name: str, name: str | None = None) -> str:
    return f"acme/column/pg/db.s.{table_name}.{name}" if name else \
        f"acme/table/pg/db.s.{table_name}"


@pytest.fixture
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        c.assets.upsert_many([*directory(), {
            "id": CONTAINS, "type": "Classification", "name": "Contains PII",
            "partOf": "classification/pii"}], actor="admin")
        c.assets.upsert_many(assets(), actor="admin")
        c.assets.upsert_many(policies(), actor="admin")
        c.assets.upsert_many([table("orders"), column("orders", "id"),
                              column("orders", "note")], actor="admin")
        yield c


def partition(cat: Catalog, k: str) -> str:
    """The asset's home graph (where its type statement is), after {base}/graph/."""
    [q] = list(cat.store.quads(NamedNode(f"{BASE}/id/{k}"), NamedNode(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), None, None))
    return q.graph_name.value.removeprefix(f"{BASE}/graph/")  # type: ignore[union-attr]


def hidden_from_bob(cat: Catalog, k: str) -> bool:
    with cat.access.acting_as(BOB):
        try:
            cat.assets.get(k)
        except NotFound:
            rows = cat.sparql.query(f"SELECT * WHERE {{ <{BASE}/id/{k}> ?p ?o }}").rows()
            return not rows
    return False


def test_a_rule_that_makes_columns_pii_moves_them_in_its_own_changeset(cat: Catalog) -> None:
    cat.assets.upsert(column("orders", "buyer_email"), actor="admin")
    assert partition(cat, key("orders", "buyer_email")) == "acme/general"
    seq = cat.journal.applied_seq
    cat.rules.create(RULE, actor="admin")
    assert cat.journal.applied_seq == seq + 1
    assert partition(cat, key("orders", "buyer_email")) == "acme/classification%2Fpii"
    assert hidden_from_bob(cat, key("orders", "buyer_email"))
    # a column the rule matches is PII from the write that creates it
    cat.assets.upsert(column("orders", "e_mail"), actor="admin")
    assert partition(cat, key("orders", "e_mail")) == "acme/classification%2Fpii"
    assert hidden_from_bob(cat, key("orders", "e_mail"))
    cat.rules.delete("rule/emails", actor="admin")  # and back when the rule goes
    assert partition(cat, key("orders", "buyer_email")) == "acme/general"
    assert not hidden_from_bob(cat, key("orders", "buyer_email"))


def test_pii_along_lineage_protects_from_the_first_write(cat: Catalog) -> None:
    cat.assets.upsert(column("orders", "contact", derivedFrom=[EMAIL]), actor="admin")
    assert partition(cat, key("orders", "contact")) == "acme/classification%2Fpii"
    assert hidden_from_bob(cat, key("orders", "contact"))


def test_an_upstream_column_turning_pii_moves_everything_downstream_at_once(
        cat: Catalog) -> None:
    cat.assets.upsert_many([table("mart"), column("mart", "note", derivedFrom=[
        key("orders", "note")]), column("mart", "note2", derivedFrom=[key("mart", "note")])],
        actor="admin")
    downstream = (key("orders", "note"), key("mart", "note"), key("mart", "note2"))
    assert {partition(cat, k) for k in downstream} == {"acme/general"}
    seq = cat.journal.applied_seq
    cat.assets.patch(key("orders", "note"), {"classifications": ["classification/pii/email"]},
                     actor="admin")
    assert cat.journal.applied_seq == seq + 1
    assert {partition(cat, k) for k in downstream} == {"acme/classification%2Fpii"}
    assert all(hidden_from_bob(cat, k) for k in downstream)
    cat.assets.patch(key("orders", "note"), {"classifications": None}, actor="admin")
    assert {partition(cat, k) for k in downstream} == {"acme/general"}


def test_restricted_hides_what_it_contains(cat: Catalog) -> None:
    cat.assets.upsert(column("payroll", "salary", dataType="NUMERIC"), actor="admin")
    restricted = "acme/classification%2Fsensitivity%2Frestricted~team%2Ffinance"
    assert partition(cat, key("payroll", "salary")) == restricted
    assert hidden_from_bob(cat, key("payroll", "salary"))
    with cat.access.acting_as(ALICE):  # the owning team reads it
        assert cat.assets.get(key("payroll", "salary"))["name"] == "salary"
    with cat.access.acting_as(BOB):
        assert "salary" not in str(cat.search.suggest("sal", readable=cat.access.readable()))
    # a table restricted later takes its columns with it, in the same changeset
    seq = cat.journal.applied_seq
    cat.assets.patch(key("orders"), {
        "classifications": ["classification/sensitivity/restricted"], "owners": ["team/finance"]},
        actor="admin")
    assert cat.journal.applied_seq == seq + 1
    assert {partition(cat, key("orders", c)) for c in ("id", "note")} == {restricted}
    assert hidden_from_bob(cat, key("orders", "id"))


def test_containers_carry_a_derived_and_explained_contains_pii(cat: Catalog) -> None:
    cat.assets.upsert({"type": "Dashboard", "workspace": "acme", "platform": "platform/pg",
                       "qualifiedName": "customers-board", "name": "Customers board",
                       "consumes": [CUSTOMERS]}, actor="admin")
    board = "acme/dashboard/pg/customers-board"
    for k in (CUSTOMERS, "acme/schema/pg/db.s", "acme/database/pg/db", board):
        inferred = cat.assets.get(k, infer=True).get("inferred", {})
        assert CONTAINS in inferred.get("classifications", []), k
    assert CONTAINS not in cat.assets.get(key("orders"), infer=True).get(
        "inferred", {}).get("classifications", [])
    [why] = cat.explain(CUSTOMERS, "semcat:classification", CONTAINS)
    assert "roll-up" in why.rule and EMAIL.rsplit(".", 1)[-1] in str(why.to_json())
    # it follows the data: no PII column left, no roll-up
    cat.assets.patch(EMAIL, {"classifications": None}, actor="admin")
    assert CONTAINS not in cat.assets.get(CUSTOMERS, infer=True).get("inferred", {}).get(
        "classifications", [])
    cat.assets.patch(key("orders", "note"), {"classifications": ["classification/pii/email"]},
                     actor="admin")
    assert CONTAINS in cat.assets.get(key("orders"), infer=True)["inferred"]["classifications"]


def test_pii_tables_are_found_by_search(cat: Catalog) -> None:
    cat.search.wait(vectors=False)
    result = cat.search.run(SearchRequest(q="", filters={"classification": (CONTAINS,)},
                                          mode="keyword"))
    found = {h["id"] for h in result.to_json()["hits"]}
    assert {CUSTOMERS, "acme/schema/pg/db.s"} <= found and key("orders") not in found
    nl = cat.search.run(SearchRequest(q="PII tables", nl=True, mode="keyword"))
    assert CUSTOMERS in {h["id"] for h in nl.to_json()["hits"]}


def test_a_policy_on_contains_pii_hides_the_containers_and_their_parts(cat: Catalog) -> None:
    cat.assets.upsert_many([
        {"type": "Database", "workspace": "acme", "platform": "platform/pg",
         "qualifiedName": "other", "name": "other", "description": "no PII here"},
        {"type": "Schema", "workspace": "acme", "platform": "platform/pg", "description": "s",
         "qualifiedName": "other.s", "name": "s", "partOf": "acme/database/pg/other"},
        {**table("t"), "qualifiedName": "other.s.t", "partOf": "acme/schema/pg/other.s"}],
        actor="admin")
    seq = cat.journal.applied_seq
    cat.assets.upsert({"id": "policy/no-pii-tables", "type": "AccessPolicy",
                       "name": "Contractors see no tables holding PII", "effect": "deny",
                       "action": "read", "targetClassification": CONTAINS,
                       "callerMemberOf": "team/contractors"}, actor="admin")
    assert cat.journal.applied_seq == seq + 1
    # the containers holding PII, with everything they contain (the database db holds PII,
    # so all of it): what hides a container hides its parts
    for k in (CUSTOMERS, "acme/column/pg/db.s.customers.email_hash", "acme/schema/pg/db.s",
              "acme/database/pg/db", key("orders"), key("orders", "id")):
        assert hidden_from_bob(cat, k), k
    for k in ("acme/database/pg/other", "acme/table/pg/other.s.t"):
        assert not hidden_from_bob(cat, k), k
    cat.assets.delete("policy/no-pii-tables", actor="admin")
    assert not hidden_from_bob(cat, key("orders")) and hidden_from_bob(cat, PAYROLL)


def test_the_roll_up_follows_tables_added_to_a_large_schema(cat: Catalog) -> None:
    """A container is re-judged from the parts that changed, not read part by part on every
    write: it must still gain and lose contains-pii exactly."""
    s = {"type": "Schema", "workspace": "acme", "platform": "platform/pg", "description": "s",
         "qualifiedName": "db.big", "name": "big", "partOf": "acme/database/pg/db"}
    tables = [{**table(f"t{i}"), "qualifiedName": f"db.big.t{i}", "partOf": "acme/schema/pg/db.big"}
              for i in range(20)]
    cat.assets.upsert_many([s, *tables], actor="admin")

    def rolled(k: str) -> bool:
        return CONTAINS in cat.assets.get(k, infer=True).get("inferred", {}).get(
            "classifications", [])

    big = "acme/schema/pg/db.big"
    assert not rolled(big)
    pii = {**column("t3", "ssn"), "qualifiedName": "db.big.t3.ssn",
           "partOf": "acme/table/pg/db.big.t3", "classifications": ["classification/pii/email"]}
    cat.assets.upsert(pii, actor="admin")
    assert rolled("acme/table/pg/db.big.t3") and rolled(big)
    cat.assets.upsert_many([{**table("t20"), "qualifiedName": "db.big.t20",
                             "partOf": "acme/schema/pg/db.big"}], actor="admin")
    assert rolled(big) and not rolled("acme/table/pg/db.big.t20")
    cat.assets.patch("acme/column/pg/db.big.t3.ssn", {"classifications": None}, actor="admin")
    assert not rolled("acme/table/pg/db.big.t3") and not rolled(big)
