"""Configuration: frozen dataclasses built once at the edge and passed down.

Stage: edge (CLI, worker, Lambda entry). :func:`from_env` is the only function in the package
that reads environment variables; everything else receives a :class:`Config`. Must not import
the native extension, clients or anything that does I/O at import time.

Sources, lowest precedence first: defaults, an optional TOML file (``--config`` or
``RECALL_FAST_CONFIG``), environment variables ``RECALL_FAST_<SECTION>__<FIELD>`` (e.g.
``RECALL_FAST_QUEUE__VISIBILITY_TIMEOUT_S=120``), then command-line flags. One table of fields
with help texts (the dataclass field metadata) drives the TOML keys, the environment names and
the CLI flags, so the three can never disagree.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from recall_fast.errors import ConfigError

ENV_PREFIX: Final = "RECALL_FAST_"
ENV_CONFIG_FILE: Final = "RECALL_FAST_CONFIG"

MIB: Final = 1024 * 1024

#: Default tenant pattern: the first path segment of the object key (``acme/sensor1/conn/...``).
DEFAULT_TENANT_PATTERN: Final = r"^(?P<tenant>[^/]+)/"

# SQS caps a visibility timeout at 12 hours.
SQS_MAX_VISIBILITY_S: Final = 43_200

BulkAction = Literal["create", "index"]


def _require(ok: bool, name: str, reason: str) -> None:
    """Raise a ConfigError naming the option when ``ok`` is false."""
    if not ok:
        raise ConfigError(f"{name}: {reason}")


def _has_userinfo(url: str) -> bool:
    """Tell whether ``url`` carries ``user[:password]@`` before its host."""
    _, sep, rest = url.partition("://")
    authority = (rest if sep else url).split("/", 1)[0]
    return "@" in authority


def _help(text: str) -> dict[str, str]:
    """Field metadata carrying the help text shown by ``--help`` (one source for all docs)."""
    return {"help": text}


@dataclass(frozen=True, slots=True)
class TenantConfig:
    """How a tenant is derived from an object key and which tenants are accepted."""

    key_pattern: str = field(
        default=DEFAULT_TENANT_PATTERN,
        metadata=_help(
            "regular expression applied to the object key (or the path relative to a local "
            "root); its named group 'tenant' is the tenant. Default: first path segment"
        ),
    )
    allowed: frozenset[str] | None = field(
        default=None,
        metadata=_help(
            "comma-separated allow-list of tenants; an object of any other tenant is "
            "dead-lettered. Default: every valid tenant name"
        ),
    )

    def __post_init__(self) -> None:
        """Validate the pattern once, here, so a bad one fails at start-up.

        Raises:
            ConfigError: The pattern does not compile or has no 'tenant' group.
        """
        try:
            compiled = re.compile(self.key_pattern)
        except re.error as error:
            raise ConfigError(f"tenants.key_pattern does not compile: {error}") from error
        if "tenant" not in compiled.groupindex:
            raise ConfigError("tenants.key_pattern needs a named group (?P<tenant>...)")


@dataclass(frozen=True, slots=True)
class TenantFeatures:
    """Feature flags of one tenant (soft releases, special features)."""

    disabled_log_types: frozenset[str] = frozenset()
    disabled_enrichments: frozenset[str] = frozenset()

    def log_type_enabled(self, log_type: str) -> bool:
        """Tell whether documents of ``log_type`` are ingested for this tenant."""
        return log_type not in self.disabled_log_types


@dataclass(frozen=True, slots=True)
class FeatureFlags:
    """Per-tenant feature flags, with a default for tenants without an entry.

    TOML::

        [features.default]
        disabled_log_types = ["loaded_scripts"]
        [features.tenants.acme]
        disabled_log_types = ["weird"]
        disabled_enrichments = ["community_id"]
    """

    default: TenantFeatures = TenantFeatures()
    tenants: Mapping[str, TenantFeatures] = field(
        default_factory=lambda: types.MappingProxyType({})
    )

    def for_tenant(self, tenant: str) -> TenantFeatures:
        """Return the flags of ``tenant`` (the default entry when it has none)."""
        return self.tenants.get(tenant, self.default)


@dataclass(frozen=True, slots=True)
class DecodeConfig:
    """Reading and decoding: chunk sizes, thread pool, range splitting."""

    threads: int = field(
        default=0,
        metadata=_help(
            "decode/encode threads (native calls release the GIL); 0 means one per CPU core"
        ),
    )
    batch_rows: int = field(default=8192, metadata=_help("rows per decoded Arrow batch"))
    format: Literal["auto", "tsv", "json"] = field(
        default="auto", metadata=_help("input format: auto, tsv or json (auto sniffs)")
    )
    compression: Literal["auto", "none", "gzip", "zstd"] = field(
        default="auto",
        metadata=_help("input compression: auto (magic bytes), none, gzip or zstd"),
    )
    max_line_bytes: int = field(
        default=MIB,
        metadata=_help("longest accepted line; a longer one is quarantined, not buffered"),
    )
    max_columns: int = field(
        default=1024,
        metadata=_help(
            "most columns one log schema may have (a TSV header block, the keys a JSON log "
            "accumulates); lines past it are quarantined, which bounds memory on hostile input"
        ),
    )
    max_decompressed_bytes: int = field(
        default=32 * 1024 * MIB,
        metadata=_help(
            "decompression bomb guard: an object inflating beyond this many bytes fails "
            "(dead-lettered with the reason); 0 disables the cap"
        ),
    )
    max_ratio: int = field(
        default=250,
        metadata=_help(
            "decompression bomb guard: an object whose decompressed/compressed ratio exceeds "
            "this (checked after the first MiB) fails; real Zeek logs stay below 30; 0 disables"
        ),
    )
    read_chunk_bytes: int = field(
        default=MIB, metadata=_help("bytes per read from S3 or a file (MiB-sized reads)")
    )
    queue_chunks: int = field(
        default=4,
        metadata=_help("read chunks buffered between reader and decoder, per object"),
    )
    max_objects_in_flight: int = field(
        default=4, metadata=_help("objects processed concurrently by `ingest`")
    )
    range_split_min_bytes: int = field(
        default=256 * MIB,
        metadata=_help(
            "uncompressed objects at least this large are split into byte ranges aligned "
            "to line boundaries and decoded concurrently; 0 disables splitting. Part of the "
            "document ids of split objects: change it only with the queue drained"
        ),
    )
    range_bytes: int = field(
        default=64 * MIB,
        metadata=_help(
            "size of one byte range. Part of the document ids of split objects (range i "
            "numbers its records from i * 2**40): change it only with the queue drained"
        ),
    )
    max_ranges_in_flight: int = field(
        default=0,
        metadata=_help(
            "byte ranges of one object decoded concurrently; 0 means one per decode thread "
            "(more would only hold memory while waiting for a thread)"
        ),
    )

    def __post_init__(self) -> None:
        """Validate sizes and choices.

        Raises:
            ConfigError: A value is out of range.
        """
        _require(self.threads >= 0, "decode.threads", "must be >= 0")
        _require(self.batch_rows > 0, "decode.batch_rows", "must be > 0")
        _require(1 <= self.max_columns <= 65536, "decode.max_columns", "must be 1..65536")
        _require(self.format in {"auto", "tsv", "json"}, "decode.format", "auto|tsv|json")
        _require(
            self.compression in {"auto", "none", "gzip", "zstd"},
            "decode.compression",
            "auto|none|gzip|zstd",
        )
        _require(self.read_chunk_bytes >= 4096, "decode.read_chunk_bytes", "must be >= 4096")
        _require(self.max_line_bytes >= 1024, "decode.max_line_bytes", "must be >= 1024")
        _require(self.max_decompressed_bytes >= 0, "decode.max_decompressed_bytes", ">= 0")
        _require(self.max_ratio >= 0, "decode.max_ratio", ">= 0")
        _require(self.queue_chunks >= 1, "decode.queue_chunks", "must be >= 1")
        _require(self.max_objects_in_flight >= 1, "decode.max_objects_in_flight", ">= 1")
        _require(self.range_split_min_bytes >= 0, "decode.range_split_min_bytes", ">= 0")
        _require(self.range_bytes >= MIB, "decode.range_bytes", "must be >= 1 MiB")
        _require(self.max_ranges_in_flight >= 0, "decode.max_ranges_in_flight", ">= 0")

    @property
    def decompressed_cap(self) -> int | None:
        """``max_decompressed_bytes`` for the native decoder (None: 0 disables it)."""
        return self.max_decompressed_bytes or None

    @property
    def ratio_cap(self) -> int | None:
        """``max_ratio`` for the native decoder (None: 0 disables it)."""
        return self.max_ratio or None

    def effective_threads(self) -> int:
        """Threads for the pipeline executor (``threads`` or one per core)."""
        return self.threads or (os.cpu_count() or 1)

    def effective_ranges_in_flight(self) -> int:
        """Ranges of one object decoded at once (``max_ranges_in_flight`` or the threads)."""
        return self.max_ranges_in_flight or self.effective_threads()


@dataclass(frozen=True, slots=True)
class ElasticsearchConfig:
    """The Elasticsearch sink: endpoints, bulk sizing, concurrency and retries."""

    urls: tuple[str, ...] = field(
        default=("http://127.0.0.1:9200",),
        metadata=_help("comma-separated Elasticsearch URLs (es://host:port also accepted)"),
    )
    tenant_urls: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: types.MappingProxyType({}),
        metadata=_help('per-tenant endpoints, e.g. {"acme": ["https://es-acme:9200"]}'),
    )
    # Secrets are repr=False: a Config printed in a log line or a traceback must not carry them.
    api_key: str | None = field(default=None, repr=False, metadata=_help("API key (id:key base64)"))
    username: str | None = field(default=None, metadata=_help("basic-auth user"))
    password: str | None = field(default=None, repr=False, metadata=_help("basic-auth password"))
    verify_certs: bool = field(
        default=True,
        metadata=_help(
            "verify the server's TLS certificate and host name; turning it off (or "
            "--es-insecure) is logged as a warning on every start"
        ),
    )
    ca_certs: str | None = field(
        default=None,
        metadata=_help("PEM CA bundle that signs the server certificate (default: system CAs)"),
    )
    client_cert: str | None = field(
        default=None, metadata=_help("PEM client certificate for mutual TLS")
    )
    client_key: str | None = field(
        default=None,
        metadata=_help("PEM private key of client_cert (omit when client_cert holds both)"),
    )
    index_pattern: str | None = field(
        default=None,
        metadata=_help(
            "index name pattern with <tenant> (required), <logtype> and a date such as "
            "<yyyy.MM.dd>. Default: recall-<tenant>-zeek.<logtype>-<yyyy.MM.dd>"
        ),
    )
    action: BulkAction = field(
        default="create",
        metadata=_help(
            "bulk action: create (default, as in the native encoder: ids are deterministic, so "
            "a redelivered document answers 409 = already indexed and is never written twice) "
            "or index (overwrite, e.g. to replace documents after a normaliser fix)"
        ),
    )
    max_chunk_bytes: int = field(default=5 * MIB, metadata=_help("max bytes per bulk body"))
    max_chunk_docs: int = field(default=5000, metadata=_help("max documents per bulk body"))
    request_timeout_s: float = field(default=60.0, metadata=_help("timeout of one request"))
    adaptive_concurrency: bool = field(
        default=True,
        metadata=_help("adapt the number of bulk requests in flight (AIMD on latency)"),
    )
    initial_concurrency: int = field(default=2, metadata=_help("bulk requests in flight at start"))
    max_concurrency: int = field(default=16, metadata=_help("upper bound of requests in flight"))
    max_inflight_bytes: int = field(
        default=64 * MIB,
        metadata=_help("bulk body bytes held by the sink (in flight or waiting to retry)"),
    )
    max_pending_chunks: int = field(
        default=64, metadata=_help("bulk bodies held by the sink at once")
    )
    item_retry_attempts: int = field(
        default=8,
        metadata=_help("rounds of retrying 429/5xx items before the object fails (transient)"),
    )
    request_retry_budget_s: float = field(
        default=120.0,
        metadata=_help(
            "how long a request is retried while Elasticsearch is unreachable before the "
            "object fails (transient; the queue retries it later)"
        ),
    )
    retry_base_s: float = field(default=0.5, metadata=_help("first retry back-off"))
    retry_cap_s: float = field(default=30.0, metadata=_help("largest retry back-off"))
    http_compress: bool = field(
        default=False,
        metadata=_help("gzip request bodies (saves bandwidth, costs event-loop CPU)"),
    )

    def __post_init__(self) -> None:
        """Validate sizes, retries and the index pattern.

        Raises:
            ConfigError: A value is out of range or the pattern would mix tenants.
        """
        _require(bool(self.urls), "elasticsearch.urls", "at least one URL")
        # Credentials have one way in (api_key / username+password, never printed); a URL's
        # user-info would travel into log lines, error messages and metric labels with the URL.
        _require(
            not any(_has_userinfo(u) for u in self.all_urls()),
            "elasticsearch.urls",
            "must not carry credentials (user:password@); use elasticsearch.username/password "
            "or elasticsearch.api_key",
        )
        _require(
            self.client_key is None or self.client_cert is not None,
            "elasticsearch.client_key",
            "needs elasticsearch.client_cert",
        )
        _require(
            self.api_key is None or self.username is None,
            "elasticsearch.api_key",
            "give an API key or a user name, not both",
        )
        _require(self.action in {"create", "index"}, "elasticsearch.action", "create|index")
        _require(self.max_chunk_bytes >= 1024, "elasticsearch.max_chunk_bytes", ">= 1024")
        _require(self.max_chunk_docs >= 1, "elasticsearch.max_chunk_docs", ">= 1")
        _require(self.request_timeout_s > 0, "elasticsearch.request_timeout_s", "> 0")
        _require(self.initial_concurrency >= 1, "elasticsearch.initial_concurrency", ">= 1")
        _require(
            self.max_concurrency >= self.initial_concurrency,
            "elasticsearch.max_concurrency",
            ">= initial_concurrency",
        )
        _require(self.max_inflight_bytes >= MIB, "elasticsearch.max_inflight_bytes", ">= 1 MiB")
        _require(self.max_pending_chunks >= 1, "elasticsearch.max_pending_chunks", ">= 1")
        _require(self.item_retry_attempts >= 0, "elasticsearch.item_retry_attempts", ">= 0")
        _require(self.request_retry_budget_s >= 0, "elasticsearch.request_retry_budget_s", ">= 0")
        _require(0 < self.retry_base_s <= self.retry_cap_s, "elasticsearch.retry_base_s", "<= cap")
        # Isolation: without <tenant> the tenants of a shared cluster would share an index (the
        # native side validates the pattern fully; this fails early, at start-up).
        _require(
            self.index_pattern is None or "<tenant>" in self.index_pattern,
            "elasticsearch.index_pattern",
            "must contain <tenant> (documents of different tenants must not share an index)",
        )

    def urls_for(self, tenant: str) -> tuple[str, ...]:
        """Return the endpoints serving ``tenant`` (its own, or the shared ones)."""
        return self.tenant_urls.get(tenant, self.urls)

    def all_urls(self) -> tuple[str, ...]:
        """Every configured endpoint: the shared ones and each tenant's."""
        return tuple(u for urls in (self.urls, *self.tenant_urls.values()) for u in urls)

    def uses_tls(self) -> bool:
        """Tell whether any endpoint is reached over HTTPS."""
        return any(u.lower().startswith("https://") for u in self.all_urls())


