"""S3 server-side encryption: object bytes encrypted at rest, SSE-S3 / SSE-KMS / SSE-C attributes.

Every object blob S3 writes is encrypted (AWS encrypts every new object with SSE-S3 by
default). Each blob gets its own random 256-bit data key, wrapped with AES-GCM by the data
directory's master key (`s3-master.key`, created on first use) and kept in the blob's header.
The bytes are sealed in 64 KiB chunks with AES-256-GCM (nonce = chunk number, the last chunk
marked in the associated data), so any byte range can be read and verified without reading
the whole object, and a truncated or altered blob fails to decrypt.

SSE-KMS is recorded and reported (key id, bucket key) but sealed with the same keys: there is
no KMS yet. SSE-C keys are never stored: a salted HMAC of the key is kept to check the key a
reader presents, as AWS does; the bytes are sealed like any other object's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import uuid
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gureum.context import RequestContext
from gureum.protocol.errors import ServiceError

MAGIC = b"\x00gureum-sse-v1\x00\x00"  # 16 bytes: blobs written before encryption lack it
CHUNK = 64 * 1024
TAG = 16
_WRAPPED = 12 + 32 + TAG  # nonce, data key, tag
HEADER = len(MAGIC) + _WRAPPED
MASTER_KEY_FILE = "s3-master.key"

ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
# Members that describe an object's encryption; a copy or a new version decides them afresh.
SSE_MEMBERS = ("ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled", "SSECustomerAlgorithm",
               "SSECustomerKeyMD5", "_SSECustomerKeyHMAC")
RESPONSE_MEMBERS = SSE_MEMBERS[:5]
DEFAULT_RULE = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}


# --- keys and blobs ------------------------------------------------------------------------


def load_master_key(data_dir: Path) -> bytes:
    """The data directory's master key, created (mode 0600) the first time."""
    path = data_dir / MASTER_KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # never replace a key another process just created
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)
    return path.read_bytes()


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _aad(final: bool) -> bytes:
    return b"final" if final else b"more"


class EncryptedBlobStore:
    """The blob store as S3 sees it: blobs sealed on write and opened decrypted."""

    def __init__(self, inner, master_key: bytes):
        self.inner = inner
        self._master = AESGCM(master_key)

    def __getattr__(self, name):  # delete, exists, clear_temporaries, root ...
        return getattr(self.inner, name)

    def new_writer(self) -> "EncryptingWriter":
        return EncryptingWriter(self.inner.new_writer(), self._master)

    def put(self, data: bytes) -> str:
        with self.new_writer() as w:
            w.write(data)
            return w.commit()

    def open(self, blob_id: str) -> BinaryIO:
        f = self.inner.open(blob_id)
        head = f.read(HEADER)
        if len(head) < HEADER or head[: len(MAGIC)] != MAGIC:
            f.seek(0)  # written before encryption at rest: plain bytes
            return f
        wrapped = head[len(MAGIC):]
        try:
            key = self._master.decrypt(wrapped[:12], wrapped[12:], MAGIC)
        except Exception:
            f.close()
            raise OSError("object blob %s cannot be decrypted with this data directory's key" % blob_id) from None
        return DecryptingReader(f, AESGCM(key))

    def read(self, blob_id: str) -> bytes:
        with self.open(blob_id) as f:
            return f.read()

    def size(self, blob_id: str) -> int:
        with self.open(blob_id) as f:
            return f.seek(0, 2)


class EncryptingWriter:
    """A blob writer that seals 64 KiB chunks; `size` counts the plaintext."""

    def __init__(self, inner, master: AESGCM):
        self._inner = inner
        key = AESGCM.generate_key(256)
        self._aead = AESGCM(key)
        nonce = secrets.token_bytes(12)
        inner.write(MAGIC + nonce + master.encrypt(nonce, key, MAGIC))
        self._pending = bytearray()
        self._index = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._pending:
            self._pending += data
            data = bytes(self._pending)
        view, start = memoryview(data), 0
        # Keep at least one byte back: the last chunk is sealed as final on commit.
        while len(view) - start > CHUNK:
            self._seal(view[start: start + CHUNK], False)
            start += CHUNK
        self._pending = bytearray(view[start:])

    def _seal(self, chunk: bytes, final: bool) -> None:
        self._inner.write(self._aead.encrypt(_nonce(self._index), chunk, _aad(final)))
        self._index += 1

    def commit(self) -> str:
        self._seal(bytes(self._pending), True)
        self._pending.clear()
        return self._inner.commit()

    def abort(self) -> None:
        self._inner.abort()

    def __enter__(self) -> "EncryptingWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.abort()


