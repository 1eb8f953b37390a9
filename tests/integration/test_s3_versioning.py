"""S3 versioning: bucket status, version ids, the null version, delete markers, listings."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from gureum.doctor import blob_ids

_ID = re.compile(r"^[A-Za-z0-9_\-.]{32}$")


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(make_client):
    return make_client("s3")


def _bucket(s3, name: str, status: str | None = "Enabled") -> str:
    s3.create_bucket(Bucket=name)
    if status:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    return name


def test_bucket_versioning_status(s3):
    b = _bucket(s3, "ver-status", None)
    assert "Status" not in s3.get_bucket_versioning(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    got = s3.get_bucket_versioning(Bucket=b)
    assert got["Status"] == "Enabled" and got["MFADelete"] == "Disabled"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert _error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_versioning(Bucket="ver-missing")
    assert _error(e) == ("NoSuchBucket", 404)


def test_versions_and_delete_markers(s3):
    b = _bucket(s3, "ver-enabled")
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
    assert _ID.match(v1) and _ID.match(v2) and v1 != v2
    got = s3.get_object(Bucket=b, Key="k")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2
    assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket=b, Key="k", VersionId=v1)["ContentLength"] == 3
    deleted = s3.delete_object(Bucket=b, Key="k")
    assert deleted["DeleteMarker"] is True and _ID.match(deleted["VersionId"])
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="k")
    assert _error(e) == ("NoSuchKey", 404)
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="k", VersionId=marker)
    assert _error(e) == ("MethodNotAllowed", 405)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=b, Key="k", VersionId="A" * 32)
    assert _error(e) == ("404", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="k", VersionId="A" * 32)
    assert _error(e) == ("NoSuchVersion", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="k", VersionId="bad")
    assert _error(e) == ("InvalidArgument", 400)
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
    listed = s3.list_object_versions(Bucket=b)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    # Removing the marker brings the newest version back.
    gone = s3.delete_object(Bucket=b, Key="k", VersionId=marker)
    assert gone["DeleteMarker"] is True and gone["VersionId"] == marker
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=b, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"one"
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert _error(e) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=b, Key="k", VersionId=v1)
    assert "Versions" not in s3.list_object_versions(Bucket=b)
    s3.delete_bucket(Bucket=b)


def test_marker_alone_keeps_bucket(s3):
    b = _bucket(s3, "ver-marker-only")
    marker = s3.delete_object(Bucket=b, Key="never")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert _error(e) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=b, Key="never", VersionId=marker)
    s3.delete_bucket(Bucket=b)


def test_null_version_and_suspended(s3):
    b = _bucket(s3, "ver-null", None)
    put = s3.put_object(Bucket=b, Key="k", Body=b"old")
    assert "VersionId" not in put
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"new")["VersionId"]
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"old"
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=b, Key="k", Body=b"s1")
    s3.put_object(Bucket=b, Key="k", Body=b"s2")  # replaces the null version
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=b)["Versions"]]
    assert ids == ["null", v1]
    assert s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read() == b"s2"
    deleted = s3.delete_object(Bucket=b, Key="k")
    assert deleted["DeleteMarker"] is True and deleted["VersionId"] == "null"
    listed = s3.list_object_versions(Bucket=b)
    assert [v["VersionId"] for v in listed["Versions"]] == [v1]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]


def test_copy_multipart_and_batch_delete(s3):
    b = _bucket(s3, "ver-copy")
    v1 = s3.put_object(Bucket=b, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=b, Key="src", Body=b"second")
    copied = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1 and _ID.match(copied["VersionId"])
    assert s3.get_object(Bucket=b, Key="dst")["Body"].read() == b"first"
    up = s3.create_multipart_upload(Bucket=b, Key="mp")
    part = s3.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 10)
    done = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert _ID.match(done["VersionId"])
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "src", "VersionId": v1}, {"Key": "mp"},
                                                          {"Key": "dst", "VersionId": "bad"}]})
    by_key = {d["Key"]: d for d in out["Deleted"]}
    assert by_key["src"]["VersionId"] == v1
    assert by_key["mp"]["DeleteMarker"] is True and _ID.match(by_key["mp"]["DeleteMarkerVersionId"])
    assert out["Errors"][0]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="src", VersionId=v1)
    assert _error(e) == ("NoSuchVersion", 404)


def test_list_object_versions_paging_and_delimiter(s3):
    b = _bucket(s3, "ver-paging")
    ids = {}
    for key in ("a", "b", "dir/x", "dir/y"):
        ids[key] = [s3.put_object(Bucket=b, Key=key, Body=key.encode())["VersionId"] for _ in range(2)]
    seen = []
    kwargs: dict = {"Bucket": b, "MaxKeys": 3}
    while True:
        page = s3.list_object_versions(**kwargs)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
    assert seen == [(k, v) for k in ("a", "b", "dir/x", "dir/y") for v in reversed(ids[k])]
    rolled = s3.list_object_versions(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["dir/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"a", "b"}
    under = s3.list_object_versions(Bucket=b, Prefix="dir/")
    assert [v["IsLatest"] for v in under["Versions"]] == [True, False, True, False]
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=b, VersionIdMarker=ids["a"][0])
    assert _error(e) == ("InvalidArgument", 400)


def test_cli_versioning(s3, aws_cli, tmp_path):
    aws_cli("s3api", "create-bucket", "--bucket", "ver-cli", expect_ok=True)
    aws_cli("s3api", "put-bucket-versioning", "--bucket", "ver-cli", "--versioning-configuration",
            "Status=Enabled", expect_ok=True)
    _, out, _ = aws_cli("s3api", "get-bucket-versioning", "--bucket", "ver-cli", expect_ok=True)
    assert json.loads(out)["Status"] == "Enabled"
    f = tmp_path / "body.txt"
    f.write_text("v1")
    _, out, _ = aws_cli("s3api", "put-object", "--bucket", "ver-cli", "--key", "k", "--body", str(f), expect_ok=True)
    version = json.loads(out)["VersionId"]
    _, out, _ = aws_cli("s3api", "delete-object", "--bucket", "ver-cli", "--key", "k", expect_ok=True)
    assert json.loads(out)["DeleteMarker"] is True
    _, out, _ = aws_cli("s3api", "list-object-versions", "--bucket", "ver-cli", expect_ok=True)
    listed = json.loads(out)
    assert listed["Versions"][0]["VersionId"] == version and len(listed["DeleteMarkers"]) == 1
    code, _, err = aws_cli("s3api", "get-object", "--bucket", "ver-cli", "--key", "k", "--version-id", "A" * 32,
                           str(tmp_path / "out"))
    assert code != 0 and "NoSuchVersion" in err
    aws_cli("s3api", "get-object", "--bucket", "ver-cli", "--key", "k", "--version-id", version,
            str(tmp_path / "out"), expect_ok=True)
    assert (tmp_path / "out").read_text() == "v1"


def test_deleting_a_version_removes_its_blob(s3, server):
    b = _bucket(s3, "ver-blobs")
    before = blob_ids(server.data_dir)
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="k", Body=b"two")
    s3.delete_object(Bucket=b, Key="k")  # a marker keeps both blobs
    assert len(blob_ids(server.data_dir) - before) == 2
    s3.delete_object(Bucket=b, Key="k", VersionId=v1)
    assert len(blob_ids(server.data_dir) - before) == 1


def test_rows_stored_before_versioning_are_the_null_version(tmp_path):
    from gureum.services.s3.schema import MIGRATIONS
    from gureum.services.s3 import versions
    from gureum.store import Database

    db = Database(tmp_path / "s3.db")
    db.migrate("s3", MIGRATIONS[:2])
    db.execute("INSERT INTO s3_buckets (name, account_id, region, created) VALUES ('b', '0', 'us-east-1', 0)")
    db.execute("INSERT INTO s3_objects VALUES ('b', x'6b', 'blob', 1, '\"e\"', 0, '{}', '{}', 'STANDARD', '{}', '{}')")
    db.migrate("s3", MIGRATIONS)
    row = versions.find(db, "b", b"k", versions.NULL)
    assert row is not None and row["blob_id"] == "blob" and not row["delete_marker"]
