"""aws-chunked bodies: AWS's documented signed example, botocore's unsigned-trailer uploads, and
signed chains built per AWS's streaming-signature algorithm, fed to the decoder in awkward pieces."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import zlib
from datetime import datetime, timezone

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from gureum.auth import checksums, sigv4
from gureum.auth.chunked import decode_aws_chunked
from gureum.auth.sigv4 import AuthError
from gureum.protocol.http import HttpRequest
from tests.unit.test_sigv4 import KEY, SECRET, client_request, to_http

# --------------------------------------------------------------------------- helpers


async def pieces(body: bytes, cuts: list[int] | int):
    """`body` in pieces: every `cuts` bytes, or split at the given offsets."""
    if isinstance(cuts, int):
        for i in range(0, len(body), cuts):
            yield body[i:i + cuts]
        return
    start = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(body))) + [len(body)]:
        yield body[start:cut]
        start = cut


def decode(request: HttpRequest, verified, body: bytes, cuts: list[int] | int = 1 << 20):
    decoder = decode_aws_chunked(pieces(body, cuts), request=request, verified=verified)

    async def run():
        return b"".join([piece async for piece in decoder])

    return asyncio.run(run()), decoder


def failure(request: HttpRequest, verified, body: bytes, cuts: list[int] | int = 1 << 20) -> AuthError:
    with pytest.raises(AuthError) as caught:
        decode(request, verified, body, cuts)
    return caught.value


def sign_chunks(verified: sigv4.VerifiedSignature, chunks: list[bytes], trailer: tuple[str, str] | None = None,
                signed_trailer: bool = False) -> bytes:
    """An aws-chunked body signed per AWS's streaming algorithm (each chunk chained to the last)."""
    previous = verified.signature
    out = bytearray()
    empty = hashlib.sha256(b"").hexdigest()
    for data in chunks + [b""]:
        to_sign = "\n".join([
            "AWS4-HMAC-SHA256-PAYLOAD", verified.amz_date, verified.scope, previous, empty,
            hashlib.sha256(data).hexdigest(),
        ])
        previous = hmac.new(verified.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        out += b"%x;chunk-signature=%s\r\n" % (len(data), previous.encode())
        if data:
            out += data + b"\r\n"
    if trailer:
        out += f"{trailer[0]}:{trailer[1]}\r\n".encode()
    if signed_trailer:
        canonical = f"{trailer[0]}:{trailer[1]}\n" if trailer else ""
        to_sign = "\n".join([
            "AWS4-HMAC-SHA256-TRAILER", verified.amz_date, verified.scope, previous,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ])
        out += b"x-amz-trailer-signature:%s\r\n" % hmac.new(
            verified.signing_key, to_sign.encode(), hashlib.sha256).hexdigest().encode()
    out += b"\r\n"
    return bytes(out)


def streaming_request(mode: str, payload_length: int, trailer: str | None = None) -> tuple[HttpRequest, sigv4.VerifiedSignature]:
    """A streaming PUT whose seed signature botocore's signer made."""
    headers = {
        "X-Amz-Content-SHA256": mode,
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(payload_length),
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer
    request = AWSRequest(method="PUT", url="http://localhost:4566/bucket/key", headers=headers)
    botocore.auth.SigV4Auth(Credentials(KEY, SECRET), "s3", "us-west-2").add_auth(request)
    http = to_http(request.prepare())
    http.unread = pieces(b"", 1)  # the body is still on the wire
    verified = sigv4.verify(http, sigv4.parse_signature(http), SECRET, datetime.now(timezone.utc))
    return http, verified


# --------------------------------------------------------------------------- AWS's example

EXAMPLE_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
EXAMPLE_BODY = (
    b"10000;chunk-signature=%s\r\n%s\r\n" % (EXAMPLE_SIGNATURES[0].encode(), b"a" * 65536)
    + b"400;chunk-signature=%s\r\n%s\r\n" % (EXAMPLE_SIGNATURES[1].encode(), b"a" * 1024)
    + b"0;chunk-signature=%s\r\n\r\n" % EXAMPLE_SIGNATURES[2].encode()
)


def example_request() -> tuple[HttpRequest, sigv4.VerifiedSignature]:
    """AWS's documented chunked PUT (examplebucket/chunkObject.txt, 2013-05-24, seed 4f232c...)."""
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class,"
        "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
    }
    request = HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", headers, host="s3.amazonaws.com",
                          unread=pieces(b"", 1))
    verified = sigv4.verify(request, sigv4.parse_signature(request), SECRET,
                            datetime(2013, 5, 24, 0, 1, tzinfo=timezone.utc))
    return request, verified


