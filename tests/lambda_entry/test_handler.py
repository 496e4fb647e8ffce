"""The Lambda handler: event shapes, partial batch responses, deadlines and continuations.

Integration tests run the handler's warm app with a fake context against the moto server and
the real Elasticsearch node, on real Zeek logs, with events built from messages really
received from the queue (see scenario.py).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections.abc import Iterator

import orjson
import pytest

from recall_fast.config import Config, load
from recall_fast.lambda_entry.handler import (
    EventError,
    LambdaApp,
    batch_response,
    sqs_records,
)
from recall_fast.sources.sqs import Disposition, ReceivedMessage
from tests.lambda_entry.scenario import (
    FakeContext,
    Scenario,
    data_rows,
    es_count,
    es_count_object,
    install_templates,
    real_log,
)
from tests.services.latency_proxy import LatencyProxy

HEAVY_MODULES = ("pyarrow", "polars", "numpy", "pandas")


def test_importing_the_handler_does_not_import_pyarrow() -> None:
    # A fresh interpreter: what Lambda's init phase loads for the handler, and nothing else.
    code = (
        "import sys, recall_fast.lambda_entry.handler as h; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_MODULES!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout


# ------------------------------------------------------------------ event shapes (pure)


def _record(message_id: str = "m1", receipt: str = "r1", body: str = "{}") -> dict[str, object]:
    return {
        "messageId": message_id,
        "receiptHandle": receipt,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1700000000000"},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ingest",
    }


def test_sqs_event_is_recognised_and_direct_s3_event_is_not() -> None:
    assert sqs_records({"Records": [_record()]}) == [_record()]
    s3_event = {"Records": [{"eventSource": "aws:s3", "s3": {}}]}
    assert sqs_records(s3_event) is None
    assert sqs_records({"Records": []}) is None
    assert sqs_records({"detail": {}}) is None


def test_a_mixed_or_malformed_record_list_is_not_an_sqs_batch() -> None:
    mixed = {"Records": [_record(), {"eventSource": "aws:s3"}]}
    assert sqs_records(mixed) is None
    with pytest.raises(EventError):
        sqs_records({"Records": [_record(), "not a record"]})
    without_receipt = {k: v for k, v in _record().items() if k != "receiptHandle"}
    with pytest.raises(EventError):
        sqs_records({"Records": [without_receipt]})


def test_lambda_record_becomes_the_workers_message() -> None:
    message = ReceivedMessage.from_lambda_record(_record(body='{"a": 1}'))
    assert message.message_id == "m1"
    assert message.receipt_handle == "r1"
    assert message.body == '{"a": 1}'
    assert message.receive_count == 3
    assert message.sent_at_s == pytest.approx(1_700_000_000.0)


def test_batch_response_lists_only_messages_that_must_come_back() -> None:
    messages = [ReceivedMessage(f"m{i}", f"r{i}", "{}", 1, None) for i in range(6)]
    dispositions = {
        "r0": Disposition.DELETED,
        "r1": Disposition.DELAYED,
        "r2": Disposition.DEAD_LETTERED,
        "r3": Disposition.CONTINUED,
        "r4": Disposition.KEPT,
        # r5: never settled (a crash) -> it must come back
    }
    assert batch_response(messages, dispositions) == {
        "batchItemFailures": [
            {"itemIdentifier": "m1"},
            {"itemIdentifier": "m4"},
            {"itemIdentifier": "m5"},
        ]
    }


# ------------------------------------------------------------------ integration


@pytest.fixture
def scenario(moto_server, aws_env, es_client) -> Scenario:
    install_templates(es_client)
    return Scenario.create(moto_server.url)


def _config(scenario: Scenario, es_url: str, **extra: str) -> Config:
    return load(environ=scenario.environ(es_url, **extra))


@pytest.fixture
def make_app() -> Iterator:
    apps: list[LambdaApp] = []

    def make(config: Config) -> tuple[LambdaApp, list[bytes]]:
        lines: list[bytes] = []
        app = LambdaApp(config, write=lines.append)
        apps.append(app)
        return app, lines

    yield make
    for app in apps:
        app.close()


def _emf(lines: list[bytes]) -> dict[str, float]:
    """Sum the metric values of the EMF lines written so far."""
    totals: dict[str, float] = {}
    for line in lines:
        doc = orjson.loads(line)
        for metric in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            totals[metric["Name"]] = totals.get(metric["Name"], 0.0) + doc[metric["Name"]]
    return totals


@pytest.mark.integration
def test_batch_with_bad_objects_reports_only_the_retryable_one(
    scenario, es_node, es_client, shared_zeek, make_app
) -> None:
    good = {
        "tconn": real_log(shared_zeek, "conn.rita-proxy.log.gz"),
        "tx509": real_log(shared_zeek, "x509.log.gz"),
        "tntp": real_log(shared_zeek, "ntp.log.gz"),
    }
    ids: dict[str, str] = {}
    for tenant, (body, _) in good.items():
        ids[tenant] = scenario.send(scenario.put(f"{tenant}/sensor1/2024-01-01/log.gz", body))
    # Logic failures -> dead-letter queue at once, never retried: a gzip stream cut short...
    cut = good["tconn"][0][:40]
    ids["corrupt"] = scenario.send(scenario.put("tcorrupt/sensor1/conn.log.gz", cut))
    # ...and a key whose tenant is not a valid tenant name (never indexed anywhere).
    ids["bad_tenant"] = scenario.send(scenario.put("Acme_Corp/sensor1/conn.log.gz", cut))
    # Not an S3 notification at all -> dead-letter queue at once.
    ids["not_a_notification"] = scenario.send("hello")
    # S3's test event -> deleted.
    ids["test_event"] = scenario.send({"Event": "s3:TestEvent", "Bucket": scenario.bucket})
    # Transient failure: this tenant's cluster is unreachable -> retry delay, reported failed.
    broken_body, _ = good["tconn"]
    ids["broken"] = scenario.send(scenario.put("tbroken/sensor1/conn.log.gz", broken_body))

    config = _config(
        scenario,
        es_node.url,
        RECALL_FAST_ELASTICSEARCH__TENANT_URLS='{"tbroken": ["http://127.0.0.1:9"]}',
        RECALL_FAST_ELASTICSEARCH__REQUEST_RETRY_BUDGET_S="1",
    )
    app, emf_lines = make_app(config)
    messages = scenario.receive(max_messages=10)
    assert len(messages) == 8
    context = FakeContext(remaining_s=120)
    response = app.invoke(scenario.lambda_event(messages), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": ids["broken"]}]}
    for tenant, (_, rows) in good.items():
        assert es_count(es_client, tenant) == rows, tenant
    assert es_count(es_client, "tbroken") == 0
    assert es_count(es_client, "tcorrupt") == 0

    dead = scenario.receive(scenario.dlq_url)
    by_type = {m["MessageAttributes"]["recall_error_type"]["StringValue"]: m["Body"] for m in dead}
    assert set(by_type) == {"corrupt_compressed_stream", "invalid_tenant", "not_a_notification"}
    assert "tcorrupt/sensor1/conn.log.gz" in by_type["corrupt_compressed_stream"]
    assert "Acme_Corp" in by_type["invalid_tenant"]
    # Everything but the broken message left the queue; the broken one waits out its delay
    # (5 minutes by default) instead of coming straight back.
    assert scenario.queue_depth() == (0, 1)

    metrics = _emf(emf_lines)
    assert metrics["documents_indexed_total"] == sum(rows for _, rows in good.values())
    assert metrics["messages_dead_lettered_total"] == 3


@pytest.mark.integration
def test_warm_invocations_reuse_the_loop_and_clients(
    scenario, es_node, es_client, shared_zeek, make_app
) -> None:
    app, _ = make_app(_config(scenario, es_node.url))
    body, rows = real_log(shared_zeek, "ntp.log.gz")
    for n in (1, 2):
        scenario.send(scenario.put(f"twarm{n}/s/ntp.log.gz", body))
    first = app.invoke(scenario.lambda_event(scenario.receive(max_messages=1)), FakeContext(60))
    components = app._components
    loop = app._loop
    second = app.invoke(scenario.lambda_event(scenario.receive(max_messages=1)), FakeContext(60))
    assert first == second == {"batchItemFailures": []}
    assert app._components is components and app._loop is loop
    assert app.invocations == 2
    assert es_count(es_client, "twarm1") == es_count(es_client, "twarm2") == rows


def _drain(
    app: LambdaApp, scenario: Scenario, budget_s: float, max_invocations: int = 40
) -> list[dict]:
    """Invoke the handler on whatever is on the queue until it is empty.

    Returns:
        Per invocation: the bodies it got and how much time it had left when it returned.
    """
    log: list[dict] = []
    for _ in range(max_invocations):
        messages = scenario.receive()
        if not messages:
            if scenario.queue_depth() == (0, 0):
                return log
            time.sleep(1.0)  # a message waits out a (1 s) retry delay: the assertions catch it
            continue
        context = FakeContext(budget_s)
        response = app.invoke(scenario.lambda_event(messages), context)
        log.append(
            {
                "bodies": [orjson.loads(m["Body"]) for m in messages],
                "left_ms": context.get_remaining_time_in_millis(),
                "response": response,
            }
        )
    raise AssertionError(f"queue not drained after {max_invocations} invocations")


#: Budget of one invocation in the deadline tests, and the margin kept before its end. The
#: margin must exceed the slowest bulk request in flight at the stop. The first request into a
#: new daily index creates it, which took up to 7.5 s on the loaded 2-core test machine, so the
#: deadline tests create their indices first (`_warm_indices`) and count per source object.
DEADLINE_BUDGET_S = 14.0
DEADLINE_MARGIN_S = 7.0
#: Delay the deadline tests add to every bulk request (through a LatencyProxy). It is what makes
#: "the object cannot be finished in one invocation" hold on any machine: the objects below need
#: more than 100 bulk requests one at a time, at least 10 s of delay alone against the 7 s of work
#: an invocation may do. Without it a fast machine finished the object in the first invocation.
BULK_DELAY_S = 0.1


@pytest.fixture
def slow_es(es_node) -> Iterator[LatencyProxy]:
    """The test node behind a proxy that holds each bulk request for BULK_DELAY_S."""
    with LatencyProxy(es_node.url, BULK_DELAY_S) as proxy:
        yield proxy


def _warm_indices(
    app: LambdaApp, scenario: Scenario, tenant: str, body: bytes, proxy: LatencyProxy
) -> None:
    """Ingest the same log under another key without a deadline (nor the proxy's delay): every
    daily index exists before the measured invocations."""
    delay, proxy.delay_s = proxy.delay_s, 0.0
    scenario.send(scenario.put(f"{tenant}/warm/{len(body)}.log", body))
    response = app.invoke(scenario.lambda_event(scenario.receive()), FakeContext(600))
    assert response == {"batchItemFailures": []}
    proxy.delay_s = delay


def _slow_sink(**extra: str) -> dict[str, str]:
    """One bulk request of 500 documents at a time, little held in the sink: slow but a short
    flush, so an invocation of a few seconds cannot finish a big object but stops in time.
    Retry delays of 1 s: a backstop failure would come straight back and fail the assertions
    instead of hiding for minutes."""
    return {
        "RECALL_FAST_ELASTICSEARCH__MAX_CHUNK_DOCS": "500",
        "RECALL_FAST_ELASTICSEARCH__ADAPTIVE_CONCURRENCY": "false",
        "RECALL_FAST_ELASTICSEARCH__INITIAL_CONCURRENCY": "1",
        "RECALL_FAST_ELASTICSEARCH__MAX_CONCURRENCY": "1",
        "RECALL_FAST_ELASTICSEARCH__MAX_PENDING_CHUNKS": "2",
        "RECALL_FAST_ELASTICSEARCH__MAX_INFLIGHT_BYTES": str(1024 * 1024),
        # The pipeline checks the stop between reads: small reads and small batches bound the
        # work after it to about one native batch (2,048 records = 5 bodies of 500 here).
        "RECALL_FAST_DECODE__READ_CHUNK_BYTES": str(64 * 1024),
        "RECALL_FAST_DECODE__BATCH_ROWS": "2048",
        "RECALL_FAST_AWS_LAMBDA__DEADLINE_MARGIN_S": str(DEADLINE_MARGIN_S),
        "RECALL_FAST_QUEUE__RETRY_DELAYS_S": "1,1,1",
        **extra,
    }


@pytest.mark.integration
@pytest.mark.slow
def test_compressed_object_longer_than_the_deadline_continues_by_record_number(
    scenario, slow_es, es_client, shared_zeek, make_app
) -> None:
    # 53,615 records = 108 bulk requests of 500, one at a time: at least 10.8 s of delay.
    raw = gzip.decompress((shared_zeek / "tsv" / "dns.log.gz").read_bytes())
    rows = data_rows(raw)
    app, emf_lines = make_app(_config(scenario, slow_es.url, **_slow_sink()))
    _warm_indices(app, scenario, "tdeadline", raw, slow_es)
    emf_lines.clear()
    key = "tdeadline/sensor1/dns.log.gz"
    uri = f"s3://{scenario.bucket}/{key}"
    scenario.send(scenario.put(key, gzip.compress(raw, 1)))

    first = scenario.receive()
    context = FakeContext(remaining_s=DEADLINE_BUDGET_S)
    response = app.invoke(scenario.lambda_event(first), context)
    # Returned before the deadline, with the message settled (continued, not failed).
    assert context.get_remaining_time_in_millis() > 0
    assert response == {"batchItemFailures": []}
    indexed_after_first = es_count_object(es_client, "tdeadline", uri)
    assert 0 < indexed_after_first < rows

    log = _drain(app, scenario, budget_s=DEADLINE_BUDGET_S)
    continuation = log[0]["bodies"][0]
    assert continuation["recall_fast"] == "continuation"
    assert continuation["object"]["key"] == key
    assert continuation["split"] is False
    assert int(continuation["parts"]["0"]) > 0
    assert all(entry["left_ms"] > 0 for entry in log)
    assert all(entry["response"] == {"batchItemFailures": []} for entry in log)
    # Nothing lost, nothing twice, and the metrics of all invocations add up to the object.
    assert es_count_object(es_client, "tdeadline", uri) == rows
    metrics = _emf(emf_lines)
    assert metrics["records_total"] == rows
    assert scenario.queue_depth() == (0, 0)
    assert scenario.queue_depth(scenario.dlq_url) == (0, 0)


@pytest.mark.integration
@pytest.mark.slow
def test_split_uncompressed_object_fans_its_ranges_out(
    scenario, slow_es, es_client, shared_zeek, make_app
) -> None:
    dns = gzip.decompress((shared_zeek / "tsv" / "dns.log.gz").read_bytes())
    raw = dns * 3
    rows = data_rows(raw)
    # 30 MB (160,845 records) in ranges of 1 MiB. Two ranges per object and two messages per
    # invocation in flight, each of which may still send one native batch (3 bodies of 1,000
    # here) after the stop: the margin is sized for that, with two bulk requests at a time.
    # 10 s of work per invocation is far below what 161 bulk requests two at a time take with
    # twice the proxy's usual delay alone (over 16 s), so it always needs continuations. The
    # margin is the most the budget allows (half): under heavy load (CI, load ~12 on 2 cores)
    # the requests in flight at the stop took over 4.5 s.
    slow_es.delay_s = 2 * BULK_DELAY_S
    budget_s, margin_s = 20.0, 10.0
    config = _config(
        scenario,
        slow_es.url,
        **_slow_sink(
            RECALL_FAST_DECODE__RANGE_SPLIT_MIN_BYTES=str(2 * 1024 * 1024),
            RECALL_FAST_DECODE__RANGE_BYTES=str(1024 * 1024),
            RECALL_FAST_DECODE__MAX_RANGES_IN_FLIGHT="2",
            RECALL_FAST_QUEUE__MAX_MESSAGES_IN_FLIGHT="2",
            RECALL_FAST_ELASTICSEARCH__MAX_CHUNK_DOCS="1000",
            RECALL_FAST_ELASTICSEARCH__INITIAL_CONCURRENCY="2",
            RECALL_FAST_ELASTICSEARCH__MAX_CONCURRENCY="2",
            RECALL_FAST_AWS_LAMBDA__DEADLINE_MARGIN_S=str(margin_s),
        ),
    )
    app, _ = make_app(config)
    _warm_indices(app, scenario, "tsplit", gzip.compress(dns, 1), slow_es)
    key = "tsplit/sensor1/dns.log"
    scenario.send(scenario.put(key, raw))
    context = FakeContext(remaining_s=budget_s)
    response = app.invoke(scenario.lambda_event(scenario.receive()), context)
    assert context.get_remaining_time_in_millis() > 0
    assert response == {"batchItemFailures": []}

    log = _drain(app, scenario, budget_s=budget_s)
    continuations = [b for entry in log for b in entry["bodies"]]
    assert continuations and all(b["split"] is True for b in continuations)
    # Fanned out: the first batch after the stop holds several single-range work units.
    assert len(log[0]["bodies"]) > 1
    assert all(len(b["parts"]) == 1 for b in log[0]["bodies"])
    assert all(entry["left_ms"] > 0 for entry in log)
    assert all(entry["response"] == {"batchItemFailures": []} for entry in log)
    assert es_count_object(es_client, "tsplit", f"s3://{scenario.bucket}/{key}") == rows


@pytest.mark.integration
def test_direct_s3_event_indexes_and_dead_letters(
    scenario, es_node, es_client, shared_zeek, make_app
) -> None:
    body, rows = real_log(shared_zeek, "ntp.log.gz")
    good = scenario.put("tdirect/sensor1/ntp.log.gz", body)
    bad = scenario.put("tdirect/sensor1/garbage.log", b"not a zeek log at all\n")
    event = {"Records": good["Records"] + bad["Records"]}
    app, _ = make_app(_config(scenario, es_node.url))
    summary = app.invoke(event, FakeContext(60))
    outcomes = {o["object"].rsplit("/", 1)[1]: o["outcome"] for o in summary["objects"]}
    assert outcomes == {"ntp.log.gz": "done", "garbage.log": "reject"}
    assert es_count(es_client, "tdirect") == rows
    (dead,) = scenario.receive(scenario.dlq_url)
    assert dead["MessageAttributes"]["recall_error_type"]["StringValue"] == "not_a_zeek_log"
    assert "garbage.log" in dead["Body"]
    assert scenario.queue_depth() == (0, 0)


@pytest.mark.integration
def test_unknown_event_fails_the_invocation(scenario, es_node, make_app) -> None:
    app, _ = make_app(_config(scenario, es_node.url))
    with pytest.raises(EventError):
        app.invoke({"hello": "world"}, FakeContext(30))