@dataclass(frozen=True, slots=True)
class S3Config:
    """S3 (and SQS) client settings; credentials come from the botocore chain."""

    endpoint_url: str | None = field(
        default=None,
        metadata=_help("S3/SQS endpoint (AWS_ENDPOINT_URL is honoured by botocore as well)"),
    )
    region: str | None = field(default=None, metadata=_help("AWS region"))
    request_timeout_s: float = field(
        default=60.0, metadata=_help("timeout of one S3/SQS call or one body read")
    )
    max_pool_connections: int = field(default=64, metadata=_help("HTTP connections per client"))

    def __post_init__(self) -> None:
        """Raises: ConfigError: a value is out of range."""
        _require(self.request_timeout_s > 0, "s3.request_timeout_s", "> 0")
        _require(self.max_pool_connections >= 1, "s3.max_pool_connections", ">= 1")


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """The SQS worker: polling, visibility heartbeat, retry delays, shutdown."""

    queue_url: str | None = field(default=None, metadata=_help("SQS queue with S3 notifications"))
    dead_letter_queue_url: str | None = field(
        default=None,
        metadata=_help("SQS dead-letter queue for objects that failed for good"),
    )
    wait_time_s: int = field(default=20, metadata=_help("long-polling wait per receive (0-20)"))
    max_messages: int = field(default=10, metadata=_help("messages per receive (1-10)"))
    max_messages_in_flight: int = field(
        default=8, metadata=_help("messages held and worked on concurrently")
    )
    visibility_timeout_s: int = field(
        default=120,
        metadata=_help("visibility granted per receive and per heartbeat extension"),
    )
    max_hold_s: float = field(
        default=7200.0,
        metadata=_help("longest a message is held by heartbeats before it is released"),
    )
    retry_delays_s: tuple[float, ...] = field(
        default=(300.0, 900.0, 2700.0),
        metadata=_help(
            "comma-separated delays (s) after the 1st, 2nd, ... transient failure of an "
            "object; after the last one the message goes to the dead-letter queue"
        ),
    )
    shutdown_deadline_s: float = field(
        default=25.0,
        metadata=_help("on SIGTERM: finish or release held messages within this time"),
    )

    def __post_init__(self) -> None:
        """Raises: ConfigError: a value is out of range."""
        _require(0 <= self.wait_time_s <= 20, "queue.wait_time_s", "0..20")
        _require(1 <= self.max_messages <= 10, "queue.max_messages", "1..10")
        _require(self.max_messages_in_flight >= 1, "queue.max_messages_in_flight", ">= 1")
        _require(
            2 <= self.visibility_timeout_s <= SQS_MAX_VISIBILITY_S,
            "queue.visibility_timeout_s",
            f"2..{SQS_MAX_VISIBILITY_S}",
        )
        _require(self.max_hold_s > 0, "queue.max_hold_s", "> 0")
        _require(
            all(0 <= d <= SQS_MAX_VISIBILITY_S for d in self.retry_delays_s),
            "queue.retry_delays_s",
            f"each 0..{SQS_MAX_VISIBILITY_S}",
        )
        _require(self.shutdown_deadline_s > 0, "queue.shutdown_deadline_s", "> 0")

    @property
    def heartbeat_interval_s(self) -> float:
        """How often held messages are checked: a third of the visibility timeout."""
        return max(1.0, self.visibility_timeout_s / 3)


