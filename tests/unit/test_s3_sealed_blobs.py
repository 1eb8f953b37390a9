"""S3's sealed blobs (encryption at rest) and the streamed multipart/form-data reader of browser POSTs."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from gureum.services.s3.encryption import CHUNK, EncryptedBlobStore, load_master_key
from gureum.services.s3.post import FormReader
from gureum.store import BlobStore


@pytest.fixture
def store(tmp_path):
    return EncryptedBlobStore(BlobStore(tmp_path / "blobs"), load_master_key(tmp_path))


@settings(max_examples=40, deadline=None)
@given(size=st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5]), data=st.data())
def test_any_range_reads_back(tmp_path_factory, size, data):
    root = tmp_path_factory.mktemp("sealed")
    store = EncryptedBlobStore(BlobStore(root / "blobs"), load_master_key(root))
    body = os.urandom(size)
    with store.new_writer() as w:
        step = data.draw(st.integers(1, CHUNK + 7))
        for i in range(0, size, step):
            w.write(body[i:i + step])
        blob_id = w.commit()
    assert w.size == size and store.size(blob_id) == size
    assert BlobStore(root / "blobs").read(blob_id) != body or size == 0
    with store.open(blob_id) as f:
        first = data.draw(st.integers(0, size))
        n = data.draw(st.integers(0, size + 3))
        f.seek(first)
        assert f.read(n) == body[first:first + n]
        f.seek(0)
        assert f.read() == body


def test_tampering_and_truncation_are_detected(store, tmp_path):
    with store.new_writer() as w:
        w.write(b"a" * (2 * CHUNK + 10))
        blob_id = w.commit()
    path = Path(store.inner._path(blob_id))
    raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw[: -(10 + 16)]))  # drop the final chunk: the one before is not marked final
    with store.open(blob_id) as f, pytest.raises(OSError):
        f.read()
    raw[100] ^= 1
    path.write_bytes(bytes(raw))
    with store.open(blob_id) as f, pytest.raises(OSError):
        f.read(10)


def test_master_key_is_kept(tmp_path):
    assert load_master_key(tmp_path) == load_master_key(tmp_path)
    assert (tmp_path / "s3-master.key").stat().st_mode & 0o777 == 0o600


@given(step=st.integers(1, 200), content=st.binary(max_size=3000))
def test_form_reader_any_chunking(step, content):
    import urllib3

    body, content_type = urllib3.encode_multipart_formdata(
        [("key", "k/${filename}"), ("x-amz-meta-a", "b"), ("file", ("f.bin", content, "application/x"))],
        boundary="b0undary")

    async def run():
        async def chunks():
            for i in range(0, len(body), step):
                yield body[i:i + step]

        reader = FormReader(chunks(), b"b0undary")
        seen = []
        while (part := await reader.next_part()) is not None:
            headers, it = part
            seen.append((headers["content-disposition"], b"".join([c async for c in it])))
        return seen

    seen = asyncio.run(run())
    assert [v for _, v in seen] == [b"k/${filename}", b"b", content]
    assert 'filename="f.bin"' in seen[2][0]