@pytest.mark.parametrize("cuts", [1, 2, 3, 7, 86, 8191, 65536, 1 << 20])
def test_aws_documented_example(cuts):
    assert len(EXAMPLE_BODY) == 66824
    request, verified = example_request()
    payload, decoder = decode(request, verified, EXAMPLE_BODY, cuts)
    assert payload == b"a" * 66560
    assert decoder.decoded_length == 66560
    assert decoder.checksum is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(EXAMPLE_BODY) - 1), max_size=40))
def test_any_split_of_the_example_decodes(cuts):
    request, verified = example_request()
    assert decode(request, verified, EXAMPLE_BODY, cuts)[0] == b"a" * 66560


def test_example_tampered():
    request, verified = example_request()
    flipped = EXAMPLE_BODY.replace(b"a" * 10, b"a" * 9 + b"b", 1)
    error = failure(request, verified, flipped)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)
    for index in range(3):
        forged = EXAMPLE_BODY.replace(EXAMPLE_SIGNATURES[index].encode(), b"0" * 64)
        assert failure(request, verified, forged).code == "SignatureDoesNotMatch"
    truncated = EXAMPLE_BODY[: -len(EXAMPLE_SIGNATURES[2]) - 30]
    assert (failure(request, verified, truncated).code, failure(request, verified, truncated).status) == ("IncompleteBody", 400)
    assert failure(request, verified, EXAMPLE_BODY + b"extra").code == "IncompleteBody"


