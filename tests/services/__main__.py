"""`python -m tests.services up|down|env|status`: services that outlive one pytest run.

Stage: developer tooling (wrapped by `scripts/services`). Standard library only.

Why: an Elasticsearch start costs 10-40 s; keeping one node and one moto server up between
pytest runs makes the edit-test loop fast. `up` and `env` print an `export ...` line on stdout
(progress goes to stderr), so `eval "$(scripts/services up)"` points this shell at them and the
pytest fixtures reuse them (RECALL_ES_URL, RECALL_AWS_ENDPOINT_URL). State (pids, ports, the
node's run dir) lives in one directory so `down` works from any later shell.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final, TypeVar

from tests.services.elasticsearch import (
    DEFAULT_HEAP_MB,
    DEFAULT_WORK_ROOT,
    ES_VERSION,
    ElasticsearchNode,
    SettingValue,
)
from tests.services.moto import MotoServer
from tests.services.process import AttachableService, ServiceStartError

_S = TypeVar("_S", bound=AttachableService)

DEFAULT_STATE_DIR: Final = DEFAULT_WORK_ROOT / "services"
STATE_DIR_ENV: Final = "RECALL_SERVICES_DIR"
JAVA_HOME_ENV: Final = "RECALL_ES_JAVA_HOME"
_STATE_FILE: Final = "state.json"
_ES_KEY: Final = "elasticsearch"
_MOTO_KEY: Final = "moto"
_EXPORTED: Final = (
    "RECALL_ES_URL",
    "RECALL_AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


def _log(message: str) -> None:
    """Progress goes to stderr so stdout stays `eval`-able."""
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """Serialise `up`/`down` across shells: two concurrent `up`s would start two nodes."""
    state_dir.mkdir(parents=True, exist_ok=True)
    # The unprivileged node user must traverse this dir to reach its run dir inside.
    state_dir.chmod(0o755)
    with (state_dir / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _load_state(state_dir: Path) -> dict[str, dict[str, object]]:
    """Read the state file; a missing or corrupt one means nothing is known to run."""
    try:
        raw = json.loads((state_dir / _STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(key): value for key, value in raw.items() if isinstance(value, dict)}


def _save_state(state_dir: Path, state: dict[str, dict[str, object]]) -> None:
    """Write the state file atomically (rename), so a crash never leaves half a file."""
    tmp = state_dir / f"{_STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(state_dir / _STATE_FILE)


def _export_line(es_url: str, moto: MotoServer) -> str:
    """The shell line that points tests and tools at the running services."""
    variables = {"RECALL_ES_URL": es_url, "RECALL_AWS_ENDPOINT_URL": moto.url, **moto.env()}
    return "export " + " ".join(f"{key}={shlex.quote(value)}" for key, value in variables.items())


def _parse_setting(text: str) -> tuple[str, SettingValue]:
    """Parse `KEY=VALUE`; VALUE is JSON when it parses as a scalar (1, true), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        return key, value
    if isinstance(parsed, str | int | float | bool):
        return key, parsed
    return key, value


def _ensure_running(
    state_dir: Path,
    state: dict[str, dict[str, object]],
    key: str,
    restore: Callable[[Mapping[str, object]], _S],
    ready: Callable[[_S], bool],
    make: Callable[[], _S],
) -> _S | None:
    """Reuse the recorded service `key` if it still answers, else start a new one and record it.

    Returns:
        The running service, or None when it failed to start (the reason is logged).
    """
    service: _S | None = None
    if key in state:
        service = restore(state[key])
        if service.pid is None or not ready(service):
            _log(f"{key}: stale state, cleaning up")
            service.close()
            service = None
    if service is None:
        service = make()
        try:
            service.start()
        except ServiceStartError as error:
            service.close()
            state.pop(key, None)
            _save_state(state_dir, state)
            _log(f"{key}: failed to start: {error}")
            return None
        state[key] = service.to_state()
        _save_state(state_dir, state)
    _log(f"{key}: up at {service.url} (pid {service.pid})")
    return service


