"""The Lambda layer: build it, unpack it into an empty directory, run the handler from there.

The handler runs in a separate interpreter started with ``-S -s`` (no site, no user site) and
``PYTHONPATH=<dir>/python`` only, from a read-only copy of the layer: exactly what Lambda's
runtime gives a function (``/opt/python`` on ``sys.path``, nothing writable), so a dependency
missing from the layer, a module that only the dev venv has, a pyarrow import or a cache write
fails here instead of in AWS. It runs against the moto server and the real Elasticsearch node.

The layer is built for this host (``--compatibility linux``) because the test runs it here; the
manylinux wheel for deployment is built the same way with zig (docs/packaging.md). The cargo
profile is ``release`` (what ``scripts/bootstrap`` builds, so CI reuses its artifacts);
``RECALL_LAYER_PROFILE=profiling`` reuses a ``maturin develop --profile profiling`` build instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.lambda_entry.scenario import Scenario, es_count, install_templates, real_log

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "packaging" / "lambda_layer" / "build.py"
HOST_PY = f"{sys.version_info.major}.{sys.version_info.minor}"

DRIVER = r"""
import json, sys, time, uuid

layer = sys.argv[1]
event = json.loads(open(sys.argv[2]).read())
assert not any("site-packages" in p and not p.startswith(layer) for p in sys.path), sys.path


class Context:
    aws_request_id = str(uuid.uuid4())
    function_name = "recall-fast-layer-test"
    _deadline = time.monotonic() + 120

    def get_remaining_time_in_millis(self):
        return int((self._deadline - time.monotonic()) * 1000)


import recall_fast
import recall_fast._native
from recall_fast.lambda_entry.handler import handle

response = handle(event, Context())
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pyarrow", "numpy", "polars", "pandas"})
with open(sys.argv[3], "w") as out:
    json.dump(
        {
            "response": response,
            "heavy_modules": heavy,
            "recall_fast": recall_fast.__file__,
            "native": recall_fast._native.__file__,
        },
        out,
    )
