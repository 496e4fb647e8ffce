"""Tenant safety: hostile keys and tenant names never reach a sink or an index.

Every adversarial name is refused by the Python check (`validate_tenant`, `TenantResolver`)
and, independently, by the native side (`ZeekProcessor` validates its tenant before any
document exists). A property test runs objects of random tenants through the real pipeline and
the real processor and checks that every bulk action names an index of the object's own tenant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recall_fast import _native
from recall_fast.config import Config, DecodeConfig, FeatureFlags, TenantConfig
from recall_fast.decode.stream import ProcessorFactory
from recall_fast.errors import ConfigError
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.orchestration.pipeline import Pipeline
from recall_fast.sources.events import TenantRejection, TenantResolver, validate_tenant
from recall_fast.types import (
    BulkChunk,
    ObjectContext,
    ObjectRef,
    OutcomeKind,
    RejectedDocument,
    SinkInput,
)

HOSTILE_TENANTS = [
    "",
    ".",
    "..",
    "a/b",
    "/",
    "Acme",
    "ACME",
    "\u0430cme",  # Cyrillic a
    "acm\u0435",  # Cyrillic e
    "\uff41\uff43\uff4d\uff45",  # fullwidth
    "acme\u200b",  # zero-width space
    "a" * 65,
    "a" * 10_000,
    "*",
    "acme*",
    "a,b",
    "acme,globex",
    "_all",
    "all",
    "-acme",
    "_acme",
    "+acme",
    ".acme",
    " acme",
    "acme ",
    "ac me",
    "acme\t",
    "acme\n",
    "acme\x00",
    "ac\x00me",
    "acme#1",
    "acme:1",
    "acme|x",
    "acme\\x",
    "acme?",
    'acme"',
    "acme<x>",
    "acme.x",
    "acme_x",
]

HOSTILE_KEYS = [
    "",
    "/acme/s/conn/x.log",
    "../acme/s/conn/x.log",
    "acme/../globex/s/conn/x.log",
    "./acme/conn/x.log",
    "acme/./conn/x.log",
    "x.log",
    *(f"{t}/s/conn/x.log" for t in HOSTILE_TENANTS if "/" not in t),
]


@pytest.mark.parametrize("name", HOSTILE_TENANTS, ids=repr)
def test_hostile_tenant_names_are_refused_by_python_and_native(name):
    assert validate_tenant(name) is not None
    with pytest.raises((ConfigError, ValueError)):
        _native.ZeekProcessor(name, "bucket", "key.log", "v1")


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=repr)
def test_hostile_keys_resolve_to_no_tenant(key):
    assert isinstance(TenantResolver(TenantConfig()).resolve(key), TenantRejection)


def test_allow_list_and_custom_pattern_still_validate():
    resolver = TenantResolver(TenantConfig(allowed=frozenset({"acme"})))
    assert resolver.resolve("acme/s/conn/x.log") == "acme"
    assert isinstance(resolver.resolve("globex/s/conn/x.log"), TenantRejection)
    # A pattern that could capture anything still only yields valid tenant names.
    loose = TenantResolver(TenantConfig(key_pattern=r"^logs/(?P<tenant>.*?)/"))
    assert loose.resolve("logs/acme/conn/x.log") == "acme"
    for bad in ("logs/_all/x", "logs/a*b/x", "logs/ACME/x", "logs//x"):
        assert isinstance(loose.resolve(bad), TenantRejection), bad


class MemoryReader:
    """Objects held in memory, streamed in small chunks."""

    def __init__(self, objects: dict[str, bytes], chunk: int = 4096) -> None:
        self.objects = objects
        self.chunk = chunk

    async def stream(
        self, ref: ObjectRef, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        data = self.objects[ref.key][start:end]
        for offset in range(0, len(data), self.chunk):
            yield data[offset : offset + self.chunk]

    async def size(self, ref: ObjectRef) -> int:
        return len(self.objects[ref.key])


class CapturingSink:
    """Keeps every bulk body with the tenant and key of the object it came from."""

    consumes: ClassVar[SinkInput] = SinkInput.BULK

    def __init__(self) -> None:
        self.bodies: list[tuple[str, str, bytes]] = []
        self.rejected: list[tuple[str, RejectedDocument]] = []

    async def write(self, item: BulkChunk, ctx: ObjectContext) -> None:
        self.bodies.append((ctx.tenant, ctx.ref.key, bytes(item.body)))
        ctx.indexed(item.n_docs)

    async def reject(self, documents: Sequence[RejectedDocument], ctx: ObjectContext) -> None:
        self.rejected.extend((ctx.tenant, d) for d in documents)
        ctx.dead_lettered(len(documents))

    async def end_object(self, ctx: ObjectContext) -> None:
        pass

    async def abort_object(self, ctx: ObjectContext) -> None:
        pass

    async def aclose(self) -> None:
        pass


@pytest.fixture(scope="module")
def executor():
    with ThreadPoolExecutor(2) as pool:
        yield pool


def conn_log(records: int) -> bytes:
    return _native.synth_log("conn", records=records)


def run_objects(executor, objects: dict[str, bytes]) -> tuple[CapturingSink, list[object]]:
    sink = CapturingSink()
    config = Config(decode=DecodeConfig(read_chunk_bytes=4096, threads=2))
    pipeline = Pipeline(
        sink=sink,
        streams=ProcessorFactory(config, executor),
        reader=MemoryReader(objects),
        tenants=TenantResolver(config.tenants),
        features=FeatureFlags(),
        decode=config.decode,
        metrics=Metrics(),
        log=RateLimitedLogger(logging.getLogger("recall_fast.test"), rate_per_s=100, burst=100),
    )

    async def main() -> list[object]:
        refs = [ObjectRef("bucket", key, "v1", size=len(data)) for key, data in objects.items()]
        return list(await asyncio.gather(*(pipeline.process(ref) for ref in refs)))

    return sink, asyncio.run(main())


def test_hostile_keys_are_rejected_before_any_write(executor):
    body = conn_log(5)
    objects = {key: body for key in HOSTILE_KEYS}
    sink, outcomes = run_objects(executor, objects)
    assert sink.bodies == [] and sink.rejected == []
    assert {o.kind for o in outcomes} == {OutcomeKind.REJECT}
    assert {o.error_type for o in outcomes} == {"invalid_tenant"}


valid_tenant = st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True).filter(
    lambda t: validate_tenant(t) is None
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tenants=st.lists(valid_tenant, min_size=2, max_size=5, unique=True),
    # ("a/b" is left out here: the first segment of its key is the valid tenant "a".)
    hostile=st.lists(st.sampled_from([t for t in HOSTILE_TENANTS if "/" not in t]), max_size=3),
    records=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
    data=st.data(),
)
def test_documents_never_land_outside_their_tenant(executor, tenants, hostile, records, data):
    # Prefix-related names ("a" and "a-b") are the interesting case for index globs.
    tenants = (
        [*tenants, f"{tenants[0]}-x"] if validate_tenant(f"{tenants[0]}-x") is None else tenants
    )
    objects: dict[str, bytes] = {}
    owner: dict[str, str] = {}
    for i, n in enumerate(records):
        tenant = data.draw(st.sampled_from(tenants))
        key = f"{tenant}/sensor-{i}/conn/2024/05/01/conn.{i}.log"
        objects[key], owner[key] = conn_log(n), tenant
    for i, name in enumerate(hostile):
        objects[f"{name}/sensor/conn/2024/05/01/h{i}.log"] = conn_log(3)
    sink, outcomes = run_objects(executor, objects)

    expected = sum(records)
    written = 0
    for tenant, key, body in sink.bodies:
        assert tenant == owner[key]
        lines = body.split(b"\n")
        for action_line, doc_line in zip(lines[0::2], lines[1::2], strict=False):
            (meta,) = orjson.loads(action_line).values()
            index = meta["_index"]
            # `recall-<tenant>-zeek.` is unambiguous: '.' cannot occur in a tenant.
            assert index.startswith(f"recall-{tenant}-zeek."), (tenant, index)
            for other in tenants:
                if other != tenant:
                    assert not index.startswith(f"recall-{other}-zeek."), (tenant, index)
            assert orjson.loads(doc_line)["organization"]["id"] == tenant
            written += 1
    assert written == expected
    kinds = {o.ref.key: o.kind for o in outcomes}  # type: ignore[attr-defined]
    assert all(kinds[k] is OutcomeKind.DONE for k in owner)
    assert all(kinds[k] is OutcomeKind.REJECT for k in objects if k not in owner)