def _up(state_dir: Path, heap_mb: int, settings: dict[str, SettingValue]) -> int:
    """Start whatever is not running, record it, print the export line."""
    java_home_env = os.environ.get(JAVA_HOME_ENV)

    def make_node() -> ElasticsearchNode:
        _log(f"{_ES_KEY} {ES_VERSION}: starting (10-40 s)")
        return ElasticsearchNode(
            settings=settings,
            heap_mb=heap_mb,
            java_home=Path(java_home_env) if java_home_env else None,
            run_dir=state_dir / "elasticsearch",
        )

    with _locked(state_dir):
        state = _load_state(state_dir)
        node = _ensure_running(
            state_dir,
            state,
            _ES_KEY,
            ElasticsearchNode.from_state,
            ElasticsearchNode.is_healthy,
            make_node,
        )
        if node is None:
            return 1
        moto = _ensure_running(
            state_dir,
            state,
            _MOTO_KEY,
            MotoServer.from_state,
            MotoServer.is_ready,
            lambda: MotoServer(log_path=state_dir / "moto.log"),
        )
        if moto is None:
            return 1
        print(_export_line(node.url, moto))
    return 0


def _down(state_dir: Path) -> int:
    """Stop both services, delete the node's run dir and the state, print an unset line."""
    with _locked(state_dir):
        state = _load_state(state_dir)
        if _MOTO_KEY in state:
            MotoServer.from_state(state[_MOTO_KEY]).close()
            _log("moto: stopped")
        if _ES_KEY in state:
            ElasticsearchNode.from_state(state[_ES_KEY]).close()
            _log("elasticsearch: stopped")
        (state_dir / _STATE_FILE).unlink(missing_ok=True)
    print("unset " + " ".join(_EXPORTED))
    return 0


def _env(state_dir: Path) -> int:
    """Print the export line for services started earlier by `up`."""
    state = _load_state(state_dir)
    if _ES_KEY not in state or _MOTO_KEY not in state:
        _log("services are not up: run scripts/services up")
        return 1
    es_url = str(state[_ES_KEY]["url"])
    print(_export_line(es_url, MotoServer.from_state(state[_MOTO_KEY])))
    return 0


def _status(state_dir: Path) -> int:
    """Report each service; exit 0 only when both run and answer."""
    state = _load_state(state_dir)
    all_up = True
    if _ES_KEY in state:
        node = ElasticsearchNode.from_state(state[_ES_KEY])
        healthy = node.pid is not None and node.is_healthy()
        all_up = all_up and healthy
        print(f"elasticsearch {node.url} pid={node.pid} {'up' if healthy else 'DOWN'}")
    else:
        all_up = False
        print("elasticsearch not started")
    if _MOTO_KEY in state:
        moto = MotoServer.from_state(state[_MOTO_KEY])
        ready = moto.pid is not None and moto.is_ready()
        all_up = all_up and ready
        print(f"moto {moto.url} pid={moto.pid} {'up' if ready else 'DOWN'}")
    else:
        all_up = False
        print("moto not started")
    return 0 if all_up else 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand.

    Args:
        argv: Arguments without the program name; `sys.argv[1:]` when None.

    Returns:
        Process exit status: 0 on success, 1 when a start failed or nothing is up (`env`),
        3 when `status` finds a service down.
    """
    parser = argparse.ArgumentParser(
        prog="scripts/services",
        description="Local Elasticsearch and moto for recall_fast tests. "
        'Use: eval "$(scripts/services up)"',
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR),
        help=f"where pids, ports and the node's data live (${STATE_DIR_ENV}, "
        f"default {DEFAULT_STATE_DIR})",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start both services in the background")
    up.add_argument("--heap-mb", type=int, default=DEFAULT_HEAP_MB, help="Elasticsearch heap")
    up.add_argument(
        "--es-setting",
        action="append",
        type=_parse_setting,
        default=[],
        metavar="KEY=VALUE",
        help="extra node setting (repeatable); applies to a newly started node only",
    )
    commands.add_parser("down", help="stop both services and delete their data")
    commands.add_parser("env", help="print the export line for running services")
    commands.add_parser("status", help="show whether each service runs")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir
    if args.command == "up":
        return _up(state_dir, args.heap_mb, dict(args.es_setting))
    if args.command == "down":
        return _down(state_dir)
    if args.command == "env":
        return _env(state_dir)
    return _status(state_dir)


if __name__ == "__main__":
    sys.exit(main())