@dataclass(frozen=True, slots=True)
class DeadLetterConfig:
    """Where documents rejected by Elasticsearch (mapping/parse errors) are kept."""

    target: str = field(
        default="recall-dead-letter",
        metadata=_help("local directory or s3://bucket/prefix for rejected documents"),
    )


@dataclass(frozen=True, slots=True)
class ObservabilityConfig:
    """Metrics endpoint, CloudWatch EMF and log rate limiting."""

    metrics_port: int | None = field(
        default=None, metadata=_help("serve Prometheus metrics on this port (worker)")
    )
    metrics_host: str = field(default="127.0.0.1", metadata=_help("metrics bind address"))
    emf: bool = field(
        default=False, metadata=_help("print CloudWatch Embedded Metric Format lines")
    )
    emf_namespace: str = field(default="recall_fast", metadata=_help("EMF namespace"))
    emf_interval_s: float = field(default=60.0, metadata=_help("seconds between EMF lines"))
    log_level: str = field(default="INFO", metadata=_help("DEBUG, INFO, WARNING or ERROR"))
    log_rate_per_s: float = field(
        default=1.0, metadata=_help("log lines per second allowed per message key")
    )
    log_burst: int = field(default=10, metadata=_help("burst of log lines per message key"))

    def __post_init__(self) -> None:
        """Raises: ConfigError: a value is out of range."""
        _require(
            self.log_level in {"DEBUG", "INFO", "WARNING", "ERROR"},
            "observability.log_level",
            "DEBUG|INFO|WARNING|ERROR",
        )
        _require(self.log_rate_per_s > 0, "observability.log_rate_per_s", "> 0")
        _require(self.log_burst >= 1, "observability.log_burst", ">= 1")
        _require(self.emf_interval_s > 0, "observability.emf_interval_s", "> 0")


