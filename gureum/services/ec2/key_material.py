"""Key material for EC2 key pairs: generation, the formats AWS hands out, fingerprints, import.

AWS's formats: an RSA key created as `pem` is PKCS#1 ("BEGIN RSA PRIVATE KEY"); an ED25519
key as `pem` is OpenSSH's own format; `ppk` is PuTTY's version 3 key file, unencrypted.
Fingerprints: a created RSA key's is the SHA-1 of its PKCS#8 DER private key; an imported
RSA key's the MD5 of its DER public key; an ED25519 key's the base64 SHA-256 of its OpenSSH
public key blob (OpenSSH's default form, with its padding).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

RSA_IMPORT_BITS = (1024, 2048, 4096)


class KeyFormatError(ValueError):
    """The imported public key is not one AWS accepts."""


def _hex_pairs(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(value: int) -> bytes:
    if value == 0:
        return _ssh_string(b"")
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big")  # leading zero keeps it positive
    return _ssh_string(raw)


def public_blob(public_key) -> bytes:
    """The SSH wire encoding of a public key (what OpenSSH base64s after the key type)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return _ssh_string(b"ssh-rsa") + _mpint(numbers.e) + _mpint(numbers.n)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _ssh_string(b"ssh-ed25519") + _ssh_string(raw)


def openssh_public(public_key, comment: str = "") -> str:
    text = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"{text} {comment}".rstrip()


def ed25519_fingerprint(public_key) -> str:
    return base64.b64encode(hashlib.sha256(public_blob(public_key)).digest()).decode()


def created_fingerprint(private_key) -> str:
    if isinstance(private_key, rsa.RSAPrivateKey):
        der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        return _hex_pairs(hashlib.sha1(der).digest())
    return ed25519_fingerprint(private_key.public_key())


def imported_fingerprint(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return _hex_pairs(hashlib.md5(der).digest())
    return ed25519_fingerprint(public_key)


def generate(key_type: str):
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(private_key) -> str:
    if isinstance(private_key, rsa.RSAPrivateKey):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        fmt = serialization.PrivateFormat.OpenSSH
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode().rstrip("\n")


def _lines(data: bytes) -> list[str]:
    text = base64.b64encode(data).decode()
    return [text[i:i + 64] for i in range(0, len(text), 64)]


def private_ppk(private_key, comment: str) -> str:
    """PuTTY's key file, version 3, unencrypted (its MAC is HMAC-SHA-256 under an empty key)."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        algorithm = "ssh-rsa"
        n = private_key.private_numbers()
        private = _mpint(n.d) + _mpint(n.p) + _mpint(n.q) + _mpint(n.iqmp)
    else:
        algorithm = "ssh-ed25519"
        raw = private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
        private = _ssh_string(raw)
    public = public_blob(private_key.public_key())
    encryption = "none"
    mac_input = b"".join(_ssh_string(x) for x in (algorithm.encode(), encryption.encode(), comment.encode(),
                                                 public, private))
    mac = hmac.new(b"", mac_input, hashlib.sha256).hexdigest()
    public_lines, private_lines = _lines(public), _lines(private)
    return "\n".join([
        f"PuTTY-User-Key-File-3: {algorithm}",
        f"Encryption: {encryption}",
        f"Comment: {comment}",
        f"Public-Lines: {len(public_lines)}",
        *public_lines,
        f"Private-Lines: {len(private_lines)}",
        *private_lines,
        f"Private-MAC: {mac}",
    ])


_RFC4716 = re.compile(r"---- BEGIN SSH2 PUBLIC KEY ----(.*?)---- END SSH2 PUBLIC KEY ----", re.S)


def load_public(material: bytes | str):
    """The public key in OpenSSH, RFC 4716 or PEM (SubjectPublicKeyInfo / PKCS#1) text."""
    text = material.decode("utf-8", "replace") if isinstance(material, bytes) else material
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            m = _RFC4716.search(text)
            if m:
                body = [ln for ln in m.group(1).strip().splitlines() if ":" not in ln and not ln.endswith("\\")]
                blob = base64.b64decode("".join(body))
                kind = blob[4:4 + struct.unpack(">I", blob[:4])[0]].decode()
                text = f"{kind} {base64.b64encode(blob).decode()}"
            key = serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode())
    except (ValueError, TypeError, UnicodeDecodeError, struct.error, IndexError):
        raise KeyFormatError("Key is not in valid OpenSSH public key format") from None
    except Exception as e:  # cryptography raises UnsupportedAlgorithm for DSA/ECDSA curves it lacks
        raise KeyFormatError("Key is not in valid OpenSSH public key format") from e
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size not in RSA_IMPORT_BITS:
            raise KeyFormatError("Key is not in valid OpenSSH public key format")
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise KeyFormatError("Key is not in valid OpenSSH public key format")


def key_type_of(key) -> str:
    return "rsa" if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)) else "ed25519"
