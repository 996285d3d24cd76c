"""Tests for canonical JSON and JSON signing, against the spec and signedjson."""

from __future__ import annotations

import json
from typing import Any

import canonicaljson
import pytest
import signedjson.key
import signedjson.sign
from hypothesis import given
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    Ed25519PrivateKey,
    InvalidSignature,
    b64decode_unpadded,
    canonical_json,
    sign_json,
    verify_signed_json,
)

# Appendices, "Canonical JSON" examples: (input JSON text, expected canonical JSON).
SPEC_EXAMPLES = [
    ("{}", "{}"),
    ('{"one": 1, "two": "Two"}', '{"one":1,"two":"Two"}'),
    ('{"b": "2", "a": "1"}', '{"a":"1","b":"2"}'),
    ('{"b":"2","a":"1"}', '{"a":"1","b":"2"}'),
    (
        """{"auth": {"success": true, "mxid": "@john.doe:example.com", "profile": {
        "display_name": "John Doe", "three_pids": [
        {"medium": "email", "address": "john.doe@example.org"},
        {"medium": "msisdn", "address": "123456789"}]}}}""",
        '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",'
        '"three_pids":[{"address":"john.doe@example.org","medium":"email"},'
        '{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ),
    ('{"a": "日本語"}', '{"a":"日本語"}'),
    ('{"本": 2, "日": 1}', '{"日":1,"本":2}'),
    ('{"a": "\\u65E5"}', '{"a":"日"}'),
    ('{"a": null}', '{"a":null}'),
]

# Appendices, "Cryptographic Test Vectors".
SPEC_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"


@pytest.mark.parametrize(("given_json", "expected"), SPEC_EXAMPLES)
def test_spec_examples(given_json: str, expected: str) -> None:
    assert canonical_json(json.loads(given_json)) == expected.encode("utf-8")


def test_spec_number_example_as_integers() -> None:
    # The spec's {"a": -0, "b": 1e10}: in Python the integral values must arrive as ints.
    assert canonical_json({"a": -0, "b": 10**10}) == b'{"a":0,"b":10000000000}'


@pytest.mark.parametrize(
    "bad",
    [1.5, {"a": 1e10}, [float("nan")], {"a": 2**53}, {"a": -(2**53)}, {1: "x"}, b"x", {"a": {1}}],
)
def test_refuses_what_canonical_json_cannot_hold(bad: Any) -> None:
    with pytest.raises(CryptoError):
        canonical_json(bad)


def test_control_characters_escaped_as_spec_grammar() -> None:
    assert (
        canonical_json({"a": '\x00\x0b\x1f\n\t"\\'})
        == b'{"a":"\\u0000\\u000b\\u001f\\n\\t\\"\\\\"}'
    )
    assert canonical_json(["\u2028", "\x7f"]) == '["\u2028","\x7f"]'.encode()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@given(JSON)
def test_matches_canonicaljson_package(value: Any) -> None:
    try:
        oracle = canonicaljson.encode_canonical_json(value)
    except UnicodeEncodeError:  # lone surrogates: both must refuse
        with pytest.raises(CryptoError):
            canonical_json(value)
        return
    assert canonical_json(value) == oracle


def _spec_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_seed(b64decode_unpadded(SPEC_SEED))


def test_spec_signing_vectors() -> None:
    key = _spec_key()
    assert sign_json({}, key, "domain", "1") == {
        "signatures": {
            "domain": {
                "ed25519:1": (
                    "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"
                )
            }
        }
    }
    signed = sign_json({"one": 1, "two": "Two"}, key, "domain", "1")
    assert signed["signatures"]["domain"]["ed25519:1"] == (
        "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
    )
    verify_signed_json(signed, key.public_key, "domain", "1")


def test_sign_preserves_other_signatures_and_unsigned_without_mutating() -> None:
    key = Ed25519PrivateKey.generate()
    original = {
        "x": 1,
        "unsigned": {"age": 5},
        "signatures": {"@a:hs": {"ed25519:OTHER": "sig"}, "@b:hs": {"ed25519:B": "bsig"}},
    }
    snapshot = json.loads(json.dumps(original))
    signed = sign_json(original, key, "@a:hs", "DEV")
    assert original == snapshot
    assert signed["unsigned"] == {"age": 5}
    assert signed["signatures"]["@a:hs"]["ed25519:OTHER"] == "sig"
    assert signed["signatures"]["@b:hs"] == {"ed25519:B": "bsig"}
    verify_signed_json(signed, key.public_key, "@a:hs", "DEV")
    # unsigned and signatures are outside the signature
    changed = {**signed, "unsigned": {"age": 99}}
    verify_signed_json(changed, key.public_key, "@a:hs", "DEV")
    with pytest.raises(InvalidSignature, match="does not verify"):
        verify_signed_json({**signed, "x": 2}, key.public_key, "@a:hs", "DEV")


def test_verify_names_what_is_missing() -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_json({"x": 1}, key, "@a:hs", "DEV")
    with pytest.raises(InvalidSignature, match="no signature by @b:hs with ed25519:DEV"):
        verify_signed_json(signed, key.public_key, "@b:hs", "DEV")
    with pytest.raises(InvalidSignature, match="ed25519:OTHER"):
        verify_signed_json(signed, key.public_key, "@a:hs", "OTHER")
    with pytest.raises(InvalidSignature):
        verify_signed_json(signed, Ed25519PrivateKey.generate().public_key, "@a:hs", "DEV")
    bad = {"x": 1, "signatures": {"@a:hs": {"ed25519:DEV": "!!!"}}}
    with pytest.raises(InvalidSignature, match="base64"):
        verify_signed_json(bad, key.public_key, "@a:hs", "DEV")
    with pytest.raises(CryptoError, match="after 'ed25519:'"):
        sign_json({}, key, "@a:hs", "ed25519:DEV")


def _signedjson_key(key: Ed25519PrivateKey, version: str) -> Any:
    return signedjson.key.decode_signing_key_base64("ed25519", version, key.to_base64())


def test_our_signatures_verify_with_signedjson() -> None:
    key = Ed25519PrivateKey.generate()
    obj = {"user_id": "@a:hs", "keys": {"k": "v"}, "n": 5, "s": "Fjärilspartiet", "unsigned": {}}
    signed = sign_json(obj, key, "@a:hs", "DEV")
    verify_key = signedjson.key.get_verify_key(_signedjson_key(key, "DEV"))
    signedjson.sign.verify_signed_json(signed, "@a:hs", verify_key)
    tampered = {**signed, "n": 6}
    with pytest.raises(signedjson.sign.SignatureVerifyException):
        signedjson.sign.verify_signed_json(tampered, "@a:hs", verify_key)


def test_signedjson_signatures_verify_with_ours() -> None:
    key = Ed25519PrivateKey.generate()
    obj = {"room": "!r:hs", "list": [1, 2, {"z": None}], "text": "日本語", "unsigned": {"a": 1}}
    signed = signedjson.sign.sign_json(
        json.loads(json.dumps(obj)), "@a:hs", _signedjson_key(key, "K1")
    )
    verify_signed_json(signed, key.public_key, "@a:hs", "K1")
    with pytest.raises(InvalidSignature):
        verify_signed_json({**signed, "text": "x"}, key.public_key, "@a:hs", "K1")
