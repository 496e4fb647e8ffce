"""Local paths, globs and the file reader."""

from __future__ import annotations

import pytest

from recall_fast.errors import RecallIOError
from recall_fast.orchestration.acks import RunSummary
from recall_fast.sources.local import LocalReader, LocalSource, expand_paths, local_ref


@pytest.fixture
def tree(tmp_path):
    for rel in ["acme/s1/conn/a.log.gz", "acme/s1/dns/b.log", "globex/s2/conn/c.json.zst"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rel.encode() * 10)
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "acme" / ".swp").write_text("x")
    return tmp_path


def test_directory_walk_keys_relative_to_root(tree):
    pairs = expand_paths([str(tree)])
    keys = [local_ref(root, path).key for root, path in pairs]
    assert keys == ["acme/s1/conn/a.log.gz", "acme/s1/dns/b.log", "globex/s2/conn/c.json.zst"]


def test_glob_root_is_fixed_prefix(tree):
    pairs = expand_paths([f"{tree}/*/s1/**/*.log*"])
    keys = [local_ref(root, path).key for root, path in pairs]
    assert keys == ["acme/s1/conn/a.log.gz", "acme/s1/dns/b.log"]


def test_single_file_and_duplicates(tree):
    file = tree / "acme/s1/dns/b.log"
    pairs = expand_paths([str(file), str(tree / "acme")])
    refs = [local_ref(root, path) for root, path in pairs]
    assert refs[0].key == "b.log"
    assert len(refs) == 2  # b.log only once
    assert refs[0].size == file.stat().st_size


def test_missing_paths_raise(tree):
    with pytest.raises(RecallIOError):
        expand_paths([str(tree / "nope")])
    with pytest.raises(RecallIOError):
        expand_paths([f"{tree}/*.nothing"])


async def test_reader_streams_ranges_in_chunks(tmp_path):
    path = tmp_path / "f"
    data = bytes(range(256)) * 100
    path.write_bytes(data)
    reader = LocalReader(chunk_bytes=4096)
    ref = local_ref(tmp_path, path)
    chunks = [c async for c in reader.stream(ref)]
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) == 4096
    assert b"".join([c async for c in reader.stream(ref, 100, 9000)]) == data[100:9000]
    assert await reader.size(ref) == len(data)


async def test_reader_missing_file_is_recall_io_error(tmp_path):
    path = tmp_path / "gone"
    path.write_bytes(b"x")
    ref = local_ref(tmp_path, path)
    path.unlink()
    with pytest.raises(RecallIOError):
        [c async for c in LocalReader(chunk_bytes=4096).stream(ref)]


async def test_source_yields_every_file(tree):
    summary = RunSummary()
    source = LocalSource([str(tree)], LocalReader(chunk_bytes=4096), summary)
    deliveries = [d async for d in source.deliveries()]
    assert len(deliveries) == len(source) == 3
    assert all(d.ack is summary for d in deliveries)
    assert source.total_bytes == sum(d.ref.size or 0 for d in deliveries)
