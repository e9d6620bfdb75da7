"""Snapshots of a node kept beside the shared change log, in a JetStream object store, so that a
new node starts from the newest snapshot and replays only the log after it (catalog/snapshots.py).

One object per bucket: a newer snapshot replaces the older one (JetStream swaps the object's
meta message in one step, then drops the old chunks), so a reader gets either whole. What the
snapshot holds is described by a small JSON document in the object's description.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import NoServersError
from nats.js.api import ObjectMeta, ObjectStoreConfig, StorageType
from nats.js.errors import NotFoundError

from graph_store.errors import BackendError
from graph_store.nats_loop import BackgroundLoop

OBJECT = "latest"


class SnapshotBucket:
    def __init__(self, servers: list[str], bucket: str, *, replicas: int = 1,
                 timeout: float = 30.0) -> None:
        self.servers, self.bucket, self.replicas, self.timeout = servers, bucket, replicas, timeout
        self._loop = BackgroundLoop("nats-snapshots")

    def describe(self) -> dict[str, Any] | None:
        """What the newest snapshot holds, or None when there is none."""
        return self._run(self._describe())

    def put(self, archive: Path, about: dict[str, Any]) -> None:
        """Store ``archive`` as the newest snapshot, described by ``about``."""
        self._run(self._put(archive, about))

    def get(self, into: Path) -> dict[str, Any] | None:
        """Write the newest snapshot into the file ``into``; what it holds, or None."""
        return self._run(self._get(into))

    def close(self) -> None:
        self._loop.stop()

    def _run(self, coro: Any) -> Any:
        try:
            return self._loop.run(coro, timeout=self.timeout * 20)
        except TimeoutError as e:
            raise BackendError("the NATS snapshot store did not answer in time") from e

    async def _connect(self) -> Client:
        try:
            return await nats.connect(servers=self.servers, connect_timeout=2,
                                      max_reconnect_attempts=3, allow_reconnect=True)
        except (TimeoutError, OSError, NoServersError) as e:
            raise BackendError(f"could not reach a NATS server at {', '.join(self.servers)} "
                               "for snapshots") from e

    async def _describe(self) -> dict[str, Any] | None:
        nc = await self._connect()
        try:
            js = nc.jetstream(timeout=self.timeout)
            try:
                store = await js.object_store(self.bucket)
                info = await store.get_info(OBJECT)
            except NotFoundError:  # no bucket, or no snapshot in it
                return None
            return _about(info.description)
        finally:
            await nc.close()

    async def _put(self, archive: Path, about: dict[str, Any]) -> None:
        nc = await self._connect()
        try:
            js = nc.jetstream(timeout=self.timeout)
            try:
                store = await js.object_store(self.bucket)
            except NotFoundError:
                store = await js.create_object_store(self.bucket, config=ObjectStoreConfig(
                    bucket=self.bucket, storage=StorageType.FILE, replicas=self.replicas,
                    description="semcat snapshots for new nodes of the shared change log"))
            with archive.open("rb") as f:
                await store.put(OBJECT, f, meta=ObjectMeta(name=OBJECT,
                                                           description=json.dumps(about)))
        finally:
            await nc.close()

    async def _get(self, into: Path) -> dict[str, Any] | None:
        nc = await self._connect()
        try:
            js = nc.jetstream(timeout=self.timeout)
            try:
                store = await js.object_store(self.bucket)
                with into.open("wb") as f:
                    result = await store.get(OBJECT, writeinto=f)
            except NotFoundError:  # no bucket, or no snapshot in it
                into.unlink(missing_ok=True)
                return None
            return _about(result.info.description)
        finally:
            await nc.close()


def _about(description: str | None) -> dict[str, Any]:
    try:
        about = json.loads(description or "")
    except ValueError as e:
        raise BackendError(f"the newest snapshot has no readable description: {e}") from e
    if not isinstance(about, dict) or not isinstance(about.get("seq"), int):
        raise BackendError("the newest snapshot's description names no changeset")
    return about
