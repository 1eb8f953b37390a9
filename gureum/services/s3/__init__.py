"""Amazon S3.

`blob_references(db)`: the blob ids S3's rows refer to. A service package that stores blobs
exports this function; `gureum doctor` and `gureum state export` find it here without
loading the provider.
"""

from gureum.services.s3.schema import blob_references

__all__ = ["blob_references"]
