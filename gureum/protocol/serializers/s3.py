"""What S3 sends that its botocore model does not say.

The root element of each XML result (the model names only the shape, AWS's own model
names the element), GetBucketLocation's bare-text result, and the x-amz-id-2 header.
"""

from __future__ import annotations

import base64
import hashlib

ROOT_ELEMENTS = {
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CreateSessionOutput": "CreateSessionResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetBucketAccelerateConfigurationOutput": "AccelerateConfiguration",
    "GetBucketAclOutput": "AccessControlPolicy",
    "GetBucketCorsOutput": "CORSConfiguration",
    "GetBucketLifecycleOutput": "LifecycleConfiguration",
    "GetBucketLifecycleConfigurationOutput": "LifecycleConfiguration",
    "GetBucketLocationOutput": "LocationConstraint",
    "GetBucketLoggingOutput": "BucketLoggingStatus",
    "GetBucketRequestPaymentOutput": "RequestPaymentConfiguration",
    "GetBucketTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketWebsiteOutput": "WebsiteConfiguration",
    "GetObjectAclOutput": "AccessControlPolicy",
    "GetObjectAttributesOutput": "GetObjectAttributesResponse",
    "GetObjectTaggingOutput": "Tagging",
    "ListBucketAnalyticsConfigurationsOutput": "ListBucketAnalyticsConfigurationResult",
    "ListBucketInventoryConfigurationsOutput": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurationsOutput": "ListMetricsConfigurationsResult",
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListDirectoryBucketsOutput": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListPartsOutput": "ListPartsResult",
}

# Results whose root element's text is the value of one member.
TEXT_ROOTS = {"GetBucketLocationOutput": "LocationConstraint"}


def host_id(request_id: str) -> str:
    """An x-amz-id-2 value: opaque, base64, derived from the request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest() * 2).decode()
