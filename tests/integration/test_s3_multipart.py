"""S3 multipart uploads: create, parts, copy parts, complete, abort, listings, the CLI and boto3 transfers."""

from __future__ import annotations

import hashlib
import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from gureum.doctor import blob_ids

MIB = 1024 * 1024
BUCKET = "bkt-multipart"


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(make_client):
    client = make_client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_upload_complete_get(s3):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="big.bin", ContentType="text/plain",
                                    Metadata={"Color": "red"}, StorageClass="STANDARD_IA", Tagging="a=1")
    uid = up["UploadId"]
    assert up["Bucket"] == BUCKET and up["Key"] == "big.bin"
    one, two = os.urandom(5 * MIB), b"tail" * 1000
    e1 = s3.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=uid, PartNumber=1, Body=b"x" * 10)["ETag"]
    e1 = s3.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=uid, PartNumber=1, Body=one)["ETag"]  # replaces
    assert e1 == '"%s"' % hashlib.md5(one).hexdigest()
    e2 = s3.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=uid, PartNumber=3, Body=two)["ETag"]
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key="big.bin", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]})
    expected = hashlib.md5(hashlib.md5(one).digest() + hashlib.md5(two).digest()).hexdigest() + "-2"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=BUCKET, Key="big.bin")
    assert got["Body"].read() == one + two
    assert got["ETag"] == done["ETag"] and got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "red"} and got["StorageClass"] == "STANDARD_IA" and got["TagCount"] == 1
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=BUCKET, Key="big.bin", UploadId=uid)
    assert _error(e) == ("NoSuchUpload", 404)


def test_part_errors(s3):
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="err")["UploadId"]
    for bad in (0, 10001):
        with pytest.raises(ClientError) as e:
            s3.upload_part(Bucket=BUCKET, Key="err", UploadId=uid, PartNumber=bad, Body=b"x")
        assert _error(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="err", UploadId="nope", PartNumber=1, Body=b"x")
    assert _error(e) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="other", UploadId=uid, PartNumber=1, Body=b"x")
    assert _error(e) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="err", UploadId=uid, PartNumber=1, Body=b"x",
                       ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert _error(e) == ("BadDigest", 400)
    small = [s3.upload_part(Bucket=BUCKET, Key="err", UploadId=uid, PartNumber=n, Body=b"s" * 100)["ETag"]
             for n in (1, 2)]
    parts = [{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 2, "ETag": small[1]}]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key="err", UploadId=uid,
                                     MultipartUpload={"Parts": parts[::-1]})
    assert _error(e) == ("InvalidPartOrder", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key="err", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})
    assert _error(e) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key="err", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 5, "ETag": small[0]}]})
    assert _error(e) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key="err", UploadId=uid, MultipartUpload={"Parts": parts})
    assert _error(e) == ("EntityTooSmall", 400)
    assert e.value.response["Error"]["MinSizeAllowed"] == str(5 * MIB)
    # One small part alone is the last part: allowed.
    s3.complete_multipart_upload(Bucket=BUCKET, Key="err", UploadId=uid, MultipartUpload={"Parts": parts[1:]})
    assert s3.get_object(Bucket=BUCKET, Key="err")["Body"].read() == b"s" * 100


def test_abort_leaves_no_blobs(server, s3):
    before = blob_ids(server.data_dir)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="aborted")["UploadId"]
    for n in (1, 2, 3):
        s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=uid, PartNumber=n, Body=b"p" * 1000)
    s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=uid, PartNumber=2, Body=b"q" * 10)
    assert len(blob_ids(server.data_dir) - before) == 3
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=uid)
    assert blob_ids(server.data_dir) - before == set()
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=uid)
    assert _error(e) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key="aborted", UploadId=uid, PartNumber=1, Body=b"x")
    assert _error(e) == ("NoSuchUpload", 404)


def test_complete_leaves_only_the_object_blob(server, s3):
    before = blob_ids(server.data_dir)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="single")["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key="single", UploadId=uid, PartNumber=1, Body=b"only")["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="single", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert len(blob_ids(server.data_dir) - before) == 1
    s3.delete_object(Bucket=BUCKET, Key="single")
    assert blob_ids(server.data_dir) - before == set()


def test_upload_part_copy(s3):
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket=BUCKET, Key="copy-src", Body=source)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="copied")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": BUCKET, "Key": "copy-src"})["CopyPartResult"]
    assert p1["ETag"] == '"%s"' % hashlib.md5(source).hexdigest()
    p2 = s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=uid, PartNumber=2,
                             CopySource=f"{BUCKET}/copy-src", CopySourceRange="bytes=10-19")["CopyPartResult"]
    for bad in ("bytes=5-", "bytes=0-99999999"):
        with pytest.raises(ClientError) as e:
            s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=uid, PartNumber=3,
                                CopySource=f"{BUCKET}/copy-src", CopySourceRange=bad)
        assert _error(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=BUCKET, Key="copied", UploadId=uid, PartNumber=3,
                            CopySource=f"{BUCKET}/missing")
    assert _error(e) == ("NoSuchKey", 404)
    s3.complete_multipart_upload(Bucket=BUCKET, Key="copied", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert s3.get_object(Bucket=BUCKET, Key="copied")["Body"].read() == source + source[10:20]


def test_list_parts_paging(s3):
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="paged")["UploadId"]
    for n in range(1, 6):
        s3.upload_part(Bucket=BUCKET, Key="paged", UploadId=uid, PartNumber=n, Body=b"z" * n)
    first = s3.list_parts(Bucket=BUCKET, Key="paged", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2] and first["IsTruncated"]
    assert first["NextPartNumberMarker"] == 2 and first["Parts"][1]["Size"] == 2
    rest = s3.list_parts(Bucket=BUCKET, Key="paged", UploadId=uid, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3, 4, 5] and not rest["IsTruncated"]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="paged", UploadId=uid)


