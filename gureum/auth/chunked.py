"""aws-chunked request bodies: S3 uploads sent in signed or unsigned chunks, with trailers.

    <hex-size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n ... 0[;chunk-signature=<sig>]\\r\\n
    [x-amz-checksum-<alg>:<base64>\\r\\n[x-amz-trailer-signature:<sig>\\r\\n]]\\r\\n

The decoder yields the payload as it arrives (memory stays bounded by the size of the pieces
the server hands it), checks each chunk's signature in the chain that starts at the
request's seed signature, the trailer's signature and checksum, and the declared decoded
length. A failure raises AuthError (an S3 ServiceError) from the iteration; consumers store
an upload only once the stream has ended, so a rejected body leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import AsyncIterator

from gureum.auth import checksums
from gureum.auth.errors import AuthError
from gureum.auth.sigv4 import (
    EMPTY_SHA256,
    STREAMING_ECDSA,
    STREAMING_ECDSA_TRAILER,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    VerifiedSignature,
)
from gureum.protocol.http import HttpRequest

MIN_CHUNK_SIZE = 8192  # every chunk but the last must carry at least this much
_MAX_LINE = 4096  # a chunk header or trailer line; real ones are ~100 bytes
_MAX_TRAILER = 16 * 1024
_HEX = frozenset(b"0123456789abcdefABCDEF")
_SIGNATURE_EXTENSION = b"chunk-signature="
_TRAILER_SIGNATURE = "x-amz-trailer-signature"

# Parser states
_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


@dataclass(frozen=True)
class VerifiedChecksum:
    """A checksum a client sent in the trailer, checked against the decoded payload."""

    name: str  # crc32, crc32c, crc64nvme, sha1, sha256, ...
    algorithm: str  # CRC32, CRC32C, ... (S3's ChecksumAlgorithm)
    header: str  # x-amz-checksum-<name>
    value: str  # base64 of the digest


class AwsChunkedDecoder:
    """An async iterator over the decoded payload of an aws-chunked body.

    After the iteration ends, `checksum` holds the trailing checksum it verified (or None)
    and `decoded_length` the payload size; the checksum is also put into the request's
    headers, so S3 sees it as if it had been sent as a header.
    """

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        mode: str,
        verified: VerifiedSignature | None,
        trailer: str | None,
        decoded_length: int | None,
        request: HttpRequest | None = None,
    ):
        self._chunks = chunks
        self._signed = mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
        self._expects_trailer_signature = mode == STREAMING_SIGNED_TRAILER
        self._verified = verified
        self._request = request
        self._declared = decoded_length
        self._trailer_checksum = checksums.Checksum(trailer[len("x-amz-checksum-"):]) if trailer else None
        self.checksum: VerifiedChecksum | None = None
        self.decoded_length = 0
        if self._signed:
            assert verified is not None
            self._chunk_prefix = f"AWS4-HMAC-SHA256-PAYLOAD\n{verified.amz_date}\n{verified.scope}\n"
            self._previous_signature = verified.signature
        self._iterator = self._decode()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterator

    async def __anext__(self) -> bytes:
        return await self._iterator.__anext__()

    async def _decode(self) -> AsyncIterator[bytes]:
        buf = bytearray()
        state = _HEADER
        remaining = 0  # data bytes left in the current chunk
        chunk_number = 0
        previous_size: int | None = None  # size of the last data chunk seen
        chunk_signature = b""
        chunk_hash = None
        checksum = self._trailer_checksum
        trailers: list[tuple[str, str]] = []
        trailer_bytes = 0

        async for piece in self._chunks:
            if not piece:
                continue
            if state == _DATA and not buf:
                # The common case: data passes straight through without being copied.
                if len(piece) <= remaining:
                    data = bytes(piece)
                    rest = None
                else:
                    data, rest = bytes(piece[:remaining]), piece[remaining:]
                remaining -= len(data)
                if chunk_hash is not None:
                    chunk_hash.update(data)
                if checksum is not None:
                    checksum.update(data)
                yield data
                if remaining:
                    continue
                state = _DATA_END
                self._check_chunk(chunk_signature, chunk_hash)
                if rest is None:
                    continue
                buf += rest
            elif state == _DONE:
                raise AuthError("incomplete_body", service="s3")
            else:
                buf += piece

            while buf:
                if state == _DATA:
                    take = min(remaining, len(buf))
                    data = bytes(buf[:take])
                    del buf[:take]
                    remaining -= take
                    if chunk_hash is not None:
                        chunk_hash.update(data)
                    if checksum is not None:
                        checksum.update(data)
                    yield data
                    if not remaining:
                        state = _DATA_END
                        self._check_chunk(chunk_signature, chunk_hash)
                    continue
                if state == _DONE:
                    raise AuthError("incomplete_body", service="s3")
                end = buf.find(b"\n")
                if end < 0:
                    if len(buf) > _MAX_LINE:
                        raise AuthError("malformed_trailer" if state == _TRAILER else "incomplete_body", service="s3")
                    break
                line = bytes(buf[:end])
                del buf[:end + 1]
                if line.endswith(b"\r"):
                    line = line[:-1]
                elif state != _TRAILER:
                    raise AuthError("incomplete_body", service="s3")

                if state == _DATA_END:
                    if line:
                        raise AuthError("incomplete_body", service="s3")
                    state = _HEADER
                elif state == _HEADER:
                    size, chunk_signature = self._parse_header(line)
                    chunk_number += 1
                    if size and previous_size is not None and previous_size < MIN_CHUNK_SIZE:
                        raise AuthError("invalid_chunk_size", service="s3", fields={
                            "Chunk": chunk_number - 1,
                            "BadChunkSize": previous_size,
                        })
                    self.decoded_length += size
                    if self._declared is not None and self.decoded_length > self._declared:
                        raise AuthError("length_mismatch", service="s3")
                    chunk_hash = hashlib.sha256() if self._signed else None
                    if size:
                        previous_size = size
                        remaining = size
                        state = _DATA
                    else:
                        self._check_chunk(chunk_signature, chunk_hash)
                        if self._declared is not None and self.decoded_length != self._declared:
                            raise AuthError("length_mismatch", service="s3")
                        state = _TRAILER
                else:  # _TRAILER
                    if not line.strip():
                        self._finish(trailers)
                        state = _DONE
                        continue
                    trailer_bytes += len(line)
                    if trailer_bytes > _MAX_TRAILER:
                        raise AuthError("malformed_trailer", service="s3")
                    name, sep, value = line.decode("latin-1").partition(":")
                    if not sep:
                        raise AuthError("malformed_trailer", service="s3")
                    trailers.append((name.strip().lower(), value.strip()))

        if state == _TRAILER:
            # Some clients end the body right after the last chunk or trailer line.
            tail = bytes(buf).strip()
            if tail:
                name, sep, value = tail.decode("latin-1").partition(":")
                if not sep:
                    raise AuthError("malformed_trailer", service="s3")
                trailers.append((name.strip().lower(), value.strip()))
            self._finish(trailers)
        elif state != _DONE:
            raise AuthError("incomplete_body", service="s3")

    def _parse_header(self, line: bytes) -> tuple[int, bytes]:
        size_text, _, extensions = line.partition(b";")
        size_text = size_text.strip()
        if not size_text or len(size_text) > 16 or not _HEX.issuperset(size_text):
            raise AuthError("incomplete_body", service="s3")
        signature = b""
        if self._signed:
            extensions = extensions.strip()
            if not extensions.startswith(_SIGNATURE_EXTENSION):
                raise AuthError("signature_mismatch", service="s3")
            signature = extensions[len(_SIGNATURE_EXTENSION):].strip()
        return int(size_text, 16), signature

    def _check_chunk(self, signature: bytes, chunk_hash) -> None:
        """Verify one chunk's signature, chained to the previous one."""
        if not self._signed:
            return
        verified = self._verified
        string_to_sign = (
            f"{self._chunk_prefix}{self._previous_signature}\n{EMPTY_SHA256}\n{chunk_hash.hexdigest()}"
        ).encode("utf-8")
        expected = hmac.new(verified.signing_key, string_to_sign, hashlib.sha256).hexdigest()
        provided = signature.decode("latin-1")
        if not hmac.compare_digest(expected, provided):
            raise AuthError("signature_mismatch", service="s3", fields={
                "AWSAccessKeyId": verified.access_key,
                "StringToSign": string_to_sign.decode("utf-8"),
                "SignatureProvided": provided,
                "StringToSignBytes": string_to_sign.hex(" "),
            })
        self._previous_signature = expected

    def _finish(self, trailers: list[tuple[str, str]]) -> None:
        """Check the trailer section: its signature, then the checksum it carries."""
        checksum = self._trailer_checksum
        signature = None
        values: list[tuple[str, str]] = []
        for name, value in trailers:
            if name == _TRAILER_SIGNATURE and self._expects_trailer_signature and signature is None:
                signature = value
            elif checksum is not None and name == checksum.header and not values:
                values.append((name, value))
            else:
                raise AuthError("malformed_trailer", service="s3")
        if checksum is not None and not values:
            raise AuthError("malformed_trailer", service="s3")
        if self._expects_trailer_signature:
            if signature is None:
                raise AuthError("malformed_trailer", service="s3")
            self._check_trailer_signature(values, signature)
        if checksum is None:
            return
        name, value = values[0]
        if not checksums.is_valid_value(checksum.name, value):
            raise AuthError("invalid_trailer_value", f"Value for {name} trailing header is invalid.", service="s3")
        if checksum.b64digest() != value:
            raise AuthError(
                "bad_digest", f"The {checksum.algorithm} you specified did not match the calculated checksum.",
                service="s3",
            )
        self.checksum = VerifiedChecksum(checksum.name, checksum.algorithm, checksum.header, value)
        if self._request is not None:
            self._request.headers[checksum.header] = value

    def _check_trailer_signature(self, values: list[tuple[str, str]], signature: str) -> None:
        verified = self._verified
        canonical = "".join(f"{name}:{value}\n" for name, value in sorted(values))
        string_to_sign = (
            f"AWS4-HMAC-SHA256-TRAILER\n{verified.amz_date}\n{verified.scope}\n{self._previous_signature}\n"
            f"{hashlib.sha256(canonical.encode('latin-1')).hexdigest()}"
        ).encode("utf-8")
        expected = hmac.new(verified.signing_key, string_to_sign, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise AuthError("signature_mismatch", service="s3", fields={
                "AWSAccessKeyId": verified.access_key,
                "StringToSign": string_to_sign.decode("utf-8"),
                "SignatureProvided": signature,
                "StringToSignBytes": string_to_sign.hex(" "),
            })


def decode_aws_chunked(
    chunks: AsyncIterator[bytes],
    *,
    request: HttpRequest | None = None,
    verified: VerifiedSignature | None = None,
    mode: str | None = None,
    trailer: str | None = None,
    decoded_length: int | None = None,
) -> AwsChunkedDecoder:
    """The decoded payload of an aws-chunked body.

    `mode` (the x-amz-content-sha256 value), `trailer` (x-amz-trailer) and `decoded_length`
    (x-amz-decoded-content-length) default to the request's headers. `verified` is the
    request's verified signature: required for signed chunks, None for anonymous requests.
    Header problems raise AuthError at once; body problems while iterating.
    """
    headers = request.headers if request is not None else {}
    if mode is None:
        mode = headers.get("x-amz-content-sha256", "")
    if trailer is None:
        trailer = headers.get("x-amz-trailer")
    if decoded_length is None:
        declared = headers.get("x-amz-decoded-content-length")
        if declared is None or not declared.isdigit():
            raise AuthError("missing_length", service="s3")
        decoded_length = int(declared)

    if mode in (STREAMING_ECDSA, STREAMING_ECDSA_TRAILER):
        raise AuthError("unsupported", service="s3")  # SigV4a chunk signatures
    if mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER) and (verified is None or verified.version != 4):
        raise AuthError("anonymous_streaming", service="s3")
    if trailer is not None:
        trailer = trailer.strip().lower()
        name = trailer[len("x-amz-checksum-"):] if trailer.startswith("x-amz-checksum-") else ""
        if name not in checksums.ALGORITHMS:
            raise AuthError("trailer_not_supported", service="s3")
        if mode not in (STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER):
            raise AuthError("malformed_trailer", service="s3")
    # Anything else (UNSIGNED-PAYLOAD with Content-Encoding: aws-chunked) is unsigned framing.
    return AwsChunkedDecoder(
        chunks,
        mode=mode,
        verified=verified,
        trailer=trailer,
        decoded_length=decoded_length,
        request=request,
    )
