"""A full rematerialisation never blocks writers (issue 12, item 2): in a served (on-disk)
catalog, a write that needs one (an ontology edit) returns at once; the run goes on beside the
writes that follow, and folds them in when it is done. Nor does the DL reasoner that checks an
ontology edit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pyoxigraph import NamedNode

from catalog import Catalog, Settings
from ontology.namespaces import RDF_TYPE, SEMCAT


def test_writes_go_on_during_a_full_rematerialisation(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path / "beside")) as cat:
        cat.load_demo()
        assert cat.inference_status().state == "current"  # a batch load waits for its inferences
        cat.ontology.add_class("GoldTable", label="Gold table", parent="Table", actor="test")
        cat.projector.wait()  # inference has been handed the edit
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
        cat.settle()
        status = cat.inference_status()
        assert status.state == "current" and status.inferred_up_to == cat.journal.applied_seq
        for iri in written:  # the writes made meanwhile have their inferences: GoldTable ⊑ Table
            types = {q.object for g in cat.reasoner.graphs()
                     for q in cat.store.quads(NamedNode(iri), NamedNode(RDF_TYPE), None, g)}
            assert NamedNode(SEMCAT + "Table") in types, (iri, types)


def test_writes_go_on_while_the_dl_reasoner_checks_an_ontology_edit(tmp_path: Path) -> None:
    with Catalog.open(Settings(data=tmp_path / "dl")) as cat:
        cat.load_demo()
        edit_done = threading.Event()
        errors: list[BaseException] = []

        def edit() -> None:
            try:  # HermiT in a JVM: seconds
                cat.ontology.add_class("SilverTable", label="Silver table", parent="Table",
                                       actor="steward")
            except BaseException as e:
                errors.append(e)
            finally:
                edit_done.set()

        editor = threading.Thread(target=edit)
        editor.start()
        time.sleep(0.3)  # the edit is being reasoned about
        during = 0
        i = 0
        while not edit_done.is_set():
            cat.assets.patch("acme/table/postgres/shop.public.orders",
                             {"description": f"orders, take {i}"}, actor="test")
            i += 1
            if not edit_done.is_set():
                during += 1
        editor.join()
        assert not errors, errors
        assert during >= 3, f"only {during} writes landed while the reasoner ran"
        assert "SilverTable" in {t.iri.rsplit("#", 1)[-1] for t in cat.ontology.summary().terms}
