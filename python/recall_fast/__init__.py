"""recall_fast: Zeek logs from S3 into Elasticsearch (or Parquet), per tenant, in near real time.

Per-record work happens in the native extension (``recall_fast._native``, Rust); this package
moves byte buffers and coordinates. Importing it has no side effects: no clients, loops,
executors or environment reads are created at import time.
"""

from recall_fast._native import ZeekDecoder, __version__, build_profile, read_zeek

__all__ = ["ZeekDecoder", "__version__", "build_profile", "read_zeek"]
