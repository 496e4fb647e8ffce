"""Boundary of the native extension: zero-copy Arrow hand-off and the GIL released.

These are concurrency and memory proofs, not speed claims (benchmarks live in benches/).
"""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path

import pyarrow as pa

from recall_fast import ZeekDecoder, read_zeek

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "zeek"


def test_batch_buffers_survive_the_pyarrow_hand_off() -> None:
    decoder = ZeekDecoder()
    (batch,) = decoder.feed((FIXTURES / "edge_cases.log").read_bytes()) + decoder.finish()
    native = batch.buffer_addresses()
    exported = pa.record_batch(batch)
    assert exported.num_rows == batch.num_rows
    for i, column in enumerate(exported.columns):
        addresses = {b.address for b in column.buffers() if b is not None}
        # Every native data buffer is one of pyarrow's: shared, not copied.
        assert set(native[i]) <= addresses | {0}, exported.schema.field(i).name


def test_stream_hand_off_keeps_buffers() -> None:
    stream = read_zeek(FIXTURES / "edge_cases.log")
    table = pa.table(stream)
    assert table.num_rows == 5
    assert table.schema.metadata == {b"zeek.path": b"edge"}


def synthetic_log(rows: int) -> bytes:
    header = (
        "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tbytes\tnames\n"
        "#types\ttime\tstring\taddr\tport\tcount\tset[string]\n"
    )
    body = "".join(
        f"{1_700_000_000 + i}.{i % 1_000_000:06d}\tC{i:08d}\t10.{i % 256}.{i % 200}.1\t"
        f"{i % 65536}\t{i * 7}\ta,b,c\n"
        for i in range(rows)
    )
    return gzip.compress((header + body).encode(), compresslevel=1)


def decode(data: bytes) -> int:
    decoder = ZeekDecoder()
    rows = 0
    for start in range(0, len(data), 1 << 20):
        rows += sum(b.num_rows for b in decoder.feed(data[start : start + (1 << 20)]))
    return rows + sum(b.num_rows for b in decoder.finish())


def test_python_runs_while_a_decode_is_in_native_code() -> None:
    """Proof of release independent of free cores: the main thread finishes a piece of Python
    work while another thread is still inside ``feed`` (had ``feed`` kept the GIL, the main
    thread could not run a single bytecode until it returned)."""
    data = synthetic_log(600_000)
    inside = threading.Event()
    returned = threading.Event()

    def worker() -> None:
        decoder = ZeekDecoder()
        inside.set()
        decoder.feed(data)
        returned.set()
        decoder.finish()

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait()
    time.sleep(0.02)  # let the worker enter native code
    total = 0
    for i in range(20_000):
        total += i
    still_inside = not returned.is_set()
    thread.join()
    assert total == sum(range(20_000))
    assert still_inside, "the main thread could only run after feed() returned"
