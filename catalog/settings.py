"""One Settings object (env prefix ``SEMCAT_``), built by the CLI, the ASGI factory and tests."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEMCAT_", extra="forbid")

    data: Path | None = Field(
        default=Path(".semcat"),
        description="Data directory holding the store and the change log; None keeps everything "
        "in memory (tests).",
    )
    base_iri: str = Field(
        default="http://127.0.0.1:8000",
        description="Base of every catalogued resource's IRI ({base}/id/...) and graph name.",
    )
    default_workspace: str = Field(
        default="default", description="Workspace of writes that name none."
    )
    query_timeout_s: float = Field(
        default=30.0,
        description="Deadline for a SPARQL query's results; blocking operators in the engine "
        "cannot be interrupted, the deadline is checked as results stream.",
    )
    max_result_bytes: int = Field(
        default=256 * 1024 * 1024,
        description="Largest serialised SPARQL result the server returns; larger ones fail "
        "with a message suggesting LIMIT.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024, description="Largest request body accepted (413 beyond)."
    )
    validate_writes: bool = Field(
        default=True,
        description="SHACL-validate the nodes every write touches before it is committed; "
        "off only for benchmarks and bulk migrations you validate afterwards.",
    )
    refuse_inconsistent_writes: bool = Field(
        default=False,
        description="Refuse (422) a write that gives a node two disjoint classes (OWL 2 RL "
        "cax-dw / cax-adc over its asserted types and their superclasses); off, such writes "
        "are accepted and reported by the consistency check.",
    )
    max_page_size: int = Field(default=500, description="Largest page of the asset list.")
    host: str = Field(default="127.0.0.1", description="Address `semcat serve` binds.")
    port: int = Field(default=8000, description="Port `semcat serve` listens on.")

    @property
    def base(self) -> str:
        return self.base_iri.rstrip("/")
