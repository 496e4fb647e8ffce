"""Configuration assembly: defaults < TOML < environment < flags, and validation."""

from __future__ import annotations

import pytest

from recall_fast.config import (
    Config,
    QueueConfig,
    TenantConfig,
    env_name,
    env_overrides,
    field_help,
    load,
)
from recall_fast.errors import ConfigError


def test_defaults():
    config = load()
    assert config == Config()
    assert config.queue.retry_delays_s == (300.0, 900.0, 2700.0)
    assert config.elasticsearch.action == "create"


def test_precedence_toml_env_flags(tmp_path):
    toml = tmp_path / "recall.toml"
    toml.write_text(
        """
[queue]
wait_time_s = 5
visibility_timeout_s = 60
retry_delays_s = [1, 2]

[elasticsearch]
max_chunk_docs = 100
tenant_urls = { acme = ["http://es-acme:9200"] }

[features.default]
disabled_log_types = ["loaded_scripts"]

[features.tenants.acme]
disabled_log_types = ["weird"]
disabled_enrichments = ["community_id"]
"""
    )
    environ = {
        env_name("queue", "wait_time_s"): "7",
        env_name("elasticsearch", "max_chunk_docs"): "200",
        "UNRELATED": "x",
    }
    config = load(
        toml_path=toml,
        environ=environ,
        overrides={"queue": {"wait_time_s": "9", "max_messages": None}},
    )
    assert config.queue.wait_time_s == 9  # flag wins
    assert config.queue.visibility_timeout_s == 60  # TOML
    assert config.queue.retry_delays_s == (1.0, 2.0)
    assert config.queue.max_messages == 10  # a None flag does not override
    assert config.elasticsearch.max_chunk_docs == 200  # env beats TOML
    assert config.elasticsearch.urls_for("acme") == ("http://es-acme:9200",)
    assert config.elasticsearch.urls_for("globex") == config.elasticsearch.urls
    assert config.features.for_tenant("acme").disabled_log_types == frozenset({"weird"})
    assert not config.features.for_tenant("acme").log_type_enabled("weird")
    assert config.features.for_tenant("globex").disabled_log_types == frozenset({"loaded_scripts"})


def test_env_config_file_and_string_coercion(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("[observability]\nemf = true\n")
    environ = {
        "RECALL_FAST_CONFIG": str(toml),
        env_name("queue", "retry_delays_s"): "5, 15,45",
        env_name("tenants", "allowed"): "acme,globex",
        env_name("elasticsearch", "verify_certs"): "false",
        env_name("elasticsearch", "tenant_urls"): '{"acme": ["http://a:9200"]}',
        env_name("queue", "dead_letter_queue_url"): "none",
    }
    config = load(environ=environ)
    assert config.observability.emf is True
    assert config.queue.retry_delays_s == (5.0, 15.0, 45.0)
    assert config.tenants.allowed == frozenset({"acme", "globex"})
    assert config.elasticsearch.verify_certs is False
    assert config.elasticsearch.tenant_urls["acme"] == ("http://a:9200",)
    assert config.queue.dead_letter_queue_url is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({env_name("queue", "wait_time_s"): "30"}, "queue.wait_time_s"),
        ({env_name("queue", "wait_time_s"): "soon"}, "expected a number"),
        ({env_name("elasticsearch", "action"): "upsert"}, "elasticsearch.action"),
        ({env_name("elasticsearch", "index_pattern"): "zeek-<logtype>"}, "<tenant>"),
        ({env_name("elasticsearch", "verify_certs"): "maybe"}, "boolean"),
        ({"RECALL_FAST_NOPE__X": "1"}, "unknown section"),
        ({env_name("queue", "nope"): "1"}, "unknown option"),
        ({env_name("tenants", "key_pattern"): "^([^/]+)/"}, "named group"),
        ({env_name("tenants", "key_pattern"): "(("}, "does not compile"),
    ],
)
def test_invalid_values_raise_config_error(environ, message):
    with pytest.raises(ConfigError, match=message):
        load(environ=environ)


def test_bad_toml_raises_config_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[queue\n")
    with pytest.raises(ConfigError):
        load(toml_path=bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[nope]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown section"):
        load(toml_path=unknown)


def test_env_overrides_only_reads_prefixed_variables():
    assert env_overrides({"PATH": "/bin", "RECALL_FAST_CONFIG": "x"}) == {}


def test_helpers():
    assert "visibility" in field_help("queue", "visibility_timeout_s")
    assert QueueConfig(visibility_timeout_s=90).heartbeat_interval_s == 30
    assert TenantConfig().allowed is None


def test_secrets_stay_out_of_repr_and_errors(tmp_path):
    config = load(
        environ={
            env_name("elasticsearch", "api_key"): "S3cr3tApiKey",
            env_name("elasticsearch", "urls"): "https://es:9200",
        }
    )
    assert config.elasticsearch.api_key == "S3cr3tApiKey"
    assert "S3cr3tApiKey" not in repr(config)
    basic = load(environ={env_name("elasticsearch", "username"): "u",
                          env_name("elasticsearch", "password"): "S3cr3tPw"})  # fmt: skip
    assert "S3cr3tPw" not in repr(basic) and "S3cr3tPw" not in str(basic)
    toml = tmp_path / "c.toml"
    toml.write_text("[elasticsearch]\npassword = 987654321\n")
    with pytest.raises(ConfigError) as error:
        load(toml_path=toml)
    assert "987654321" not in str(error.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"urls": "https://user:S3cr3t@es:9200"}, "must not carry credentials"),
        ({"tenant_urls": '{"acme": ["http://u:S3cr3t@es:9200"]}'}, "must not carry credentials"),
        ({"client_key": "/k.pem"}, "needs elasticsearch.client_cert"),
        ({"api_key": "S3cr3t", "username": "u"}, "not both"),
    ],
)
def test_elasticsearch_credential_and_tls_checks(values, message):
    environ = {env_name("elasticsearch", k): v for k, v in values.items()}
    with pytest.raises(ConfigError, match=message) as error:
        load(environ=environ)
    assert "S3cr3t" not in str(error.value)


def test_tls_defaults_verify_and_detects_https():
    es = load().elasticsearch
    assert es.verify_certs is True and not es.uses_tls()
    tls = load(environ={env_name("elasticsearch", "tenant_urls"): '{"a": ["HTTPS://x:1"]}'})
    assert tls.elasticsearch.uses_tls()
