"""S3 buckets: naming, regions, the global namespace, listing and deletion."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import internal_call


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("name", ["ab", "Upper-case", "a" * 64, "-start", "end-", "two..dots", "192.168.5.4",
                                  "xn--bucket", "bucket-s3alias", "under_score", "dot-.dash"])
def test_invalid_bucket_names(make_client, name):
    with pytest.raises(ClientError) as e:
        make_client("s3").create_bucket(Bucket=name)
    assert _error(e) == ("InvalidBucketName", 400)


def test_create_head_location_list_delete(make_client):
    s3 = make_client("s3")
    s3.create_bucket(Bucket="bkt-basic")
    head = s3.head_bucket(Bucket="bkt-basic")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket="bkt-basic")["LocationConstraint"] is None
    listed = s3.list_buckets()
    assert "bkt-basic" in [b["Name"] for b in listed["Buckets"]]
    assert len(listed["Owner"]["ID"]) == 64
    s3.put_object(Bucket="bkt-basic", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="bkt-basic")
    assert _error(e) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="bkt-basic", Key="k")
    s3.delete_bucket(Bucket="bkt-basic")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="bkt-basic")
    assert _error(e) == ("404", 404)
    for call in (lambda: s3.get_bucket_location(Bucket="bkt-basic"), lambda: s3.delete_bucket(Bucket="bkt-basic"),
                 lambda: s3.list_objects_v2(Bucket="bkt-basic"), lambda: s3.get_object(Bucket="bkt-basic", Key="k")):
        with pytest.raises(ClientError) as e:
            call()
        assert _error(e) == ("NoSuchBucket", 404)


def test_location_constraints(make_client):
    east = make_client("s3")
    with pytest.raises(ClientError) as e:
        east.create_bucket(Bucket="bkt-loc-east", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert _error(e) == ("InvalidLocationConstraint", 400)
    east.create_bucket(Bucket="bkt-loc-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert east.get_bucket_location(Bucket="bkt-loc-eu")["LocationConstraint"] == "eu-west-1"
    seoul = make_client("s3", region="ap-northeast-2")
    with pytest.raises(ClientError) as e:
        seoul.create_bucket(Bucket="bkt-loc-none")
    assert _error(e) == ("IllegalLocationConstraintException", 400)
    with pytest.raises(ClientError) as e:
        seoul.create_bucket(Bucket="bkt-loc-other", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert _error(e) == ("IllegalLocationConstraintException", 400)
    assert "eu-west-2 location constraint is incompatible" in e.value.response["Error"]["Message"]
    seoul.create_bucket(Bucket="bkt-loc-seoul", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    assert seoul.head_bucket(Bucket="bkt-loc-seoul")["BucketRegion"] == "ap-northeast-2"
    # Your own bucket: 200 again in us-east-1, BucketAlreadyOwnedByYou elsewhere.
    east.create_bucket(Bucket="bkt-loc-again")
    east.create_bucket(Bucket="bkt-loc-again")
    with pytest.raises(ClientError) as e:
        seoul.create_bucket(Bucket="bkt-loc-seoul", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    assert _error(e) == ("BucketAlreadyOwnedByYou", 409)


def test_global_namespace_and_cross_account(make_client, endpoint):
    other = internal_call(endpoint, "POST", "/_gureum/accounts", {"alias": "s3-other"})
    b = make_client("s3", access_key=other["access_key_id"], secret_key=other["secret_access_key"])
    a = make_client("s3")
    a.create_bucket(Bucket="bkt-owned-by-a")
    with pytest.raises(ClientError) as e:
        b.create_bucket(Bucket="bkt-owned-by-a")
    assert _error(e) == ("BucketAlreadyExists", 409)
    assert "bkt-owned-by-a" not in [x["Name"] for x in b.list_buckets()["Buckets"]]
    # Another account's root has no access to A's bucket without a bucket policy.
    with pytest.raises(ClientError) as e:
        b.list_objects_v2(Bucket="bkt-owned-by-a")
    assert _error(e) == ("AccessDenied", 403)


def test_list_buckets_paging(make_client, endpoint):
    other = internal_call(endpoint, "POST", "/_gureum/accounts", {"alias": "s3-pager"})
    s3 = make_client("s3", access_key=other["access_key_id"], secret_key=other["secret_access_key"])
    names = [f"bkt-page-{i:02d}" for i in range(7)]
    for n in names:
        s3.create_bucket(Bucket=n)
    seen, token = [], None
    while True:
        page = s3.list_buckets(MaxBuckets=3, **({"ContinuationToken": token} if token else {}))
        seen += [b["Name"] for b in page["Buckets"]]
        token = page.get("ContinuationToken")
        if not token:
            break
    assert seen == names
    assert [b["Name"] for b in s3.list_buckets(Prefix="bkt-page-0")["Buckets"]] == names


def test_cli_mb_ls_rb(aws_cli, tmp_path):
    aws_cli("s3", "mb", "s3://bkt-cli", expect_ok=True)
    f = tmp_path / "hello.txt"
    f.write_text("hello")
    aws_cli("s3", "cp", str(f), "s3://bkt-cli/dir/hello.txt", expect_ok=True)
    _, out, _ = aws_cli("s3", "ls", expect_ok=True)
    assert "bkt-cli" in out
    _, out, _ = aws_cli("s3", "ls", "s3://bkt-cli/", expect_ok=True)
    assert "PRE dir/" in out
    _, out, _ = aws_cli("s3", "ls", "s3://bkt-cli/dir/", expect_ok=True)
    assert "hello.txt" in out
    aws_cli("s3", "cp", "s3://bkt-cli/dir/hello.txt", str(tmp_path / "back.txt"), expect_ok=True)
    assert (tmp_path / "back.txt").read_text() == "hello"
    aws_cli("s3", "rb", "s3://bkt-cli", "--force", expect_ok=True)
    _, out, _ = aws_cli("s3", "ls", expect_ok=True)
    assert "bkt-cli" not in out
