"""The pieces of a SigV4 canonical request: URI, query string, headers.

Paths and query strings arrive as the gateway read them off the wire (percent-encoded,
decoded from bytes as latin-1), so `.encode("latin-1")` gives back the exact bytes the client
sent. Every function has a fast path for the common case of text that is already canonical.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes, unquote_to_bytes

# RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded.
UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_PATH_SAFE = UNRESERVED + b"/"


def wire_bytes(text: str) -> bytes:
    """The bytes a header or path value had on the wire (the gateway decoded them as latin-1)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # built in code rather than read off the wire
        return text.encode("utf-8")


def uri_encode(raw: bytes, safe: bytes = b"") -> str:
    """AWS's UriEncode: every byte but the unreserved ones (and `safe`) as %XX, upper-case hex."""
    if not raw.rstrip(UNRESERVED + safe):
        return raw.decode("ascii")
    return quote_from_bytes(raw, safe=safe.decode("ascii") + "~")


def _recode(component: str) -> str:
    """Percent-decode one path segment or query component and encode it the AWS way."""
    raw = wire_bytes(component)
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    return uri_encode(raw)


def s3_path(path: str) -> str:
    """S3's canonical URI: the path encoded once, segment by segment, never normalized.

    Each segment is decoded and re-encoded so the result does not depend on which optional
    characters a client chose to escape; an escaped slash (%2F) stays inside its segment.
    """
    if not path:
        return "/"
    raw = wire_bytes(path)
    if not raw.rstrip(_PATH_SAFE):
        return path
    return "/".join(_recode(segment) for segment in path.split("/"))


def normalized_path(path: str) -> str:
    """The canonical URI of every service but S3.

    Dot segments and empty segments are removed, then the path *as sent* (still
    percent-encoded) is encoded again: the double encoding clients apply.
    """
    if not path:
        return "/"
    if "//" in path or "/." in path or not path.startswith("/"):
        path = _remove_dot_segments(path)
    raw = wire_bytes(path)
    if not raw.rstrip(_PATH_SAFE):
        return path
    return quote_from_bytes(raw, safe="/~")


def _remove_dot_segments(path: str) -> str:
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    trailing = "/" if path.endswith("/") and kept else ""
    return "/" + "/".join(kept) + trailing


def query_string(query: str, exclude: str | None = None) -> str:
    """The canonical query string: each name and value re-encoded, sorted by name then value.

    A raw "+" is a literal plus (SigV4 clients encode spaces as %20). `exclude` drops a
    parameter by name (X-Amz-Signature of a presigned URL).
    """
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = _recode(name)
        if name == exclude:
            continue
        pairs.append((name, _recode(value)))
    pairs.sort()
    return "&".join(f"{name}={value}" for name, value in pairs)


def header_value(value: str) -> bytes:
    """Trimall: surrounding whitespace removed, inner runs squeezed to one space (ASCII only)."""
    return b" ".join(wire_bytes(value).split())
