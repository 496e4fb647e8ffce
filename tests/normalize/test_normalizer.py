"""Stage-level ``Normalizer``: Arrow in, ECS-shaped Arrow out, without copying columns."""

from __future__ import annotations

import pyarrow as pa
import pytest

from recall_fast import _native
from recall_fast.errors import ConfigError

DAY_NS = 86_400 * 10**9


def zeek_field(name: str, type_: pa.DataType, zeek_type: str) -> pa.Field:
    return pa.field(name, type_, metadata={"zeek.type": zeek_type})


def conn_batch() -> pa.RecordBatch:
    schema = pa.schema(
        [
            zeek_field("ts", pa.timestamp("ns", tz="UTC"), "time"),
            zeek_field("id.orig_h", pa.string(), "addr"),
            zeek_field("id.orig_p", pa.uint16(), "port"),
            zeek_field("id.resp_h", pa.string(), "addr"),
            zeek_field("id.resp_p", pa.uint16(), "port"),
            zeek_field("proto", pa.string(), "enum"),
            zeek_field("orig_bytes", pa.uint64(), "count"),
            zeek_field("resp_bytes", pa.uint64(), "count"),
        ],
        metadata={"zeek.path": "conn"},
    )
    return pa.record_batch(
        [
            pa.array([DAY_NS, None], pa.timestamp("ns", tz="UTC")),
            pa.array(["1.2.3.4", "fe80:0001:0203:0405:0607:0809:0a0b:0c0d"]),
            pa.array([1122, 128], pa.uint16()),
            pa.array(["5.6.7.8", "fe80:1011:1213:1415:1617:1819:1a1b:1c1d"]),
            pa.array([3344, 0], pa.uint16()),
            pa.array(["tcp", "icmp"]),
            pa.array([10, None], pa.uint64()),
            pa.array([2**64 - 1, 7], pa.uint64()),
        ],
        schema=schema,
    )


def test_normalizes_without_copying_and_computes_ecs_fields() -> None:
    batch = conn_batch()
    normalizer = _native.Normalizer(
        "acme", "bucket", "acme/s/conn.log", "v1", ingested_ns=5 * DAY_NS
    )
    out = pa.record_batch(normalizer.normalize(batch, first_record=10))
    names = out.schema.names
    assert names[:3] == ["_id", "_index", "@timestamp"]
    for name in ("source.ip", "zeek.conn.id.orig_h"):
        col = out.column(names.index(name))
        assert col.buffers()[2].address == batch.column(1).buffers()[2].address, name
    assert out.column(names.index("network.community_id")).to_pylist() == [
        "1:wCb3OG7yAFWelaUydu0D+125CLM=",  # spec baseline: TCP 1.2.3.4:1122 -> 5.6.7.8:3344
        "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=",  # spec baseline: ICMPv6 echo request
    ]
    assert out.column(names.index("network.bytes")).to_pylist() == [None, 7]
    assert out.column(names.index("_index")).to_pylist() == [
        "recall-acme-zeek.conn-1970.01.02",
        "recall-acme-zeek.conn-1970.01.06",  # no ts: event.ingested's day
    ]
    ids = out.column(0).to_pylist()
    assert ids == [normalizer.document_id(10), normalizer.document_id(11)]
    assert all(len(i) == 22 for i in ids)
    assert out.schema.field("zeek.conn.orig_bytes").metadata == {b"zeek.type": b"count"}


@pytest.mark.parametrize("tenant", ["ACME", "_all", "a*", "a,b", "a/b", "a..b", "é", ""])
def test_invalid_tenants_are_refused(tenant: str) -> None:
    with pytest.raises(ConfigError):
        _native.Normalizer(tenant, "b", "k", "v")


def test_pattern_must_isolate_tenants() -> None:
    with pytest.raises(ConfigError):
        _native.Normalizer("acme", "b", "k", "v", index_pattern="zeek-<logtype>")
    with pytest.raises(ConfigError):
        _native.Normalizer("acme", "b", "k", "v", index_pattern="<tenant><logtype>")


def test_log_type_needed_and_validated() -> None:
    batch = conn_batch()
    plain = batch.replace_schema_metadata({})
    normalizer = _native.Normalizer("acme", "b", "k", "v")
    with pytest.raises(ConfigError):
        normalizer.normalize(plain)
    with pytest.raises(ConfigError):
        normalizer.normalize(plain, log_type="Conn-X")
    out = pa.record_batch(normalizer.normalize(plain, log_type="custom_log"))
    assert "zeek.custom_log.id.orig_h" in out.schema.names


def test_disabled_enrichments_leave_their_fields_out() -> None:
    known = dict(_native.known_enrichments())
    assert known["community_id"] == ["network.community_id"]
    assert known["network_totals"] == ["network.bytes", "network.packets"]
    full = pa.record_batch(_native.Normalizer("acme", "b", "k", "v").normalize(conn_batch()))
    lean = pa.record_batch(
        _native.Normalizer(
            "acme", "b", "k", "v", disabled_enrichments=["community_id", "network_totals"]
        ).normalize(conn_batch())
    )
    gone = {"network.community_id", "network.bytes"}  # the batch has no packet counts
    assert gone <= set(full.schema.names)
    assert set(full.schema.names) - set(lean.schema.names) == gone
    # Disabling an enrichment a log type does not have is fine (flags are per tenant).
    _native.Normalizer("acme", "b", "k", "v", disabled_enrichments=["url_parts"])


def test_unknown_enrichment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"disabled_enrichments.*communityid"):
        _native.Normalizer("acme", "b", "k", "v", disabled_enrichments=["communityid"])