@dataclass(frozen=True, slots=True)
class AwsLambdaConfig:
    """The Lambda entry: time budget and continuation of objects that do not fit in it."""

    deadline_margin_s: float = field(
        default=20.0,
        metadata=_help("stop taking work this long before the Lambda deadline"),
    )
    max_continuations: int = field(
        default=100,
        metadata=_help(
            "longest continuation chain of one object; beyond it the object fails as transient"
        ),
    )
    fan_out_ranges: bool = field(
        default=True,
        metadata=_help("hand ranges of a split object this invocation does not take to others"),
    )

    def __post_init__(self) -> None:
        """Raises: ConfigError: a value is out of range."""
        _require(self.deadline_margin_s > 0, "aws_lambda.deadline_margin_s", "> 0")
        _require(self.max_continuations >= 1, "aws_lambda.max_continuations", ">= 1")


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the pipeline needs, assembled by :func:`load` / :func:`from_env`."""

    tenants: TenantConfig = TenantConfig()
    features: FeatureFlags = FeatureFlags()
    decode: DecodeConfig = DecodeConfig()
    elasticsearch: ElasticsearchConfig = ElasticsearchConfig()
    s3: S3Config = S3Config()
    queue: QueueConfig = QueueConfig()
    dead_letter: DeadLetterConfig = DeadLetterConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    aws_lambda: AwsLambdaConfig = AwsLambdaConfig()


#: Sections whose fields are plain values settable from TOML, environment and flags.
SECTIONS: Final[dict[str, type[Any]]] = {
    "tenants": TenantConfig,
    "decode": DecodeConfig,
    "elasticsearch": ElasticsearchConfig,
    "s3": S3Config,
    "queue": QueueConfig,
    "dead_letter": DeadLetterConfig,
    "observability": ObservabilityConfig,
    "aws_lambda": AwsLambdaConfig,
}

Overrides = Mapping[str, Mapping[str, object]]


def field_help(section: str, name: str) -> str:
    """Return the help text of one option (shown by ``--help``).

    Args:
        section: Section name in :data:`SECTIONS`.
        name: Field name.

    Returns:
        The help text, or an empty string.
    """
    for f in dataclasses.fields(SECTIONS[section]):
        if f.name == name:
            return str(f.metadata.get("help", ""))
    return ""


def env_name(section: str, name: str) -> str:
    """Return the environment variable of one option, e.g. ``RECALL_FAST_QUEUE__WAIT_TIME_S``."""
    return f"{ENV_PREFIX}{section.upper()}__{name.upper()}"


def _coerce(value: object, hint: object, where: str) -> object:
    """Convert a TOML/env/flag value to the type of a dataclass field.

    Strings (from the environment) are parsed: numbers, booleans, comma-separated lists and
    JSON objects for mappings.

    Raises:
        ConfigError: The value does not fit the type.
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None or (isinstance(value, str) and value.lower() in {"", "none", "null"}):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: expected one of {', '.join(map(str, args))}")
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected a boolean, got {value!r}")
    if hint is int or hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return int(value) if hint is int else float(value)
        except ValueError as error:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from error
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if origin in (tuple, frozenset):
        items: list[object]
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, list | tuple | set | frozenset):
            items = list(value)
        else:
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        converted = [_coerce(v, args[0], where) for v in items]
        return tuple(converted) if origin is tuple else frozenset(converted)
    if origin in (Mapping, dict) or hint is Mapping:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ConfigError(f"{where}: expected a JSON object") from error
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table/object, got {value!r}")
        return types.MappingProxyType(
            {str(k): _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
        )
    raise ConfigError(f"{where}: unsupported option type {hint!r}")


def _build_section(cls: type[Any], values: Mapping[str, object], section: str) -> object:
    """Instantiate one section dataclass from raw values, coercing each to its field type.

    Raises:
        ConfigError: An unknown key or a value of the wrong type.
    """
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"{section}: unknown option(s) {', '.join(sorted(unknown))}")
    # Secret fields (repr=False) must not be echoed by a type error either.
    secret = {f.name for f in dataclasses.fields(cls) if not f.repr}
    kwargs: dict[str, object] = {}
    for k, v in values.items():
        try:
            kwargs[k] = _coerce(v, hints[k], f"{section}.{k}")
        except ConfigError:
            if k not in secret:
                raise
            raise ConfigError(f"{section}.{k}: invalid value (not shown: secret)") from None
    return cls(**kwargs)


