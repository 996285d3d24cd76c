"""Tests for m.megolm_backup.v1.curve25519-aes-sha2 key backup, including vodozemac interop."""

from __future__ import annotations

import json
from typing import Any

import pytest
import signedjson.key
import signedjson.sign
import vodozemac

from crypto import (
    BackupKey,
    CrossSigningKeys,
    DecryptionError,
    InvalidRecoveryKey,
    b64decode_unpadded,
    b64encode_unpadded,
    encrypt_session_for_backup,
    sign_backup_auth_data,
)
from crypto.backup import pk_encrypt

SESSION: dict[str, Any] = {
    "algorithm": "m.megolm.v1.aes-sha2",
    "forwarding_curve25519_key_chain": [],
    "sender_key": "RF3s+E7RkTQTGF2d8Deol0FkQvgII2aJDf3/Jp5mxVU",
    "sender_claimed_keys": {"ed25519": "aj40p+aw64yPIdsxoog8jhPu9i7l7NcFRecuOQblE3Y"},
    "session_key": "AgAAAADxKHa9uFxcXzwYoNueL5Xqi69IkD4sni8Llf",
    "note": "Fjärilspartiet",
}

# matrix-rust-sdk, crates/matrix-sdk-crypto/src/backups/keys/decryption.rs, test_decrypt_key.
RUST_SDK_KEY = "Ha9cklU/9NqFo9WKdVfGzmqUL/9wlkdxfEitbSIPVXw"
RUST_SDK_SESSION_DATA = {
    "ephemeral": "HlLi76oV6wxHz3PCqE/bxJi6yF1HnYz5Dq3T+d/KpRw",
    "ciphertext": (
        "MuM8E3Yc6TSAvhVGb77rQ++jE6p9dRepx63/3YPD2wACKAppkZHeFrnTH6wJ/HSyrmzo"
        "7HfwqVl6tKNpfooSTHqUf6x1LHz+h4B/Id5ITO1WYt16AaI40LOnZqTkJZCfSPuE2oxa"
        "lwEHnCS3biWybutcnrBFPR3LMtaeHvvkb+k3ny9l5ZpsU9G7vCm3XoeYkWfLekWXvDhb"
        "qWrylXD0+CNUuaQJ/S527TzLd4XKctqVjjO/cCH7q+9utt9WJAfK8LGaWT/mZ3AeWjf5"
        "kiqOpKKf5Cn4n5SSil5p/pvGYmjnURvZSEeQIzHgvunIBEPtzK/MYEPOXe/P5achNGlC"
        "x+5N19Ftyp9TFaTFlTWCTi0mpD7ePfCNISrwpozAz9HZc0OhA8+1aSc7rhYFIeAYXFU3"
        "26NuFIFHI5pvpSxjzPQlOA+mavIKmiRAtjlLw11IVKTxgrdT4N8lXeMr4ndCSmvIkAzF"
        "Mo1uZA4fzjiAdQJE4/2WeXFNNpvdfoYmX8Zl9CAYjpSO5HvpwkAbk4/iLEH3hDfCVUwD"
        "fMh05PdGLnxeRpiEFWSMSsJNp+OWAA+5JsF41BoRGrxoXXT+VKqlUDONd+O296Psu8Q+"
        "d8/S618"
    ),
    "mac": "GtMrurhDTwo",
}


def test_round_trip() -> None:
    key = BackupKey.generate()
    encrypted = encrypt_session_for_backup(key.public_key_base64, SESSION)
    assert set(encrypted) == {"ephemeral", "ciphertext", "mac"}
    assert len(b64decode_unpadded(encrypted["mac"])) == 8
    assert not any(v.endswith("=") for v in encrypted.values())
    assert key.decrypt_session(encrypted) == SESSION


def test_known_vector_from_matrix_rust_sdk() -> None:
    key = BackupKey.from_base64(RUST_SDK_KEY)
    session = key.decrypt_session(RUST_SDK_SESSION_DATA)
    assert session["algorithm"] == "m.megolm.v1.aes-sha2"
    assert {"sender_key", "session_key", "sender_claimed_keys"} <= set(session)