"""


@pytest.fixture(scope="module")
def layer_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("layer-build")
    subprocess.run(
        [
            sys.executable,
            str(BUILD),
            "--compatibility",
            "linux",
            "--profile",
            os.environ.get("RECALL_LAYER_PROFILE", "release"),
            "--python-version",
            HOST_PY,
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        timeout=1800,
    )
    (zip_path,) = out.glob("recall-fast-layer-*.zip")
    return zip_path


def _unpack_read_only(zip_path: Path, root: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root)
    for path in sorted(root.rglob("*"), reverse=True):
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return root / "python"


@pytest.mark.integration
@pytest.mark.slow
def test_layer_holds_the_handler_path_and_nothing_heavy(layer_zip: Path) -> None:
    manifest = json.loads(Path(f"{layer_zip}.json").read_text())
    packages = manifest["packages"]
    assert "recall-fast" in packages
    assert {"aiobotocore", "botocore", "elasticsearch", "aiohttp", "orjson", "uvloop"} <= set(
        packages
    )
    assert not {"pyarrow", "numpy", "polars", "pandas", "boto3"} & set(packages)
    assert manifest["bytecode"] is True
    assert manifest["budget"]["zipped_mb"] <= manifest["budget"]["max_zipped_mb"]
    with zipfile.ZipFile(layer_zip) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert all(name.startswith("python/") for name in names)
    assert "python/recall_fast/lambda_entry/handler.py" in names
    assert any(
        name.startswith("python/recall_fast/lambda_entry/__pycache__/handler.") for name in names
    )
    assert not any(name.startswith("python/bin/") for name in names)
    services = {
        n.split("/")[3] for n in names if n.startswith("python/botocore/data/") and n.count("/") > 4
    }
    assert services == {"s3", "sqs", "sts"}
    # Reproducible: fixed timestamps, sorted entries.
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert names == sorted(names)


@pytest.mark.integration
@pytest.mark.slow
def test_handler_runs_from_the_unpacked_layer_alone(
    layer_zip, tmp_path, moto_server, es_node, es_client, shared_zeek
) -> None:
    site = _unpack_read_only(layer_zip, tmp_path / "opt")
    install_templates(es_client)
    scenario = Scenario.create(moto_server.url)
    (body, rows) = real_log(shared_zeek, "ntp.log.gz")
    for tenant in ("tlayer1", "tlayer2"):
        scenario.send(scenario.put(f"{tenant}/sensor1/ntp.log.gz", body))
    scenario.send(scenario.put("tlayer3/sensor1/cut.log.gz", body[:40]))
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(scenario.lambda_event(scenario.receive())))
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    result_path = tmp_path / "result.json"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(site),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(tmp_path),
        **moto_server.env(),
        **scenario.environ(es_node.url),
    }
    completed = subprocess.run(
        [sys.executable, "-S", "-s", str(driver), str(site), str(event_path), str(result_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result = json.loads(result_path.read_text())
    assert result["response"] == {"batchItemFailures": []}
    assert result["heavy_modules"] == []
    assert result["recall_fast"].startswith(str(site))
    assert result["native"].startswith(str(site))
    # One EMF line on stdout per invocation, in the configured namespace.
    emf = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(emf) == 1
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "recall_fast/test"
    assert es_count(es_client, "tlayer1") == es_count(es_client, "tlayer2") == rows
    (dead,) = scenario.receive(scenario.dlq_url)
    assert dead["MessageAttributes"]["recall_error_type"]["StringValue"] == (
        "corrupt_compressed_stream"
    )
    assert scenario.queue_depth() == (0, 0)


# ------------------------------------------------------------------ build script, pure parts


@pytest.fixture(scope="module")
def build_module():
    spec = importlib.util.spec_from_file_location("layer_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["layer_build"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


REQUIRES = [
    "pyarrow>=16",
    "numpy>=1.26",
    "aiobotocore>=2.13",
    "elasticsearch[async]>=9,<10",
    "uvloop>=0.19 ; sys_platform != 'win32'",
    "orjson>=3.9",
    "pytest>=8 ; extra == 'dev'",
    "tomli>=2 ; python_version < '3.11'",
]


def test_requirements_drop_arrow_extras_and_foreign_markers(build_module) -> None:
    target = build_module.Target("3.12", "arm64")
    keep, excluded = build_module.runtime_requirements(REQUIRES, target, with_pyarrow=False)
    assert keep == [
        "aiobotocore>=2.13",
        "elasticsearch[async]<10,>=9",
        "uvloop>=0.19",
        "orjson>=3.9",
    ]
    assert excluded == ["pyarrow", "numpy"]
    keep, excluded = build_module.runtime_requirements(REQUIRES, target, with_pyarrow=True)
    assert keep[:2] == ["pyarrow>=16", "numpy>=1.26"] and excluded == []


def test_target_platform_tags_follow_the_runtime_glibc(build_module) -> None:
    assert build_module.Target("3.11", "x86_64").pip_platforms == ["manylinux2014_x86_64"]
    assert build_module.Target("3.12", "arm64").pip_platforms == [
        "manylinux2014_aarch64",
        "manylinux_2_28_aarch64",
    ]
    assert build_module.Target("3.12", "arm64").marker_environment()["platform_machine"] == (
        "aarch64"
    )


def test_zip_is_reproducible(build_module, tmp_path) -> None:
    root = tmp_path / "root"
    (root / "python" / "b").mkdir(parents=True)
    (root / "python" / "b" / "x.py").write_text("x = 1\n")
    (root / "python" / "a.so").write_bytes(b"\x7fELF")
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    assert build_module.write_zip(root, first) == (2, 10)
    os.utime(root / "python" / "a.so", (1, 1))  # timestamps must not matter
    build_module.write_zip(root, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert modes == {"python/a.so": 0o100755, "python/b/x.py": 0o100644}


def test_budget_fails_above_either_limit(build_module) -> None:
    report = build_module.LayerReport(
        zip_path="x.zip", sha256="", zipped_bytes=60 * 2**20, unzipped_bytes=200 * 2**20,
        files=1, python_version="3.12", arch="x86_64", with_pyarrow=False, bytecode=True,
        botocore_services=None, packages={}, largest_packages_mb={},
    )  # fmt: skip
    args = build_module.parse_args(["--other-unzipped-mb", "60"])
    problems = build_module.check_budget(report, args)
    assert len(problems) == 2
    assert problems[0].startswith("zipped 60.0 MB > budget 50")
    assert "other 60.0 MB > budget 250" in problems[1]
    within = build_module.parse_args(["--max-zipped-mb", "100"])
    assert build_module.check_budget(report, within) == []


def test_budget_above_lambdas_limit_is_refused(build_module) -> None:
    with pytest.raises(SystemExit):
        build_module.parse_args(["--max-unzipped-mb", "300"])
