"""Tests for cross-signing keys: upload JSON, device and user signatures, chain checks."""

from __future__ import annotations

from typing import Any

import pytest
import signedjson.key
import signedjson.sign
import vodozemac

from crypto import (
    CrossSigningKeys,
    Ed25519PublicKey,
    InvalidKey,
    InvalidSignature,
    canonical_json,
    cross_signing_public_key,
    verify_cross_signing_chain,
    verify_device_signed,
    verify_user_signed,
)
from crypto.keys import b64decode_unpadded

ALICE = "@alice:localhost"
BOB = "@bob:localhost"


def device_keys(user_id: str, device_id: str = "DEVICEA") -> dict[str, Any]:
    """A real device_keys object, self-signed by a vodozemac Olm account (as nio makes it)."""
    account = vodozemac.Account()
    body: dict[str, Any] = {
        "user_id": user_id,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {
            f"curve25519:{device_id}": account.curve25519_key.to_base64(),
            f"ed25519:{device_id}": account.ed25519_key.to_base64(),
        },
    }
    signature = account.sign(canonical_json(body)).to_base64()
    body["signatures"] = {user_id: {f"ed25519:{device_id}": signature}}
    return body


def signedjson_verify(obj: dict[str, Any], user_id: str, public_key: Ed25519PublicKey) -> None:
    key_id = f"ed25519:{public_key.to_base64()}"
    verify_key = signedjson.key.decode_verify_key_bytes(key_id, bytes(public_key))
    signedjson.sign.verify_signed_json(obj, user_id, verify_key)


def test_upload_body_has_the_spec_shape_and_verifies_with_signedjson() -> None:
    keys = CrossSigningKeys.generate()
    body = keys.device_signing_upload_body(ALICE)
    master_b64 = keys.master.public_key.to_base64()
    assert body["master_key"] == {
        "user_id": ALICE,
        "usage": ["master"],
        "keys": {f"ed25519:{master_b64}": master_b64},
    }
    for field, usage, private in [
        ("self_signing_key", "self_signing", keys.self_signing),
        ("user_signing_key", "user_signing", keys.user_signing),
    ]:
        key_json = body[field]
        pub = private.public_key.to_base64()
        assert key_json["usage"] == [usage]
        assert key_json["keys"] == {f"ed25519:{pub}": pub}
        assert list(key_json["signatures"][ALICE]) == [f"ed25519:{master_b64}"]
        signedjson_verify(key_json, ALICE, keys.master.public_key)


def test_seeds_round_trip() -> None:
    keys = CrossSigningKeys.generate()
    again = CrossSigningKeys.from_seeds(keys.to_seeds())
    assert again == keys
    assert set(keys.to_seeds()) == {"master", "self_signing", "user_signing"}
    assert "hidden" in repr(keys)
    assert not any(seed in repr(keys) for seed in keys.to_seeds().values())
    with pytest.raises(InvalidKey, match="user_signing"):
        CrossSigningKeys.from_seeds({"master": keys.to_seeds()["master"], "self_signing": "x"})


def test_sign_device_keeps_the_device_signature_and_chain_verifies() -> None:
    keys = CrossSigningKeys.generate()
    device = device_keys(ALICE)
    signed = keys.sign_device(device, ALICE)
    ssk = keys.self_signing.public_key
    assert set(signed["signatures"][ALICE]) == {"ed25519:DEVICEA", f"ed25519:{ssk.to_base64()}"}
    signedjson_verify(signed, ALICE, ssk)
    # the device's own signature still verifies too
    device_key = Ed25519PublicKey.from_base64(device["keys"]["ed25519:DEVICEA"])
    verify_key = signedjson.key.decode_verify_key_bytes("ed25519:DEVICEA", bytes(device_key))
    signedjson.sign.verify_signed_json(signed, ALICE, verify_key)

    ssk_json = keys.self_signing_key_json(ALICE)
    verify_device_signed(signed, ssk_json, ALICE)
    master = verify_cross_signing_chain(keys.master_key_json(ALICE), ssk_json, signed, ALICE)
    assert master == keys.master.public_key
    verify_cross_signing_chain(
        keys.master_key_json(ALICE), ssk_json, signed, ALICE, trusted_master=master
    )


def test_chain_breaks_are_named() -> None:
    keys, other = CrossSigningKeys.generate(), CrossSigningKeys.generate()
    signed = keys.sign_device(device_keys(ALICE), ALICE)
    master_json, ssk_json = keys.master_key_json(ALICE), keys.self_signing_key_json(ALICE)

    with pytest.raises(InvalidSignature, match="not signed by the self-signing key"):
        verify_cross_signing_chain(master_json, ssk_json, device_keys(ALICE), ALICE)
    with pytest.raises(InvalidSignature, match="not signed by the master key"):
        verify_cross_signing_chain(other.master_key_json(ALICE), ssk_json, signed, ALICE)
    with pytest.raises(InvalidSignature, match="not the trusted"):
        verify_cross_signing_chain(
            master_json, ssk_json, signed, ALICE, trusted_master=other.master.public_key
        )
    with pytest.raises(InvalidSignature, match="belongs to"):
        verify_cross_signing_chain(master_json, ssk_json, signed, BOB)
    tampered = {**signed, "algorithms": ["m.megolm.v1.aes-sha2"]}
    with pytest.raises(InvalidSignature):
        verify_device_signed(tampered, ssk_json, ALICE)
    with pytest.raises(InvalidSignature, match="usage"):
        verify_device_signed(signed, keys.user_signing_key_json(ALICE), ALICE)


def test_refuses_to_self_sign_someone_elses_device() -> None:
    from crypto import CryptoError

    with pytest.raises(CryptoError, match="refusing"):
        CrossSigningKeys.generate().sign_device(device_keys(BOB), ALICE)


def test_user_signing_another_users_master_key() -> None:
    alice, bob = CrossSigningKeys.generate(), CrossSigningKeys.generate()
    bob_master = bob.master_key_json(BOB)
    signed = alice.sign_user_master_key(bob_master, ALICE)
    usk = alice.user_signing.public_key
    assert list(signed["signatures"]) == [ALICE]
    signedjson_verify(signed, ALICE, usk)
    verify_user_signed(signed, alice.user_signing_key_json(ALICE), ALICE)
    with pytest.raises(InvalidSignature):
        verify_user_signed(bob_master, alice.user_signing_key_json(ALICE), ALICE)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda j: j.update(keys={}), "exactly one key"),
        (lambda j: j.update(keys={"ed25519:AAAA": "BBBB"}), "key ID"),
        (lambda j: j.update(keys={"curve25519:X": "X"}), "key ID"),
        (lambda j: j.update(usage="master"), "usage"),
        (lambda j: j.update(user_id=BOB), "belongs to"),
    ],
)
def test_malformed_cross_signing_keys(mutate: Any, message: str) -> None:
    key_json = CrossSigningKeys.generate().master_key_json(ALICE)
    mutate(key_json)
    with pytest.raises(InvalidSignature, match=message):
        cross_signing_public_key(key_json, usage="master", user_id=ALICE)


def test_key_ids_are_unpadded_base64_public_keys() -> None:
    keys = CrossSigningKeys.generate()
    (key_id,) = keys.master_key_json(ALICE)["keys"]
    algorithm, b64 = key_id.split(":", 1)
    assert algorithm == "ed25519"
    assert "=" not in b64
    assert len(b64) == 43
    assert b64decode_unpadded(b64) == bytes(keys.master.public_key)
