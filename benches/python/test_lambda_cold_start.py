"""Cold start of the Lambda handler: import time and init time in fresh interpreters (not tests).

Run: ``pytest benches/python/test_lambda_cold_start.py --benchmark-only -p no:cacheprovider``.

What a cold start costs before the first record moves, measured in a new interpreter per round
(a warm interpreter would only measure ``sys.modules`` lookups), best of ``ROUNDS``:

- ``import``: ``python -X importtime -c "import recall_fast.lambda_entry.handler"``; the
  number is the import system's own cumulative time of the recall_fast top-level imports (what
  Lambda's init phase spends in our import), the benchmark table shows the whole process;
- ``init``: the first invocation's set-up, ``LambdaApp`` from the environment plus ``warm()``
  (config, event loop, executor, S3/SQS clients, Elasticsearch clients, pipeline; no network);
- ``layer``/``layer-no-pyc``: the import from an unpacked layer with only ``python/`` on the
  path (``-S -s``, read-only, as Lambda runs it), with and without the precompiled bytecode the
  layer build ships: the measurement behind that decision (docs/packaging.md). The layer is
  built for this host on first use (minutes when the extension must be recompiled; cargo
  profile ``RECALL_LAYER_PROFILE``, default release) or taken from ``RECALL_LAYER_ZIP``.

Each row's ``extra_info`` holds the best milliseconds and the heaviest imports of the best
round; a table is printed at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 7
HANDLER = "recall_fast.lambda_entry.handler"
RESULTS: dict[str, float] = {}
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")

# The environment a deployed function has (RECALL_FAST_* from the template), pointing nowhere:
# init creates clients but makes no call.
LAMBDA_ENV = {
    "RECALL_FAST_S3__ENDPOINT_URL": "http://127.0.0.1:9",
    "RECALL_FAST_S3__REGION": "us-east-1",
    "RECALL_FAST_ELASTICSEARCH__URLS": "http://127.0.0.1:9",
    "RECALL_FAST_QUEUE__QUEUE_URL": "http://127.0.0.1:9/123456789012/ingest",
    "RECALL_FAST_QUEUE__DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:9/123456789012/dlq",
    "RECALL_FAST_DEAD_LETTER__TARGET": "s3://dead-letter/documents/",
    "RECALL_FAST_OBSERVABILITY__EMF": "true",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}

INIT_SCRIPT = """
import json, time
t0 = time.perf_counter()
import recall_fast.lambda_entry.handler as handler
t1 = time.perf_counter()
app = handler.app()
app.warm()
t2 = time.perf_counter()
app.close()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "init_ms": (t2 - t1) * 1e3}))
"""


@dataclass
class ImportProfile:
    """One ``-X importtime`` run: our cumulative time and the heaviest nested imports."""

    recall_ms: float
    heaviest: dict[str, float]


def parse_importtime(stderr: str) -> ImportProfile:
    """Sum the cumulative time of the top-level recall_fast imports; list the heaviest ones."""
    total_us = 0
    nested: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        cumulative, indent, name = int(match.group(2)), len(match.group(3)), match.group(4)
        if indent == 1 and name.startswith("recall_fast"):
            total_us += cumulative
        # Second level under our imports: the direct dependencies and our own modules.
        if indent == 3:
            nested[name] = max(nested.get(name, 0), cumulative)
    heaviest = sorted(nested.items(), key=lambda kv: kv[1], reverse=True)[:8]
    return ImportProfile(total_us / 1e3, {k: round(v / 1e3, 1) for k, v in heaviest})


def run_python(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=env,
    )


def bench_import(benchmark: Any, name: str, args: list[str], env: dict[str, str] | None) -> None:
    profiles: list[ImportProfile] = []

    def once() -> None:
        result = run_python([*args, "-X", "importtime", "-c", f"import {HANDLER}"], env)
        profiles.append(parse_importtime(result.stderr))

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    best = min(profiles, key=lambda p: p.recall_ms)
    RESULTS[name] = best.recall_ms
    benchmark.extra_info.update(
        {"best_import_ms": round(best.recall_ms, 1), "heaviest_ms": best.heaviest}
    )


def test_import_from_the_dev_venv(benchmark) -> None:
    bench_import(benchmark, "import (venv)", [], None)


def test_first_invocation_init(benchmark) -> None:
    runs: list[dict[str, float]] = []
    env = {**os.environ, **LAMBDA_ENV}

    def once() -> None:
        runs.append(json.loads(run_python(["-c", INIT_SCRIPT], env).stdout.splitlines()[-1]))

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    best_init = min(r["init_ms"] for r in runs)
    best_import = min(r["import_ms"] for r in runs)
    RESULTS["init (app + clients + pipeline)"] = best_init
    RESULTS["import + init (wall, best)"] = min(r["import_ms"] + r["init_ms"] for r in runs)
    benchmark.extra_info.update(
        {"best_init_ms": round(best_init, 1), "best_import_ms": round(best_import, 1)}
    )


@pytest.fixture(scope="module")
def layer_dirs(tmp_path_factory) -> dict[str, Path]:
    """The layer unpacked twice: as built (with .pyc) and with every __pycache__ removed."""
    given = os.environ.get("RECALL_LAYER_ZIP")
    if given:
        zip_path = Path(given)
    else:
        out = tmp_path_factory.mktemp("layer-build")
        py = f"{sys.version_info.major}.{sys.version_info.minor}"
        subprocess.run(
            [sys.executable, str(REPO / "packaging" / "lambda_layer" / "build.py"),
             "--compatibility", "linux", "--python-version", py,
             "--profile", os.environ.get("RECALL_LAYER_PROFILE", "release"),
             "--out", str(out)],
            check=True, cwd=REPO, timeout=1800, capture_output=True,
        )  # fmt: skip
        (zip_path,) = out.glob("recall-fast-layer-*.zip")
    dirs: dict[str, Path] = {}
    for variant in ("layer", "layer-no-pyc"):
        root = tmp_path_factory.mktemp(variant)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
        if variant == "layer-no-pyc":
            for cache in list((root / "python").rglob("__pycache__")):
                shutil.rmtree(cache)
        dirs[variant] = root / "python"
    return dirs


def _layer_env(site: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(site),
        # /opt is read-only in Lambda: nothing compiled on import can be kept.
        "PYTHONDONTWRITEBYTECODE": "1",
        **LAMBDA_ENV,
    }


@pytest.mark.parametrize("variant", ["layer", "layer-no-pyc"])
def test_import_from_the_layer(benchmark, layer_dirs, variant) -> None:
    site = layer_dirs[variant]
    bench_import(benchmark, f"import ({variant})", ["-S", "-s"], _layer_env(site))


class _Summary:
    """Prints the cold-start table after pytest-benchmark's own tables."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not RESULTS:
            return
        write = terminalreporter.write_line
        write("")
        write(f"Lambda cold start, best of {ROUNDS} fresh interpreters (ms):")
        for name, ms in RESULTS.items():
            write(f"  {name:36s} {ms:8.1f}")


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("lambda-cold-start-summary"):
        manager.register(_Summary(), "lambda-cold-start-summary")
