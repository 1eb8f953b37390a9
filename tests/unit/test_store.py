"""The store: migrations, transactions, blobs, credentials and key ids."""

from __future__ import annotations

import pytest

from gureum.auth.credentials import account_of_access_key_id, new_access_key_id
from gureum.store import BlobStore, Database
from gureum.store.blobs import INLINE_MAX, is_inline


def test_migrations_apply_once(tmp_path):
    db = Database(tmp_path / "s.db")
    scripts = ["CREATE TABLE t (a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT"]
    db.migrate("svc", scripts)
    db.migrate("svc", scripts)  # a second start applies nothing again
    db.execute("INSERT INTO t (a, b) VALUES (1, 'x')")
    assert [tuple(r) for r in db.query("SELECT a, b FROM t")] == [(1, "x")]


def test_transaction_rolls_back_whole(tmp_path):
    db = Database(tmp_path / "s.db")
    db.migrate("svc", ["CREATE TABLE t (a INTEGER PRIMARY KEY)"])
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.execute("INSERT INTO t VALUES (1)")
            with db.transaction():  # nested joins the outer transaction
                db.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("boom")
    assert db.query("SELECT * FROM t") == []


def test_blob_writer_commit_and_abort(tmp_path):
    blobs = BlobStore(tmp_path / "blobs")
    with blobs.new_writer() as w:
        w.write(b"hello ")
        w.write(b"world")
        blob_id = w.commit()
    assert blobs.read(blob_id) == b"hello world"
    w = blobs.new_writer()
    w.write(b"partial")
    w.abort()
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    w = blobs.new_writer()
    w.write(b"left behind by a crash")
    assert blobs.clear_temporaries() == 1


def test_small_blobs_are_rows_and_large_ones_files(tmp_path):
    db = Database(tmp_path / "s.db")
    blobs = BlobStore(tmp_path / "blobs", db=db)
    small = blobs.put(b"s" * INLINE_MAX)
    with blobs.new_writer() as w:  # grows past the limit in pieces: spills to a file
        for _ in range(3):
            w.write(b"l" * (INLINE_MAX // 2))
        large = w.commit()
    assert is_inline(small) and not is_inline(large)
    assert blobs.read(small) == b"s" * INLINE_MAX and blobs.size(small) == INLINE_MAX
    assert blobs.read(large) == b"l" * (3 * (INLINE_MAX // 2))
    assert set(blobs.ids()) == {small, large} and BlobStore(tmp_path / "blobs").read(large) == blobs.read(large)
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    blobs.delete(small)
    assert not blobs.exists(small) and blobs.exists(large)
    with pytest.raises(FileNotFoundError):
        blobs.open(small)


def test_inline_blob_commits_and_rolls_back_with_the_transaction(tmp_path):
    db = Database(tmp_path / "s.db")
    blobs = BlobStore(tmp_path / "blobs", db=db)
    with pytest.raises(RuntimeError):
        with db.transaction():
            w = blobs.new_writer()
            w.write(b"undone")
            undone = w.commit()
            raise RuntimeError("the row that refers to it failed")
    assert not blobs.exists(undone) and list(blobs.ids()) == []
    w = blobs.new_writer()
    w.write(b"never committed")
    w.abort()
    assert list(blobs.ids()) == []


@pytest.mark.parametrize("bad", ["i" + "0" * 15, "i" + "g" * 16, "i../" + "0" * 13, "i" + "0" * 17])
def test_inline_blob_ids_are_checked(tmp_path, bad):
    blobs = BlobStore(tmp_path / "blobs", db=Database(tmp_path / "s.db"))
    with pytest.raises(ValueError):
        blobs.open(bad)


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "g" * 32, "0" * 31, "../" + "0" * 29])
def test_blob_ids_never_reach_outside(tmp_path, bad):
    with pytest.raises(ValueError):
        BlobStore(tmp_path).open(bad)


@pytest.mark.parametrize("account", ["000000000000", "123456789012", "999999999999", "000000000001"])
def test_access_key_ids_encode_their_account(account):
    for prefix in ("AKIA", "ASIA"):
        key = new_access_key_id(account, prefix)
        assert len(key) == 20 and key.startswith(prefix)
        assert account_of_access_key_id(key) == account


def test_access_key_not_in_aws_format():
    assert account_of_access_key_id("test") is None
