#!/usr/bin/env python3
"""Build the recall_fast Lambda layer zip and check it against Lambda's size limits.

    python packaging/lambda_layer/build.py                       # release wheel, py3.12, x86_64
    python packaging/lambda_layer/build.py --arch arm64 --python-version 3.12
    python packaging/lambda_layer/build.py --wheel dist/recall_fast-...whl

What goes in (``python/`` at the zip root, which Lambda puts on ``sys.path`` as /opt/python):
the recall_fast wheel and the runtime dependencies its METADATA declares, resolved for the
*target* platform (``pip --platform manylinux2014_<arch> --python-version X --only-binary``),
except pyarrow and numpy: nothing on the handler's path imports them (Arrow leaves through the
PyCapsule interface) and together they are ~150 MB of the 250 MB Lambda allows for function
plus layers. ``--with-pyarrow`` puts them back for functions that use the Arrow API.

Decisions, each measured or forced by Lambda:
- botocore's service models are pruned to the services the consumers call (``--botocore-services``,
  default s3, sqs, sts): botocore loads a model only when a client for it is created, and the
  full set is most of botocore's size.
- Bytecode is precompiled (unchecked-hash .pyc, so the fixed zip timestamps cannot invalidate
  it) when an interpreter of the target version is found: /opt is read-only, so without .pyc
  every cold start compiles every imported module from source.
- The zip is deterministic (sorted entries, fixed timestamps and modes): the same inputs give
  the same bytes, so a redeploy of an unchanged layer is a no-op.
- The size budget is checked after building and the build FAILS above it: 50 MB zipped (direct
  upload) and 250 MB unzipped for function plus all layers (``--other-unzipped-mb`` accounts for
  the function code and other layers), each lowerable.

Standard library plus ``packaging`` (a dependency of pip's toolchain in every dev venv).
Exit codes: 0 built and within budget, 1 over budget, 2 usage or build failure.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
MB: Final = 1024 * 1024
#: Lambda's documented limits (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
LAMBDA_MAX_ZIPPED_MB: Final = 50
LAMBDA_MAX_UNZIPPED_MB: Final = 250
#: Dependencies left out unless --with-pyarrow: nothing on the handler's import path needs them.
ARROW_DISTS: Final = frozenset({"pyarrow", "numpy"})
#: botocore service models kept by default: what the consumers create clients for.
DEFAULT_BOTOCORE_SERVICES: Final = ("s3", "sqs", "sts")
ARCH_TRIPLES: Final = {"x86_64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}
ARCH_MACHINES: Final = {"x86_64": "x86_64", "arm64": "aarch64"}
#: Fixed timestamp of every zip entry (the zip format's epoch): reproducible archives.
ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """The layer cannot be built (bad arguments, a failing tool)."""


@dataclass(frozen=True)
class Target:
    """The Lambda runtime the layer is for."""

    python_version: str  # "3.12"
    arch: str  # "x86_64" | "arm64"

    @property
    def machine(self) -> str:
        """``platform_machine`` on the target (aarch64 for arm64)."""
        return ARCH_MACHINES[self.arch]

    @property
    def pip_platforms(self) -> list[str]:
        """Wheel platform tags pip may pick for the target.

        python3.11 runs on Amazon Linux 2 (glibc 2.26): manylinux2014 only. python3.12+ run on
        Amazon Linux 2023 (glibc 2.34), which also takes manylinux_2_28 wheels.
        """
        tags = [f"manylinux2014_{self.machine}"]
        if tuple(int(p) for p in self.python_version.split(".")) >= (3, 12):
            tags.append(f"manylinux_2_28_{self.machine}")
        return tags

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the target, for evaluating Requires-Dist."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python_version}.0",
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{self.python_version}.0",
            "python_version": self.python_version,
            "sys_platform": "linux",
            "extra": "",
        }


@dataclass
class LayerReport:
    """What was built: the manifest written next to the zip and printed as JSON."""

    zip_path: str
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    python_version: str
    arch: str
    with_pyarrow: bool
    bytecode: bool
    botocore_services: list[str] | None
    packages: dict[str, str]
    largest_packages_mb: dict[str, float]
    budget: dict[str, float] = field(default_factory=dict)


def run(command: Sequence[str], *, cwd: Path | None = None) -> None:
    """Run a command, streaming its output; raise BuildError when it fails."""
    print("+", " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(list(command), cwd=cwd, check=False, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BuildError(f"{command[0]} failed with exit code {result.returncode}")


def build_wheel(target: Target, out_dir: Path, *, profile: str, compatibility: str) -> Path:
    """Build the recall_fast wheel for the target with maturin.

    manylinux2014 wheels are linked with zig against glibc 2.17 (``--zig``): a wheel linked on a
    newer build host carries GLIBC_2.28+ symbol versions that Amazon Linux 2 rejects, and
    maturin's compliance check refuses it. ``--compatibility linux`` builds a host-only wheel
    without zig (fast; for tests of the layer on this machine, never for deployment).

    Returns:
        The wheel's path.

    Raises:
        BuildError: maturin or zig is missing or the build failed.
    """
    # The build venv's own maturin first: CI runs the venv's python without activating it.
    beside = Path(sys.executable).parent / "maturin"
    maturin = str(beside) if beside.is_file() else shutil.which("maturin")
    if maturin is None:
        raise BuildError("maturin is not installed (pip install 'maturin>=1.7,<2')")
    command = [
        maturin, "build", "--locked", "--profile", profile, "--out", str(out_dir),
        "--compatibility", compatibility,
    ]  # fmt: skip
    if compatibility != "linux":
        command += ["--target", ARCH_TRIPLES[target.arch]]
        if importlib.util.find_spec("ziglang") is None:
            raise BuildError(
                "manylinux wheels are linked with zig: pip install ziglang (see docs/packaging.md)"
            )
        command.append("--zig")
    elif target.machine != platform.machine():
        raise BuildError("--compatibility linux builds for this host only; use manylinux2014")
    run(command, cwd=REPO_ROOT)
    wheels = sorted(out_dir.glob("recall_fast-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one wheel in {out_dir}, found {[w.name for w in wheels]}")
    return wheels[0]


def wheel_metadata(wheel: Path) -> tuple[str, list[str], list[str]]:
    """Read version, Requires-Dist and platform tags from a wheel.

    Returns:
        (version, requirement strings, wheel tags).

    Raises:
        BuildError: The file is not a wheel.
    """
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
            wheel_name = next(n for n in names if n.endswith(".dist-info/WHEEL"))
            meta = email.parser.Parser().parsestr(archive.read(meta_name).decode())
            tags = email.parser.Parser().parsestr(archive.read(wheel_name).decode()).get_all("Tag")
    except (OSError, zipfile.BadZipFile, StopIteration) as error:
        raise BuildError(f"{wheel} is not a readable wheel: {error}") from error
    return str(meta["Version"]), list(meta.get_all("Requires-Dist") or []), list(tags or [])


def runtime_requirements(
    requires: Sequence[str], target: Target, *, with_pyarrow: bool
) -> tuple[list[str], list[str]]:
    """Select the requirements the layer installs.

    Extras-only requirements (``extra == 'dev'``) and those whose markers do not hold on the
    target are dropped; pyarrow and numpy are dropped unless ``with_pyarrow``.

    Returns:
        (requirements to install, names deliberately excluded).
    """
    env = target.marker_environment()
    keep: list[str] = []
    excluded: list[str] = []
    for text in requires:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        if not with_pyarrow and canonicalize_name(req.name) in ARROW_DISTS:
            excluded.append(canonicalize_name(req.name))
            continue
        req.marker = None
        keep.append(str(req))
    return keep, excluded


def pip_install(
    target_dir: Path, args: Sequence[str], target: Target, *, no_deps: bool, platform_tags: bool
) -> None:
    """Install wheels for the target platform into ``target_dir`` (no bytecode, no scripts).

    Raises:
        BuildError: pip failed (e.g. no wheel for the target platform).
    """
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--target", str(target_dir), "--upgrade", "--no-compile", "--only-binary=:all:",
        "--implementation", "cp", "--python-version", target.python_version,
    ]  # fmt: skip
    if platform_tags:
        for tag in target.pip_platforms:
            command += ["--platform", tag]
    if no_deps:
        command.append("--no-deps")
    run([*command, *args])


def installed_distributions(site: Path) -> dict[str, str]:
    """Map canonical distribution name -> version of everything installed in ``site``."""
    found: dict[str, str] = {}
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        parsed = email.parser.Parser().parsestr(meta.read_text(errors="replace"))
        found[canonicalize_name(str(parsed["Name"]))] = str(parsed["Version"])
    return found


def prune(site: Path, botocore_services: Sequence[str] | None) -> None:
    """Remove what a Lambda never uses: console scripts, caches and unused botocore models.

    Args:
        site: The layer's ``python/`` directory.
        botocore_services: Service model directories kept under botocore/data (None: all).
    """
    shutil.rmtree(site / "bin", ignore_errors=True)  # shebangs point at the build venv
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    data = site / "botocore" / "data"
    if botocore_services is not None and data.is_dir():
        keep = set(botocore_services)
        for entry in data.iterdir():
            # Top-level files (endpoints.json, partitions.json, _retry.json...) are always needed.
            if entry.is_dir() and entry.name not in keep:
                shutil.rmtree(entry)


def find_interpreter(version: str, explicit: str | None) -> str | None:
    """Find a Python of exactly ``version`` (bytecode is version-specific).

    Returns:
        A path to the interpreter, or None.
    """
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        candidates.append(sys.executable)
    if (found := shutil.which(f"python{version}")) is not None:
        candidates.append(found)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates.extend(str(p / "bin" / "python") for p in sorted(pyenv.glob(f"{version}.*")))
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, check=False, timeout=30,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    if explicit:
        raise BuildError(f"--bytecode-python {explicit} is not a Python {version}")
    return None


def compile_bytecode(site: Path, interpreter: str) -> None:
    """Precompile every module as unchecked-hash .pyc, with /opt/python paths in tracebacks.

    Raises:
        BuildError: compileall failed.
    """
    run([
        interpreter, "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash",
        "-s", str(site), "-p", "/opt/python", str(site),
    ])  # fmt: skip


def write_zip(root: Path, zip_path: Path) -> tuple[int, int]:
    """Zip ``root`` deterministically (sorted entries, fixed timestamps and modes).

    Returns:
        (files, unzipped bytes).
    """
    files = sorted(
        (p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix()
    )
    total = 0
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_EPOCH)
            executable = path.suffix == ".so" or ".so." in path.name or os.access(path, os.X_OK)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            total += len(data)
            archive.writestr(info, data, compresslevel=9)
    return len(files), total


def package_sizes(site: Path) -> dict[str, float]:
    """The ten largest top-level entries of ``python/`` in MB (where the budget goes)."""
    sizes: dict[str, int] = {}
    for entry in site.iterdir():
        if entry.name.endswith(".dist-info"):
            continue
        paths = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes[entry.name] = sum(p.stat().st_size for p in paths)
    top = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:10]
    return {name: round(size / MB, 2) for name, size in top}


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()


def check_budget(report: LayerReport, args: argparse.Namespace) -> list[str]:
    """Compare the layer's sizes with the budget.

    Returns:
        One message per exceeded limit (empty when within budget).
    """
    problems = []
    zipped_mb = report.zipped_bytes / MB
    unzipped_mb = report.unzipped_bytes / MB + args.other_unzipped_mb
    report.budget = {
        "zipped_mb": round(zipped_mb, 2),
        "max_zipped_mb": args.max_zipped_mb,
        "unzipped_mb_with_other": round(unzipped_mb, 2),
        "max_unzipped_mb": args.max_unzipped_mb,
    }
    if zipped_mb > args.max_zipped_mb:
        problems.append(f"zipped {zipped_mb:.1f} MB > budget {args.max_zipped_mb} MB")
    if unzipped_mb > args.max_unzipped_mb:
        problems.append(
            f"unzipped {report.unzipped_bytes / MB:.1f} MB + other {args.other_unzipped_mb} MB "
            f"> budget {args.max_unzipped_mb} MB"
        )
    return problems


def build_layer(args: argparse.Namespace) -> LayerReport:
    """Build the layer zip described by the parsed arguments.

    Raises:
        BuildError: A tool failed or the arguments are inconsistent.
    """
    target = Target(args.python_version, args.arch)
    out_dir: Path = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recall-layer-") as tmp:
        work = Path(tmp)
        wheel: Path
        if args.wheel is not None:
            wheel = args.wheel.resolve()
        else:
            wheel = build_wheel(
                target, work / "wheel", profile=args.profile, compatibility=args.compatibility
            )
        version, requires, tags = wheel_metadata(wheel)
        manylinux = any("manylinux" in t for t in tags)
        if not any(t.endswith(f"_{target.machine}") for t in tags):
            raise BuildError(f"{wheel.name} is not built for {target.machine} (tags {tags})")
        requirements, excluded = runtime_requirements(
            requires, target, with_pyarrow=args.with_pyarrow
        )
        layer_root = work / "layer"
        site = layer_root / "python"
        site.mkdir(parents=True)
        pip_install(site, requirements, target, no_deps=False, platform_tags=True)
        # The package itself without its declared dependencies: they were chosen above.
        pip_install(site, [str(wheel)], target, no_deps=True, platform_tags=manylinux)
        if not manylinux:
            print(
                f"warning: {wheel.name} is not a manylinux wheel; this layer runs on this host "
                "only (tests), never deploy it",
                file=sys.stderr,
            )
        packages = installed_distributions(site)
        leaked = sorted(set(excluded) & set(packages))
        if leaked:
            raise BuildError(
                f"{', '.join(leaked)} reached the layer through another dependency; the handler "
                "path must not need them (see docs/packaging.md)"
            )
        services = None if args.botocore_services == ["all"] else args.botocore_services
        prune(site, services)
        bytecode = False
        if args.bytecode != "never":
            interpreter = find_interpreter(target.python_version, args.bytecode_python)
            if interpreter is None and args.bytecode == "always":
                raise BuildError(f"no Python {target.python_version} found to compile bytecode")
            if interpreter is None:
                print(
                    f"warning: no Python {target.python_version} found: layer ships without "
                    "bytecode (slower cold starts); pass --bytecode-python",
                    file=sys.stderr,
                )
            else:
                compile_bytecode(site, interpreter)
                bytecode = True
        py_tag = "py" + target.python_version.replace(".", "")
        suffix = "-with-pyarrow" if args.with_pyarrow else ""
        zip_path = out_dir / f"recall-fast-layer-{version}-{py_tag}-{target.arch}{suffix}.zip"
        files, unzipped = write_zip(layer_root, zip_path)
        return LayerReport(
            zip_path=str(zip_path),
            sha256=sha256_of(zip_path),
            zipped_bytes=zip_path.stat().st_size,
            unzipped_bytes=unzipped,
            files=files,
            python_version=target.python_version,
            arch=target.arch,
            with_pyarrow=args.with_pyarrow,
            bytecode=bytecode,
            botocore_services=list(services) if services is not None else None,
            packages=dict(sorted(packages.items())),
            largest_packages_mb=package_sizes(site),
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and validate the command line."""
    parser = argparse.ArgumentParser(
        description="Build the recall_fast Lambda layer zip and check its size budget."
    )
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of building one")
    parser.add_argument(
        "--python-version",
        default="3.12",
        choices=["3.11", "3.12", "3.13"],
        help="Lambda runtime's Python (default 3.12, matching the template's default runtime)",
    )
    parser.add_argument("--arch", default="x86_64", choices=sorted(ARCH_TRIPLES))
    parser.add_argument(
        "--profile", default="release", help="cargo profile of the wheel build (release)"
    )
    parser.add_argument(
        "--compatibility",
        default="manylinux2014",
        choices=["manylinux2014", "linux"],
        help="manylinux2014 (deployable, links with zig) or linux (this host only, for tests)",
    )
    parser.add_argument(
        "--with-pyarrow",
        action="store_true",
        help="also ship pyarrow and numpy (only for functions using the Arrow API)",
    )
    parser.add_argument(
        "--botocore-services",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=list(DEFAULT_BOTOCORE_SERVICES),
        help="botocore service models kept, comma-separated, or 'all' (default s3,sqs,sts)",
    )
    parser.add_argument("--bytecode", default="auto", choices=["auto", "always", "never"])
    parser.add_argument("--bytecode-python", help="interpreter of the target version for .pyc")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "dist", help="output directory")
    parser.add_argument("--max-zipped-mb", type=float, default=LAMBDA_MAX_ZIPPED_MB)
    parser.add_argument("--max-unzipped-mb", type=float, default=LAMBDA_MAX_UNZIPPED_MB)
    parser.add_argument(
        "--other-unzipped-mb",
        type=float,
        default=0.0,
        help="unzipped MB of the function code and other layers (count against 250 MB)",
    )
    args = parser.parse_args(argv)
    if args.max_unzipped_mb > LAMBDA_MAX_UNZIPPED_MB:
        parser.error(f"--max-unzipped-mb cannot exceed Lambda's {LAMBDA_MAX_UNZIPPED_MB} MB")
    if args.max_zipped_mb <= 0 or args.max_unzipped_mb <= 0 or args.other_unzipped_mb < 0:
        parser.error("budgets must be positive")
    if args.wheel is not None and not args.wheel.is_file():
        parser.error(f"--wheel {args.wheel} does not exist")
    if not all(re.fullmatch(r"[a-z0-9-]+", s) for s in args.botocore_services):
        parser.error("--botocore-services: comma-separated service names or 'all'")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build, report, check the budget.

    Returns:
        0 when built within budget, 1 over budget, 2 on build failure.
    """
    args = parse_args(argv)
    try:
        report = build_layer(args)
    except BuildError as error:
        print(f"layer build failed: {error}", file=sys.stderr)
        return 2
    problems = check_budget(report, args)
    manifest = Path(report.zip_path + ".json")
    manifest.write_text(json.dumps(report.__dict__, indent=2) + "\n")
    print(json.dumps(report.__dict__, indent=2))
    if problems:
        print(
            f"layer over budget ({'; '.join(problems)}); {report.zip_path} kept for inspection",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
