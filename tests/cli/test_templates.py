"""``recall-fast templates``: prints the generated templates; refuses bad options."""

from __future__ import annotations

import json

import pytest

from recall_fast.cli import templates
from recall_fast.cli.main import main


def test_prints_json_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "--replicas", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"component_templates", "index_templates"}
    settings = out["component_templates"]["recall-zeek-settings"]
    assert settings["template"]["settings"]["index"]["number_of_replicas"] == 0
    conn = out["index_templates"]["recall-zeek.conn"]
    assert conn["index_patterns"] == ["recall-*-zeek.conn-*"]
    assert conn["composed_of"] == ["recall-zeek-settings", "recall-zeek-ecs"]
    priorities = [t["priority"] for t in out["index_templates"].values()]
    assert len(set(priorities)) == len(priorities)


def test_custom_pattern_and_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    t = templates.generate(index_pattern="zeek_<logtype>_<tenant>", name_prefix="z")
    assert t["index_templates"]["z-zeek.dns"]["index_patterns"] == ["zeek_dns_*"]
    assert main(["templates", "--index-pattern", "zeek-<logtype>"]) == 2
    assert "tenant" in capsys.readouterr().err
    assert main(["templates", "--install"]) == 2
