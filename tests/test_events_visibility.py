"""What a subscriber is told of a change it may only partly see (events/visibility.py), in
process: a lineage statement naming a hidden asset changes, on an asset the subscriber reads."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from access.identity import Principal
from catalog import Catalog, Settings
from events import EventFilter
from events.model import Position
from tests.access_scenario import EMAIL, HASH, assets, load

BOB = Principal("user/bob", "api-key")  # an acme reader, a contractor: no PII
DERIVED_FROM = "https://w3id.org/semcat#derivedFrom"


@pytest.fixture
def cat() -> Iterator[Catalog]:
    with Catalog.open(Settings(data=None)) as c:
        load(c)
        yield c


def told(cat: Catalog, principal: Principal | None, since: int) -> list[dict[str, object]]:
    assert cat.events.feed.wait(cat.journal.applied_seq - 1, timeout=30)  # its own thread
    events = list(cat.events.read(Position(since), limit=1_000))
    if principal is None:
        return cat.events.visible(events, EventFilter(), delta=True)
    with cat.access.acting_as(principal):
        return cat.events.visible(events, EventFilter(), delta=True)


def test_a_hidden_lineage_edge_is_not_named_as_a_changed_property(cat: Catalog) -> None:
    since = cat.journal.applied_seq
    [hashed] = [a for a in assets() if a["qualifiedName"] == "db.s.customers.email_hash"]
    cat.assets.upsert({**{k: v for k, v in hashed.items() if k != "derivedFrom"},
                       "description": "no longer derived"}, actor="admin")
    [admin_view] = [a for e in told(cat, None, since) for a in e["assets"]  # type: ignore[union-attr]
                    if a["id"] == HASH]
    assert DERIVED_FROM in admin_view["properties"]  # the edge really changed
    [bob_view] = [a for e in told(cat, BOB, since) for a in e["assets"]  # type: ignore[union-attr]
                  if a["id"] == HASH]
    assert DERIVED_FROM not in bob_view["properties"]
    assert "https://w3id.org/semcat#description" in bob_view["properties"]
    text = json.dumps(told(cat, BOB, since))  # nor named in the delta
    assert f"/id/{EMAIL}>" not in text and f'"{EMAIL}"' not in text