def test_list_multipart_uploads(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-mpu-list")
    ids = {}
    for key in ("a/1", "a/2", "b", "c", "c"):
        ids.setdefault(key, []).append(s3.create_multipart_upload(Bucket="bkt-mpu-list", Key=key)["UploadId"])
    everything = s3.list_multipart_uploads(Bucket="bkt-mpu-list")
    assert [(u["Key"], u["UploadId"]) for u in everything["Uploads"]] == [
        ("a/1", ids["a/1"][0]), ("a/2", ids["a/2"][0]), ("b", ids["b"][0]), ("c", ids["c"][0]), ("c", ids["c"][1])]
    assert not everything["IsTruncated"]
    rolled = s3.list_multipart_uploads(Bucket="bkt-mpu-list", Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/"]
    assert [u["Key"] for u in rolled["Uploads"]] == ["b", "c", "c"]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket="bkt-mpu-list", Prefix="a/")["Uploads"]] == \
        ["a/1", "a/2"]
    page = s3.list_multipart_uploads(Bucket="bkt-mpu-list", MaxUploads=4)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "c" and page["NextUploadIdMarker"] == ids["c"][0]
    rest = s3.list_multipart_uploads(Bucket="bkt-mpu-list", KeyMarker=page["NextKeyMarker"],
                                     UploadIdMarker=page["NextUploadIdMarker"])
    assert [u["UploadId"] for u in rest["Uploads"]] == [ids["c"][1]]
    after_b = s3.list_multipart_uploads(Bucket="bkt-mpu-list", KeyMarker="b")
    assert [u["Key"] for u in after_b["Uploads"]] == ["c", "c"]
    paginator = s3.get_paginator("list_multipart_uploads")
    keys = [u["Key"] for pg in paginator.paginate(Bucket="bkt-mpu-list", PaginationConfig={"PageSize": 2})
            for u in pg.get("Uploads", [])]
    assert keys == ["a/1", "a/2", "b", "c", "c"]


def test_boto3_transfer_round_trip(s3, tmp_path):
    data = os.urandom(12 * MIB + 123)
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(src), BUCKET, "transfer.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="transfer.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    s3.download_file(BUCKET, "transfer.bin", str(back), Config=config)
    assert back.read_bytes() == data


def test_cli_cp_round_trip(s3, aws_cli, tmp_path):
    data = os.urandom(20 * MIB)
    src, back = tmp_path / "cli.bin", tmp_path / "cli-back.bin"
    src.write_bytes(data)
    aws_cli("s3", "cp", str(src), f"s3://{BUCKET}/cli.bin", expect_ok=True)
    assert s3.head_object(Bucket=BUCKET, Key="cli.bin")["ETag"].endswith('-3"')
    aws_cli("s3", "cp", f"s3://{BUCKET}/cli.bin", str(back), expect_ok=True)
    assert back.read_bytes() == data


def test_checksums(s3):
    import base64
    import zlib

    def crc32(data: bytes) -> str:
        return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()

    one, two = os.urandom(5 * MIB), b"end"
    for kind in ("COMPOSITE", "FULL_OBJECT"):
        up = s3.create_multipart_upload(Bucket=BUCKET, Key="summed", ChecksumAlgorithm="CRC32", ChecksumType=kind)
        assert up["ChecksumType"] == kind
        parts = []
        for n, data in ((1, one), (2, two)):
            r = s3.upload_part(Bucket=BUCKET, Key="summed", UploadId=up["UploadId"], PartNumber=n, Body=data,
                               ChecksumAlgorithm="CRC32")
            assert r["ChecksumCRC32"] == crc32(data)
            parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        with pytest.raises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=BUCKET, Key="summed", UploadId=up["UploadId"], MultipartUpload={
                "Parts": [parts[0], {**parts[1], "ChecksumCRC32": crc32(b"other")}]})
        assert _error(e) == ("InvalidPart", 400)
        done = s3.complete_multipart_upload(Bucket=BUCKET, Key="summed", UploadId=up["UploadId"],
                                            MultipartUpload={"Parts": parts})
        composite = base64.b64decode(crc32(one)) + base64.b64decode(crc32(two))
        expected = f"{crc32(composite)}-2" if kind == "COMPOSITE" else crc32(one + two)
        assert done["ChecksumCRC32"] == expected and done["ChecksumType"] == kind


def test_delete_bucket_discards_incomplete_uploads(server, s3):
    """Incomplete uploads do not keep a bucket alive, and their parts leave no blobs behind."""
    before = blob_ids(server.data_dir)
    s3.create_bucket(Bucket="mpu-doomed")
    upload = s3.create_multipart_upload(Bucket="mpu-doomed", Key="k")["UploadId"]
    s3.upload_part(Bucket="mpu-doomed", Key="k", UploadId=upload, PartNumber=1, Body=b"p" * 1024)
    assert len(blob_ids(server.data_dir) - before) == 1
    s3.delete_bucket(Bucket="mpu-doomed")
    assert blob_ids(server.data_dir) - before == set()
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket="mpu-doomed", Key="k", UploadId=upload)
    assert _error(excinfo)[0] in ("NoSuchBucket", "NoSuchUpload")
