"""S3 ACLs: canned ACLs and grants, Get/Put Bucket/Object Acl, their part in access with Block Public Access."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
OWNER_ID = hashlib.sha256(b"gureum-canonical:000000000000").hexdigest()


def _error(excinfo) -> tuple[str, int]:
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def _anonymous_get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def s3(make_client):
    return make_client("s3")


def _bucket(s3, ownership: str = "BucketOwnerPreferred", open_public: bool = True) -> str:
    name = f"acl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership=ownership)
    if open_public:
        s3.delete_public_access_block(Bucket=name)
    return name


def test_enforced_buckets_refuse_acls(s3):
    name = _bucket(s3, "BucketOwnerEnforced", open_public=False)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="public-read")
    assert _error(e) == ("AccessControlListNotSupported", 400)
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=name, ACL="public-read")
    assert _error(e) == ("AccessControlListNotSupported", 400)
    acl = s3.get_object_acl(Bucket=name, Key="k")
    assert acl["Owner"]["ID"] == OWNER_ID
    assert acl["Grants"] == [{"Grantee": {"ID": OWNER_ID, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]


def test_canned_acls_and_anonymous_access(s3, endpoint):
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="public", Body=b"hello", ACL="public-read")
    s3.put_object(Bucket=name, Key="private", Body=b"hello")
    assert _anonymous_get(f"{endpoint}/{name}/public") == 200
    assert _anonymous_get(f"{endpoint}/{name}/private") == 403
    grants = s3.get_object_acl(Bucket=name, Key="public")["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    # The bucket's listing stays private until its ACL says otherwise.
    assert _anonymous_get(f"{endpoint}/{name}?list-type=2") == 403
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    assert _anonymous_get(f"{endpoint}/{name}?list-type=2") == 200
    s3.put_bucket_acl(Bucket=name, ACL="private")
    assert _anonymous_get(f"{endpoint}/{name}?list-type=2") == 403
    # PutObjectAcl changes an existing object's grants.
    s3.put_object_acl(Bucket=name, Key="private", ACL="public-read")
    assert _anonymous_get(f"{endpoint}/{name}/private") == 200
    s3.put_object_acl(Bucket=name, Key="private", ACL="private")
    assert _anonymous_get(f"{endpoint}/{name}/private") == 403
    # authenticated-read: any signed caller, never anonymous ones.
    s3.put_object(Bucket=name, Key="auth", Body=b"x", ACL="authenticated-read")
    assert _anonymous_get(f"{endpoint}/{name}/auth") == 403


def test_block_public_access_and_acls(s3, endpoint):
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="public", Body=b"hello", ACL="public-read")
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert _anonymous_get(f"{endpoint}/{name}/public") == 403
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    assert _anonymous_get(f"{endpoint}/{name}/public") == 200
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="public-read")
    assert _error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
    assert _error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=name, Key="public", GrantRead=f'uri="{AUTHENTICATED}"')
    assert _error(e) == ("AccessDenied", 403)
    s3.put_object(Bucket=name, Key="k", Body=b"x", ACL="private")


def test_grants_by_header_and_body(s3):
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    other = "a" * 64
    s3.put_object_acl(Bucket=name, Key="k", GrantRead=f'id="{other}", uri="{ALL_USERS}"',
                      GrantFullControl=f'id="{OWNER_ID}"')
    grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
    assert {"Grantee": {"Type": "CanonicalUser", "ID": other}, "Permission": "READ"} in grants
    assert {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"} in grants
    assert {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"} in grants
    policy = {"Owner": {"ID": OWNER_ID}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"}]}
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy)
    got = s3.get_bucket_acl(Bucket=name)
    assert got["Owner"]["ID"] == OWNER_ID and len(got["Grants"]) == 2
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=name, Key="k", GrantRead='emailAddress="someone@example.com"')
    assert _error(e) == ("UnresolvableGrantByEmailAddress", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=name, Key="k", GrantRead='uri="http://acs.amazonaws.com/groups/global/Nobody"')
    assert _error(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket=name, Key="k", ACL="private", GrantRead=f'id="{other}"')
    assert _error(e) == ("InvalidRequest", 400)


def test_new_buckets_refuse_public_acls(s3):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=f"acl-{uuid.uuid4().hex[:12]}", ObjectOwnership="ObjectWriter", ACL="public-read")
    assert _error(e) == ("InvalidBucketAclWithBlockPublicAccessError", 400)
    name = f"acl-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", ACL="log-delivery-write")
    uris = {g["Grantee"].get("URI") for g in s3.get_bucket_acl(Bucket=name)["Grants"]}
    assert "http://acs.amazonaws.com/groups/s3/LogDelivery" in uris


def test_copy_and_multipart_take_their_own_acl(s3, endpoint):
    name = _bucket(s3)
    s3.put_object(Bucket=name, Key="src", Body=b"x", ACL="public-read")
    s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "src"})
    assert _anonymous_get(f"{endpoint}/{name}/copy") == 403
    s3.copy_object(Bucket=name, Key="copy2", CopySource={"Bucket": name, "Key": "src"}, ACL="public-read")
    assert _anonymous_get(f"{endpoint}/{name}/copy2") == 200
    up = s3.create_multipart_upload(Bucket=name, Key="mp", ACL="public-read")
    part = s3.upload_part(Bucket=name, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"abc")
    s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert _anonymous_get(f"{endpoint}/{name}/mp") == 200
