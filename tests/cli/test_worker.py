"""``recall-fast worker`` argument handling (the running worker is tested in tests/integration)."""

from __future__ import annotations

import pytest

from recall_fast.cli.main import main


def test_queue_url_is_required(capsys, monkeypatch):
    monkeypatch.delenv("RECALL_FAST_QUEUE__QUEUE_URL", raising=False)
    assert main(["worker", "--es", "es://127.0.0.1:9200"]) == 2
    assert "--queue-url" in capsys.readouterr().err


def test_invalid_options_exit_2(capsys):
    assert main(["worker", "--queue-url", "http://q", "--wait-time-s", "99"]) == 2
    assert "queue.wait_time_s" in capsys.readouterr().err
    assert main(["worker", "--queue-url", "http://q", "--to", "parquet:x"]) == 2


def test_help_explains_options(capsys):
    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    text = capsys.readouterr().out
    for flag in [
        "--queue-url",
        "--retry-delays-s",
        "--visibility-timeout-s",
        "--shutdown-deadline-s",
        "--es",
        "--metrics-port",
        "--emf",
        "--dead-letter-target",
    ]:
        assert flag in text
