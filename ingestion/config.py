"""A run's configuration: which connector, into which workspace, with which connector config.

    connector: sql
    workspace: acme
    name: shop            # optional: the source's name (default: the connector's own)
    batch_size: 500       # optional: assets per changeset
    remove_missing: true  # optional: remove the source's assets it no longer has
    precedence: 0         # optional: a higher one takes over values a lower source set
    config:               # the connector's config model (ingestion/sql.py for sql)
      url: postgresql://postgres@127.0.0.1:5432/shop
      password: {env: SHOP_DB_PASSWORD}

Errors name the field and what was wrong, never the value given (it may be a secret).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph_store.errors import InputError

__all__ = ["RunConfig", "config_error", "read_config"]


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connector: str = Field(min_length=1, description="The connector's entry-point name.")
    workspace: str = Field(min_length=1, description="The workspace the assets go to.")
    name: str | None = Field(None, min_length=1, pattern=r"^[^\s]+$",
                             description="The source's name; scopes removal of vanished assets.")
    batch_size: int = Field(500, ge=1, le=100_000, description="Assets per changeset.")
    remove_missing: bool = Field(True, description="Remove the source's assets it no longer has.")
    precedence: int = Field(0, strict=True, ge=-1_000_000, le=1_000_000,
                            description="Where sources disagree on an asset's value, a source "
                            "takes over what one of lower precedence set and keeps what one of "
                            "higher or equal precedence set (the first keeps it among equals); "
                            "a person's edit stays whatever the precedence.")
    overwrite_edits: bool = Field(False, description="Replace what people or other sources "
                                  "set on the source's assets (by default it is kept).")
    config: dict[str, Any] = Field(default_factory=dict, description="The connector's config.")


def config_error(e: ValidationError, prefix: str = "") -> InputError:
    """A pydantic error as one InputError naming each bad field, without the input values."""
    problems = []
    for p in e.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in (*([prefix] if prefix else []), *p["loc"]))
        message = p["msg"].removeprefix("Value error, ")
        if p["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{where}: {message}" if where else message)
    return InputError("invalid ingestion config: " + "; ".join(problems),
                      errors=[{"message": m} for m in problems])


def read_config(path: Path) -> RunConfig:
    """A run config from a YAML or JSON file (JSON is YAML, so one parser reads both)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read the ingestion config {path}: {e.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else getattr(e, "lineno", None)
        raise InputError(f"{path.name} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}"
                         f"{f' (line {line})' if line else ''}; nothing was ingested",
                         line=line) from None
    if not isinstance(data, dict):
        raise InputError(f"{path.name}: an ingestion config is a mapping with connector, "
                         "workspace and config")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        raise config_error(e) from None
