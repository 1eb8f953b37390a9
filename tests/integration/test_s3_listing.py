"""ListObjectsV2 and ListObjects: byte order, delimiters, paging, markers, URL encoding."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

BUCKET = "bkt-listing"
KEYS = sorted(
    [f"dir{d}/file{i:03d}.txt" for d in range(3) for i in range(100)]
    + [f"top{i}" for i in range(20)]
    + ["한글/키", "é-accent", "z", "Z-upper", "dir1/sub/deep.txt", "a b/c+d", "~tilde"],
    key=lambda k: k.encode("utf-8"),
)


@pytest.fixture(scope="module")
def s3(make_client):
    client = make_client("s3")
    client.create_bucket(Bucket=BUCKET)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=BUCKET, Key=k, Body=k.encode()), KEYS))
    return client


def _all_v2(s3, **kwargs):
    keys, prefixes, token, pages = [], [], None, 0
    while True:
        page = s3.list_objects_v2(Bucket=BUCKET, **kwargs, **({"ContinuationToken": token} if token else {}))
        pages += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        if not page["IsTruncated"]:
            return keys, prefixes, pages
        token = page["NextContinuationToken"]


def test_full_listing_in_byte_order(s3):
    keys, prefixes, pages = _all_v2(s3, MaxKeys=37)
    assert keys == KEYS and prefixes == []
    assert pages == -(-len(KEYS) // 37)
    first = s3.list_objects_v2(Bucket=BUCKET)
    assert [o["Key"] for o in first["Contents"]] == KEYS and first["KeyCount"] == len(KEYS)
    assert first["Contents"][0]["ETag"].startswith('"') and first["Contents"][0]["StorageClass"] == "STANDARD"


def test_delimiter_and_prefix(s3):
    keys, prefixes, _ = _all_v2(s3, Delimiter="/")
    assert prefixes == ["a b/", "dir0/", "dir1/", "dir2/", "한글/"]
    assert keys == [k for k in KEYS if "/" not in k]
    keys, prefixes, pages = _all_v2(s3, Delimiter="/", MaxKeys=2)
    assert prefixes == ["a b/", "dir0/", "dir1/", "dir2/", "한글/"]
    keys, prefixes, _ = _all_v2(s3, Prefix="dir1/", Delimiter="/", MaxKeys=7)
    assert prefixes == ["dir1/sub/"] and len(keys) == 100
    keys, _, _ = _all_v2(s3, Prefix="dir2/file09")
    assert keys == [f"dir2/file09{i}.txt" for i in range(10)]
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="nothing")["KeyCount"] == 0


def test_start_after_and_fetch_owner(s3):
    page = s3.list_objects_v2(Bucket=BUCKET, StartAfter="top5", MaxKeys=3, FetchOwner=True)
    assert [o["Key"] for o in page["Contents"]] == KEYS[KEYS.index("top5") + 1:][:3]
    assert len(page["Contents"][0]["Owner"]["ID"]) == 64
    assert "Owner" not in s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1)["Contents"][0]


def test_encoding_type_url(s3):
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix="a b", EncodingType="url")
    # botocore decodes only when it asked for the encoding itself; here the caller did.
    assert [o["Key"] for o in page["Contents"]] == ["a%20b/c%2Bd"]
    raw = s3.list_objects_v2(Bucket=BUCKET, Prefix="한", Delimiter="/", EncodingType="url")
    assert [unquote(p["Prefix"]) for p in raw["CommonPrefixes"]] == ["한글/"]


def test_list_objects_v1_markers(s3):
    keys, marker = [], None
    while True:
        page = s3.list_objects(Bucket=BUCKET, MaxKeys=50, **({"Marker": marker} if marker else {}))
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        assert "NextMarker" not in page  # only with a delimiter; clients use the last key
        marker = page["Contents"][-1]["Key"]
    assert keys == KEYS
    page = s3.list_objects(Bucket=BUCKET, Delimiter="/", MaxKeys=3)
    assert page["IsTruncated"] and page["NextMarker"] == "dir0/"
    nxt = s3.list_objects(Bucket=BUCKET, Delimiter="/", MaxKeys=3, Marker=page["NextMarker"])
    assert [p["Prefix"] for p in nxt["CommonPrefixes"]][:2] == ["dir1/", "dir2/"]
    assert "Owner" in page.get("Contents", [{"Owner": 1}])[0]


def test_listing_errors(s3):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=BUCKET, ContinuationToken="!!!not-a-token")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="bkt-listing-missing")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_cli_ls_recursive(aws_cli, s3):
    _, out, _ = aws_cli("s3", "ls", f"s3://{BUCKET}/", "--recursive", expect_ok=True)
    listed = [line.split(maxsplit=3)[3] for line in out.splitlines() if line.strip()]
    assert listed == KEYS


# --- the walk itself, against a brute-force model of S3's listing ------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from gureum.services.s3.listing import walk  # noqa: E402
from gureum.services.s3.schema import MIGRATIONS  # noqa: E402
from gureum.store import Database  # noqa: E402

_ALPHABET = st.sampled_from(["a", "b", "/", "é", "\U0001f600", "-", "\x7f"])
_KEY = st.text(_ALPHABET, min_size=1, max_size=6)


def _model(keys: list[bytes], prefix: bytes, delimiter: bytes, after: bytes | None) -> list[bytes]:
    out: list[bytes] = []
    for k in sorted(keys):
        if not k.startswith(prefix):
            continue
        entry = k
        if delimiter:
            at = k.find(delimiter, len(prefix))
            if at >= 0:
                entry = k[: at + len(delimiter)]
        if (after is None or entry > after) and (not out or out[-1] != entry):
            out.append(entry)
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("walk") / "s3.db")
    database.migrate("s3", MIGRATIONS)
    database.execute("INSERT INTO s3_buckets (name, account_id, region, created) VALUES ('b', '0', 'us-east-1', 0)")
    return database


@settings(max_examples=150, deadline=None)
@given(keys=st.sets(_KEY, max_size=25), prefix=st.text(_ALPHABET, max_size=2),
       delimiter=st.sampled_from(["", "/", "é", "ab"]), page=st.integers(1, 5))
def test_walk_pages_match_the_model(db, keys, prefix, delimiter, page):
    raw = [k.encode() for k in keys]
    with db.transaction():
        db.execute("DELETE FROM s3_objects")
        for k in raw:
            db.execute("INSERT INTO s3_objects VALUES ('b', ?, ?, 0, '\"\"', 0, '{}', '{}', 'STANDARD', '{}', '{}')",
                       (k, "0" * 32))
    expected = _model(raw, prefix.encode(), delimiter.encode(), None)
    seen: list[bytes] = []
    after = None
    while True:
        p = walk(db, "b", prefix.encode(), delimiter.encode(), after, page)
        seen += [bytes(v["key"]) if kind == "key" else v for kind, v in p.entries]
        if not p.truncated:
            break
        after = p.last
    assert seen == expected
