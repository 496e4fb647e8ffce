"""Hand-written stub of the native extension, checked by ``stubtest``."""

from collections.abc import Mapping as _Mapping
from collections.abc import Sequence as _Sequence
from os import PathLike as _PathLike
from typing import Literal as _Literal
from typing import TypedDict as _TypedDict
from typing import final as _final

from typing_extensions import Buffer as _Buffer

__version__: str
build_profile: str

# --- decode (rust/recall-py/src/decoder.rs, arrow.rs) -------------------------------------

@_final
class DecodedBatch:
    """One decoded batch: Arrow record batch (PyCapsule export) plus its place in the input."""

    @property
    def log_type(self) -> str | None: ...
    @property
    def first_record(self) -> int: ...
    @property
    def first_line(self) -> int: ...
    @property
    def num_rows(self) -> int: ...
    @property
    def num_columns(self) -> int: ...
    @property
    def column_names(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def buffer_addresses(self) -> list[list[int]]: ...
    def __arrow_c_schema__(self) -> object: ...
    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...

@_final
class ZeekStream:
    """Lazy stream of decoded batches (``read_zeek``); single-use Arrow C stream."""

    def __iter__(self) -> ZeekStream: ...
    def __next__(self) -> DecodedBatch: ...
    def __arrow_c_schema__(self) -> object: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def quarantine(self) -> list[dict[str, int | str | bytes]]: ...

@_final
class ZeekDecoder:
    """Push decoder: feed chunks of a Zeek log (TSV or JSON, gzip/zstd/plain), get batches."""

    def __new__(
        cls,
        format: _Literal["auto", "tsv", "json"] = "auto",
        compression: _Literal["auto", "gzip", "zstd", "none"] = "auto",
        batch_rows: int = 65536,
        log_type: str | None = None,
        max_line_bytes: int = 1048576,
        json_time: _Literal["auto", "millis"] = "auto",
        tsv_schema: _Sequence[tuple[str, str]] | None = None,
        meta_prefix: str | None = None,
        max_decompressed_bytes: int | None = None,
        max_ratio: int | None = None,
        max_batch_bytes: int = 67108864,
        max_quarantine_entries: int = 10000,
        max_columns: int = 1024,
        inflate_thread: bool = True,
    ) -> ZeekDecoder: ...
    def feed(self, data: _Buffer) -> list[DecodedBatch]:
        """Decode a chunk: any buffer of bytes (read-only ones are read in place)."""
    def finish(self) -> list[DecodedBatch]: ...
    def take_batches(self) -> list[DecodedBatch]: ...
    def take_quarantine(self) -> list[dict[str, int | str | bytes]]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def quarantine(self) -> list[dict[str, int | str | bytes]]: ...

def read_zeek(
    source: str | _PathLike[str] | bytes | bytearray,
    *,
    format: _Literal["auto", "tsv", "json"] = "auto",
    compression: _Literal["auto", "gzip", "zstd", "none"] = "auto",
    batch_rows: int = 65536,
    log_type: str | None = None,
    max_line_bytes: int = 1048576,
    json_time: _Literal["auto", "millis"] = "auto",
    tsv_schema: _Sequence[tuple[str, str]] | None = None,
    meta_prefix: str | None = None,
    max_decompressed_bytes: int | None = None,
    max_ratio: int | None = None,
    max_batch_bytes: int = 67108864,
    max_quarantine_entries: int = 10000,
    max_columns: int = 1024,
    inflate_thread: bool = True,
) -> ZeekStream: ...

# --- normalise, encode, fused processor, templates (rust/recall-py/src/{normalizer,encoder,
# --- processor,schema}.rs) -------------------------------------------------------------

DEFAULT_INDEX_PATTERN: str

@_final
class BulkChunk:
    """One ``_bulk`` body (action + source line per document) with its bookkeeping."""

    @property
    def body(self) -> memoryview:
        """Read-only view of the body, no copy (``bytes(body)`` for a copy)."""
    @property
    def nbytes(self) -> int: ...
    @property
    def n_docs(self) -> int: ...
    @property
    def first_record(self) -> int: ...
    @property
    def row_start(self) -> int: ...
    @property
    def row_end(self) -> int: ...
    @property
    def ids(self) -> list[str]: ...
    @property
    def index_names(self) -> list[str]: ...
    @property
    def log_type(self) -> str: ...
    def doc(self, i: int) -> bytes: ...
    def select(self, indices: _Sequence[int]) -> bytes: ...
    def __len__(self) -> int: ...

@_final
class BulkEncoder:
    """Normalised Arrow batches -> bounded ``_bulk`` bodies (stage-level API)."""

    def __new__(
        cls,
        *,
        action: _Literal["index", "create"] = "create",
        max_chunk_bytes: int = 8388608,
        max_chunk_docs: int = 10000,
        default_index: str | None = None,
    ) -> BulkEncoder: ...
    def encode(self, batch: object, first_record: int = 0) -> list[BulkChunk]: ...
    def finish(self) -> list[BulkChunk]: ...
    @property
    def rejected(self) -> list[dict[str, int | str | None]]: ...

@_final
class Normalizer:
    """Decoded Zeek batches -> ECS-shaped Arrow batches with ``_id`` and ``_index``."""

    def __new__(
        cls,
        tenant: str,
        bucket: str,
        key: str,
        version: str,
        sensor: str | None = None,
        *,
        index_pattern: str | None = None,
        log_type: str | None = None,
        community_id_seed: int = 0,
        ingested_ns: int | None = None,
        fallback_timestamp_ns: int | None = None,
        disabled_enrichments: _Sequence[str] | None = None,
    ) -> Normalizer: ...
    def normalize(
        self, batch: object, first_record: int = 0, log_type: str | None = None
    ) -> _ArrowRecordBatch: ...
    def document_id(self, record: int) -> str: ...

def known_enrichments() -> list[tuple[str, list[str]]]: ...

class _ArrowRecordBatch:
    """A record batch exporting the Arrow PyCapsule interface (pass it to pyarrow/polars)."""

    @property
    def num_rows(self) -> int: ...
    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...

@_final
class ZeekProcessor:
    """Fused decode -> normalise -> encode for one object (or a byte range of it)."""

    def __new__(
        cls,
        tenant: str,
        bucket: str,
        key: str,
        version: str,
        sensor: str | None = None,
        *,
        format: _Literal["auto", "tsv", "json"] = "auto",
        compression: _Literal["auto", "gzip", "zstd", "none"] = "auto",
        log_type: str | None = None,
        json_time: _Literal["auto", "millis"] = "auto",
        batch_rows: int = 8192,
        max_line_bytes: int | None = None,
        max_columns: int | None = None,
        max_decompressed_bytes: int | None = None,
        max_ratio: int | None = None,
        max_chunk_bytes: int = 8388608,
        max_chunk_docs: int = 10000,
        action: _Literal["index", "create"] = "create",
        index_pattern: str | None = None,
        community_id_seed: int = 0,
        ingested_ns: int | None = None,
        fallback_timestamp_ns: int | None = None,
        first_record: int = 0,
        header: bytes | None = None,
        disabled_enrichments: _Sequence[str] | None = None,
    ) -> ZeekProcessor: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[BulkChunk]: ...
    def finish(self) -> list[BulkChunk]: ...
    def drain(self) -> list[BulkChunk]: ...
    def document_mapping(self) -> str: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def quarantine(self) -> list[dict[str, int | str | bytes]]: ...
    def take_quarantine(self) -> list[dict[str, int | str | bytes]]: ...
    def take_rejected(self) -> list[dict[str, int | str | None]]: ...

def index_templates(
    *,
    index_pattern: str = ...,
    replicas: int = 1,
    shards: int = 1,
    data_stream: bool = False,
    name_prefix: str = "recall",
) -> str: ...
def expected_mapping(schema: object) -> str: ...
def known_log_types() -> list[str]: ...
def ecs_fields() -> list[tuple[str, str]]: ...

# --- log generator (rust/recall-py/src/synth.rs) -------------------------------------------

class _SynthLogTypeSummary(_TypedDict):
    files: int
    records: int
    bytes_uncompressed: int
    bytes_written: int

class _SynthSummary(_TypedDict):
    files: int
    records: int
    bytes_uncompressed: int
    bytes_written: int
    records_per_minute: dict[str, int]
    log_types: dict[str, _SynthLogTypeSummary]

def generate(
    out_dir: str | _PathLike[str],
    *,
    seed: int = 1,
    tenants: _Sequence[str] = ...,
    sensors: int = 2,
    minutes: int = 5,
    log_types: _Sequence[str] | None = None,
    format: _Literal["tsv", "json"] = "tsv",
    json_time: _Literal["epoch", "iso8601"] = "epoch",
    compression: _Literal["gzip", "zstd", "none"] = "gzip",
    compression_level: int | None = None,
    start_epoch_s: int = 1714564800,
    records_per_minute: _Mapping[str, int] | None = None,
    mb_per_minute: float | None = None,
    shard_index: int = 0,
    shard_count: int = 1,
) -> _SynthSummary: ...
def synth_log(
    log_type: str,
    *,
    format: _Literal["tsv", "json"] = "tsv",
    json_time: _Literal["epoch", "iso8601"] = "epoch",
    seed: int = 1,
    records: int = 1000,
    start_epoch_s: int = 1714564800,
) -> bytes: ...
