"""A full rematerialisation never blocks writers (issue 12, item 2): in a served (on-disk)
catalog, a write that needs one (an ontology edit) returns at once; the run goes on beside the
writes that follow, and folds them in when it is done."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import NamedNode

from catalog import Catalog, Settings
from ontology.namespaces import RDF_TYPE, SEMCAT


def test_writes_go_on_during_a_full_rematerialisation(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path / "beside")) as cat:
        cat.load_demo()
        assert cat.inference_status().state == "current"  # a batch load waits for its inferences
        cat.ontology.add_class("GoldTable", label="Gold table", parent="Table", actor="test")
        assert cat.reasoner.lock.locked()  # the full run the axiom needs goes on beside us
        assert cat.inference_status().state == "catching-up"
        written, during = [], []
        for i in range(3):
            result = cat.assets.upsert_many([{
                "type": "GoldTable", "name": f"gold{i}", "workspace": "acme",
                "platform": "platform/postgres", "qualifiedName": f"shop.public.gold{i}",
                "partOf": "acme/schema/postgres/shop.public"}],
                actor="test")[0]
            written.append(cat.layout.iri(result.id))
            during.append(cat.reasoner.lock.locked())
        assert during[0]  # the first write went through while the full run went on
        cat.inference.join()
        status = cat.inference_status()
        assert status.state == "current" and status.inferred_up_to == cat.journal.applied_seq
        for iri in written:  # the writes made meanwhile have their inferences: GoldTable ⊑ Table
            types = {q.object for g in cat.reasoner.graphs()
                     for q in cat.store.quads(NamedNode(iri), NamedNode(RDF_TYPE), None, g)}
            assert NamedNode(SEMCAT + "Table") in types, (iri, types)
