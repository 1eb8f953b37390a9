"""S3 objects: put/get/head/delete, streaming, ranges, conditions, copy, tagging, batches."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from gureum.doctor import blob_ids


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(make_client):
    client = make_client("s3")
    client.create_bucket(Bucket="bkt-objects")
    return client


def test_put_get_head_with_metadata(s3):
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    put = s3.put_object(Bucket="bkt-objects", Key="doc.txt", Body=b"hello world", ContentType="text/plain",
                        Metadata={"Color": "blue"}, CacheControl="max-age=60", ContentDisposition="inline",
                        ContentEncoding="identity", ContentLanguage="ko", Expires=expires,
                        StorageClass="STANDARD_IA", Tagging="a=1&b=2")
    assert put["ETag"] == '"%s"' % hashlib.md5(b"hello world").hexdigest()
    got = s3.get_object(Bucket="bkt-objects", Key="doc.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "ko"
    assert got["Expires"] == expires
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["TagCount"] == 2
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket="bkt-objects", Key="doc.txt")
    assert head["ContentLength"] == 11 and head["ETag"] == put["ETag"]
    over = s3.get_object(Bucket="bkt-objects", Key="doc.txt", ResponseContentType="application/x-test",
                         ResponseCacheControl="no-cache")
    assert over["ContentType"] == "application/x-test" and over["CacheControl"] == "no-cache"
    plain = s3.put_object(Bucket="bkt-objects", Key="plain", Body=b"")
    assert plain["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    empty = s3.get_object(Bucket="bkt-objects", Key="plain")
    assert empty["Body"].read() == b"" and empty["ContentType"] == "binary/octet-stream"


def test_checksum_stored_and_returned(s3):
    put = s3.put_object(Bucket="bkt-objects", Key="summed", Body=b"abc" * 1000, ChecksumAlgorithm="SHA256")
    expected = base64.b64encode(hashlib.sha256(b"abc" * 1000).digest()).decode()
    assert put["ChecksumSHA256"] == expected
    got = s3.get_object(Bucket="bkt-objects", Key="summed", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == expected
    assert got["Body"].read() == b"abc" * 1000


def test_content_md5(s3):
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    s3.put_object(Bucket="bkt-objects", Key="md5", Body=b"data", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt-objects", Key="md5-bad", Body=b"data", ContentMD5=bad)
    assert _error(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="bkt-objects", Key="md5-bad")
    assert _error(e) == ("404", 404)


def test_missing_key_and_idempotent_delete(s3):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bkt-objects", Key="nope")
    assert _error(e) == ("NoSuchKey", 404)
    assert s3.delete_object(Bucket="bkt-objects", Key="nope")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.put_object(Bucket="bkt-objects", Key="gone", Body=b"x")
    assert s3.delete_object(Bucket="bkt-objects", Key="gone")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bkt-objects", Key="gone")
    assert _error(e) == ("NoSuchKey", 404)


def test_key_length_and_unicode(s3):
    key = "한국어/" + "é" * 300  # 2-byte characters: 609 bytes
    s3.put_object(Bucket="bkt-objects", Key=key, Body=b"u")
    assert s3.get_object(Bucket="bkt-objects", Key=key)["Body"].read() == b"u"
    s3.put_object(Bucket="bkt-objects", Key="k" * 1024, Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt-objects", Key="k" * 1025, Body=b"x")
    assert _error(e) == ("KeyTooLongError", 400)


def test_large_streamed_upload_and_download(s3, tmp_path):
    data = os.urandom(20 * 1024 * 1024)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    with open(src, "rb") as f:
        put = s3.put_object(Bucket="bkt-objects", Key="big.bin", Body=f)
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    got = s3.get_object(Bucket="bkt-objects", Key="big.bin")
    assert got["ContentLength"] == len(data)
    digest = hashlib.sha256()
    for chunk in got["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    part = s3.get_object(Bucket="bkt-objects", Key="big.bin", Range="bytes=10485760-10485859")
    assert part["Body"].read() == data[10485760:10485860]


def test_ranges(s3):
    body = bytes(range(100))
    s3.put_object(Bucket="bkt-objects", Key="range", Body=body)
    cases = {"bytes=0-9": (0, 9), "bytes=90-": (90, 99), "bytes=-5": (95, 99), "bytes=95-200": (95, 99)}
    for header, (first, last) in cases.items():
        got = s3.get_object(Bucket="bkt-objects", Key="range", Range=header)
        assert got["Body"].read() == body[first:last + 1]
        assert got["ContentRange"] == f"bytes {first}-{last}/100"
        assert got["ContentLength"] == last - first + 1
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bkt-objects", Key="range", Range="bytes=100-")
    assert _error(e) == ("InvalidRange", 416)
    head = s3.head_object(Bucket="bkt-objects", Key="range", Range="bytes=0-0")
    assert head["ContentLength"] == 1


def test_conditional_requests(s3):
    etag = s3.put_object(Bucket="bkt-objects", Key="cond", Body=b"c")["ETag"]
    modified = s3.head_object(Bucket="bkt-objects", Key="cond")["LastModified"]
    past, future = modified - timedelta(days=1), modified + timedelta(days=1)
    ok = [dict(IfMatch=etag), dict(IfNoneMatch='"other"'), dict(IfModifiedSince=past),
          dict(IfUnmodifiedSince=future), dict(IfMatch=etag, IfUnmodifiedSince=past)]
    for kwargs in ok:
        assert s3.get_object(Bucket="bkt-objects", Key="cond", **kwargs)["Body"].read() == b"c"
    refused = [(dict(IfMatch='"other"'), ("PreconditionFailed", 412)),
               (dict(IfUnmodifiedSince=past), ("PreconditionFailed", 412)),
               (dict(IfNoneMatch=etag), ("304", 304)),
               (dict(IfModifiedSince=future), ("304", 304)),
               (dict(IfNoneMatch=etag, IfModifiedSince=past), ("304", 304))]
    for kwargs, expected in refused:
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket="bkt-objects", Key="cond", **kwargs)
        assert _error(e) == expected, kwargs
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="bkt-objects", Key="cond", IfMatch='"other"')
    assert _error(e) == ("412", 412)


def test_copy_object(s3):
    s3.put_object(Bucket="bkt-objects", Key="src dir/ä+b.txt", Body=b"copy me", ContentType="text/plain",
                  Metadata={"m": "1"})
    s3.copy_object(Bucket="bkt-objects", Key="copied", CopySource={"Bucket": "bkt-objects", "Key": "src dir/ä+b.txt"})
    got = s3.get_object(Bucket="bkt-objects", Key="copied")
    assert got["Body"].read() == b"copy me" and got["Metadata"] == {"m": "1"} and got["ContentType"] == "text/plain"
    s3.copy_object(Bucket="bkt-objects", Key="copied", CopySource="bkt-objects/copied", MetadataDirective="REPLACE",
                   Metadata={"n": "2"}, ContentType="text/x-new")
    got = s3.head_object(Bucket="bkt-objects", Key="copied")
    assert got["Metadata"] == {"n": "2"} and got["ContentType"] == "text/x-new"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="bkt-objects", Key="copied", CopySource="bkt-objects/copied")
    assert _error(e) == ("InvalidRequest", 400)
    assert "This copy request is illegal" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="bkt-objects", Key="x", CopySource="bkt-objects/missing")
    assert _error(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="bkt-objects", Key="x", CopySource="bkt-objects/copied", CopySourceIfMatch='"no"')
    assert _error(e) == ("PreconditionFailed", 412)


def test_tagging(s3):
    s3.put_object(Bucket="bkt-objects", Key="tagged", Body=b"t", Tagging="env=dev")
    assert s3.get_object_tagging(Bucket="bkt-objects", Key="tagged")["TagSet"] == [{"Key": "env", "Value": "dev"}]
    s3.put_object_tagging(Bucket="bkt-objects", Key="tagged",
                          Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})
    assert len(s3.get_object_tagging(Bucket="bkt-objects", Key="tagged")["TagSet"]) == 2
    s3.delete_object_tagging(Bucket="bkt-objects", Key="tagged")
    assert s3.get_object_tagging(Bucket="bkt-objects", Key="tagged")["TagSet"] == []
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket="bkt-objects", Key="tagged",
                              Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert _error(e)[1] == 400


def test_delete_objects(s3):
    for k in ("d1", "d2", "d3"):
        s3.put_object(Bucket="bkt-objects", Key=k, Body=b"d")
    out = s3.delete_objects(Bucket="bkt-objects", Delete={"Objects": [{"Key": "d1"}, {"Key": "d2"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["d1", "d2", "zz"]
    quiet = s3.delete_objects(Bucket="bkt-objects", Delete={"Objects": [{"Key": "d3"}], "Quiet": True})
    assert "Deleted" not in quiet
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="bkt-objects", Key="d3")
    assert _error(e) == ("404", 404)


def test_unimplemented_operation_is_not_a_fake_success(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_analytics_configuration(Bucket="bkt-objects", Id="analytics")
    assert _error(e) == ("NotImplemented", 501)


def test_blobs_follow_rows(server, make_client):
    """Overwrites and deletes remove the old bytes; a refused upload leaves none behind."""
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-blobs")
    before = blob_ids(server.data_dir)
    s3.put_object(Bucket="bkt-blobs", Key="k", Body=b"one")
    s3.put_object(Bucket="bkt-blobs", Key="k", Body=b"two")
    assert len(blob_ids(server.data_dir) - before) == 1
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError):
        s3.put_object(Bucket="bkt-blobs", Key="refused", Body=b"data", ContentMD5=bad)
    assert len(blob_ids(server.data_dir) - before) == 1
    for body in (b"small", b"large" * 5000):  # a database row and a file: both undone with the write
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket="bkt-blobs", Key="k", Body=body, IfNoneMatch="*")
        assert e.value.response["Error"]["Code"] == "PreconditionFailed"
        assert len(blob_ids(server.data_dir) - before) == 1
    s3.delete_object(Bucket="bkt-blobs", Key="k")
    assert blob_ids(server.data_dir) - before == set()


def test_anonymous_response_overrides_refused(make_client, endpoint):
    import json
    import urllib.error
    import urllib.request

    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-anon-override")
    s3.delete_public_access_block(Bucket="bkt-anon-override")
    s3.put_bucket_policy(Bucket="bkt-anon-override", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bkt-anon-override/*"}]}))
    s3.put_object(Bucket="bkt-anon-override", Key="f", Body=b"f")
    with urllib.request.urlopen(f"{endpoint}/bkt-anon-override/f") as r:
        assert r.read() == b"f"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{endpoint}/bkt-anon-override/f?response-content-type=text/html")
    assert e.value.code == 400 and b"<Code>InvalidRequest</Code>" in e.value.read()


def test_conditional_writes(s3):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt-objects", Key="cw", Body=b"1", IfMatch='"abc"')
    assert _error(e) == ("NoSuchKey", 404)
    etag = s3.put_object(Bucket="bkt-objects", Key="cw", Body=b"1", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt-objects", Key="cw", Body=b"2", IfNoneMatch="*")
    assert _error(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt-objects", Key="cw", Body=b"2", IfMatch='"0000"')
    assert _error(e) == ("PreconditionFailed", 412)
    s3.put_object(Bucket="bkt-objects", Key="cw", Body=b"3", IfMatch=etag)
    assert s3.get_object(Bucket="bkt-objects", Key="cw")["Body"].read() == b"3"
