"""The connector plugin interface: what a source is, how its config is typed, how secrets are
given, and how connectors are found (the ``semcat.connectors`` entry-point group).

A connector is any object with a ``name``, a pydantic ``config_model`` and two methods::

    class MyConnector:
        name = "my"
        config_model = MyConfig            # a pydantic model, extra="forbid"
        owns = frozenset({"type", "name", "description", ...})  # optional, see below

        def source(self, config: MyConfig) -> str:
            return f"my:{config.host}/{config.db}"    # stable, no secrets: scopes removals

        def records(self, config: MyConfig, context: RunContext) -> Iterator[dict]:
            yield {"type": "Database", "workspace": context.workspace, ...}

``records`` yields assets in the REST JSON shape ``AssetService.upsert_many`` takes (``type``,
``name``, ``qualifiedName``, ``workspace``, ``platform``, ``partOf``, ...; the id follows from the
natural key), parents before children. ``owns`` names the keys the source decides: a run
replaces those and keeps what people added to an ingested asset (owners, tags, custom
attributes); without ``owns`` a record replaces its asset whole. It raises ``InputError``
when the source cannot be read (unreachable, refused credentials) with a message that names
no secret. Register it in a
package's ``pyproject.toml``::

    [project.entry-points."semcat.connectors"]
    my = "my_package.module:MyConnector"
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from graph_store.errors import InputError

__all__ = ["GROUP", "Connector", "ConnectorInfo", "RunContext", "SecretRef", "available",
           "load_connector"]

GROUP = "semcat.connectors"
Record = dict[str, Any]


class SecretRef(BaseModel):
    """A secret given by reference, never in clear: ``{"env": "NAME"}`` (an environment
    variable) or ``{"file": "/path"}`` (a file's content, trailing newline dropped). Resolved
    when a run starts; the value is a ``SecretStr`` that prints as ``**********``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError('give the secret as {"env": "NAME"} or {"file": "/path"}, one of them')
        return self

    def reveal(self, where: str = "secret") -> SecretStr:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise InputError(f"{where}: the environment variable {self.env} is not set")
            return SecretStr(value)
        assert self.file is not None
        try:
            return SecretStr(self.file.read_text(encoding="utf-8").rstrip("\r\n"))
        except OSError as e:
            raise InputError(f"{where}: cannot read the secret file {self.file}: "
                             f"{e.strerror}") from None


@dataclass
class RunContext:
    """What a run tells its connector: the workspace assets go to, the source name, and where
    warnings go (each one line, no secrets)."""

    workspace: str
    source: str
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@runtime_checkable
class Connector(Protocol):
    name: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]

    def source(self, config: Any) -> str: ...

    def records(self, config: Any, context: RunContext) -> Iterator[Record]: ...


@dataclass(frozen=True)
class ConnectorInfo:
    """A registered connector: enabled, or disabled with the reason it failed to load."""

    name: str
    target: str  # module:attribute
    description: str = ""
    error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.error is None


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def _load(ep: importlib.metadata.EntryPoint) -> Connector:
    obj = ep.load()
    connector = obj() if isinstance(obj, type) else obj
    if not isinstance(connector, Connector):
        raise TypeError(f"{ep.value} is no connector (it needs name, config_model, source() "
                        "and records())")
    return connector


def available() -> list[ConnectorInfo]:
    """Every connector of the entry-point group, loaded to check it; sorted by name."""
    found = []
    for name, ep in sorted(_entry_points().items()):
        try:
            connector = _load(ep)
            doc = (type(connector).__doc__ or "").strip().splitlines()
            found.append(ConnectorInfo(name, ep.value, doc[0] if doc else ""))
        except Exception as e:  # a plugin that fails to import is listed, disabled
            found.append(ConnectorInfo(name, ep.value, error=f"{type(e).__name__}: {e}"))
    return found


def load_connector(name: str) -> Connector:
    eps = _entry_points()
    if name not in eps:
        raise InputError(f"no connector {name!r}; installed connectors: "
                         f"{', '.join(sorted(eps)) or 'none'} (`semcat ingest --list`)")
    try:
        return _load(eps[name])
    except Exception as e:
        raise InputError(f"connector {name!r} ({eps[name].value}) failed to load: "
                         f"{type(e).__name__}: {e}") from e
