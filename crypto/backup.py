"""Provides server-side key backup encryption (``m.megolm_backup.v1.curve25519-aes-sha2``).

Per the spec ("Server-side key backups"), each backed-up session is encrypted as:

1. X25519 between a fresh ephemeral key and the backup public key;
2. HKDF-SHA-256 (salt = 32 zero bytes, empty info) → 80 bytes: AES-256 key, HMAC key, IV;
3. the session JSON is encrypted with AES-256-CBC and PKCS#7 padding;
4. ``mac`` = the first 8 bytes of HMAC-SHA-256 over the **empty string** — a libolm bug
   that every implementation (libolm, vodozemac, the SDKs) now reproduces, so the MAC
   authenticates nothing but the key derivation. MSC4048 proposes a fix.

All values are unpadded base64. The layout is byte-compatible with vodozemac's
``PkEncryption``/``PkDecryption`` (tested). The backup private key is shown to users as a
recovery key (``crypto.recovery``) and stored in secret storage under ``m.megolm_backup.v1``
as base64.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.canonical import sign_json
from crypto.errors import CryptoError, DecryptionError, InvalidKey
from crypto.keys import (
    Curve25519PrivateKey,
    Curve25519PublicKey,
    Ed25519PrivateKey,
    b64decode_unpadded,
    b64encode_unpadded,
)
from crypto.recovery import decode_recovery_key, encode_recovery_key

BACKUP_ALGORITHM: Final = "m.megolm_backup.v1.curve25519-aes-sha2"
SECRET_NAME: Final = "m.megolm_backup.v1"
MAC_LENGTH: Final = 8


def _derive(shared_secret: bytes) -> tuple[bytes, bytes, bytes]:
    okm = HKDF(algorithm=hashes.SHA256(), length=80, salt=b"\0" * 32, info=b"").derive(
        shared_secret
    )
    return okm[:32], okm[32:64], okm[64:]


def _truncated_mac(mac_key: bytes) -> bytes:
    h = crypto_hmac.HMAC(mac_key, hashes.SHA256())
    h.update(b"")  # the spec's (libolm's) quirk: the MAC is over nothing
    return h.finalize()[:MAC_LENGTH]


def pk_encrypt(public_key: Curve25519PublicKey, plaintext: bytes) -> dict[str, str]:
    """Encrypt raw bytes to ``public_key``: ``{"ephemeral", "ciphertext", "mac"}``."""
    ephemeral = Curve25519PrivateKey.generate()
    aes_key, mac_key, iv = _derive(ephemeral.exchange(public_key))
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return {
        "ephemeral": ephemeral.public_key.to_base64(),
        "ciphertext": b64encode_unpadded(ciphertext),
        "mac": b64encode_unpadded(_truncated_mac(mac_key)),
    }


def encrypt_session_for_backup(
    public_key_b64: str, session_data: Mapping[str, Any]
) -> dict[str, str]:
    """Encrypt one ``BackedUpSessionData`` object for the backup whose key is given."""
    public_key = Curve25519PublicKey.from_base64(public_key_b64)
    try:
        plaintext = json.dumps(
            session_data, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise CryptoError(f"session data is not JSON-serialisable: {exc}") from exc
    return pk_encrypt(public_key, plaintext)


def _field(encrypted: Mapping[str, object], field: str) -> bytes:
    value = encrypted.get(field)
    if not isinstance(value, str):
        raise DecryptionError(f"backed-up session has no {field!r}")
    try:
        return b64decode_unpadded(value)
    except CryptoError as exc:
        raise DecryptionError(f"backed-up session's {field!r} is not base64") from exc


class BackupKey:
    """The private key of a key backup version."""

    __slots__ = ("_key",)

    def __init__(self, key: Curve25519PrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return f"<BackupKey public={self.public_key.fingerprint}… (private key hidden)>"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("BackupKey refuses to be pickled; store to_base64()")

    @classmethod
    def generate(cls) -> BackupKey:
        """A fresh backup key."""
        return cls(Curve25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, raw: bytes) -> BackupKey:
        """The backup key whose 32 raw bytes are ``raw``."""
        return cls(Curve25519PrivateKey(raw))

    @classmethod
    def from_recovery_key(cls, text: str) -> BackupKey:
        """Parse a user-typed recovery key; ``InvalidRecoveryKey`` says what is wrong."""
        return cls(Curve25519PrivateKey(decode_recovery_key(text)))

    def to_recovery_key(self) -> str:
        """The key in recovery-key form, for the user to write down. Secret."""
        return encode_recovery_key(bytes(self._key))

    @classmethod
    def from_base64(cls, text: str) -> BackupKey:
        """The key from its base64 form (the ``m.megolm_backup.v1`` secret)."""
        return cls(Curve25519PrivateKey.from_base64(text))

    def to_base64(self) -> str:
        """The key as unpadded base64 (the ``m.megolm_backup.v1`` secret). Secret."""
        return self._key.to_base64()

    def __bytes__(self) -> bytes:
        return bytes(self._key)

    @property
    def public_key(self) -> Curve25519PublicKey:
        """The backup's public key."""
        return self._key.public_key

    @property
    def public_key_base64(self) -> str:
        """The backup's public key as unpadded base64 (``auth_data.public_key``)."""
        return self.public_key.to_base64()

    def auth_data(self) -> dict[str, Any]:
        """Unsigned ``auth_data`` for ``POST /room_keys/version``."""
        return {"public_key": self.public_key_base64}

    def matches(self, auth_data: Mapping[str, Any]) -> bool:
        """Whether a backup version's ``auth_data`` names this key's public key."""
        other = auth_data.get("public_key")
        if not isinstance(other, str):
            return False
        try:
            return Curve25519PublicKey.from_base64(other) == self.public_key
        except InvalidKey:
            return False

    def pk_decrypt(self, encrypted: Mapping[str, object]) -> bytes:
        """Decrypt ``pk_encrypt`` output; ``DecryptionError`` on any failure."""
        ephemeral_raw, ciphertext, mac = (
            _field(encrypted, f) for f in ("ephemeral", "ciphertext", "mac")
        )
        try:
            shared = self._key.exchange(Curve25519PublicKey(ephemeral_raw))
        except InvalidKey as exc:
            raise DecryptionError("backed-up session has an unusable ephemeral key") from exc
        aes_key, mac_key, iv = _derive(shared)
        if not hmac.compare_digest(_truncated_mac(mac_key), mac):
            raise DecryptionError(
                "backed-up session fails its MAC: it was encrypted for a different backup key"
            )
        if not ciphertext or len(ciphertext) % 16:
            raise DecryptionError("backed-up session ciphertext is truncated")
        decryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            raise DecryptionError("backed-up session has bad padding (tampered data)") from exc

    def decrypt_session(self, encrypted: Mapping[str, object]) -> dict[str, Any]:
        """Decrypt one backed-up session's ``session_data`` into its JSON object."""
        plaintext = self.pk_decrypt(encrypted)
        try:
            data = json.loads(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecryptionError("backed-up session does not decrypt to JSON") from exc
        if not isinstance(data, dict):
            raise DecryptionError("backed-up session does not decrypt to a JSON object")
        return data


def sign_backup_auth_data(
    auth_data: Mapping[str, Any],
    signing_key: Ed25519PrivateKey,
    user_id: str,
    key_id: str | None = None,
) -> dict[str, Any]:
    """``auth_data`` signed by a cross-signing master key or a device key.

    ``key_id`` is the device ID for a device key; by default it is the signing key's
    unpadded base64 public key, the key ID cross-signing keys use.
    """
    return sign_json(auth_data, signing_key, user_id, key_id or signing_key.public_key.to_base64())