def test_vodozemac_decrypts_what_we_encrypt() -> None:
    secret = vodozemac.Curve25519SecretKey()
    decryption = vodozemac.PkDecryption.from_key(secret)
    encrypted = encrypt_session_for_backup(decryption.public_key.to_base64(), SESSION)
    message = vodozemac.Message(
        b64decode_unpadded(encrypted["ciphertext"]),
        b64decode_unpadded(encrypted["mac"]),
        b64decode_unpadded(encrypted["ephemeral"]),
    )
    assert json.loads(decryption.decrypt(message)) == SESSION
    # and the same private key, read through our recovery-key form, decrypts it too
    ours = BackupKey.from_recovery_key(BackupKey.from_bytes(secret.to_bytes()).to_recovery_key())
    assert ours.public_key_base64 == decryption.public_key.to_base64()
    assert ours.decrypt_session(encrypted) == SESSION


def test_we_decrypt_what_vodozemac_encrypts() -> None:
    key = BackupKey.generate()
    encryption = vodozemac.PkEncryption.from_key(
        vodozemac.Curve25519PublicKey.from_base64(key.public_key_base64)
    )
    message = encryption.encrypt(json.dumps(SESSION).encode())
    encrypted = {
        "ciphertext": b64encode_unpadded(message.ciphertext),
        "mac": b64encode_unpadded(message.mac),
        "ephemeral": b64encode_unpadded(message.ephemeral_key),
    }
    assert key.decrypt_session(encrypted) == SESSION


def test_wrong_key_fails_on_the_mac() -> None:
    encrypted = encrypt_session_for_backup(BackupKey.generate().public_key_base64, SESSION)
    with pytest.raises(DecryptionError, match="different backup key"):
        BackupKey.generate().decrypt_session(encrypted)


def test_tampering_is_detected_where_the_spec_allows() -> None:
    key = BackupKey.generate()
    encrypted = encrypt_session_for_backup(key.public_key_base64, SESSION)
    ciphertext = b64decode_unpadded(encrypted["ciphertext"])
    truncated = {**encrypted, "ciphertext": b64encode_unpadded(ciphertext[:-3])}
    with pytest.raises(DecryptionError, match="truncated"):
        key.decrypt_session(truncated)
    # The spec's MAC covers nothing, so flipping the last block only shows as bad padding/JSON.
    last = bytearray(ciphertext)
    last[-1] ^= 0xFF
    with pytest.raises(DecryptionError):
        key.decrypt_session({**encrypted, "ciphertext": b64encode_unpadded(bytes(last))})
    with pytest.raises(DecryptionError, match="'mac'"):
        key.decrypt_session({"ephemeral": encrypted["ephemeral"], "ciphertext": ""})
    not_object = pk_encrypt(key.public_key, b"[1,2]")
    with pytest.raises(DecryptionError, match="JSON object"):
        key.decrypt_session(not_object)


def test_recovery_key_and_auth_data() -> None:
    key = BackupKey.generate()
    again = BackupKey.from_recovery_key(key.to_recovery_key())
    assert bytes(again) == bytes(key)
    assert BackupKey.from_base64(key.to_base64()).public_key == key.public_key
    assert key.matches(key.auth_data())
    assert not key.matches(BackupKey.generate().auth_data())
    assert not key.matches({"public_key": "not base64!"})
    assert key.to_base64() not in repr(key)
    with pytest.raises(InvalidRecoveryKey):
        BackupKey.from_recovery_key("EsTc LW2K")


def test_auth_data_signed_by_master_key_verifies_with_signedjson() -> None:
    cross = CrossSigningKeys.generate()
    backup = BackupKey.generate()
    signed = sign_backup_auth_data(backup.auth_data(), cross.master, "@bot:localhost")
    master_b64 = cross.master.public_key.to_base64()
    verify_key = signedjson.key.decode_verify_key_bytes(
        f"ed25519:{master_b64}", bytes(cross.master.public_key)
    )
    signedjson.sign.verify_signed_json(signed, "@bot:localhost", verify_key)
    by_device = sign_backup_auth_data(signed, cross.self_signing, "@bot:localhost", "DEVICE")
    assert set(by_device["signatures"]["@bot:localhost"]) == {
        f"ed25519:{master_b64}",
        "ed25519:DEVICE",
    }
