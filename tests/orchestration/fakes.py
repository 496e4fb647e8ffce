"""A line-counting stand-in for the native decoder/processor, for orchestration tests.

It frames lines exactly like the real decoders must (chunks split anywhere, header lines start
with '#'), so the pipeline's reading, range splitting, accounting and error classification can be
tested without the extension. The real native pieces are exercised in tests/cli and
tests/integration.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field

import pyarrow as pa

from recall_fast.config import TenantFeatures
from recall_fast.decode.stream import ObjectStream, RangePart
from recall_fast.errors import DecodeError
from recall_fast.types import ObjectRef

TS = pa.timestamp("ns", tz="UTC")


@dataclass
class FakeBatch:
    data: pa.RecordBatch
    log_type: str
    first_record: int

    @property
    def num_rows(self) -> int:
        return self.data.num_rows

    def __arrow_c_array__(self, requested_schema=None):
        return self.data.__arrow_c_array__(requested_schema)


@dataclass
class FakeChunk:
    body: bytes
    n_docs: int
    first_record: int
    log_type: str


@dataclass
class FakeStats:
    lines_quarantined: int = 0


@dataclass
class LineDecoder:
    """Each data line is a record; 'BAD' lines are quarantined; 'GARBAGE' raises DecodeError."""

    bulk: bool
    first_record: int = 0
    batch_rows: int = 3
    log_type: str = "conn"
    buffer: bytes = b""
    rows: list[bytes] = field(default_factory=list)
    stats: FakeStats = field(default_factory=FakeStats)
    seen_ids: list[int] = field(default_factory=list)

    def _take(self, lines: list[bytes]) -> None:
        for line in lines:
            if not line or line.startswith(b"#"):
                continue
            if line == b"GARBAGE":
                raise DecodeError("not a Zeek log")
            if line == b"BAD":
                self.stats.lines_quarantined += 1
                continue
            self.rows.append(line)

    def _emit(self, final: bool) -> list[object]:
        out: list[object] = []
        while len(self.rows) >= self.batch_rows or (final and self.rows):
            take, self.rows = self.rows[: self.batch_rows], self.rows[self.batch_rows :]
            first = self.first_record
            self.first_record += len(take)
            if self.bulk:
                body = b"".join(
                    b'{"create":{"_index":"recall-t-zeek.conn","_id":"%d"}}\n{"line":"%s"}\n'
                    % (first + i, row)
                    for i, row in enumerate(take)
                )
                out.append(FakeChunk(body, len(take), first, self.log_type))
            else:
                data = pa.record_batch(
                    {
                        "ts": pa.array([86_400 * 10**9 * 19000] * len(take), TS),
                        "line": pa.array([r.decode() for r in take]),
                        "record": pa.array(range(first, first + len(take)), pa.int64()),
                    }
                )
                out.append(FakeBatch(data, self.log_type, first))
        return out

    def feed(self, data: bytes) -> list[object]:
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        self._take(lines)
        return self._emit(final=False)

    def finish(self) -> list[object]:
        if self.buffer:
            self._take([self.buffer])
            self.buffer = b""
        return self._emit(final=True)


class FakeFactory:
    """Stream factory over :class:`LineDecoder`."""

    def __init__(
        self, executor: Executor, *, bulk: bool, ranges: bool = True, log_type: str = "conn"
    ):
        self._executor = executor
        self._bulk = bulk
        self._ranges = ranges
        self._log_type = log_type
        self.created: list[tuple[str, RangePart | None]] = []

    @property
    def supports_ranges(self) -> bool:
        return self._ranges

    def __call__(
        self, ref: ObjectRef, tenant: str, features: TenantFeatures, part: RangePart | None
    ):
        self.created.append((tenant, part))
        decoder = LineDecoder(
            bulk=self._bulk,
            first_record=part.first_record if part is not None else 0,
            log_type=self._log_type,
        )
        return ObjectStream(
            decoder,
            self._executor,
            records_of=lambda item: item.n_docs if self._bulk else item.num_rows,
            first_record_of=lambda item: item.first_record,
            log_type_of=lambda item: item.log_type,
            quarantined_of=lambda: decoder.stats.lines_quarantined,
            prime=part.header if part is not None else None,
        )
