"""Peak RSS of ``read_zeek`` over a 1 GB (uncompressed) gzip file (issue 3: under 256 MB).

A measurement, not a timing test: the file is built in a temporary directory from the real TSV
corpus (``RECALL_BENCH_RSS_MB``, default 1000 MB of uncompressed text, gzip level 1) and decoded
in a child process by iterating ``read_zeek(path)`` and importing each batch into pyarrow (the
corpus mixes conn, dns and http, so one Arrow stream with one schema does not apply). The child
reports ``ru_maxrss`` (a peak polling cannot miss), the same figure after imports only, rows and
wall time.

Run: ``pytest benches/python/test_decode_rss.py -p no:cacheprovider -s`` (about a minute to
write the file, then the decode).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import Corpus

MIB = 1 << 20
TARGET = int(os.environ.get("RECALL_BENCH_RSS_MB", "1000")) * 1_000_000
BOUND = 256 * MIB

_CHILD = """
import json, resource, sys, time
import pyarrow as pa
from recall_fast import read_zeek
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
rows = 0
for batch in read_zeek(sys.argv[1]):  # conn, dns and http: several schemas, so batch by batch
    rows += pa.record_batch(batch).num_rows
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"rows": rows, "peak": peak, "before": before, "seconds": seconds}))
"""


def test_read_zeek_gzip_peak_rss(tmp_path: Path, tsv_corpus: Corpus, benchmark: Any) -> None:
    path = tmp_path / "conn.log.gz"
    written = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        while written < TARGET:
            for segment in tsv_corpus.segments:
                out.write(segment)
                written += len(segment)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    benchmark.group = "rss"
    benchmark.extra_info.update(result, bytes=written, compressed=path.stat().st_size)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    print(
        f"\nread_zeek {written / 1e6:.0f} MB gzip ({path.stat().st_size / 1e6:.0f} MB on disk): "
        f"{result['rows']} rows, peak RSS {result['peak'] / MIB:.0f} MiB "
        f"({result['before'] / MIB:.0f} MiB after imports), "
        f"{written / result['seconds'] / 1e6:.0f} MB/s"
    )
    assert result["rows"] > 0
    assert result["peak"] < BOUND
