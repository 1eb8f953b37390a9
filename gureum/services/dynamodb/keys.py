"""Order-preserving key encoding: bytes that sort as DynamoDB sorts S, N and B keys.

S compares by UTF-8 bytes and B by bytes, so both are their own encoding. N is encoded as
sign, exponent and digits: negatives first (exponent and digits complemented, with a
terminator above every digit so a longer negative sorts before its prefix), then zero,
then positives.
"""

from __future__ import annotations

from decimal import Context, Decimal

# Wide enough that normalising never rounds a 38-digit number.
_EXACT = Context(prec=60, Emax=200, Emin=-200)


def encode_key_value(value: dict) -> bytes:
    (kind, inner), = value.items()
    if kind == "S":
        return inner.encode()
    if kind == "B":
        return bytes(inner)
    return encode_number(Decimal(inner))


def encode_number(value: Decimal) -> bytes:
    if value.is_zero():
        return b"\x01"
    sign, digits, exponent = value.normalize(_EXACT).as_tuple()
    # The exponent of the leading digit, shifted into 0..255 (DynamoDB allows -130..125).
    adjusted = exponent + len(digits) - 1 + 130
    if not sign:
        return bytes((0x02, adjusted)) + bytes(0x30 + d for d in digits)
    return bytes((0x00, 255 - adjusted)) + bytes(0x39 - d for d in digits) + b"\xff"
