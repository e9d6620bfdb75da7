"""One elected node for the work done once per cluster (issue 18; docs/scaling.md).

Several nodes on a shared change log each apply every changeset, but some work must happen
once per cluster, not once per node: publishing the change stream to NATS, delivering
webhooks, firing ingestion schedules, projecting the property graph. Each such service is
registered here once (``Leadership.singleton``, the one place that says "only on the leader")
and runs while this node holds the cluster's lease (graph_store/nats_lease.py), stopping when
it loses it. What they need is where the next leader finds it: webhook subscriptions and
schedules on every node (``mirror``, graph_store/nats_records.py), positions in the lease's
position bucket (the property graph's in itself), so a new leader resumes where the last one
stopped: at least once, never lost.

With the embedded SQLite log there is one node, and it is always the leader: a singleton
starts as it is registered, with no NATS anywhere.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from catalog.settings import Settings
from graph_store.changelog import ChangeLogBackend
from graph_store.nats_changelog import NatsChangeLog
from graph_store.nats_lease import NatsLease, Positions
from graph_store.nats_records import Local, Mirror, Records

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_S = 5.0  # a singleton that failed to start on the leader is tried again this often


@dataclass(eq=False)
class Singleton(Generic[T]):
    """A service that runs on the leader only: ``start()`` makes it, ``stop(it)`` ends it."""

    name: str
    start: Callable[[], T]
    stop: Callable[[T], None]
    running: list[T] = field(default_factory=list)  # the one instance, while it runs


class Leadership:
    """Whether this node is the cluster's leader, and the services that run only there."""

    def __init__(self, settings: Settings, changelog: ChangeLogBackend, *,
                 elect: bool = True) -> None:
        """``elect``: whether this process may lead. A CLI command may not: it would run the
        cluster's webhooks and schedules for as long as it happened to be open."""
        self._singletons: list[Singleton[Any]] = []
        self._lock = threading.Lock()  # one reconciliation at a time
        self._changed = threading.Event()
        self._closing = False
        self.lease: NatsLease | None = None
        self._thread: threading.Thread | None = None
        self.elect = elect
        if isinstance(changelog, NatsChangeLog):
            name = settings.log_node or f"{socket.gethostname()}-{os.getpid()}"
            self.lease = NatsLease(changelog.servers, bucket=f"{settings.log_stream}_LEADER",
                                   name=name, ttl=settings.leader_lease_ttl_s,
                                   replicas=changelog.replicas, candidate=elect,
                                   on_change=lambda held: self._changed.set())
            self._thread = threading.Thread(target=self._follow, name="semcat-leadership",
                                            daemon=True)
            self._thread.start()

    @property
    def leader(self) -> bool:
        return self.elect and (self.lease is None or self.lease.held)

    @property
    def role(self) -> str:
        return "leader" if self.leader else "follower" if self.elect else "observer"

    @property
    def holder(self) -> str | None:
        """The leader's name, as this node last saw it (None: this node alone, or unknown)."""
        return self.lease.holder if self.lease is not None else None

    def positions(self) -> Positions | None:
        """Where singletons keep positions the next leader resumes from (None: one node)."""
        return self.lease.positions() if self.lease is not None else None

    def records(self, name: str) -> Records | None:
        """A bucket of records every node follows, for the state a singleton needs wherever
        it runs next (None: one node, which keeps its state in its data directory)."""
        return self.lease.records(name) if self.lease is not None else None

    def mirror(self, name: str, local: Local, absorbed: Callable[[], None]) -> Mirror | None:
        """Keep ``local`` equal on every node through bucket ``name`` (None: one node)."""
        records = self.records(name)
        return Mirror(local, records, absorbed=absorbed) if records is not None else None

    def singleton(self, name: str, start: Callable[[], T], stop: Callable[[T], None]
                  ) -> Callable[[], None]:
        """Run ``start()`` while this node leads, ``stop(service)`` when it no longer does;
        returns what ends it for good (stops it, and forgets it)."""
        service: Singleton[T] = Singleton(name, start, stop)
        with self._lock:
            self._singletons.append(service)
        self._reconcile()

        def drop() -> None:
            with self._lock:
                if service in self._singletons:
                    self._singletons.remove(service)
                self._stop(service)
        return drop

    def close(self) -> None:
        """Stop every singleton, then give the lease up (another node takes over at once)."""
        self._closing = True
        self._changed.set()
        if self._thread is not None:
            self._thread.join(30)
        with self._lock:
            for service in reversed(self._singletons):
                self._stop(service)
            self._singletons.clear()
        if self.lease is not None:
            self.lease.close()

    def _follow(self) -> None:
        """Start or stop the singletons as the lease comes and goes (off the lease's thread,
        which must keep renewing while a service takes its time to stop); a service that
        failed to start is tried again every RETRY_S."""
        failed = False
        while not self._closing:
            self._changed.wait(RETRY_S if failed else None)
            self._changed.clear()
            if not self._closing:
                failed = not self._reconcile()

    def _reconcile(self) -> bool:
        """Whether every singleton that should run, runs."""
        ok = True
        with self._lock:
            leader = self.leader and not self._closing
            for service in self._singletons if leader else reversed(self._singletons):
                if leader and not service.running:
                    try:
                        service.running.append(service.start())
                    except Exception:  # one service failing never keeps the others from running
                        log.exception("%s did not start on the leader; trying again in %.0f s",
                                      service.name, RETRY_S)
                        ok = False
                        continue
                    if self.lease is not None:
                        log.info("%s started: this node leads", service.name)
                elif not leader and service.running:
                    log.info("%s stopping: this node no longer leads", service.name)
                    self._stop(service)
        return ok

    @staticmethod
    def _stop(service: Singleton[Any]) -> None:
        while service.running:
            try:
                service.stop(service.running.pop())
            except Exception:
                log.exception("%s did not stop cleanly", service.name)