SectionT = typing.TypeVar("SectionT")


def _section(cls: type[SectionT], raw: Mapping[str, Mapping[str, object]], name: str) -> SectionT:
    """Build one section from the merged raw values.

    Raises:
        ConfigError: Unknown keys or invalid values.
    """
    built = _build_section(cls, raw.get(name, {}), name)
    assert isinstance(built, cls)
    return built


def _features_from(raw: Mapping[str, object]) -> FeatureFlags:
    """Build the feature flags from the ``[features]`` table.

    Raises:
        ConfigError: Unknown keys or wrong types.
    """

    def one(name: str, table: object) -> TenantFeatures:
        if not isinstance(table, Mapping):
            raise ConfigError(f"features.{name}: expected a table")
        built = _build_section(TenantFeatures, table, f"features.{name}")
        assert isinstance(built, TenantFeatures)
        return built

    unknown = set(raw) - {"default", "tenants"}
    if unknown:
        raise ConfigError(f"features: unknown key(s) {', '.join(sorted(unknown))}")
    default = one("default", raw.get("default", {}))
    tenants_raw = raw.get("tenants", {})
    if not isinstance(tenants_raw, Mapping):
        raise ConfigError("features.tenants: expected a table of tenants")
    tenants = {str(t): one(f"tenants.{t}", table) for t, table in tenants_raw.items()}
    return FeatureFlags(default=default, tenants=types.MappingProxyType(tenants))


