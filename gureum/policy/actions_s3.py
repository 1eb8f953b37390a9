"""S3: operations whose IAM action differs from their name, and S3's condition keys.

S3 names most of its configuration actions after the older API (GetBucketCors is
s3:GetBucketCORS, DeleteBucketLifecycle is s3:PutLifecycleConfiguration), reads of a
specific version need the *Version* actions, and copies are authorised on two objects.
Bucket and object ARNs carry neither region nor account.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from gureum.policy.actions import Authorization, Call, Context, ServiceRules, request_tags

ACTIONS = {
    "CompleteMultipartUpload": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBuckets": "ListAllMyBuckets",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "SelectObjectContent": "GetObject",
    "CreateBucketMetadataConfiguration": "CreateBucketMetadataTableConfiguration",
    "CreateBucketMetadataTableConfiguration": "CreateBucketMetadataTableConfiguration",
    "GetBucketMetadataConfiguration": "GetBucketMetadataTableConfiguration",
    "DeleteBucketMetadataConfiguration": "DeleteBucketMetadataTableConfiguration",
    "UpdateBucketMetadataAnnotationTableConfiguration": "UpdateBucketMetadataJournalTableConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
}

# Operations on a (possibly) specific version: the action when VersionId is present.
VERSIONED = {
    "GetObject": "GetObjectVersion",
    "HeadObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectAcl": "GetObjectVersionAcl",
    "PutObjectAcl": "PutObjectVersionAcl",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "GetObjectAttributes": "GetObjectVersionAttributes",
    "GetObjectTorrent": "GetObjectVersionTorrent",
}
UNVERSIONED = {"HeadObject": "GetObject"}

# Request members that S3 exposes as condition keys (the x-amz-* header they travel in).
_HEADER_KEYS = {
    "ACL": "s3:x-amz-acl",
    "GrantFullControl": "s3:x-amz-grant-full-control",
    "GrantRead": "s3:x-amz-grant-read",
    "GrantReadACP": "s3:x-amz-grant-read-acp",
    "GrantWrite": "s3:x-amz-grant-write",
    "GrantWriteACP": "s3:x-amz-grant-write-acp",
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "SSECustomerAlgorithm": "s3:x-amz-server-side-encryption-customer-algorithm",
    "StorageClass": "s3:x-amz-storage-class",
    "WebsiteRedirectLocation": "s3:x-amz-website-redirect-location",
    "MetadataDirective": "s3:x-amz-metadata-directive",
    "ObjectLockMode": "s3:object-lock-mode",
    "ObjectLockLegalHoldStatus": "s3:object-lock-legal-hold",
    "ObjectOwnership": "s3:x-amz-object-ownership",
    "IfMatch": "s3:if-match",
    "IfNoneMatch": "s3:if-none-match",
    "VersionId": "s3:versionid",
}


def _headers(call: Call) -> Context:
    ctx: Context = {}
    p = call.params
    for member, key in _HEADER_KEYS.items():
        value = p.get(member)
        if isinstance(value, str) and value:
            ctx[key] = value
    until = p.get("ObjectLockRetainUntilDate")
    if until is not None:
        ctx["s3:object-lock-retain-until-date"] = until.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(
            until, "strftime") else str(until)
    return ctx


def _object_tags(tags: dict[str, str]) -> Context:
    ctx: Context = {f"s3:RequestObjectTag/{k}": v for k, v in tags.items()}
    if tags:
        ctx["s3:RequestObjectTagKeys"] = list(tags)
    return ctx


def _list_context(call: Call) -> Context:
    ctx: Context = {}
    p = call.params
    for member, key in (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter")):
        if p.get(member) is not None:
            ctx[key] = str(p[member])
    if p.get("MaxKeys") is not None:
        ctx["s3:max-keys"] = str(p["MaxKeys"])
    return ctx


def _object(call: Call, action: str, context: Context | None = None) -> list[Authorization]:
    return call.authorize(action, context=context, resource_type="object")


def _versioned(call: Call) -> list[Authorization]:
    op = call.operation
    action = VERSIONED[op] if call.params.get("VersionId") else UNVERSIONED.get(op, op)
    context = _headers(call)
    if op == "PutObjectTagging":
        context.update(_object_tags(request_tags(call.params)))
    return _object(call, action, context)


def _put_object(call: Call) -> list[Authorization]:
    """PutObject, and the ACL and tagging permissions its headers ask for as well."""
    context = _headers(call)
    tags = request_tags({"Tagging": call.params.get("Tagging")})
    context.update(_object_tags(tags))
    out = _object(call, "PutObject", context)
    if _sets_acl(call.params):
        out += _object(call, "PutObjectAcl", context)
    if tags:
        out += _object(call, "PutObjectTagging", context)
    return out


def _sets_acl(params: dict) -> bool:
    return any(params.get(m) for m in ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP"))


def copy_source(value: str) -> tuple[str, str, str | None]:
    """(bucket, key, version) of an x-amz-copy-source value: "bucket/key?versionId=v",
    URL-encoded, with or without a leading slash, or an access point object ARN."""
    source, _, query = value.partition("?")
    source = unquote(source).lstrip("/")
    version = dict(parse_qsl(query)).get("versionId") if query else None
    if source.startswith("arn:"):
        head, _, key = source.partition("/object/")
        return head, key, version
    bucket, _, key = source.partition("/")
    return bucket, key, version


def _copy(call: Call) -> list[Authorization]:
    """CopyObject and UploadPartCopy: read the source, write the target."""
    raw = call.params.get("CopySource") or ""
    bucket, key, version = copy_source(raw)
    read = "GetObjectVersion" if version else "GetObject"
    source = {"BucketName": bucket, "ObjectName": key}
    if bucket.startswith("arn:"):
        out = [Authorization(f"s3:{read}", f"{bucket}/object/{key}", {})]
    else:
        out = call.authorize(read, source, resource_type="object")
    context = _headers(call)
    context["s3:x-amz-copy-source"] = raw
    if call.operation == "UploadPartCopy":
        return out + _object(call, "PutObject", context)
    replace_tags = call.params.get("TaggingDirective") == "REPLACE"
    tags = request_tags({"Tagging": call.params.get("Tagging")}) if replace_tags else {}
    context.update(_object_tags(tags))
    out += _object(call, "PutObject", context)
    if _sets_acl(call.params):
        out += _object(call, "PutObjectAcl", context)
    if tags:
        out += _object(call, "PutObjectTagging", context)
    return out


def _delete_objects(call: Call) -> list[Authorization]:
    """DeleteObjects is authorised as s3:DeleteObject (or DeleteObjectVersion) per key."""
    out: list[Authorization] = []
    for entry in (call.params.get("Delete") or {}).get("Objects") or []:
        action = "DeleteObjectVersion" if entry.get("VersionId") else "DeleteObject"
        out += call.authorize(action, {"ObjectName": entry.get("Key", "")}, resource_type="object")
    return out or call.authorize("DeleteObject", resource_type="object")


def _bypassing(handler):
    """x-amz-bypass-governance-retention also needs s3:BypassGovernanceRetention on the object(s)."""
    def authorize(call: Call) -> list[Authorization]:
        out = handler(call)
        if call.params.get("BypassGovernanceRetention"):
            keys = [e.get("Key", "") for e in (call.params.get("Delete") or {}).get("Objects") or []]
            for key in keys or [call.params.get("Key", "")]:
                out += call.authorize("BypassGovernanceRetention", {"ObjectName": key}, resource_type="object")
        return out
    return authorize


def _list_bucket(call: Call) -> list[Authorization]:
    action = "ListBucketVersions" if call.operation == "ListObjectVersions" else "ListBucket"
    return call.authorize(action, context=_list_context(call), resource_type="bucket")


def _create_bucket(call: Call) -> list[Authorization]:
    context = _headers(call)
    location = (call.params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    if location:
        context["s3:locationconstraint"] = location
    out = call.authorize("CreateBucket", context=context)
    if call.params.get("ObjectLockEnabledForBucket"):
        # AWS turns on versioning and object lock as part of the create.
        out += call.authorize("PutBucketObjectLockConfiguration") + call.authorize("PutBucketVersioning")
    if call.params.get("ObjectOwnership"):
        out += call.authorize("PutBucketOwnershipControls", context=context)
    return out


def _bucket_with_headers(call: Call) -> list[Authorization]:
    return call.authorize(call.operation, context=_headers(call))


def _s3express(action: str):
    def handler(call: Call) -> list[Authorization]:
        return call.authorize(action, prefix="s3express")
    return handler


def _object_lambda(call: Call) -> list[Authorization]:
    return call.authorize("WriteGetObjectResponse", prefix="s3-object-lambda")


HANDLERS = {
    **{op: _versioned for op in VERSIONED},
    "PutObject": _put_object,
    "CopyObject": _copy,
    "UploadPartCopy": _copy,
    "DeleteObject": _bypassing(_versioned),
    "DeleteObjects": _bypassing(_delete_objects),
    "PutObjectRetention": _bypassing(lambda c: _object(c, "PutObjectRetention")),
    "ListObjects": _list_bucket,
    "ListObjectsV2": _list_bucket,
    "ListObjectVersions": _list_bucket,
    "CreateBucket": _create_bucket,
    "PutBucketAcl": _bucket_with_headers,
    "CreateSession": _s3express("CreateSession"),
    "ListDirectoryBuckets": _s3express("ListAllMyDirectoryBuckets"),
    "WriteGetObjectResponse": _object_lambda,
}

VARIABLES = {
    "BucketName": lambda c: c.params.get("Bucket"),
    "ObjectName": lambda c: c.params.get("Key"),
}

S3 = ServiceRules(actions=ACTIONS, handlers=HANDLERS, variables=VARIABLES)

# S3 Control: account-level settings and access points, authorised under the s3 prefix.
S3CONTROL = ServiceRules(
    actions={
        "GetPublicAccessBlock": "GetAccountPublicAccessBlock",
        "PutPublicAccessBlock": "PutAccountPublicAccessBlock",
        "DeletePublicAccessBlock": "PutAccountPublicAccessBlock",
        "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
        "DeleteBucketLifecycleConfiguration": "PutLifecycleConfiguration",
        "GetBucketReplication": "GetReplicationConfiguration",
        "PutBucketReplication": "PutReplicationConfiguration",
        "DeleteBucketReplication": "PutReplicationConfiguration",
        "DeleteBucketTagging": "PutBucketTagging",
    },
    handlers={
        "GetBucket": lambda c: c.authorize("GetBucket", prefix="s3-outposts"),
        "ListRegionalBuckets": lambda c: c.authorize("ListRegionalBuckets", prefix="s3-outposts"),
        "ListAccessPointsForDirectoryBuckets": _s3express("ListAccessPointsForDirectoryBuckets"),
        "GetAccessPointScope": _s3express("GetAccessPointScope"),
        "PutAccessPointScope": _s3express("PutAccessPointScope"),
        "DeleteAccessPointScope": _s3express("DeleteAccessPointScope"),
    },
    variables={
        "BucketName": lambda c: c.params.get("Bucket"),
        "AccessPointName": lambda c: c.params.get("Name"),
        "JobId": lambda c: c.params.get("JobId"),
    },
)