def test_example_declared_length_must_match():
    request, verified = example_request()
    request.headers["x-amz-decoded-content-length"] = "66000"
    error = failure(request, verified, EXAMPLE_BODY)
    assert (error.code, error.message) == (
        "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
    del request.headers["x-amz-decoded-content-length"]
    with pytest.raises(AuthError) as caught:
        decode_aws_chunked(pieces(EXAMPLE_BODY, 100), request=request, verified=verified)
    assert (caught.value.code, caught.value.status) == ("MissingContentLength", 411)


def test_signed_chunks_need_a_signature():
    request, _ = example_request()
    with pytest.raises(AuthError) as caught:
        decode_aws_chunked(pieces(EXAMPLE_BODY, 100), request=request, verified=None)
    assert (caught.value.code, caught.value.status) == ("InvalidRequest", 400)
    assert caught.value.message.startswith("Anonymous requests don't support this x-amz-content-sha256 value")


# --------------------------------------------------------------------------- signed chains


def test_signed_chain_with_small_chunks_is_refused():
    payload = b"x" * 9000
    request, verified = streaming_request(sigv4.STREAMING_SIGNED, len(payload))
    body = sign_chunks(verified, [payload[:8192], payload[8192:]])
    assert decode(request, verified, body, 5)[0] == payload
    body = sign_chunks(verified, [payload[:100], payload[100:]])
    error = failure(request, verified, body)
    assert (error.code, error.status) == ("InvalidChunkSizeError", 400)
    assert error.fields == {"Chunk": 1, "BadChunkSize": 100}


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_signed_chain_with_trailer(algorithm):
    payload = bytes(range(256)) * 80
    header = f"x-amz-checksum-{algorithm}"
    request, verified = streaming_request(sigv4.STREAMING_SIGNED_TRAILER, len(payload), trailer=header)
    value = checksums.checksum_of(algorithm, payload)
    body = sign_chunks(verified, [payload[:8192], payload[8192:16384], payload[16384:]], (header, value), True)
    for cuts in (1, 13, 1 << 20):
        got, decoder = decode(request, verified, body, cuts)
        assert got == payload
        assert (decoder.checksum.name, decoder.checksum.value) == (algorithm, value)
        assert request.headers[header] == value

    wrong = checksums.checksum_of(algorithm, payload + b"!")
    error = failure(request, verified, sign_chunks(verified, [payload], (header, wrong), True))
    assert (error.code, error.status) == ("BadDigest", 400)
    assert error.message == f"The {algorithm.upper()} you specified did not match the calculated checksum."

    forged = body.replace(b"x-amz-trailer-signature:", b"x-amz-trailer-signature:0")[:-4] + b"\r\n\r\n"
    assert failure(request, verified, forged).code == "SignatureDoesNotMatch"
    unsigned_trailer = sign_chunks(verified, [payload], (header, value), False)
    assert failure(request, verified, unsigned_trailer).code == "MalformedTrailerError"


# --------------------------------------------------------------------------- botocore uploads


@pytest.mark.parametrize("algorithm", [None, "CRC32", "SHA1", "SHA256"])
def test_botocore_unsigned_trailer_upload(algorithm):
    """botocore (when_supported, over TLS) sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a checksum."""
    payload = bytes(range(251)) * 50
    params = {"Bucket": "bucket", "Key": "k", "Body": payload}
    if algorithm:
        params["ChecksumAlgorithm"] = algorithm
    request, prepared = client_request(
        "s3", "PutObject", params, endpoint="https://localhost:4566",
        config=Config(request_checksum_calculation="when_supported", retries={"max_attempts": 0}),
    )
    assert request.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    name = (algorithm or "CRC32").lower()
    assert request.headers["x-amz-trailer"] == f"x-amz-checksum-{name}"
    body = request.body
    request.body = b""
    request.unread = pieces(body, 1 << 16)
    verified = sigv4.verify(request, sigv4.parse_signature(request), SECRET, datetime.now(timezone.utc))
    assert verified.payload_hash == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    for cuts in (1, 3, 1000, [5, 6, 7, len(body) - 3]):
        got, decoder = decode(request, verified, body, cuts)
        assert got == payload
        assert decoder.checksum.value == checksums.checksum_of(name, payload)
        assert decoder.checksum.algorithm == name.upper()

    tampered = body.replace(payload[:50], b"\0" * 50)
    error = failure(request, verified, tampered)
    assert (error.code, error.message) == (
        "BadDigest", f"The {name.upper()} you specified did not match the calculated checksum.")


def test_unsigned_trailer_framing_errors():
    payload = b"z" * 10
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    request = HttpRequest("PUT", "/b/k", "", {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": "10",
        "content-encoding": "aws-chunked",
    })
    good = b"a\r\n" + payload + b"\r\n0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
    assert decode(request, None, good, 1)[0] == payload
    # Clients that end the body right after the trailer line are accepted too.
    assert decode(request, None, good[:-2], 1)[0] == payload

    def code(body: bytes) -> tuple[str, str]:
        error = failure(request, None, body)
        return error.code, error.message

    assert code(good.replace(crc.encode(), b"!!not-base64!!")) == (
        "InvalidRequest", "Value for x-amz-checksum-crc32 trailing header is invalid.")
    assert code(good.replace(b"x-amz-checksum-crc32:", b"x-amz-checksum-sha1:"))[0] == "MalformedTrailerError"
    assert code(good.replace(b"\r\n0\r\nx-amz", b"\r\n0\r\nx-amz-meta-a:b\r\nx-amz"))[0] == "MalformedTrailerError"
    assert code(b"a\r\n" + payload + b"\r\n0\r\n\r\n")[0] == "MalformedTrailerError"
    assert code(b"zz\r\n" + payload)[0] == "IncompleteBody"
    assert code(b"a\r\n" + payload + b"XX0\r\n\r\n")[0] == "IncompleteBody"
    assert code(b"a\r\n" + payload)[0] == "IncompleteBody"
    assert code(b"b\r\n" + payload + b"!\r\n0\r\n\r\n")[0] == "IncompleteBody"

    request.headers["x-amz-trailer"] = "x-amz-checksum-md4"
    with pytest.raises(AuthError) as caught:
        decode_aws_chunked(pieces(good, 3), request=request)
    assert (caught.value.code, caught.value.message) == (
        "InvalidRequest", "The value specified in the x-amz-trailer header is not supported")


# --------------------------------------------------------------------------- checksums


def test_checksum_check_values():
    check = b"123456789"  # the CRC catalogue's check input
    assert checksums.crc32c(check) == 0xE3069283
    assert checksums.crc64nvme(check) == 0xAE8B14860A799888
    assert checksums.checksum_of("crc32", check) == base64.b64encode((0xCBF43926).to_bytes(4, "big")).decode()
    assert checksums.checksum_of("crc64nvme", b"") == "AAAAAAAAAAA="
    assert checksums.checksum_of("sha256", b"") == base64.b64encode(hashlib.sha256().digest()).decode()
    assert checksums.is_valid_value("crc32", "AAAAAA==") and not checksums.is_valid_value("crc32", "AAAAAAAAAAA=")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=6),
       st.sampled_from(sorted(checksums.ALGORITHMS)))
def test_checksums_are_incremental(data, cuts, algorithm):
    whole = checksums.Checksum(algorithm)
    whole.update(data)
    parts = checksums.Checksum(algorithm)
    start = 0
    for cut in sorted(set(c for c in cuts if c <= len(data))) + [len(data)]:
        parts.update(data[start:cut])
        start = cut
    assert parts.b64digest() == whole.b64digest()
    if algorithm in ("crc32c", "crc64nvme"):
        # The slicing-by-8 path agrees with the plain byte-at-a-time definition.
        tables, mask = (checksums._CRC32C_TABLES, 0xFFFFFFFF) if algorithm == "crc32c" else (
            checksums._CRC64NVME_TABLES, 0xFFFFFFFFFFFFFFFF)
        crc = mask
        for byte in data:
            crc = (crc >> 8) ^ tables[0][(crc ^ byte) & 0xFF]
        assert whole.digest() == (crc ^ mask).to_bytes(len(whole.digest()), "big")
