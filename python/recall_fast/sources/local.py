"""Local files, directories and globs as a source (plain, .gz, .zst).

Stage: source. A directory is walked recursively (hidden entries skipped) and each file's key is
its path relative to that directory, so ``DIR/acme/sensor1/conn/...`` has tenant ``acme`` with
the default tenant pattern, exactly as the same tree would in S3. A glob's root is its longest
directory prefix without wildcards; a single file's root is its parent directory.

File reads are blocking system calls, so they run in an executor passed in by the caller (the
event loop never blocks on a disk).

Must not import clients, the native extension or the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
from collections.abc import AsyncGenerator, Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import BinaryIO

from recall_fast.errors import RecallIOError
from recall_fast.types import AckHandle, ByteReader, Delivery, ObjectRef

_GLOB_CHARS = frozenset("*?[")


def _is_hidden(name: str) -> bool:
    """Dot files and directories (``.git``, editor swap files) are never inputs."""
    return name.startswith(".")


def _walk(root: Path) -> Iterator[Path]:
    """Yield the regular files under ``root`` in a stable (sorted) order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for name in sorted(filenames):
            if not _is_hidden(name):
                path = Path(dirpath) / name
                if path.is_file():
                    yield path


def _glob_root(pattern: str) -> Path:
    """Return the longest leading directory of ``pattern`` without wildcards."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def expand_paths(arguments: Sequence[str]) -> list[tuple[Path, Path]]:
    """Expand files, directories and globs into ``(root, file)`` pairs.

    Args:
        arguments: Paths as given on the command line.

    Returns:
        Pairs in argument order; duplicates (a file named twice) are kept once.

    Raises:
        RecallIOError: An argument names nothing that exists (a typo must not pass silently).
    """
    seen: set[Path] = set()
    out: list[tuple[Path, Path]] = []

    def add(root: Path, path: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            out.append((root, path))

    for argument in arguments:
        if _GLOB_CHARS & set(argument):
            root = _glob_root(argument)
            matches = sorted(glob.glob(argument, recursive=True))
            files = [Path(m) for m in matches if Path(m).is_file()]
            if not files:
                raise RecallIOError(f"no files match {argument!r}")
            for path in files:
                add(root, path)
            continue
        path = Path(argument)
        if path.is_dir():
            for file in _walk(path):
                add(path, file)
        elif path.is_file():
            add(path.parent, path)
        else:
            raise RecallIOError(f"no such file or directory: {argument!r}")
    return out


def local_ref(root: Path, path: Path) -> ObjectRef:
    """Describe a local file; its key is the POSIX path relative to ``root``.

    The version is empty: ingesting the same path again gives the same document ids (a file
    rewritten in place replaces its earlier documents).
    """
    key = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    return ObjectRef(bucket="", key=key, version="", size=path.stat().st_size, path=path)


class LocalReader(ByteReader):
    """Streams local files in fixed-size chunks, reading in an executor."""

    def __init__(self, *, chunk_bytes: int, executor: Executor | None = None) -> None:
        """Args: chunk_bytes: bytes per read; executor: where blocking reads run (the loop's
        default executor when None)."""
        self._chunk_bytes = chunk_bytes
        self._executor = executor

    def _path(self, ref: ObjectRef) -> Path:
        if ref.path is None:
            raise RecallIOError(f"{ref.uri}: not a local file")
        return ref.path

    async def size(self, ref: ObjectRef) -> int:
        """Return the file size (``ref.size`` when known).

        Raises:
            RecallIOError: The file cannot be stat'ed.
        """
        if ref.size is not None:
            return ref.size
        path = self._path(ref)
        loop = asyncio.get_running_loop()
        try:
            stat = await loop.run_in_executor(self._executor, path.stat)
        except OSError as error:
            raise RecallIOError(f"{path}: {error.strerror}") from error
        return stat.st_size

    async def stream(
        self, ref: ObjectRef, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Yield ``[start, end)`` of the file in chunks of ``chunk_bytes``.

        Raises:
            RecallIOError: The file cannot be opened or read.
        """
        path = self._path(ref)
        loop = asyncio.get_running_loop()

        def open_at() -> BinaryIO:
            handle = path.open("rb")
            handle.seek(start)
            return handle

        try:
            handle = await loop.run_in_executor(self._executor, open_at)
        except OSError as error:
            raise RecallIOError(f"{path}: {error.strerror or error}") from error
        try:
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                want = self._chunk_bytes if remaining is None else min(self._chunk_bytes, remaining)
                try:
                    chunk = await loop.run_in_executor(self._executor, handle.read, want)
                except OSError as error:
                    raise RecallIOError(f"{path}: {error.strerror or error}") from error
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            with contextlib.suppress(OSError):
                handle.close()


class LocalSource:
    """Files, directories and globs as deliveries, all settled on one ack handle."""

    def __init__(self, arguments: Sequence[str], reader: LocalReader, ack: AckHandle) -> None:
        """Expand the arguments and stat the files now (blocking: call it from a thread), so a
        missing path fails before any work starts.

        Args:
            arguments: Files, directories or glob patterns.
            reader: The reader for these files.
            ack: Handle settled with each object's outcome (the run summary).

        Raises:
            RecallIOError: An argument matches nothing.
        """
        self._refs = [local_ref(root, path) for root, path in expand_paths(arguments)]
        self._reader = reader
        self._ack = ack

    @property
    def reader(self) -> ByteReader:
        """The local file reader."""
        return self._reader

    @property
    def total_bytes(self) -> int:
        """Sum of the sizes of all files (for the progress bar)."""
        return sum(ref.size or 0 for ref in self._refs)

    def __len__(self) -> int:
        """Number of files."""
        return len(self._refs)

    async def deliveries(self) -> AsyncGenerator[Delivery, None]:
        """Yield every file once, in order."""
        for ref in self._refs:
            yield Delivery(ref, self._ack)