def _merge(base: dict[str, dict[str, object]], overlay: Overrides) -> None:
    """Merge ``overlay`` section by section into ``base`` (later wins)."""
    for section, values in overlay.items():
        base.setdefault(section, {}).update(values)


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """Collect ``RECALL_FAST_<SECTION>__<FIELD>`` variables into raw overrides.

    Args:
        environ: The environment to read (passed in: only :func:`from_env` uses ``os.environ``).

    Returns:
        Raw string values by section and field.

    Raises:
        ConfigError: A variable names an unknown section.
    """
    out: dict[str, dict[str, object]] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key or key == ENV_CONFIG_FILE:
            continue
        section, _, name = key[len(ENV_PREFIX) :].partition("__")
        section = section.lower()
        if section not in SECTIONS:
            raise ConfigError(f"{key}: unknown section {section!r}")
        out.setdefault(section, {})[name.lower()] = value
    return out


def load(
    *,
    toml_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> Config:
    """Assemble a :class:`Config`: defaults < TOML < environment < overrides (CLI flags).

    Args:
        toml_path: Optional TOML file; ``RECALL_FAST_CONFIG`` in ``environ`` when None.
        environ: Environment variables to apply (nothing read from the process when None).
        overrides: Values by section and field, usually from command-line flags.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: Unreadable TOML, unknown options or invalid values.
    """
    environ = environ or {}
    raw: dict[str, dict[str, object]] = {}
    features_raw: Mapping[str, object] = {}
    path = toml_path or (Path(environ[ENV_CONFIG_FILE]) if environ.get(ENV_CONFIG_FILE) else None)
    if path is not None:
        try:
            document = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"config file {path}: {error}") from error
        for section, values in document.items():
            if section == "features":
                if not isinstance(values, Mapping):
                    raise ConfigError("features: expected a table")
                features_raw = values
                continue
            if section not in SECTIONS or not isinstance(values, Mapping):
                raise ConfigError(f"config file {path}: unknown section [{section}]")
            raw.setdefault(section, {}).update(values)
    _merge(raw, env_overrides(environ))
    if overrides:
        given = {
            s: {k: v for k, v in vals.items() if v is not None} for s, vals in overrides.items()
        }
        _merge(raw, given)

    return Config(
        tenants=_section(TenantConfig, raw, "tenants"),
        features=_features_from(features_raw),
        decode=_section(DecodeConfig, raw, "decode"),
        elasticsearch=_section(ElasticsearchConfig, raw, "elasticsearch"),
        s3=_section(S3Config, raw, "s3"),
        queue=_section(QueueConfig, raw, "queue"),
        dead_letter=_section(DeadLetterConfig, raw, "dead_letter"),
        observability=_section(ObservabilityConfig, raw, "observability"),
        aws_lambda=_section(AwsLambdaConfig, raw, "aws_lambda"),
    )


def from_env(*, toml_path: Path | None = None, overrides: Overrides | None = None) -> Config:
    """Assemble the configuration from the process environment (the only env reader).

    Args:
        toml_path: Optional TOML file (else ``RECALL_FAST_CONFIG``).
        overrides: Command-line values, applied last.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: See :func:`load`.
    """
    return load(toml_path=toml_path, environ=dict(os.environ), overrides=overrides)
