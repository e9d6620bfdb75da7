"""How long a new node of a shared change log takes to join: from the newest snapshot plus the
log after it, against replaying the whole log (issue 18), beside pyoxigraph opening a copy of
the same store (the floor: what any join must at least do).

A first node builds a synthetic catalog through the Catalog on a fresh stream: bulk writes of
tables with their columns, then single-asset edits, then publishes a snapshot; a few more
writes follow it. Then a second node joins on an empty data directory, each way, in this
process; its time runs from ``Catalog.open`` to every projection (text index included) caught
up.

    python -m bench.node_join                    # 2,000 tables (about 22,000 assets), 2,000 edits
    python -m bench.node_join --tables 500 --edits 500
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from pyoxigraph import Store

from bench._common import TMP, table, write_results
from bench.nats_changelog import nats_servers
from bench.synthetic import batches, synthetic_assets
from catalog import Catalog, Settings


def join(settings: Settings) -> tuple[float, int]:
    """Seconds until the node is open and caught up; how many changesets it replayed."""
    t = time.perf_counter()
    with Catalog.open(settings) as cat:
        cat.settle()
        took = time.perf_counter() - t
        return took, cat.replayed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=TMP) as tmp, nats_servers(Path(tmp), 1) as urls:
        root = Path(tmp)
        common: dict[str, Any] = {"log_url": urls[0], "log_stream": "JOIN" + uuid.uuid4().hex[:6].upper(),
                  "query_workers": 0, "log_snapshot_every": 0}
        items = synthetic_assets(tables=args.tables)
        t = time.perf_counter()
        with Catalog.open(Settings(data=root / "first", **common)) as first:
            for batch in batches(items, 1000):
                first.assets.upsert_many(batch, actor="bench")
            tables = [a["id"] for a in items if a.get("type") == "Table"]
            for i in range(args.edits):
                first.assets.patch(tables[i % len(tables)], {"description": f"edit {i}"},
                                   actor="bench")
            first.settle()
            built = time.perf_counter() - t
            t = time.perf_counter()
            snap = first.publish_snapshot()
            publish_s = time.perf_counter() - t
            for i in range(20):
                first.assets.patch(tables[i], {"description": f"after {i}"}, actor="bench")
            head = first.journal.applied_seq
            shutil.copytree(root / "first" / "store", root / "raw")
        print(f"first node: {len(items):,} assets and {args.edits:,} edits, {head:,} changesets "
              f"in {built:.0f} s; snapshot of changeset {snap.seq:,}: {snap.bytes / 1e6:.1f} MB, "
              f"published in {publish_s:.2f} s", flush=True)
        snap_s, snap_replayed = join(Settings(data=root / "from-snapshot", **common))
        full_s, full_replayed = join(Settings(data=root / "replay", log_bootstrap=False,
                                              **common))
        t = time.perf_counter()
        raw = Store(str(root / "raw"))
        raw_quads = len(raw)
        raw_s = time.perf_counter() - t
        del raw
    rows = [["from the snapshot + the log after it", f"{snap_s:.1f}", f"{snap_replayed:,}"],
            ["replaying the whole log", f"{full_s:.1f}", f"{full_replayed:,}"],
            [f"raw pyoxigraph: open a copy, count its {raw_quads:,} quads", f"{raw_s:.1f}", "-"]]
    print(table(["a new node joins", "seconds", "changesets replayed"], rows))
    print(f"snapshot join / full replay: {snap_s / full_s:.2f}x; snapshot join / raw open: "
          f"{snap_s / raw_s:.1f}x")
    write_results("node_join", {
        "assets": len(items), "edits": args.edits, "changesets": head, "snapshot_seq": snap.seq,
        "snapshot_bytes": snap.bytes, "publish_s": publish_s,
        "join_snapshot_s": snap_s, "replayed_snapshot": snap_replayed,
        "join_replay_s": full_s, "replayed_full": full_replayed, "raw_open_s": raw_s})


if __name__ == "__main__":
    main()
