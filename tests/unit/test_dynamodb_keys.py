"""Order-preserving key encoding: encoded bytes sort exactly as DynamoDB sorts keys."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, strategies as st

from gureum.services.dynamodb import types
from gureum.services.dynamodb.keys import encode_key_value

# Mantissas of up to 38 digits with exponents across DynamoDB's whole range.
numbers = st.tuples(st.integers(-(10**38) + 1, 10**38 - 1), st.integers(-130, 87)).map(
    lambda t: types.normalize_number(f"{t[0]}E{t[1]}") if t[0] else "0")


@given(st.lists(numbers, min_size=2, max_size=20))
def test_numbers_sort_numerically(values):
    encoded = sorted(values, key=lambda n: encode_key_value({"N": n}))
    assert [Decimal(n) for n in encoded] == sorted(Decimal(n) for n in values)


@given(st.lists(st.text(min_size=1), min_size=2, max_size=20))
def test_strings_sort_by_utf8_bytes(values):
    encoded = sorted(values, key=lambda s: encode_key_value({"S": s}))
    assert [s.encode() for s in encoded] == sorted(s.encode() for s in values)


@given(st.lists(st.binary(min_size=1), min_size=2, max_size=20))
def test_binaries_sort_by_bytes(values):
    assert sorted(values, key=lambda b: encode_key_value({"B": b})) == sorted(values)


def test_number_edges():
    ordered = ["-1E+125", "-10", "-1.5", "-1", "-0.001", "0", "1E-130", "0.5", "1", "1.5", "10", "9.9E+125"]
    keys = [encode_key_value({"N": types.normalize_number(n)}) for n in ordered]
    assert keys == sorted(keys)