class DecryptingReader:
    """A read-only, seekable file of a sealed blob's plaintext."""

    def __init__(self, f: BinaryIO, aead: AESGCM):
        self._f = f
        self._aead = aead
        stored = f.seek(0, 2) - HEADER
        self._chunks = max(1, -(-stored // (CHUNK + TAG)))
        self.size = stored - self._chunks * TAG
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        self._f.seek(HEADER + index * (CHUNK + TAG))
        sealed = self._f.read(CHUNK + TAG)
        try:
            plain = self._aead.decrypt(_nonce(index), sealed, _aad(index == self._chunks - 1))
        except Exception:
            raise OSError("object blob failed its integrity check") from None
        self._cached = (index, plain)
        return plain

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        out = []
        while self._pos < end:
            index, within = divmod(self._pos, CHUNK)
            piece = self._chunk(index)[within: within + (end - self._pos)]
            if not piece:
                break
            out.append(piece)
            self._pos += len(piece)
        return b"".join(out)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "DecryptingReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- request attributes ----------------------------------------------------------------------


def _invalid_argument(message: str, name: str, value: str | None) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400, fields={"ArgumentName": name, "ArgumentValue": value or ""})


def kms_key_arn(key_id: str | None, account_id: str, region: str) -> str:
    """The key ARN S3 reports: a given ARN as is, an id or alias made an ARN, or the account's aws/s3 key."""
    if not key_id:
        managed = uuid.UUID(bytes=hashlib.sha256(f"aws/s3:{account_id}:{region}".encode()).digest()[:16], version=4)
        return f"arn:aws:kms:{region}:{account_id}:key/{managed}"
    if key_id.startswith("arn:"):
        return key_id
    return f"arn:aws:kms:{region}:{account_id}:{key_id if key_id.startswith('alias/') else 'key/' + key_id}"


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def customer_key(ctx: RequestContext, request: dict, prefix: str = "") -> bytes | None:
    """The SSE-C key a request presents (checked as S3 checks it), or None."""
    algorithm = request.get(prefix + "SSECustomerAlgorithm")
    key_b64 = request.get(prefix + "SSECustomerKey")
    key_md5 = request.get(prefix + "SSECustomerKeyMD5")
    if algorithm is None and key_b64 is None and key_md5 is None:
        return None
    header = "x-amz-copy-source-server-side-encryption-customer-algorithm" if prefix else \
        "x-amz-server-side-encryption-customer-algorithm"
    if algorithm is None:
        raise _invalid_argument("Requests specifying Server Side Encryption with Customer provided keys must provide "
                                "a valid encryption algorithm.", header, None)
    if algorithm != "AES256":
        raise ServiceError("InvalidEncryptionAlgorithmError",
                           "The Encryption request you specified is not valid. Supported value: AES256.", 400,
                           fields={"ArgumentName": header, "ArgumentValue": algorithm})
    key_header = header.replace("algorithm", "key")
    if not key_b64:
        raise _invalid_argument("Requests specifying Server Side Encryption with Customer provided keys must provide "
                                "an appropriate secret key.", key_header, None)
    try:
        key = base64.b64decode(key_b64, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise _invalid_argument("The secret key was invalid for the specified algorithm.", key_header, None)
    if key_md5 is None or base64.b64encode(hashlib.md5(key).digest()).decode() != key_md5:
        raise _invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.",
                                key_header + "-MD5", None)
    # AWS takes SSE-C keys only over HTTPS; gureum serves HTTP, so it accepts them from this machine.
    if not ctx.secure_transport and not _is_loopback(ctx.source_ip):
        raise ServiceError("InvalidRequest", "Requests specifying Server Side Encryption with Customer provided "
                           "keys must be made over a secure connection.", 400)
    return key


def _key_hmac(key: bytes, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    return salt.hex() + ":" + hmac.new(salt, key, hashlib.sha256).hexdigest()


def key_matches(key: bytes, stored: str) -> bool:
    salt, _, _ = stored.partition(":")
    return hmac.compare_digest(_key_hmac(key, bytes.fromhex(salt)), stored)


def default_rule(bucket_row) -> dict:
    raw = bucket_row["encryption"] if "encryption" in bucket_row.keys() else None
    return json.loads(raw)["Rules"][0] if raw else DEFAULT_RULE


def attributes_for_write(ctx: RequestContext, request: dict, bucket_row) -> dict:
    """The encryption members a new object stores (and a write answers), from its request or the bucket default."""
    sse = request.get("ServerSideEncryption")
    kms_key = request.get("SSEKMSKeyId")
    key = customer_key(ctx, request)
    if sse is not None and sse not in ALGORITHMS:
        raise _invalid_argument("The encryption method specified is not supported", "x-amz-server-side-encryption",
                                sse)
    if key is not None:
        if sse is not None:
            raise _invalid_argument("Server Side Encryption with Customer provided key is incompatible with the "
                                    "encryption method specified", "x-amz-server-side-encryption", sse)
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKeyMD5": request["SSECustomerKeyMD5"],
                "_SSECustomerKeyHMAC": _key_hmac(key)}
    if kms_key is not None and sse not in ("aws:kms", "aws:kms:dsse"):
        raise _invalid_argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                                "x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption-aws-kms-key-id",
                                kms_key)
    bucket_key = request.get("BucketKeyEnabled")
    if sse is None:
        rule = default_rule(bucket_row)
        by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        sse, kms_key = by_default.get("SSEAlgorithm", "AES256"), by_default.get("KMSMasterKeyID")
        if bucket_key is None and sse != "AES256":
            bucket_key = rule.get("BucketKeyEnabled")
    out: dict = {"ServerSideEncryption": sse}
    if sse != "AES256":
        out["SSEKMSKeyId"] = kms_key_arn(kms_key, bucket_row["account_id"], bucket_row["region"])
        if bucket_key:
            out["BucketKeyEnabled"] = True
    return out


