"""Prometheus metrics: requests by route template (counted by sparql_api/request_log.py, which
sees every request), and the catalog's state read at each scrape (change log position,
projection lag, sizes on disk). One registry per app, so apps never share counts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, GCCollector, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from catalog import Catalog

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("semcat_http_requests", "HTTP requests answered",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("semcat_http_request_duration_seconds", "Time to answer, by "
                                 "route", ("method", "route"), buckets=BUCKETS,
                                 registry=self.registry)
        self.problems = Counter("semcat_problems", "Errors answered, by problem code (e.g. "
                                "query-timeout, forbidden)", ("code",), registry=self.registry)
        GCCollector(registry=self.registry)  # python_gc_collections_total, by generation

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def watch(self, catalog: Catalog) -> None:
        self.registry.register(CatalogCollector(catalog))


class CatalogCollector(Collector):
    """Read at scrape time: nothing on the write path counts for these."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        cat = self.catalog
        yield GaugeMetricFamily("semcat_changelog_position", "The last changeset applied to "
                                "the store", value=cat.journal.applied_seq)
        lock = cat.journal.lock  # one writer at a time: its busy share is the write path's load
        yield CounterMetricFamily("semcat_write_lock_held_seconds", "Time the journal's write "
                                  "lock was held (by writers and by the projections that keep "
                                  "writers out); its rate is the write path's busy share",
                                  value=lock.held_s)
        yield CounterMetricFamily("semcat_write_lock_waited_seconds", "Time spent waiting for "
                                  "the write lock, summed over everyone who waited",
                                  value=lock.waited_s)
        yield CounterMetricFamily("semcat_write_lock_holds", "Times the write lock was taken",
                                  value=lock.holds)
        lag = GaugeMetricFamily("semcat_projection_lag_changesets", "Changesets a projection "
                                "of the log has yet to reflect", labels=("projection",))
        for name, behind in cat.projection_lag().items():
            lag.add_metric((name,), behind)
        yield lag
        yield GaugeMetricFamily("semcat_leader", "1 on the node elected to run the work done "
                                "once per cluster (NATS events, webhooks, ingestion "
                                "schedules, the property graph), else 0",
                                value=1 if cat.leadership.leader else 0)
        yield GaugeMetricFamily("semcat_gc_frozen_objects", "Objects loaded at start that the "
                                "garbage collector's full passes skip", value=gc.get_freeze_count())
        data = cat.settings.data
        if data is not None:
            size = GaugeMetricFamily("semcat_disk_bytes", "Bytes on disk, by part of the data "
                                     "directory", labels=("part",))
            # the vector indexes are files beside the text index's folder (vectors.faiss, ...)
            vectors = sorted((data / "search").glob("*vectors.*"))
            for part, paths in (("store", [data / "store"]),
                                ("changelog", [data / "changelog.sqlite"]),
                                ("audit", [data / "audit.sqlite"]),
                                ("keys", [data / "access.sqlite"]),
                                ("text_index", [data / "search" / "text"]),
                                ("vector_index", vectors)):
                size.add_metric((part,), sum(map(_bytes, paths)))
            yield size


def _bytes(path: Path) -> float:
    if path.is_file():
        return float(path.stat().st_size)
    return float(sum(p.stat().st_size for p in path.rglob("*") if p.is_file())) \
        if path.is_dir() else 0.0
