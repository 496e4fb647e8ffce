"""S3/SNS/EventBridge notification parsing and tenant resolution (pure)."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recall_fast.config import TenantConfig
from recall_fast.sources.events import (
    NotificationError,
    TenantRejection,
    TenantResolver,
    parse_notification,
    validate_tenant,
)


def s3_record(key: str, *, name: str = "ObjectCreated:Put", **obj: object) -> dict[str, object]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": name,
        "s3": {"bucket": {"name": "logs"}, "object": {"key": key, **obj}},
    }


def test_plain_s3_event_decodes_keys_with_unquote_plus():
    body = json.dumps(
        {"Records": [s3_record("acme/s1/conn/conn.10%3A00+a%2Bb.log.gz", size=12, eTag="abc")]}
    )
    note = parse_notification(body)
    (ref,) = note.objects
    assert ref.bucket == "logs"
    assert ref.key == "acme/s1/conn/conn.10:00 a+b.log.gz"
    assert ref.version == "abc"
    assert ref.size == 12
    assert ref.version_id is None


@pytest.mark.parametrize(
    ("encoded", "key"),
    [
        ("acme/s1/my+file.log", "acme/s1/my file.log"),  # '+' is a space
        ("acme/s1/c%2B%2B.log", "acme/s1/c++.log"),  # a real '+' arrives as %2B
        ("acme/s1/a%20b.log", "acme/s1/a b.log"),  # %20 is accepted as well
        ("acme/s1/caf%C3%A9.log", "acme/s1/café.log"),  # UTF-8 percent-encoded
        ("acme/dt%3D2024-05-01/x.log", "acme/dt=2024-05-01/x.log"),
        ("acme/s1/100%25.log", "acme/s1/100%.log"),
    ],
)
def test_s3_and_sns_keys_are_url_decoded(encoded, key):
    plain = json.dumps({"Records": [s3_record(encoded)]})
    sns = json.dumps({"Type": "Notification", "MessageId": "m", "Message": plain})
    assert [r.key for r in parse_notification(plain).objects] == [key]
    assert [r.key for r in parse_notification(sns).objects] == [key]


@given(st.text(min_size=1, max_size=60).filter(lambda k: "\x00" not in k))
def test_any_key_round_trips_through_s3_event_encoding(key):
    # S3 encodes keys like quote_plus (space -> '+', '+' -> %2B, UTF-8 bytes -> %XX).
    body = json.dumps({"Records": [s3_record(quote_plus(key, safe="/"))]})
    assert [r.key for r in parse_notification(body).objects] == [key]


def test_version_id_wins_over_etag_and_null_version_is_ignored():
    body = json.dumps(
        {
            "Records": [
                s3_record("a/x", versionId="v1", eTag="e1"),
                s3_record("a/y", versionId="null", eTag='"e2"'),
            ]
        }
    )
    first, second = parse_notification(body).objects
    assert (first.version, first.version_id) == ("v1", "v1")
    assert (second.version, second.version_id) == ("e2", None)


def test_sns_wrapped_event():
    inner = json.dumps({"Records": [s3_record("acme/a.log")]})
    body = json.dumps({"Type": "Notification", "MessageId": "m", "Message": inner})
    assert [r.key for r in parse_notification(body).objects] == ["acme/a.log"]


def test_eventbridge_event_takes_key_verbatim():
    body = json.dumps(
        {
            "version": "0",
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {
                "bucket": {"name": "logs"},
                "object": {"key": "acme/a+b.log", "size": 5, "etag": "e", "version-id": "v"},
            },
        }
    )
    (ref,) = parse_notification(body).objects
    assert ref.key == "acme/a+b.log"
    assert (ref.version, ref.version_id, ref.size) == ("v", "v", 5)


def test_eventbridge_other_detail_types_are_ignored():
    body = json.dumps({"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}})
    note = parse_notification(body)
    assert note.objects == ()
    assert note.ignored_events == 1


def test_test_event_is_recognised():
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "logs"})
    note = parse_notification(body)
    assert note.is_test_event
    assert note.objects == ()


def test_non_creation_records_are_ignored():
    body = json.dumps({"Records": [s3_record("a/b", name="ObjectRemoved:Delete")]})
    note = parse_notification(body)
    assert note.objects == ()
    assert note.ignored_events == 1


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"hello": "world"}),
        json.dumps({"Records": "x"}),
        json.dumps({"Records": [{"eventSource": "aws:sqs"}]}),
        json.dumps({"Records": [s3_record("")]}),
        json.dumps({"Type": "Notification", "Message": 3}),
        json.dumps(
            {
                "Type": "Notification",
                "Message": json.dumps({"Type": "Notification", "Message": "{}"}),
            }
        ),
        json.dumps({"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {}}}),
    ],
)
def test_malformed_bodies_raise_notification_error(body):
    with pytest.raises(NotificationError):
        parse_notification(body)


@pytest.mark.parametrize("name", ["acme", "a", "acme-corp", "0tenant", "x" * 64])
def test_valid_tenants(name):
    assert validate_tenant(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Acme",
        "-acme",
        "_acme",
        "_all",
        "all",
        "ac*me",
        "a..b",
        "a/b",
        "ac_me",
        "acmé",
        "x" * 65,
        "a,b",
        ".",
        "a b",
    ],
)
def test_invalid_tenants(name):
    assert validate_tenant(name) is not None


def test_resolver_default_pattern_takes_first_segment():
    resolver = TenantResolver(TenantConfig())
    assert resolver.resolve("acme/sensor/conn/x.log.gz") == "acme"
    assert isinstance(resolver.resolve("no-slash.log"), TenantRejection)
    assert isinstance(resolver.resolve("Acme/x.log"), TenantRejection)


@pytest.mark.parametrize("key", ["../acme/x", "acme/../globex/x", "/acme/x", "acme/./x"])
def test_resolver_rejects_path_tricks(key):
    assert isinstance(TenantResolver(TenantConfig()).resolve(key), TenantRejection)


def test_resolver_custom_pattern_and_allow_list():
    config = TenantConfig(
        key_pattern=r"^zeek/(?P<tenant>[^/]+)/", allowed=frozenset({"acme", "globex"})
    )
    resolver = TenantResolver(config)
    assert resolver.resolve("zeek/acme/x.log") == "acme"
    rejected = resolver.resolve("zeek/initech/x.log")
    assert isinstance(rejected, TenantRejection)
    assert "allow-list" in rejected.reason
    assert isinstance(resolver.resolve("other/acme/x.log"), TenantRejection)


@given(st.text(max_size=80))
def test_resolver_never_returns_an_invalid_tenant(key):
    result = TenantResolver(TenantConfig()).resolve(key)
    if isinstance(result, str):
        assert validate_tenant(result) is None
        assert key.startswith(result + "/")
