"""Access control in the Catalog facade: partitions, RBAC per workspace, ABAC policies, reads
that never reveal hidden assets and writes that are refused whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyoxigraph import NamedNode

from access.identity import Principal
from catalog import Catalog, Settings
from graph_store.errors import Conflict, Forbidden, InputError, NotFound
from tests.access_scenario import (
    CUSTOMERS,
    EMAIL,
    EXPERIMENTS,
    HASH,
    PAYROLL,
    assets,
    load,
    policies,
)

BASE = "http://127.0.0.1:8000"
SC = "https://w3id.org/semcat#"
ALICE = Principal("alice@example.org", "oidc", groups=frozenset({"finance"}),
                  grants=(("acme", "viewer"),))
BOB = Principal("user/bob", "api-key")                       # acme reader through his role
CAROL = Principal("user/carol", "api-key", grants=(("research", "editor"),))
DAVE = Principal("user/dave", "api-key")                     # no role anywhere


@pytest.fixture(scope="module")
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        load(c)
        yield c


def keys(c: Catalog, sparql: str) -> set[str]:
    return {v.value.removeprefix(f"{BASE}/id/") for r in c.sparql.query(sparql).rows()
            for v in r.values()}


def graph_of(c: Catalog, key: str) -> set[str]:
    return {q.graph_name.value.removeprefix(f"{BASE}/graph/")  # type: ignore[union-attr]
            for q in c.store.quads(NamedNode(f"{BASE}/id/{key}"), None, None, None)}


def test_assets_live_in_the_partition_their_classifications_call_for(cat: Catalog) -> None:
    assert graph_of(cat, EMAIL) == {"acme/classification%2Fpii",  # partOf a general table
                                    "acme/classification%2Fpii%7Cacme%7Cgeneral"}
    assert graph_of(cat, PAYROLL) == {
        "acme/classification%2Fsensitivity%2Frestricted~team%2Ffinance",
        "acme/classification%2Fsensitivity%2Frestricted~team%2Ffinance%7Cacme%7Cgeneral"}
    # the hash column's lineage edge names a PII column: it sits in the link graph
    assert "acme/general%7Cacme%7Cclassification%2Fpii" in graph_of(cat, HASH)


def test_a_reader_sees_nothing_of_hidden_assets(cat: Catalog) -> None:
    with cat.access.acting_as(BOB):
        listed = {i["id"] for i in cat.assets.page(limit=500).items}
        assert CUSTOMERS in listed and HASH in listed
        assert not listed & {EMAIL, PAYROLL, EXPERIMENTS}
        for hidden in (EMAIL, PAYROLL, EXPERIMENTS):
            with pytest.raises(NotFound):
                cat.assets.get(hidden)
            with pytest.raises(NotFound):
                cat.assets.versions(hidden)
        assert "derivedFrom" not in cat.assets.get(HASH)  # lineage does not name the PII column
        everything = keys(cat, "SELECT DISTINCT ?s WHERE { ?s ?p ?o }")
        assert not everything & {EMAIL, PAYROLL, EXPERIMENTS}
        assert keys(cat, f"SELECT ?x WHERE {{ ?c <{SC}derivedFrom>+ ?x }}") == set()
        graphs = keys(cat, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert not any("pii" in g or "restricted" in g or "research" in g for g in graphs)
        hidden_graph = f"{BASE}/graph/acme/classification%2Fpii"
        assert keys(cat, f"SELECT ?s FROM <{hidden_graph}> WHERE {{ ?s ?p ?o }}") == set()
        assert keys(cat, f"SELECT ?s FROM NAMED <{hidden_graph}> WHERE {{ GRAPH ?g "
                         "{ ?s ?p ?o } }") == set()
        rows = cat.sparql.query("SELECT ?s WHERE { ?s ?p ?o }",
                                default_graph_uris=[hidden_graph]).rows()
        assert list(rows) == []
        count = cat.sparql.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c a <{SC}Column> }}")
        assert [r["n"].value for r in count.rows()] == ["1"]  # email_hash only


def test_owners_read_restricted_assets_and_roles_are_per_workspace(cat: Catalog) -> None:
    with cat.access.acting_as(ALICE) as caller:
        assert caller.user == f"{BASE}/id/user/alice" and f"{BASE}/id/team/finance" in \
            caller.teams
        assert cat.assets.get(PAYROLL)["name"] == "payroll"
        assert cat.assets.get(HASH)["derivedFrom"] == [EMAIL]
        with pytest.raises(NotFound):
            cat.assets.get(EXPERIMENTS)
    with cat.access.acting_as(DAVE):
        assert not {i["id"] for i in cat.assets.page(limit=500).items} & {
            CUSTOMERS, HASH, EMAIL, PAYROLL, EXPERIMENTS}
    with cat.access.acting_as(CAROL):
        assert cat.assets.get(EXPERIMENTS)["name"] == "experiments"
        with pytest.raises(NotFound):
            cat.assets.get(CUSTOMERS)


def test_sharing_a_workspace_opens_it_to_the_other_workspaces_readers(cat: Catalog) -> None:
    cat.assets.patch("acme", {"sharedWith": ["research"]}, actor="admin")
    try:
        with cat.access.acting_as(CAROL):
            assert cat.assets.get(CUSTOMERS)["name"] == "customers"
            assert cat.assets.get(EMAIL)["name"] == "email"   # no policy denies the lab PII
            with pytest.raises(NotFound):
                cat.assets.get(PAYROLL)                          # deny beats the share
    finally:
        cat.assets.patch("acme", {"sharedWith": None}, actor="admin")
    with cat.access.acting_as(CAROL), pytest.raises(NotFound):
        cat.assets.get(CUSTOMERS)


def test_writes_without_rights_change_nothing(cat: Catalog) -> None:
    seq = cat.journal.applied_seq
    attempts = [
        (BOB, lambda: cat.assets.patch(CUSTOMERS, {"description": "x"}, actor="bob")),
        (DAVE, lambda: cat.sparql.update(
            f"INSERT DATA {{ GRAPH <{BASE}/graph/acme/general> {{ <{BASE}/id/{CUSTOMERS}> "
            f"<{SC}description> 'y' }} }}", actor="dave")),
        (CAROL, lambda: cat.assets.upsert_many(
            [{**assets()[8], "description": "ok"}, {**assets()[2], "description": "no"}],
            actor="carol")),
        (CAROL, lambda: cat.assets.delete(EXPERIMENTS, actor="carol")),   # editors may not delete
        (BOB, lambda: cat.assets.upsert(
            {**policies()[1], "effect": "allow"}, actor="bob")),        # needs manage-access
        (CAROL, lambda: cat.sparql.update(
            f"INSERT DATA {{ GRAPH <{BASE}/graph/ontology> {{ <urn:x> a <urn:y> }} }}",
            actor="carol")),
    ]
    for who, attempt in attempts:
        with cat.access.acting_as(who), pytest.raises(Forbidden):
            attempt()
    assert cat.journal.applied_seq == seq
    with cat.access.acting_as(CAROL):
        result = cat.assets.patch(EXPERIMENTS, {"description": "edited by carol"}, actor="carol")
    assert result.status == "updated"
    assert cat.assets.get(EXPERIMENTS)["updatedBy"] == "user/carol"


def test_an_update_reads_no_graph_its_caller_may_not(cat: Catalog) -> None:
    """GRAPH, USING and WITH name hidden graphs as empty ones: nothing of them comes back in
    what the update would write, nor in the refusal that quotes it."""
    payroll = graph_of(cat, PAYROLL)
    hidden = next(g for g in payroll if "%7C" not in g)
    leak = (f"BIND(IRI(CONCAT('{BASE}/id/acme/x/', ENCODE_FOR_URI(?n))) AS ?leak)")
    texts = [f"INSERT {{ ?leak <urn:p> 'x' }} USING <{BASE}/graph/{hidden}> WHERE {{ "
             f"<{BASE}/id/{PAYROLL}> <{SC}name> ?n {leak} }}",
             f"INSERT {{ ?leak <urn:p> 'x' }} WHERE {{ GRAPH <{BASE}/graph/{hidden}> {{ "
             f"<{BASE}/id/{PAYROLL}> <{SC}name> ?n }} {leak} }}",
             f"WITH <{BASE}/graph/{hidden}> INSERT {{ ?leak <urn:p> 'x' }} WHERE {{ "
             f"<{BASE}/id/{PAYROLL}> <{SC}name> ?n {leak} }}"]
    seq = cat.journal.applied_seq
    with cat.access.acting_as(BOB):
        for text in texts:
            assert cat.sparql.update(text, actor="bob") is None  # the WHERE matched nothing
    # finance owns payroll: the same update reads it (and is refused: alice only views acme)
    with cat.access.acting_as(ALICE), pytest.raises(Forbidden, match="payroll"):
        cat.sparql.update(texts[0], actor="alice")
    assert cat.journal.applied_seq == seq


def test_refused_writes_leave_routing_and_give_no_existence_oracle(cat: Catalog) -> None:
    seq = cat.journal.applied_seq
    with cat.access.acting_as(BOB):
        with pytest.raises(Forbidden):  # removing every policy target: refused
            cat.sparql.update(f"DELETE WHERE {{ ?s <{SC}targetClassification> ?o }}",
                              actor="bob")
        # inserting what a hidden asset already says is refused like anything else
        for name in ("payroll", "not its name"):
            with pytest.raises(Forbidden):
                cat.sparql.update(f"INSERT DATA {{ <{BASE}/id/{PAYROLL}> <{SC}name> "
                                  f"'{name}' }}", actor="bob")
    assert cat.journal.applied_seq == seq
    cat.assets.patch(PAYROLL, {"description": "a routine edit"}, actor="admin")
    assert not any(g.startswith("acme/general") for g in graph_of(cat, PAYROLL))
    with cat.access.acting_as(BOB), pytest.raises(NotFound):
        cat.assets.get(PAYROLL)


def test_explanations_of_hidden_and_absent_assets_read_the_same(cat: Catalog) -> None:
    with cat.access.acting_as(BOB):
        answers = []
        for key in (PAYROLL, "acme/table/pg/db.s.no_such_table"):
            with pytest.raises(NotFound) as e:
                cat.explain(key)
            answers.append(str(e.value).replace(key, "KEY"))
    assert answers[0] == answers[1]


def test_a_lineage_edge_from_a_hidden_asset_is_not_named_in_messages(cat: Catalog) -> None:
    cat.lineage.add_edge(EXPERIMENTS, CUSTOMERS, actor="admin")  # research: hidden from bob
    try:
        with cat.access.acting_as(BOB):
            messages = [v.message for v in cat.assets.versions(CUSTOMERS)]
        assert any(m.startswith("lineage:") for m in messages)
        assert not [m for m in messages if "experiments" in m]
    finally:
        cat.lineage.remove_edge(EXPERIMENTS, CUSTOMERS, actor="admin")


def test_a_graph_store_write_about_a_hidden_asset_is_refused_without_naming_it(
        cat: Catalog) -> None:
    body = f"<{BASE}/id/{PAYROLL}> <{SC}description> 'zz' .".encode()
    with cat.access.acting_as(BOB), pytest.raises(Forbidden) as refused:
        cat.sparql.post_graph(f"{BASE}/graph/acme/general", body, "text/turtle", actor="bob")
    assert "restricted" not in str(refused.value) and "finance" not in str(refused.value)
    with pytest.raises(Conflict, match="access partition"):  # an admin learns where it goes
        cat.sparql.post_graph(f"{BASE}/graph/acme/general", body, "text/turtle", actor="admin")


def test_an_editor_is_not_told_the_partition_of_an_asset_it_cannot_read(cat: Catalog) -> None:
    """Write rights where the statements were sent do not reveal where they belong."""
    body = f"<{BASE}/id/{PAYROLL}> <{SC}description> 'zz' .".encode()
    editor = Principal("user/ed", "api-key", grants=(("acme", "editor"),))  # not in finance
    before = cat.journal.applied_seq
    with cat.access.acting_as(editor), pytest.raises(Forbidden) as refused:
        cat.sparql.post_graph(f"{BASE}/graph/acme/general", body, "text/turtle", actor="user/ed")
    assert "restricted" not in str(refused.value) and "finance" not in str(refused.value)
    assert cat.journal.applied_seq == before


def test_a_write_that_changes_nothing_still_needs_the_right_to_write(cat: Catalog) -> None:
    same = {"description": cat.assets.get(CUSTOMERS).get("description")}
    assert cat.assets.patch(CUSTOMERS, same, actor="admin").status == "unchanged"
    with cat.access.acting_as(BOB), pytest.raises(Forbidden):  # bob only reads acme
        cat.assets.patch(CUSTOMERS, same, actor="bob")
    db = "acme/database/pg/db"
    cat.lineage.add_edge(CUSTOMERS, db, actor="admin")
    try:
        with cat.access.acting_as(BOB), pytest.raises(Forbidden):
            cat.lineage.add_edge(CUSTOMERS, db, actor="bob")  # there already: still refused
    finally:
        cat.lineage.remove_edge(CUSTOMERS, db, actor="admin")


def test_a_new_policy_moves_the_assets_it_tests_in_the_same_changeset(cat: Catalog) -> None:
    cat.assets.upsert({"id": "classification/finance-only", "type": "Classification",
                       "name": "Finance only"}, actor="admin")
    cat.assets.patch(CUSTOMERS, {"classifications": ["classification/finance-only"]},
                     actor="admin")
    assert graph_of(cat, CUSTOMERS) >= {"acme/general"}  # no policy tests it yet
    with cat.access.acting_as(BOB):
        assert cat.assets.get(CUSTOMERS)
    before = cat.journal.applied_seq
    cat.assets.upsert({"id": "policy/finance-only", "type": "AccessPolicy",
                       "name": "Finance only", "effect": "deny", "action": "read",
                       "targetClassification": "classification/finance-only",
                       "exceptOwners": True}, actor="admin")
    assert cat.journal.applied_seq == before + 1
    assert "acme/general" not in graph_of(cat, CUSTOMERS)
    with cat.access.acting_as(BOB), pytest.raises(NotFound):
        cat.assets.get(CUSTOMERS)
    with cat.access.acting_as(ALICE):
        assert cat.assets.get(CUSTOMERS)  # finance owns it
    cat.assets.delete("policy/finance-only", actor="admin")
    assert "acme/general" in graph_of(cat, CUSTOMERS)
    with cat.access.acting_as(BOB):
        assert cat.assets.get(CUSTOMERS)


def test_governance_operations_need_instance_wide_roles(cat: Catalog) -> None:
    for who in (BOB, CAROL):
        with cat.access.acting_as(who):
            with pytest.raises(Forbidden):
                cat.consistency()
            with pytest.raises(Forbidden):
                cat.reason()


def test_oidc_groups_map_to_teams_and_unknown_roles_are_refused(cat: Catalog) -> None:
    zed = Principal("zed@example.org", "oidc", groups=frozenset({"Finance"}),
                    grants=(("acme", "viewer"),))
    with cat.access.acting_as(zed) as caller:
        assert caller.user is None and caller.teams == {f"{BASE}/id/team/finance"}
        assert cat.assets.get(PAYROLL)["name"] == "payroll"   # as a member of the owning team
    with cat.access.acting_as(Principal("zed@example.org", "oidc",
                                        grants=(("acme", "viewer"),))), pytest.raises(NotFound):
        cat.assets.get(PAYROLL)
    cat.access.check_role("acme", "reader")   # the directory's acme/role/reader
    cat.access.check_role("research", "steward")
    with pytest.raises(InputError, match="no role 'editr'"):
        cat.access.check_role("acme", "editr")


def test_governance_edits_need_the_matching_instance_wide_permission(cat: Catalog) -> None:
    from catalog.attributes import AttributeSpec

    spec = AttributeSpec(name="retentionDays", label="Retention", datatype="integer",
                         appliesTo=["Table"])
    local_steward = Principal("user/stew", "api-key", grants=(("acme", "steward"),))
    with cat.access.acting_as(local_steward), pytest.raises(Forbidden):
        cat.attributes.define(spec, actor="stew", create=True)
    steward = Principal("user/stew", "api-key", grants=(("*", "steward"),))
    with cat.access.acting_as(steward):
        cat.attributes.define(spec, actor="stew", create=True)
        with pytest.raises(Forbidden):   # stewards manage attributes, not the ontology
            cat.sparql.update(f"INSERT DATA {{ GRAPH <{BASE}/graph/ontology/custom> {{ "
                              f"<{SC}Lake> a <http://www.w3.org/2002/07/owl#Class> }} }}",
                              actor="stew")
    assert "retentionDays" in cat.assets.vocabulary.by_key


def test_service_is_refused_unless_enabled_and_then_only_for_admins() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Remote(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
                {"x": {"type": "literal", "value": "remote"}}]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    remote = HTTPServer(("127.0.0.1", 0), Remote)
    threading.Thread(target=remote.serve_forever, daemon=True).start()
    query = (f"SELECT ?x WHERE {{ SERVICE <http://127.0.0.1:{remote.server_address[1]}/q> "
             "{ ?s ?p ?x } }")
    try:
        with Catalog.open(Settings(data=None)) as closed, pytest.raises(Forbidden,
                                                                       match="SERVICE"):
            closed.sparql.query(query)
        with Catalog.open(Settings(data=None, allow_outbound=True)) as opened:
            assert [r["x"].value for r in opened.sparql.query(query).rows()] == ["remote"]
            with opened.access.acting_as(CAROL), pytest.raises(Forbidden):
                opened.sparql.query(query)
            with opened.access.acting_as(CAROL), pytest.raises(Forbidden, match="LOAD"):
                opened.sparql.update(f"LOAD <http://127.0.0.1:{remote.server_address[1]}/d>",
                                     actor="carol")
    finally:
        remote.shutdown()


def test_classification_rules_are_for_rule_managers_only(cat: Catalog) -> None:
    rule = {"id": "rule/hash-columns", "name": "Hash columns", "construct":
            "CONSTRUCT { ?this semcat:classification <classification/pii/email> } "
            "WHERE { ?this a semcat:Column ; semcat:name ?n FILTER(CONTAINS(?n, '_hash')) }"}
    with cat.access.acting_as(CAROL), pytest.raises(Forbidden):
        cat.rules.create(rule, actor="carol")
    assert not [r for r in cat.rules.list_all() if r["id"] == "rule/hash-columns"]
    with cat.access.acting_as(Principal("user/stew", "api-key", grants=(("*", "steward"),))):
        cat.rules.create(rule, actor="stew")
    assert [r["id"] for r in cat.rules.list_all() if r["id"] == "rule/hash-columns"]


def test_inferences_hide_what_the_asserted_data_hides(cat: Catalog) -> None:
    upstream = f"SELECT ?x WHERE {{ <{BASE}/id/{HASH}> <{SC}upstream> ?x }}"
    cat.reason()
    assert keys(cat, upstream) == {EMAIL}
    with cat.access.acting_as(BOB):
        assert keys(cat, upstream) == set()
        types = keys(cat, f"SELECT ?t WHERE {{ <{BASE}/id/{HASH}> a ?t }}")
        assert f"{SC}DataAsset" in types   # its own inferences stay visible
    with cat.access.acting_as(ALICE):
        assert keys(cat, upstream) == {EMAIL}
    # incrementally too: a new lineage edge into the PII partition
    cat.assets.patch(CUSTOMERS, {"derivedFrom": [EMAIL]}, actor="admin")
    customers_up = f"SELECT ?x WHERE {{ <{BASE}/id/{CUSTOMERS}> <{SC}upstream> ?x }}"
    assert EMAIL in keys(cat, customers_up)
    with cat.access.acting_as(BOB):
        assert keys(cat, customers_up) == set()
    cat.assets.patch(CUSTOMERS, {"derivedFrom": None}, actor="admin")


def test_a_policy_on_a_user_property_follows_edits_to_the_user(cat: Catalog) -> None:
    cat.assets.upsert({"id": "policy/no-pii-for-temps", "type": "AccessPolicy",
                       "name": "Temps see no PII", "effect": "deny", "action": "read",
                       "targetClassification": "classification/pii",
                       "callerProperty": f"{SC}description", "callerValue": "temp"},
                      actor="admin")
    dave = Principal("user/dave", "api-key", grants=(("acme", "viewer"),))
    try:
        with cat.access.acting_as(dave):
            assert cat.assets.get(EMAIL)["name"] == "email"
        cat.assets.patch("user/dave", {"description": "temp"}, actor="admin")
        with cat.access.acting_as(dave), pytest.raises(NotFound):
            cat.assets.get(EMAIL)
    finally:
        cat.assets.delete("policy/no-pii-for-temps", actor="admin")
        cat.assets.patch("user/dave", {"description": None}, actor="admin")


def test_a_policy_with_a_typo_is_refused_and_changes_nothing(cat: Catalog) -> None:
    from graph_store.errors import ValidationFailed

    seq = cat.journal.applied_seq
    with pytest.raises(ValidationFailed, match="violation"):
        cat.assets.upsert({"id": "policy/typo", "type": "AccessPolicy", "name": "Typo",
                           "effect": "dney", "action": "read",
                           "targetClassification": "classification/pii"}, actor="admin")
    assert cat.journal.applied_seq == seq
    with cat.access.acting_as(BOB):
        assert cat.assets.get(HASH)["name"] == "email_hash"