def without_attributes(stored: dict) -> dict:
    return {k: v for k, v in stored.items() if k not in SSE_MEMBERS}


def response_members(stored: dict) -> dict:
    """What a write or read reports of an object's encryption (objects from before report SSE-S3)."""
    out = {k: stored[k] for k in RESPONSE_MEMBERS if k in stored}
    if "SSECustomerAlgorithm" not in out and "ServerSideEncryption" not in out:
        out["ServerSideEncryption"] = "AES256"
    return out


_MISSING = ("The object was stored using a form of Server Side Encryption. The correct parameters must be provided "
            "to retrieve the object.")
PART_MISSING = ("The multipart upload initiate requested encryption. Subsequent part requests must include the "
                "appropriate encryption parameters.")


def check_read(ctx: RequestContext, request: dict, stored: dict, prefix: str = "", missing: str = _MISSING) -> None:
    """A reader of an SSE-C object must present its key; others must not present one."""
    key = customer_key(ctx, request, prefix)
    if "_SSECustomerKeyHMAC" not in stored:
        if key is not None:
            raise ServiceError("InvalidRequest", "The encryption parameters are not applicable to this object.", 400)
        return
    if key is None:
        raise ServiceError("InvalidRequest", missing, 400)
    if not key_matches(key, stored["_SSECustomerKeyHMAC"]):
        raise ServiceError("AccessDenied", "Access Denied", 403)


def with_encrypted_blobs(env):
    """The provider's env with its blob store sealing and opening object bytes."""
    data_dir = Path(env.blobs.root).parent
    return replace(env, blobs=EncryptedBlobStore(env.blobs, load_master_key(data_dir)))


# --- bucket default encryption ---------------------------------------------------------------


# The bucket's default encryption and ACL (component "s3-security", migrated by the mixin).
MIGRATIONS = [
    """
    ALTER TABLE s3_buckets ADD COLUMN encryption TEXT;
    ALTER TABLE s3_buckets ADD COLUMN acl TEXT;
    """
]


class EncryptionOperations:
    """Put/Get/DeleteBucketEncryption, mixed into the S3 provider; seals the provider's blobs."""

    def __init__(self, env) -> None:
        super().__init__(env)
        self.env.db.migrate("s3-security", MIGRATIONS)
        self.env = with_encrypted_blobs(self.env)

    def put_bucket_encryption(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        rules = (request.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        if len(rules) != 1:
            raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                               "our published schema", 400)
        rule = rules[0]
        by_default = rule.get("ApplyServerSideEncryptionByDefault")
        if not by_default or by_default.get("SSEAlgorithm") not in ALGORITHMS:
            raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                               "our published schema", 400)
        if by_default.get("KMSMasterKeyID") and by_default["SSEAlgorithm"] == "AES256":
            raise ServiceError("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is "
                               "not aws:kms or aws:kms:dsse", 400,
                               fields={"ArgumentName": "ApplyServerSideEncryptionByDefault"})
        kept = {"ApplyServerSideEncryptionByDefault": {k: by_default[k] for k in ("SSEAlgorithm", "KMSMasterKeyID")
                                                       if by_default.get(k)},
                "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False))}
        self._set_bucket(row["name"], encryption=json.dumps({"Rules": [kept]}))
        return {}

    def get_bucket_encryption(self, ctx: RequestContext, request: dict) -> dict:
        # Since January 2023 every bucket has SSE-S3 as its default: there is no "not found" any more.
        row = self._bucket(request["Bucket"])
        return {"ServerSideEncryptionConfiguration": {"Rules": [default_rule(row)]}}

    def delete_bucket_encryption(self, ctx: RequestContext, request: dict) -> dict:
        row = self._bucket(request["Bucket"])
        self._set_bucket(row["name"], encryption=None)
        return {}
