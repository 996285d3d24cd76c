"""Tests for recovery-key encoding and secret storage (m.secret_storage.v1.aes-hmac-sha2)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import (
    DecryptionError,
    InvalidKey,
    InvalidRecoveryKey,
    b64decode_unpadded,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    generate_secret_storage_key,
    key_description,
    key_info_check,
    key_matches_description,
)
from crypto.recovery import base58_decode, base58_encode

# matrix-rust-sdk, crates/matrix-sdk-crypto/src/backups/keys/decryption.rs, base58_decoding test.
RUST_SDK_KEY = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RUST_SDK_TEXT = "EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d"


def test_known_vector_encodes_and_decodes() -> None:
    assert encode_recovery_key(RUST_SDK_KEY) == RUST_SDK_TEXT
    assert decode_recovery_key(RUST_SDK_TEXT) == RUST_SDK_KEY
    assert decode_recovery_key(RUST_SDK_TEXT.replace(" ", "")) == RUST_SDK_KEY
    assert decode_recovery_key(f"  {RUST_SDK_TEXT}\n".replace(" ", "\t")) == RUST_SDK_KEY


@given(st.binary(min_size=32, max_size=32))
def test_round_trip(key: bytes) -> None:
    text = encode_recovery_key(key)
    assert all(len(group) <= 4 for group in text.split(" "))
    assert decode_recovery_key(text) == key


@given(st.binary(max_size=40))
def test_base58_round_trip_keeps_leading_zeros(data: bytes) -> None:
    assert base58_decode(base58_encode(data)) == data


def test_base58_bitcoin_alphabet() -> None:
    assert base58_encode(b"\0\0\x01") == "112"
    assert base58_encode(b"hello world") == "StV1DL6CwTryKyV"


def test_bad_parity() -> None:
    with pytest.raises(InvalidRecoveryKey, match="parity"):
        decode_recovery_key(RUST_SDK_TEXT[:-1] + "e")


def test_bad_prefix() -> None:
    raw = b"\x8b\x02" + RUST_SDK_KEY
    parity = 0
    for byte in raw:
        parity ^= byte
    with pytest.raises(InvalidRecoveryKey, match="prefix"):
        decode_recovery_key(base58_encode(raw + bytes([parity])))


@pytest.mark.parametrize("text", [RUST_SDK_TEXT[:-5], RUST_SDK_TEXT + "2222"])
def test_bad_length(text: str) -> None:
    with pytest.raises(InvalidRecoveryKey, match="length"):
        decode_recovery_key(text)


@pytest.mark.parametrize(("char", "position"), [("0", 1), ("O", 1), ("l", 1), ("I", 1)])
def test_bad_character_is_named(char: str, position: int) -> None:
    with pytest.raises(InvalidRecoveryKey, match=f"'{char}' at position {position}"):
        decode_recovery_key(char + RUST_SDK_TEXT[1:])


def test_empty() -> None:
    with pytest.raises(InvalidRecoveryKey, match="empty"):
        decode_recovery_key("  ")


def test_encode_checks_key_size() -> None:
    with pytest.raises(InvalidKey):
        encode_recovery_key(b"\0" * 31)


def _hkdf_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 from hashlib/hmac, independent of the `cryptography` HKDF under test."""
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm, counter = okm + block, counter + 1
    return okm[:length]


def test_secret_storage_construction_matches_spec() -> None:
    key = generate_secret_storage_key()
    iv = bytes(range(16))
    encrypted = encrypt_secret("c2VjcmV0", key, "m.cross_signing.master", iv=iv)
    assert set(encrypted) == {"iv", "ciphertext", "mac"}
    assert not any(v.endswith("=") for v in encrypted.values())
    mac_key = _hkdf_sha256(key, b"m.cross_signing.master", 64)[32:]
    ciphertext = b64decode_unpadded(encrypted["ciphertext"])
    assert len(ciphertext) == len("c2VjcmV0")  # CTR: no padding
    assert b64decode_unpadded(encrypted["mac"]) == hmac.new(mac_key, ciphertext, "sha256").digest()


def test_secret_storage_round_trip_and_iv_bit_63() -> None:
    key = generate_secret_storage_key()
    for _ in range(64):
        encrypted = encrypt_secret(b"\x00\xffsecret", key, "m.megolm_backup.v1")
        assert b64decode_unpadded(encrypted["iv"])[8] & 0x80 == 0
    assert decrypt_secret(encrypted, key, "m.megolm_backup.v1") == b"\x00\xffsecret"
    padded = {k: v + "=" * (-len(v) % 4) for k, v in encrypted.items()}
    assert decrypt_secret(padded, key, "m.megolm_backup.v1") == b"\x00\xffsecret"


def test_secret_storage_tamper_wrong_key_wrong_name() -> None:
    key = generate_secret_storage_key()
    encrypted = encrypt_secret("s3cret", key, "name")
    ciphertext = bytearray(b64decode_unpadded(encrypted["ciphertext"]))
    ciphertext[0] ^= 1
    from crypto import b64encode_unpadded

    tampered = {**encrypted, "ciphertext": b64encode_unpadded(bytes(ciphertext))}
    with pytest.raises(DecryptionError, match="MAC"):
        decrypt_secret(tampered, key, "name")
    with pytest.raises(DecryptionError, match="MAC"):
        decrypt_secret({**encrypted, "mac": encrypted["mac"][::-1]}, key, "name")
    with pytest.raises(DecryptionError):
        decrypt_secret(encrypted, generate_secret_storage_key(), "name")
    with pytest.raises(DecryptionError):
        decrypt_secret(encrypted, key, "other")
    with pytest.raises(DecryptionError, match="'iv'"):
        decrypt_secret({"ciphertext": "", "mac": ""}, key, "name")


def test_key_check() -> None:
    key = generate_secret_storage_key()
    check = key_info_check(key)
    assert set(check) == {"iv", "mac"}
    description = key_description(key, name="Samverkan")
    assert description["algorithm"] == "m.secret_storage.v1.aes-hmac-sha2"
    assert key_matches_description(key, description)
    assert key_matches_description(key, check)
    assert not key_matches_description(generate_secret_storage_key(), description)
    assert key_matches_description(key, {"algorithm": "m.secret_storage.v1.aes-hmac-sha2"})
    iv = bytes(16)
    assert key_info_check(key, iv=iv) == key_info_check(key, iv=iv)
    with pytest.raises(InvalidKey):
        key_info_check(b"short")
