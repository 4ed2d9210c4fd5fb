"""Settings for every crkg component, read once from the environment (prefix ``CRKG_``)."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.money import check_currency


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def _total_memory_mib() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a modest machine
        return 8 * 1024


def default_heap_mib() -> int:
    """A quarter of the machine, at most 8 GiB: GDS projections live on the heap."""
    return max(1024, min(8 * 1024, _total_memory_mib() // 4))


def default_pagecache_mib() -> int:
    """An eighth of the machine, at most 4 GiB: the store is cached off-heap."""
    return max(512, min(4 * 1024, _total_memory_mib() // 8))


class CrkgSettings(BaseSettings):
    """All configuration; every field can be set as ``CRKG_<FIELD_NAME>``.

    With no ``neo4j_uri`` crkg runs against its *managed local Neo4j* (see
    ``graph.localserver``) whose password is generated and kept under ``data_dir``.
    """

    model_config = SettingsConfigDict(
        env_prefix="CRKG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.DEVELOPMENT

    # --- the database -------------------------------------------------------------
    neo4j_uri: str | None = Field(
        default=None,
        description="bolt:// or neo4j:// URI of an external Neo4j 5.26+; unset = managed local",
    )
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    neo4j_max_transaction_retry_seconds: float = Field(default=30.0, gt=0)
    neo4j_connection_timeout_seconds: float = Field(default=10.0, gt=0)

    # --- the managed local server ------------------------------------------------
    data_dir: Path = Field(default=Path(".crkg"), description="cache, databases and credentials")
    local_instance: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = "default"
    local_bolt_port: int = Field(default=7687, ge=1024, le=65535)
    local_heap_mib: int = Field(default_factory=default_heap_mib, ge=512)
    local_pagecache_mib: int = Field(default_factory=default_pagecache_mib, ge=128)
    local_start_timeout_seconds: float = Field(default=180.0, gt=0)
    local_lock_timeout_seconds: float = Field(
        default=30.0, gt=0, description="lock waits longer than this fail as transient errors"
    )
    java_home: Path | None = Field(default=None, description="a Java 17 or 21 home; else searched")
    maven_command: str = "mvn"

    # --- loading ------------------------------------------------------------------------
    pii_hash_key: SecretStr | None = Field(
        default=None, description="HMAC key for identifier values; required in production"
    )
    load_batch_size: int = Field(default=10_000, ge=1, le=1_000_000)
    currency: str = Field(
        default="CNY",
        description="ISO 4217 code of every amount (one currency per deployment; 2 decimals)",
    )

    # --- algorithm runs -----------------------------------------------------------------
    algorithm_write_batch_size: int = Field(
        default=10_000, ge=1, le=1_000_000, description="customers per write-back transaction"
    )
    algorithm_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        description="how often a running algorithm stamps its AlgorithmRun; a run silent for "
        "three times this is failed as abandoned (its process died)",
    )
    algorithm_write_pause_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="fault-injection hook for the crash tests: a pause after each write-back "
        "batch, so a test can kill the process half-way; 0 (off) outside those tests",
    )

    # --- marketing screens ------------------------------------------------------------
    risk_flag_rating: int = Field(
        default=4, ge=1, le=6, description="risk_rating at or above this flags a customer (6: off)"
    )
    campaign_max_contacts_ceiling: int = Field(
        default=5, ge=1, le=1000, description="largest maxContacts a list may be drawn with"
    )
    campaign_min_complaint_window_days: int = Field(
        default=90, ge=0, le=3660, description="smallest complaintWindowDays a list may use"
    )
    risk_flag_default_hops: int = Field(
        default=1,
        ge=0,
        le=3,
        description="ties (social or guarantee, either direction) to a defaulted borrower that "
        "flag a customer; 0 flags only the defaulted borrowers themselves",
    )

    # --- the API --------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_max_page_size: int = Field(default=1_000, ge=1, le=100_000)
    api_max_depth: int = Field(default=10, ge=2, description="deepest selection nesting")
    api_max_aliases: int = Field(default=15, ge=1)
    api_max_tokens: int = Field(default=2_000, ge=50, description="lexical tokens per document")
    api_max_fields: int = Field(
        default=300, ge=10, description="field selections per document (fragments expanded)"
    )
    api_max_cost: int = Field(
        default=50_000, ge=1, description="upper bound on the values a response can hold"
    )
    api_query_timeout_seconds: float = Field(default=10.0, gt=0)
    api_request_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="deadline of a whole request: every transaction and search it makes",
    )
    api_max_concurrent_searches: int = Field(
        default=2, ge=1, description="warm-path searches one API process runs at once"
    )
    api_search_wait_seconds: float = Field(
        default=3.0,
        ge=0,
        description="how long a warm-path search waits for a free slot before BUSY",
    )
    api_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="largest HTTP request body (413 above)"
    )
    api_max_document_bytes: int = Field(
        default=20 * 1024, ge=256, description="largest GraphQL document, checked before parsing"
    )
    api_allow_remote_dev: bool = Field(
        default=False,
        description="allow `crkg serve` in development on a non-loopback address (GraphiQL, "
        "introspection and minted tokens reachable from elsewhere)",
    )
    api_job_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        description="how often a process stamps its running jobs; a job silent for three "
        "times this is failed as abandoned (its process died)",
    )
    api_rm_check_seconds: float = Field(
        default=30.0,
        ge=0,
        description="how long the answer 'this rm token names an existing RM' is kept",
    )

    # --- tracing ----------------------------------------------------------------------------
    tracing_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="where OpenTelemetry spans go (a span per request and per database call)",
    )
    tracing_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint; unset: the exporter's default or "
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    )
    tracing_service_name: str = "crkg-api"

    # --- authentication -------------------------------------------------------------------
    auth_jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    auth_jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key; outside production a generated one is kept"
    )
    auth_jwt_public_key: str | None = Field(default=None, description="RS256 PEM public key")
    auth_jwt_issuer: str = "crkg"
    auth_jwt_audience: str = "crkg-api"
    auth_token_ttl_minutes: int = Field(default=480, ge=1, le=10_080)
    auth_max_token_ttl_minutes: int = Field(
        default=24 * 60,
        ge=1,
        le=10_080,
        description="longest lifetime (exp - iat) of a token the API accepts or crkg token mints",
    )
    auth_revoked_tokens_file: Path | None = Field(
        default=None,
        description="a file of revoked token ids (jti), one per line; re-read when it changes",
    )

    @field_validator("currency")
    @classmethod
    def _two_decimal_currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _minted_tokens_within_the_maximum(self) -> CrkgSettings:
        if self.auth_token_ttl_minutes > self.auth_max_token_ttl_minutes:
            raise ValueError(
                f"CRKG_AUTH_TOKEN_TTL_MINUTES ({self.auth_token_ttl_minutes}) is above "
                f"CRKG_AUTH_MAX_TOKEN_TTL_MINUTES ({self.auth_max_token_ttl_minutes}): the API "
                "would refuse the tokens crkg token mints"
            )
        return self

    @model_validator(mode="after")
    def _external_database_needs_a_password(self) -> CrkgSettings:
        if self.neo4j_uri is not None and self.neo4j_password is None:
            raise ValueError(
                "CRKG_NEO4J_URI is set but CRKG_NEO4J_PASSWORD is not: an external Neo4j "
                "needs its credentials (the generated password is only for the managed server)"
            )
        return self

    @property
    def uses_local_server(self) -> bool:
        return self.neo4j_uri is None

    @property
    def local_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.local_bolt_port}"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()


@lru_cache(maxsize=1)
def get_settings() -> CrkgSettings:
    """The process-wide settings (cached; tests build their own ``CrkgSettings``)."""
    return CrkgSettings()
