"""Tests for the key value objects and unpadded base64."""

from __future__ import annotations

import pickle

import pytest

from crypto import (
    CryptoError,
    Curve25519PrivateKey,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    InvalidKey,
    InvalidSignature,
    b64decode_unpadded,
    b64encode_unpadded,
)
from crypto.keys import b64decode_strict


def test_base64_is_unpadded_and_decodes_both_forms() -> None:
    assert b64encode_unpadded(b"\x00\x01") == "AAE"
    assert b64decode_unpadded("AAE") == b"\x00\x01"
    assert b64decode_unpadded("AAE=") == b"\x00\x01"
    assert b64decode_unpadded("") == b""


@pytest.mark.parametrize("bad", ["A", "AA*A", "A-_B", "AAAAA"])
def test_base64_rejects_garbage(bad: str) -> None:
    with pytest.raises(CryptoError):
        b64decode_unpadded(bad)


def test_strict_base64_rejects_non_canonical_trailing_bits() -> None:
    assert b64decode_unpadded("AAF") == b64decode_unpadded("AAE")
    with pytest.raises(CryptoError, match="canonical"):
        b64decode_strict("AAF")


def test_sign_verify_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    signature = key.sign(b"hello")
    assert len(signature) == 64
    key.public_key.verify(b"hello", signature)
    with pytest.raises(InvalidSignature):
        key.public_key.verify(b"hellO", signature)
    with pytest.raises(InvalidSignature):
        Ed25519PrivateKey.generate().public_key.verify(b"hello", signature)
    with pytest.raises(InvalidSignature, match="64 bytes"):
        key.public_key.verify(b"hello", signature[:-1])


def test_seed_round_trip_and_equality() -> None:
    key = Ed25519PrivateKey.generate()
    again = Ed25519PrivateKey.from_seed(bytes(key))
    assert again == key
    assert Ed25519PrivateKey.from_base64(key.to_base64()) == key
    assert again.public_key == key.public_key
    assert Ed25519PublicKey.from_base64(key.public_key.to_base64()) == key.public_key
    assert hash(again.public_key) == hash(key.public_key)
    assert key != Ed25519PrivateKey.generate()
    assert key.public_key != bytes(key.public_key)  # no accidental equality with raw bytes


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_sizes_are_checked(size: int) -> None:
    with pytest.raises(InvalidKey, match="32 bytes"):
        Ed25519PrivateKey.from_seed(b"\x01" * size)
    with pytest.raises(InvalidKey, match="32 bytes"):
        Ed25519PublicKey(b"\x01" * size)
    with pytest.raises(InvalidKey):
        Curve25519PrivateKey(b"\x01" * size)


def test_repr_never_shows_key_material() -> None:
    key = Ed25519PrivateKey.generate()
    secret_forms = {key.to_base64(), bytes(key).hex(), repr(bytes(key))}
    shown = repr(key) + str(key) + repr(key.public_key) + repr(Curve25519PrivateKey.generate())
    assert repr(key) == "<Ed25519PrivateKey hidden>"
    assert not any(form in shown for form in secret_forms)
    assert key.public_key.to_base64()[:8] in repr(key.public_key)
    assert key.public_key.to_base64() not in repr(key.public_key)


def test_private_keys_refuse_pickle_and_mutation() -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(AttributeError):
        key._raw = b"\0" * 32


def test_curve25519_exchange_agrees() -> None:
    a, b = Curve25519PrivateKey.generate(), Curve25519PrivateKey.generate()
    assert a.exchange(b.public_key) == b.exchange(a.public_key)
    from crypto.keys import Curve25519PublicKey

    with pytest.raises(InvalidKey):
        a.exchange(Curve25519PublicKey(b"\0" * 32))  # low-order point
