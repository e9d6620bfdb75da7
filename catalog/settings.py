"""One Settings object (env prefix ``SEMCAT_``), built by the CLI, the ASGI factory and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.encoder import MiniLMEmbedder, adapter_path
from events import NatsConfig, WebhookConfig
from graph_store.remote_store import Endpoints
from graph_store.sparql_limits import SparqlLimits
from property_graph import Neo4jConfig
from property_graph.config import SCHEMES


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
        description="Deadline for a SPARQL query over /sparql: the query is stopped there (its "
        "worker process ended), freeing its CPU and memory. A SPARQL Update's WHERE clause has "
        "the same deadline.",
    )
    rate_limit: str = Field(
        default="50/second;1000/minute",
        description="Requests each caller other than an instance admin may make, in the "
        "`limits` notation (N/second, N/minute, ...; several separated by ;); beyond it, 429 "
        "with Retry-After. Empty turns rate limiting off.",
    )
    max_concurrent_queries: int = Field(
        default=2, ge=1,
        description="SPARQL queries one caller other than an instance admin may have running "
        "at once; more get 429 with Retry-After.",
    )
    tracing: Literal["off", "console", "otlp"] = Field(
        default="off",
        description="OpenTelemetry traces of requests through the catalog: off, console, or "
        "otlp (OTLP over HTTP, configured by the standard OTEL_EXPORTER_OTLP_* variables).",
    )
    query_workers: int = Field(
        default=2, ge=0, le=64,
        description="Worker processes answering /sparql queries of an on-disk catalog, each "
        "over a snapshot of the store, so a query past its deadline can be stopped; 0 answers "
        "in the server process, where a query cannot be stopped.",
    )
    store_url: str | None = Field(
        default=None,
        description="SPARQL 1.1 query endpoint of a remote store to keep the catalog in (e.g. "
        "`oxigraph serve`'s http://host:7878/query, Virtuoso's http://host:8890/sparql) instead "
        "of the embedded one; the change log and indexes stay in the data directory. See "
        "docs/scaling.md.",
    )
    store_update_url: str | None = Field(
        default=None,
        description="SPARQL 1.1 update endpoint of the remote store; unset, the query URL with "
        "/query replaced by /update (Oxigraph's layout), else the query URL itself.",
    )
    store_graph_url: str | None = Field(
        default=None,
        description="Graph Store protocol endpoint of the remote store, used to read whole "
        "graphs; unset, /store beside an Oxigraph /query URL, else graphs are read by SPARQL.",
    )
    export_timeout_s: float = Field(
        default=600.0, gt=0,
        description="Deadline for an export of the catalog (`GET /api/v1/export`, `semcat "
        "export`): it runs in a query worker over a snapshot and is stopped there.",
    )
    max_result_bytes: int = Field(
        default=256 * 1024 * 1024,
        description="Largest serialised SPARQL result the server returns; larger ones fail "
        "with a message suggesting LIMIT.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024, description="Largest request body accepted (413 beyond)."
    )
    jobs_max_body_bytes: int = Field(
        default=4 * 1024 * 1024 * 1024, ge=1,
        description="Largest body of a bulk-upsert job (`POST /api/v1/jobs/bulk-upsert`), "
        "spooled to the data directory, never held in memory (413 beyond).",
    )
    jobs_chunk_size: int = Field(
        default=500, ge=1, le=100_000,
        description="Assets a bulk-upsert job writes per changeset; its progress is durable "
        "after each, and a job interrupted by a stop or a crash resumes after the last one.",
    )
    jobs_retention_days: float = Field(
        default=7.0, ge=0,
        description="Days a finished job (and an export's file) is kept after it ended; then "
        "the worker forgets it (checked hourly). 0 keeps every job.",
    )
    sparql_max_bytes: int = Field(
        default=1024 * 1024, ge=1, description="Largest SPARQL query or update text (400 beyond)."
    )
    sparql_max_depth: int = Field(
        default=100, ge=1, le=1000,
        description="Deepest nesting of braces, brackets and parentheses in a SPARQL query or "
        "update (400 beyond); the engine recurses once per level.",
    )
    sparql_max_patterns: int = Field(
        default=1000, ge=1, le=1000,
        description="Most triple patterns and operators one SPARQL query or update may join, "
        "outside INSERT DATA / DELETE DATA (400 beyond); the engine recurses once per join.",
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
    incremental_reasoning: bool = Field(
        default=True,
        description="Keep the inferred graphs equal to a full OWL 2 RL materialisation after "
        "every write, from a fresh catalog's first one (insertions and deletions); off, they "
        "stay as the last `semcat reason` left them, and queries say they are stale.",
    )
    background_projections: bool = Field(
        default=True,
        description="In an on-disk catalog, bring the text index, the vectors, the inferred "
        "graphs and the classification rules up to date on a thread of their own, after the "
        "write is acknowledged (a write's response carries its Semcat-Position; `?wait=true` "
        "waits for them); off, inside every write. In-memory catalogs always project inline.",
    )
    vectors_on_start: bool = Field(
        default=True,
        description="A server (`semcat serve`) starts following the change log with vectors "
        "as it starts, loading the model and embedding what is not embedded yet in the "
        "background, so semantic and hybrid search have vectors from the first write on; off, "
        "the vectors are built at the first semantic search.",
    )
    embedding_adapter: str = Field(
        default="tables",
        description="A LoRA adapter for searches of tables: tables, views and columns are "
        "embedded once more with all-MiniLM-L6-v2 and this adapter merged in, into a vector index of "
        "their own, which a semantic or hybrid search filtered to those types asks instead. "
        "`tables` (shipped; tuned on questions about tables known by their names alone, as "
        "connectors load them), the directory of another adapter (`python -m "
        "bench.tune_encoder` makes one), or empty for none. Changing it rebuilds those vectors.",
    )
    classification_rules: bool = Field(
        default=True,
        description="Apply classification rules, propagate classifications along lineage and "
        "inherit tags down partOf on every write (into graph/inferred/rules/...); off, those "
        "graphs stay as they are until it is turned on again (then they catch up on open).",
    )
    provenance: bool = Field(
        default=False,
        description="Keep who asserted each statement and when, as RDF 1.2 reifiers that "
        "SPARQL can query (graph/inferred/provenance/...). Off by default: it doubles what a "
        "bulk write stores, and RDF 1.1 clients asking for every triple would meet triple "
        "terms. Turned on, it catches up from the change log on open; turned off, those "
        "graphs stay as they are.",
    )
    max_page_size: int = Field(default=500, description="Largest page of the asset list.")
    graphql_max_depth: int = Field(
        default=12, ge=2, le=100,
        description="Deepest nesting of fields a /graphql query may have; deeper queries are "
        "refused before they run.",
    )
    graphql_max_cost: int = Field(
        default=50_000, ge=100,
        description="Largest estimated cost of a /graphql query: each field counts 1, times "
        "the page sizes (limit) of the lists around it; costlier queries are refused before "
        "they run.",
    )
    mcp_max_rows: int = Field(
        default=100, ge=1, le=10_000,
        description="Most rows, hits, lineage nodes or list items one MCP tool call returns "
        "(the `semcat mcp` and /mcp tools for AI agents); the rest is paged or cut, and the "
        "result says so.",
    )
    mcp_max_result_bytes: int = Field(
        default=200_000, ge=1_000,
        description="Largest JSON an MCP tool call returns; longer lists in it are cut (the "
        "result names them under `truncated`), since an agent pays for every token.",
    )
    mcp_query_timeout_s: float = Field(
        default=10.0, gt=0,
        description="Deadline for a query of the MCP `sparql` tool; it is stopped there.",
    )
    host: str = Field(default="127.0.0.1", description="Address `semcat serve` binds.")
    port: int = Field(default=8000, description="Port `semcat serve` listens on.")
    public_url: str | None = Field(
        default=None,
        description="The URL clients reach this server at, behind a proxy (e.g. "
        "https://catalog.example.org): JSON-LD `@context` links, VoID and DCAT point there. "
        "Unset, each request's own URL. Asset IRIs stay under `base_iri` either way.",
    )
    allow_outbound: bool = Field(
        default=False,
        description="Let instance admins use SPARQL SERVICE and LOAD, which fetch remote data "
        "over HTTP from a query or update. Off, they are refused for everyone; other callers "
        "are always refused.",
    )
    open: bool = Field(
        default=False,
        description="Let callers without credentials act as an instance admin (single-user "
        "local use; `semcat serve --open`). Off, every API call needs an API key or a token.",
    )
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer; bearer JWTs must carry it as `iss`. Set "
        "it with the audience and the JWKS URL, or none of them (startup fails otherwise)."
    )
    oidc_audience: str | None = Field(
        default=None, description="Audience bearer JWTs must name in `aud` (semcat's client id)."
    )
    oidc_jwks_url: str | None = Field(
        default=None, description="URL of the issuer's JSON Web Key Set (the signing keys)."
    )
    oidc_user_claim: str = Field(
        default="email", description="JWT claim naming the user; `sub` when the token lacks it."
    )
    oidc_groups_claim: str = Field(
        default="groups", description="JWT claim listing the user's groups (mapped to teams)."
    )
    oidc_ui_client_id: str | None = Field(
        default=None, description="Client id of the web UI at the OpenID Connect issuer (a "
        "public client using authorization code + PKCE, redirect URI `{server}/ui/callback`). "
        "Set with the OIDC settings, the sign-in page offers \"Sign in with SSO\"; unset, "
        "API keys only."
    )
    events_heartbeat_s: float = Field(
        default=15.0, gt=0,
        description="Seconds between heartbeats (SSE comments) on an idle /api/v1/events "
        "stream, so proxies keep it open and clients notice a dead connection.",
    )
    events_nats_url: str | None = Field(
        default=None,
        description="NATS server (e.g. nats://127.0.0.1:4222) to publish every change event "
        "to, on JetStream, at least once from the last position it acknowledged; unset, "
        "nothing is published.",
    )
    events_nats_stream: str = Field(
        default="SEMCAT_EVENTS",
        description="JetStream stream the events go to; created over the subjects "
        "{prefix}.> when it does not exist.",
    )
    events_nats_from: Literal["now", "start"] = Field(
        default="now",
        description="Where publishing to NATS starts when this data directory has not "
        "published there before: `now`, with the changes from then on, or `start`, with every "
        "change in the log (a new stream then holds the catalog's whole history).",
    )
    events_nats_subject_prefix: str = Field(
        default="semcat.events",
        description="Subjects of published events: {prefix}.{workspace}.{type}, e.g. "
        "semcat.events.acme.asset.updated (_ for events of no workspace).",
    )
    log_url: str | None = Field(
        default=None,
        description="NATS servers with JetStream (nats://host:port[,host:port...]) holding the "
        "change log that several API nodes share (each keeps its store and indexes in its own "
        "data directory and applies the log); unset, the change log is the embedded SQLite "
        "one. See docs/scaling.md.",
    )
    log_stream: str = Field(
        default="SEMCAT_LOG",
        description="JetStream stream of the shared change log, over the subjects "
        "semcat.log.> (semcat.log-{stream}.> for another name); created when it does not "
        "exist. Every node of one catalog names the same stream.",
    )
    log_replicas: int = Field(
        default=1, ge=1, le=5,
        description="Servers of the NATS cluster that store each changeset before a write is "
        "acknowledged, when the stream is created (3 survives the loss of one).",
    )
    log_node: str | None = Field(
        default=None,
        description="This node's name on the shared change log (its durable consumer, so the "
        "servers show how far each node has read); unset, an ephemeral consumer. Names must "
        "differ between nodes.",
    )
    log_snapshot_every: int = Field(
        default=10_000, ge=0,
        description="With a shared change log: a node publishes a snapshot of itself (store "
        "and log index) to the JetStream object store {stream}_SNAPSHOTS once the log has "
        "moved this many changesets past the newest snapshot (checked every 10 s), so new "
        "nodes start from it; 0, only on request (POST /api/v1/snapshots, `semcat snapshot`).",
    )
    log_bootstrap: bool = Field(
        default=True,
        description="With a shared change log: a node that starts on an empty data directory "
        "installs the newest snapshot and replays only the log after it; off, it replays the "
        "whole log.",
    )
    leader_lease_ttl_s: float = Field(
        default=10.0, ge=1.0, le=300.0,
        description="With a shared change log, one node is elected to run the work done once "
        "per cluster (NATS events, webhooks, ingestion schedules, the property graph): it "
        "holds a lease of this many seconds on the NATS servers and renews it every third of "
        "it; when it dies, another node takes over within about 1.3 times this.",
    )
    neo4j_url: str | None = Field(
        default=None,
        description="Bolt URL (e.g. neo4j://host:7687) of a Neo4j database (or another Bolt/"
        "openCypher server) to project the catalog into as a property graph, kept in sync from "
        "the change log (docs/property-graph.md); unset, there is no property graph.",
    )
    neo4j_user: str | None = Field(default=None, description="User of the property graph's "
                                   "Bolt server; unset, no authentication.")
    neo4j_password: SecretStr | None = Field(default=None, description="Password of "
                                             "SEMCAT_NEO4J_USER on the property graph's server.")
    neo4j_database: str | None = Field(default=None, description="Database the property graph "
                                       "is written to; unset, the server's default database.")
    webhooks_allow_private: bool = Field(
        default=False,
        description="Let webhooks target loopback, link-local and private addresses (checked "
        "after DNS resolution, when a subscription is made and before every delivery). Off, "
        "only public addresses are allowed, so that webhooks cannot reach the server's own "
        "network (SSRF); turn on only where the receivers are internal services.",
    )
    webhooks_max_attempts: int = Field(
        default=10, ge=1, le=100,
        description="Attempts at delivering one event to a webhook before it is dead-lettered "
        "(listed, replayable) and the subscription moves on to the next event.",
    )
    webhooks_backoff_s: float = Field(
        default=5.0, gt=0,
        description="Seconds before a webhook's second attempt at an event; each further "
        "attempt waits twice as long as the one before, up to SEMCAT_WEBHOOKS_MAX_BACKOFF_S.",
    )
    webhooks_max_backoff_s: float = Field(
        default=3600.0, gt=0,
        description="Longest wait between two attempts at delivering an event to a webhook.",
    )
    webhooks_timeout_s: float = Field(
        default=10.0, gt=0,
        description="Deadline of one webhook request (connect, send, answer); a request past it "
        "counts as a failed attempt.",
    )
    webhooks_history: int = Field(
        default=1000, ge=10,
        description="Delivered events whose record each webhook keeps (GET "
        "/api/v1/webhooks/{id}/deliveries); dead letters and events still being retried are "
        "always kept.",
    )

    @model_validator(mode="after")
    def _oidc_all_or_nothing(self) -> Settings:
        """Refused here, so that a server with OIDC configured by halves fails at startup, not
        on its first request; all three are needed, since a token whose audience is not
        checked could be any app's."""
        given = {f"SEMCAT_OIDC_{name.upper()}": getattr(self, f"oidc_{name}")
                 for name in ("issuer", "audience", "jwks_url")}
        unset = [name for name, value in given.items() if not value]
        if 0 < len(unset) < len(given):
            raise ValueError(f"OpenID Connect is half configured: {' and '.join(unset)} "
                             f"{'is' if len(unset) == 1 else 'are'} not set; set "
                             f"{', '.join(given)} together, or none of them")
        if self.oidc_jwks_url and urlparse(self.oidc_jwks_url).scheme not in ("http", "https"):
            raise ValueError(f"SEMCAT_OIDC_JWKS_URL must be an http(s) URL, not "
                             f"{self.oidc_jwks_url!r}")
        return self

    @field_validator("embedding_adapter")
    @classmethod
    def _adapter_exists(cls, value: str) -> str:
        adapter_path(value)  # refused at startup, not at the first semantic search
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and (urlparse(value).scheme not in ("http", "https")
                                  or not urlparse(value).netloc):
            raise ValueError(f"SEMCAT_PUBLIC_URL must be an http(s) URL, not {value!r}")
        return value.rstrip("/") if value else None

    @field_validator("neo4j_url")
    @classmethod
    def _neo4j_url_is_bolt(cls, value: str | None) -> str | None:
        """Refused here, so that a server with a mistyped URL fails at startup."""
        if value and value.partition("://")[0] not in SCHEMES:
            raise ValueError(f"SEMCAT_NEO4J_URL {value!r} is not a Bolt URL: it starts with one "
                             f"of {', '.join(s + '://' for s in SCHEMES)}")
        return value or None

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            try:
                parse_many(value)
            except ValueError as e:
                raise ValueError(f"{value!r} is not a rate limit like 50/second;1000/minute: "
                                 f"{e}") from e
        return value.strip()

    @field_validator("log_url")
    @classmethod
    def _nats_servers(cls, value: str | None) -> str | None:
        """nats://host:port[,host:port...] (the scheme may be repeated per server)."""
        if not value:
            return None
        for part in value.split(","):
            url = urlparse(part.strip() if "://" in part else "nats://" + part.strip())
            if url.scheme not in ("nats", "tls") or not url.hostname:
                raise ValueError(f"{part.strip()!r} is not a NATS server: give "
                                 "nats://host:port[,host:port...]")
        return value.strip()

    @property
    def base(self) -> str:
        return self.base_iri.rstrip("/")

    def events_nats(self) -> NatsConfig | None:
        """Where the change stream is published, if anywhere."""
        if not self.events_nats_url:
            return None
        return NatsConfig(self.events_nats_url, self.events_nats_stream,
                          self.events_nats_subject_prefix, self.events_nats_from)

    def property_graph(self) -> Neo4jConfig | None:
        """Where the catalog is projected as a property graph, if anywhere."""
        if not self.neo4j_url:
            return None
        return Neo4jConfig(self.neo4j_url, self.neo4j_user, self.neo4j_password.get_secret_value()
                           if self.neo4j_password else None, self.neo4j_database)

    def webhooks(self) -> WebhookConfig:
        """How webhooks are delivered: egress rule, retry schedule, timeout, history."""
        return WebhookConfig(self.webhooks_allow_private, self.webhooks_max_attempts,
                             self.webhooks_backoff_s, self.webhooks_max_backoff_s,
                             self.webhooks_timeout_s, self.webhooks_history)

    def embedder(self) -> MiniLMEmbedder:
        return MiniLMEmbedder()

    def table_embedder(self) -> MiniLMEmbedder | None:
        """The encoder of the table-only vector index (catalog/vector_sides.py), if any."""
        adapter = adapter_path(self.embedding_adapter)
        return MiniLMEmbedder(adapter=adapter) if adapter is not None else None

    def store_endpoints(self) -> Endpoints | None:
        """The remote store's endpoints, if the catalog lives on one."""
        if not self.store_url:
            return None
        return Endpoints.of(self.store_url, self.store_update_url, self.store_graph_url)

    def sparql_limits(self) -> SparqlLimits:
        return SparqlLimits(max_bytes=self.sparql_max_bytes, max_depth=self.sparql_max_depth,
                            max_patterns=self.sparql_max_patterns)
