"""Streaming uploads through the gateway: aws-chunked bodies are read and verified end to end.

A well-formed upload is stored byte for byte; a broken one (a chunk changed after signing, a
wrong checksum trailer, a body that does not hash to its signed value) gets the auth or
integrity error S3 gives, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import zlib
import base64

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "us-east-1"


class StreamingSigner(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer, declaring the streaming payload mode the test chose.

    botocore itself always puts the body's hash (or UNSIGNED-PAYLOAD) in
    x-amz-content-sha256; streaming clients (the Java and Go SDKs, the CRT) sign the mode.
    """

    def __init__(self, mode: str):
        super().__init__(Credentials("test", "test"), "s3", REGION)
        self.mode = mode

    def payload(self, request):
        return self.mode


def _signing_key(date: str) -> bytes:
    key = ("AWS4" + "test").encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def send(endpoint: str, path: str, headers: dict, body: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", int(endpoint.rsplit(":", 1)[1]), timeout=10)
    conn.request("PUT", path, body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def signed_chunked_upload(endpoint: str, chunks: list[bytes], *, corrupt_chunk: int | None = None):
    """A PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD, chunk signatures chained from the seed."""
    total = sum(len(c) for c in chunks)
    host = endpoint.split("//")[1]
    request = AWSRequest(method="PUT", url=f"{endpoint}/bucket/key.bin", headers={
        "Host": host,
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(total),
    })
    StreamingSigner("STREAMING-AWS4-HMAC-SHA256-PAYLOAD").add_auth(request)
    headers = dict(request.headers)
    previous = headers["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = _signing_key(amz_date[:8])
    body = bytearray()
    for i, data in enumerate(chunks + [b""]):
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous,
                             hashlib.sha256(b"").hexdigest(), hashlib.sha256(data).hexdigest()])
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        payload = data
        if corrupt_chunk == i and data:
            payload = b"X" + data[1:]  # bytes changed after signing
        body += b"%x;chunk-signature=%s\r\n" % (len(data), previous.encode())
        body += payload + b"\r\n" if data else b""
    body += b"\r\n"
    headers["Content-Length"] = str(len(body))
    return send(endpoint, "/bucket/key.bin", headers, bytes(body))


@pytest.fixture(autouse=True, scope="module")
def bucket(make_client):
    make_client("s3").create_bucket(Bucket="bucket")


def test_boto3_put_object_body_is_verified(make_client):
    """boto3 sends PutObject as aws-chunked with a CRC32 trailer; the gateway reads it all."""
    s3 = make_client("s3")
    s3.put_object(Bucket="bucket", Key="k", Body=b"x" * 300_000)
    assert s3.get_object(Bucket="bucket", Key="k")["Body"].read() == b"x" * 300_000


def test_signed_chunks(endpoint, make_client):
    chunks = [b"a" * 65536, b"b" * 65536, b"c" * 1000]
    status, body = signed_chunked_upload(endpoint, chunks)
    assert status == 200, body
    s3 = make_client("s3")
    assert s3.get_object(Bucket="bucket", Key="key.bin")["Body"].read() == b"".join(chunks)
    s3.delete_object(Bucket="bucket", Key="key.bin")
    status, body = signed_chunked_upload(endpoint, chunks, corrupt_chunk=1)
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body
    with pytest.raises(ClientError):
        s3.head_object(Bucket="bucket", Key="key.bin")  # the refused upload left nothing


def _unsigned_trailer_upload(endpoint: str, data: bytes, checksum: str):
    host = endpoint.split("//")[1]
    request = AWSRequest(method="PUT", url=f"{endpoint}/bucket/t.bin", headers={
        "Host": host,
        "X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    })
    StreamingSigner("STREAMING-UNSIGNED-PAYLOAD-TRAILER").add_auth(request)
    headers = dict(request.headers)
    body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, checksum.encode())
    headers["Content-Length"] = str(len(body))
    return send(endpoint, "/bucket/t.bin", headers, body)


def test_unsigned_trailer_checksum(endpoint):
    data = b"hello gureum" * 1000
    good = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    status, body = _unsigned_trailer_upload(endpoint, data, good)
    assert status == 200, body
    bad = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    status, body = _unsigned_trailer_upload(endpoint, data, bad)
    assert status == 400
    assert b"<Code>BadDigest</Code>" in body


def test_signed_payload_hash_mismatch(endpoint):
    """A single-chunk PUT whose x-amz-content-sha256 does not match the bytes sent."""
    host = endpoint.split("//")[1]
    request = AWSRequest(method="PUT", url=f"{endpoint}/bucket/h.bin", data=b"original",
                         headers={"Host": host})
    botocore.auth.S3SigV4Auth(Credentials("test", "test"), "s3", REGION).add_auth(request)
    headers = dict(request.headers)
    status, body = send(endpoint, "/bucket/h.bin", headers, b"tampered")
    assert status == 400
    assert b"XAmzContentSHA256Mismatch" in body


def test_refused_upload_closes_the_connection(endpoint, make_client):
    """An upload refused before its body is read ends the connection; the client can go on."""
    s3 = make_client("s3")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket="no-such-bucket-for-upload", Key="k", Body=b"z" * 2_000_000)
    assert excinfo.value.response["Error"]["Code"] == "NoSuchBucket"
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"].get("connection") == "close"
    # The same client (and its connection pool) keeps working.
    s3.create_bucket(Bucket="after-refusal")
    s3.put_object(Bucket="after-refusal", Key="k", Body=b"ok")
    assert s3.get_object(Bucket="after-refusal", Key="k")["Body"].read() == b"ok"
