"""The tantivy full-text index: one document per asset, facet fields beside the text.

It is a projection of the change log (DESIGN principle 3): ``seq`` says which changeset it
reflects, written to ``state.json`` *after* each commit, so after a crash the index is at
least as new as its recorded seq and catching up from there is always correct.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Query

from graph_store.errors import BackendError
from search.analysis import ANALYZERS, EXACT, PLAIN, STEMMED, compounds, exact_key, prepare
from search.dates import parse_stamp
from search.documents import AssetDoc, vector_id
from search.facet_kinds import field_of
from search.suggest import EDGE, edge_analyzer
from search.suggest import add_fields as add_suggest_fields
from search.suggest import fill as fill_suggest

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5  # bump when fields or analyzers change: the index is then rebuilt
# BM25 fields and their boosts: names weigh most, then what people tag and define.
TEXT_FIELDS: dict[str, float] = {
    "name": 6.0, "qualified_name": 2.5, "tags": 2.0, "terms": 2.0, "classifications": 1.5,
    "owners": 1.2, "description": 1.0, "columns": 0.7, "attributes": 1.0, "context": 0.6,
}
STORED_TEXT = ("name", "qualified_name", "description", "columns", "tags", "terms",
               "classifications", "owners")
# facet name -> raw, fast field holding the values it counts and filters
FACET_FIELDS = {"type": "f_type", "platform": "f_platform", "tag": "f_tag",
                "owner": "f_owner", "workspace": "f_workspace",
                "classification": "f_classification", "term": "f_term", "domain": "f_domain"}
# Prior relevance of a kind of asset (score x log2(2 + prior)): people look for data sets
# and their definitions more often than for one column or one pipeline run.
TYPE_PRIOR = {"Table": 0.6, "View": 0.6, "Dashboard": 0.5, "MLModel": 0.5,
              "GlossaryTerm": 0.4, "Database": 0.3, "Schema": 0.3, "Pipeline": 0.3,
              "Chart": 0.2, "Feature": 0.1}
WRITER_HEAP = 64_000_000


def count_of(result: tantivy.SearchResult) -> int:
    """The total a search counted (the type stubs omit the attribute)."""
    return int(getattr(result, "count", 0) or 0)


def ints(values: Sequence[object]) -> list[int]:
    """Fast-field values of an unsigned field as ints."""
    return [int(v) if isinstance(v, int | float) else 0 for v in values]


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_unsigned_field("vid", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("rollup", fast=True)  # a column's table: semantic evidence goes up
    sb.add_unsigned_field("joins", stored=True)  # a table's join partners: lifted beside it
    for name in TEXT_FIELDS:
        sb.add_text_field(name, stored=name in STORED_TEXT, tokenizer_name=STEMMED)
    sb.add_text_field("compounds", tokenizer_name=PLAIN, index_option="freq")
    sb.add_text_field("plain", tokenizer_name=PLAIN, index_option="freq")
    sb.add_text_field("exact", tokenizer_name=EXACT, index_option="basic")
    # f_inferred: "type:View", "classification:<key>": what is entailed rather than asserted
    for fast in (*FACET_FIELDS.values(), "f_graph", "f_inferred"):
        sb.add_text_field(fast, stored=fast in ("f_type", "f_platform", "f_workspace",
                                                "f_classification", "f_term", "f_inferred"),
                          tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_json_field("attrs", tokenizer_name="raw", fast=True)
    sb.add_text_field("sort_name", tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_text_field("sort_updated", tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_integer_field("updated", indexed=True, fast=True)
    sb.add_float_field("prior", fast=True)
    # dates as tantivy dates: range filters and date facets (search/dates.py)
    sb.add_date_field("created_at", indexed=True, fast=True)
    sb.add_date_field("updated_at", indexed=True, fast=True)
    sb.add_text_field("f_parent", stored=True, tokenizer_name="raw", index_option="basic")
    add_suggest_fields(sb)  # autocomplete (search/suggest.py)
    return sb.build()


def _epoch(iso: str) -> int:
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def _document(doc: AssetDoc) -> tantivy.Document:
    d = tantivy.Document()
    d.add_text("id", doc.key)
    d.add_unsigned("vid", vector_id(doc.key))
    rollup = doc.parent is not None and "Column" in doc.types
    d.add_unsigned("rollup", vector_id(doc.parent.key) if rollup and doc.parent else 0)
    for partner in doc.joins:
        d.add_unsigned("joins", vector_id(partner))
    text = {
        "name": doc.name, "qualified_name": doc.qualified_name, "description": doc.description,
        "columns": "\n".join(f"{c.name}: {c.description}" if c.description else c.name
                             for c in doc.columns),
        "tags": "; ".join([*(r.label for r in doc.tags), *doc.keywords]),
        "terms": "; ".join(r.label for r in doc.terms),
        "classifications": "; ".join(r.label for r in (*doc.classifications,
                                                       *doc.inferred_classifications)),
        "owners": "; ".join(f"{r.label} ({r.key})" for r in doc.owners),
        "attributes": "; ".join(v for vs in doc.attributes.values() for v in vs),
        "context": " ".join(filter(None, (*doc.types, *doc.inferred_types,
                                          doc.platform.label if doc.platform else "",
                                          doc.workspace.label if doc.workspace else "",
                                          *(r.label for r in doc.domains), doc.data_type,
                                          doc.parent.label if doc.parent else ""))),
    }
    for name, value in text.items():
        if value:
            d.add_text(name, prepare(value))
    identifiers = [doc.name, doc.qualified_name, doc.description,
                   *(f"{c.name} {c.description}" for c in doc.columns)]
    joined = compounds(identifiers)
    if joined:
        d.add_text("compounds", " ".join(joined))
    d.add_text("plain", prepare(" ".join(v for v in text.values() if v)))
    for value in {exact_key(doc.name), exact_key(doc.qualified_name), doc.key.lower()}:
        if value:
            d.add_text("exact", value)
    facets: dict[str, Iterable[str]] = {
        "f_type": doc.types, "f_platform": [doc.platform.key] if doc.platform else [],
        "f_workspace": [doc.workspace.key] if doc.workspace else [],
        "f_tag": [r.key for r in doc.tags], "f_owner": [r.key for r in doc.owners],
        "f_classification": [r.key for r in (*doc.classifications,
                                             *doc.inferred_classifications)],
        "f_term": [r.key for r in doc.terms], "f_domain": [r.key for r in doc.domains],
        "f_graph": doc.graphs,
        "f_inferred": [*(f"type:{t}" for t in doc.inferred_types),
                       *(f"classification:{r.key}" for r in doc.inferred_classifications)],
    }
    for name, values in facets.items():
        for value in dict.fromkeys(values):
            d.add_text(name, value)
    if doc.attributes:
        d.add_json("attrs", json.dumps({k: list(v) for k, v in doc.attributes.items()}))
    d.add_text("sort_name", f"{doc.name.lower()}\x00{doc.key}")
    d.add_text("sort_updated", f"{doc.updated_at}\x00{doc.key}")
    d.add_integer("updated", _epoch(doc.updated_at) if doc.updated_at else 0)
    prior = max((TYPE_PRIOR.get(t, 0.0) for t in doc.types), default=0.0)
    d.add_float("prior", prior)
    for name, stamp in (("created_at", doc.created_at), ("updated_at", doc.updated_at)):
        moment = parse_stamp(stamp) if stamp else None
        if moment is not None:
            d.add_date(name, moment)
    if doc.parent is not None:
        d.add_text("f_parent", doc.parent.key)
    fill_suggest(d, doc, prior)
    return d


class TextIndex:
    """One tantivy index (on disk under ``path``, else in RAM) and its one writer."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.schema = _schema()
        self._lock = threading.Lock()
        self.seq = 0
        if path is not None:
            state = self._read_state()
            if state.get("schema") != SCHEMA_VERSION and path.exists():
                shutil.rmtree(path)  # another layout: rebuilt from the store by the caller
                state = {}
            path.mkdir(parents=True, exist_ok=True)
            self.seq = int(state.get("seq", 0))
        try:
            self.index = tantivy.Index(self.schema, str(path) if path else None, reuse=True)
        except (OSError, ValueError) as e:
            raise BackendError(f"cannot open the search index at {path}: {e}; run "
                               "`semcat reindex` to rebuild it") from e
        for name, analyzer in ANALYZERS.items():
            self.index.register_tokenizer(name, analyzer)
        self.index.register_tokenizer(EDGE, edge_analyzer())
        self._writer = self.index.writer(WRITER_HEAP, 1)
        if self.seq and self.index.searcher().num_docs == 0:
            self.seq = 0  # the state file outlived its index

    # -- persistence ---------------------------------------------------------------------------
    def _state_file(self) -> Path | None:
        return self.path.with_suffix(".json") if self.path else None

    def _read_state(self) -> dict[str, Any]:
        f = self._state_file()
        if f is None or not f.exists():
            return {}
        try:
            return dict(json.loads(f.read_text()))
        except ValueError:
            return {}

    def _write_state(self) -> None:
        f = self._state_file()
        if f is None:
            return
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "seq": self.seq}))
        os.replace(tmp, f)

    # -- writes --------------------------------------------------------------------------------
    def apply(self, upserts: Sequence[AssetDoc], deletes: Iterable[str], seq: int) -> None:
        """Replace the given assets' documents and drop the deleted ones: one commit."""
        with self._lock:
            for key in (*deletes, *(d.key for d in upserts)):
                self._writer.delete_documents_by_term("id", key)
            for doc in upserts:
                self._writer.add_document(_document(doc))
            self._commit(seq)

    def rebuild(self, docs: Iterable[AssetDoc], seq: int,
                on_progress: Callable[[int], None] | None = None) -> int:
        """Start over from ``docs`` (the store's assets at ``seq``); returns how many."""
        n = 0
        with self._lock:
            self._writer.delete_all_documents()
            for doc in docs:
                self._writer.add_document(_document(doc))
                n += 1
                if on_progress and n % 500 == 0:
                    on_progress(n)
            self._commit(seq)
        if on_progress:
            on_progress(n)
        return n

    def _commit(self, seq: int) -> None:
        try:
            self._writer.commit()
        except ValueError as e:
            self._writer.rollback()
            raise BackendError(f"the search index could not commit: {e}") from e
        self.index.reload()
        self.seq = seq
        self._write_state()

    def copy_to(self, target: Path) -> int:
        """The index as last committed, into the new directory ``target`` beside its state
        file; returns the changeset it reflects. Segment files are never rewritten, so they are
        hard-linked; tantivy may finish a merge meanwhile and drop files, so a copy that lacks
        a file its meta.json names is taken again."""
        assert self.path is not None, "an index in memory has nothing to copy"
        for _ in range(5):
            with self._lock:
                seq = self.seq
                shutil.rmtree(target, ignore_errors=True)
                target.mkdir(parents=True)
                meta = (self.path / "meta.json").read_bytes()
                for f in self.path.iterdir():
                    if f.name.startswith(".") or f.name == "meta.json":
                        continue  # locks, and the files tantivy's own clean-up tracks
                    try:
                        os.link(f, target / f.name)
                    except FileNotFoundError:
                        continue  # merged away: meta.json says whether it still counted
                    except OSError:
                        shutil.copy2(f, target / f.name)
                (target / "meta.json").write_bytes(meta)
            if _complete(target, json.loads(meta)):
                target.with_suffix(".json").write_text(
                    json.dumps({"schema": SCHEMA_VERSION, "seq": seq}))
                return seq
        raise BackendError("the search index kept changing while it was copied; try again")

    def close(self) -> None:
        with self._lock:
            self._writer.wait_merging_threads()
        self._write_state()

    # -- reads ---------------------------------------------------------------------------------
    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def __len__(self) -> int:
        return int(self.searcher().num_docs)

    def term(self, field: str, value: str | int) -> Query:
        return Query.term_query(self.schema, field, value)

    def any_of(self, field: str, values: Sequence[str | int]) -> Query:
        return Query.term_set_query(self.schema, field, list(values))

    def filter_query(self, filters: dict[str, tuple[str, ...]]) -> list[tuple[Occur, Query]]:
        """Non-scoring MUST clauses: values of one facet OR-ed, facets AND-ed."""
        return [(Occur.Must, Query.const_score_query(self.any_of(field_of(f), list(v)), 0.0))
                for f, v in sorted(filters.items())]

    def docs(self, searcher: tantivy.Searcher, addresses: Sequence[Any]) -> list[dict[str, Any]]:
        return [searcher.doc(a).to_dict() for a in addresses]

    def by_keys(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored fields of the given assets (missing ones are absent)."""
        if not keys:
            return {}
        s = self.searcher()
        found = s.search(self.any_of("id", list(keys)), len(keys), count=False)
        out = {}
        for _, address in found.hits:
            d = s.doc(address).to_dict()
            out[d["id"][0]] = d
        return out

    def vids(self, searcher: tantivy.Searcher, query: Query, limit: int) -> list[int]:
        """The vector ids of up to ``limit`` documents matching ``query`` (fast-field reads)."""
        hits = searcher.search(query, limit, count=False).hits
        return ints(searcher.fast_field_values("vid", [a for _, a in hits]))

    def doc_freq(self, field: str, term: str) -> int:
        return int(self.searcher().doc_freq(field, term))


def _complete(directory: Path, meta: dict[str, Any]) -> bool:
    """Whether ``directory`` holds the files of every segment ``meta`` names."""
    for segment in meta.get("segments", []):
        sid = str(segment["segment_id"]).replace("-", "")
        needed = [f"{sid}.store", f"{sid}.idx", f"{sid}.term"]
        if segment.get("deletes"):
            needed.append(f"{sid}.{segment['deletes']['opstamp']}.del")
        if not all((directory / name).exists() for name in needed):
            return False
    return True
