"""Seeded, realistic Zeek logs: the Python face of the native generator.

Stage: benchmark tooling. Imports only the native extension and the standard library; it must
not import the pipeline (sources, sinks, orchestration).

The generator (``rust/recall-core/src/synth/``) writes conn, dns, http, ssl, files, weird,
notice and x509 logs exactly as Zeek 6 writes them (TSV with its ``#`` header, or JSON lines),
deterministically by seed, at several hundred MB/s per core. Records of one sensor-minute agree
with each other: dns, http and ssl uids are in conn.log, http ``resp_fuids`` are in files.log,
ssl fingerprints are in x509.log.

Key layout (one object per tenant, sensor, log type and minute; UTC)::

    <tenant>/<sensor>/<logtype>/<YYYY>/<MM>/<DD>/<logtype>.<HH:MM>-<HH:MM>.<ext>
    acme/sensor-01/conn/2024/05/01/conn.12:00-12:01.log.gz

``<ext>`` is ``log`` (Zeek TSV) or ``json`` (Zeek JSON lines), followed by ``.gz`` (gzip),
``.zst`` (zstd) or nothing (plain). Sensors are named ``sensor-01``, ``sensor-02``, ...; the
times are the minute's start and end (``23:59-00:00`` for the last minute of a day, under the
start's date). Files appear atomically (written as ``<key>.partial``, then renamed).

Volume: ``records_per_minute`` is per sensor and minute. An int is the conn.log count; the other
logs follow the default ratios per conn record (dns 0.35, http 0.12, ssl 0.25, files 0.10,
weird 0.02, notice 0.005, x509 0.04). A mapping sets counts per log type (unnamed types follow
the ratios of the given or default conn count). ``mb_per_minute`` instead asks for uncompressed
megabytes (10^6 bytes) per tenant and minute over all its sensors and the selected log types,
the sizing unit of the design ("2 GB/min per customer").
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Final, Literal, TypedDict

from recall_fast import _native
from recall_fast.errors import ConfigError

Format = Literal["tsv", "json"]
JsonTime = Literal["epoch", "iso8601"]
CompressionName = Literal["gzip", "zstd", "none"]

#: Every log type the generator writes, in file order.
ALL_LOG_TYPES: Final[tuple[str, ...]] = (
    "conn",
    "dns",
    "http",
    "ssl",
    "files",
    "weird",
    "notice",
    "x509",
)
#: The five logs written unless asked otherwise.
DEFAULT_LOG_TYPES: Final[tuple[str, ...]] = ("conn", "dns", "http", "ssl", "files")
#: The key layout, for documentation and messages.
LAYOUT: Final[str] = "<tenant>/<sensor>/<logtype>/<YYYY>/<MM>/<DD>/<logtype>.<HH:MM>-<HH:MM>.<ext>"
#: 2024-05-01T12:00:00Z, the default start.
DEFAULT_START_EPOCH_S: Final[int] = 1_714_564_800


class LogTypeSummary(TypedDict):
    """Totals of one log type in a run."""

    files: int
    records: int
    bytes_uncompressed: int
    bytes_written: int


class SynthSummary(TypedDict):
    """What a run wrote (the native summary, summed over workers)."""

    files: int
    records: int
    bytes_uncompressed: int
    bytes_written: int
    records_per_minute: dict[str, int]
    log_types: dict[str, LogTypeSummary]


def parse_start(start: str | int | _dt.datetime) -> int:
    """Convert a start time to whole epoch seconds at a minute boundary.

    Args:
        start: Epoch seconds, an ISO 8601 string (``2024-05-01T12:00:00Z``; naive means UTC) or
            a datetime (naive means UTC).

    Returns:
        Seconds since the epoch.

    Raises:
        ConfigError: The value does not parse, or is not at a whole minute.
    """
    if isinstance(start, bool):
        raise ConfigError(f"start: {start!r} is not a time")
    if isinstance(start, int):
        epoch = start
    else:
        if isinstance(start, str):
            try:
                moment = _dt.datetime.fromisoformat(start.strip())
            except ValueError as exc:
                raise ConfigError(f"start: {start!r} is not an ISO 8601 time") from exc
        else:
            moment = start
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.UTC)
        seconds = moment.timestamp()
        if seconds != int(seconds):
            raise ConfigError(f"start: {start!r} is not at a whole minute")
        epoch = int(seconds)
    if epoch < 0 or epoch % 60 != 0:
        raise ConfigError(f"start: {start!r} is not at a whole minute (UTC)")
    return epoch


def object_key(
    tenant: str,
    sensor: str,
    log_type: str,
    minute_start: str | int | _dt.datetime,
    *,
    format: Format = "tsv",
    compression: CompressionName = "gzip",
) -> str:
    """The key of one generated file (see the module docstring for the layout).

    Args:
        tenant: Tenant name.
        sensor: Sensor name (``sensor-01``).
        log_type: Zeek log type (``conn``).
        minute_start: Start of the minute (see :func:`parse_start`).
        format: ``tsv`` or ``json``.
        compression: ``gzip``, ``zstd`` or ``none``.

    Returns:
        The relative key, for example ``acme/sensor-01/conn/2024/05/01/conn.12:00-12:01.log.gz``.

    Raises:
        ConfigError: ``minute_start`` is not a whole minute.
    """
    start = _dt.datetime.fromtimestamp(parse_start(minute_start), tz=_dt.UTC)
    end = start + _dt.timedelta(minutes=1)
    ext = "log" if format == "tsv" else "json"
    suffix = {"gzip": ".gz", "zstd": ".zst", "none": ""}[compression]
    return (
        f"{tenant}/{sensor}/{log_type}/{start:%Y/%m/%d}/"
        f"{log_type}.{start:%H:%M}-{end:%H:%M}.{ext}{suffix}"
    )


def _names(values: Iterable[str]) -> list[str]:
    """A list of names; a single string is read as a comma-separated list."""
    if isinstance(values, str):
        return [part.strip() for part in values.split(",") if part.strip()]
    return list(values)


def _records_mapping(records_per_minute: int | Mapping[str, int] | None) -> dict[str, int] | None:
    if records_per_minute is None:
        return None
    if isinstance(records_per_minute, bool):
        raise ConfigError("records_per_minute: expected an int or a mapping of log type to int")
    if isinstance(records_per_minute, int):
        return {"conn": records_per_minute}
    return dict(records_per_minute)


def _add(into: LogTypeSummary, part: LogTypeSummary) -> None:
    into["files"] += part["files"]
    into["records"] += part["records"]
    into["bytes_uncompressed"] += part["bytes_uncompressed"]
    into["bytes_written"] += part["bytes_written"]


def _merge(summaries: Iterable[SynthSummary]) -> SynthSummary:
    total: SynthSummary = {
        "files": 0,
        "records": 0,
        "bytes_uncompressed": 0,
        "bytes_written": 0,
        "records_per_minute": {},
        "log_types": {},
    }
    for part in summaries:
        total["files"] += part["files"]
        total["records"] += part["records"]
        total["bytes_uncompressed"] += part["bytes_uncompressed"]
        total["bytes_written"] += part["bytes_written"]
        total["records_per_minute"] = dict(part["records_per_minute"])
        for name, entry in part["log_types"].items():
            empty: LogTypeSummary = {
                "files": 0,
                "records": 0,
                "bytes_uncompressed": 0,
                "bytes_written": 0,
            }
            _add(total["log_types"].setdefault(name, empty), entry)
    return total


def generate(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 1,
    tenants: Iterable[str] = ("acme", "globex"),
    sensors: int = 2,
    minutes: int = 5,
    log_types: Iterable[str] = DEFAULT_LOG_TYPES,
    format: Format = "tsv",
    json_time: JsonTime = "epoch",
    compression: CompressionName = "gzip",
    compression_level: int | None = None,
    start: str | int | _dt.datetime = DEFAULT_START_EPOCH_S,
    records_per_minute: int | Mapping[str, int] | None = None,
    mb_per_minute: float | None = None,
    workers: int = 1,
) -> SynthSummary:
    """Write a deterministic corpus of Zeek logs under ``out_dir``.

    The same arguments give the same bytes, whatever ``workers`` is: files are split into
    shards, each shard runs in the native code without the GIL on its own thread.

    Args:
        out_dir: Root directory of the key layout (created if missing).
        seed: Generator seed.
        tenants: Tenant names (first key segment; ``A-Z a-z 0-9 . _ -``).
        sensors: Sensors per tenant.
        minutes: Minutes of logs per sensor.
        log_types: Log types to write (see :data:`ALL_LOG_TYPES`).
        format: ``tsv`` (Zeek ASCII) or ``json`` (Zeek JSON lines).
        json_time: JSON time flavour: ``epoch`` (plain Zeek writer) or ``iso8601``
            (json-streaming-logs with ``_path`` and ``_write_ts``).
        compression: ``gzip``, ``zstd`` or ``none``.
        compression_level: gzip 0-9 (default 6) or zstd 1-22 (default 3).
        start: First minute (epoch seconds, ISO 8601 string or datetime; UTC).
        records_per_minute: Per sensor-minute volume (see the module docstring).
        mb_per_minute: Uncompressed MB per tenant-minute instead of record counts.
        workers: Threads generating shards in parallel.

    Returns:
        Totals: files, records, bytes before and after compression, per log type, and the
        resolved records per sensor-minute.

    Raises:
        ConfigError: An option is invalid (unknown log type or format, bad tenant name,
            start not at a whole minute, both or non-positive volumes, workers < 1).
        RecallIOError: Writing a file failed.
    """
    if workers < 1:
        raise ConfigError(f"workers: must be at least 1, got {workers}")
    path = os.fspath(out_dir)
    tenant_list = _names(tenants)
    type_list = _names(log_types)
    start_epoch_s = parse_start(start)
    records = _records_mapping(records_per_minute)

    def shard(index: int) -> SynthSummary:
        return _native.generate(
            path,
            seed=seed,
            tenants=tenant_list,
            sensors=sensors,
            minutes=minutes,
            log_types=type_list,
            format=format,
            json_time=json_time,
            compression=compression,
            compression_level=compression_level,
            start_epoch_s=start_epoch_s,
            records_per_minute=records,
            mb_per_minute=mb_per_minute,
            shard_index=index,
            shard_count=workers,
        )

    if workers == 1:
        return shard(0)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recall-synth") as pool:
        return _merge(pool.map(shard, range(workers)))


def synth_log(
    log_type: str,
    *,
    format: Format = "tsv",
    json_time: JsonTime = "epoch",
    seed: int = 1,
    records: int = 1_000,
    start: str | int | _dt.datetime = DEFAULT_START_EPOCH_S,
) -> bytes:
    """One uncompressed log in memory (for benchmarks and tests).

    Args:
        log_type: Zeek log type (see :data:`ALL_LOG_TYPES`).
        format: ``tsv`` (with header and ``#close``) or ``json``.
        json_time: JSON time flavour (see :func:`generate`).
        seed: Generator seed.
        records: Number of records (at least 1), all within the minute at ``start``.
        start: The minute (see :func:`parse_start`).

    Returns:
        The log's bytes.

    Raises:
        ConfigError: Unknown log type or format, ``records`` < 1, bad start.
    """
    return _native.synth_log(
        log_type,
        format=format,
        json_time=json_time,
        seed=seed,
        records=records,
        start_epoch_s=parse_start(start),
    )
