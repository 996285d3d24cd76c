"""Provides recovery-key text encoding and secret storage (``m.secret_storage.v1.aes-hmac-sha2``).

Recovery keys follow the spec's "Cryptographic key representation": ``0x8B 0x01`` + the
32-byte key + an XOR parity byte over all preceding bytes, base58 (Bitcoin alphabet),
a space after every 4th character. Decoding ignores whitespace.

Secret storage (spec, "Secrets"): HKDF-SHA-256 (salt = 32 zero bytes, info = secret name)
gives 64 bytes, an AES-256-CTR key and an HMAC-SHA-256 key. The IV is 16 random bytes with
bit 63 cleared (so OpenSSL's 128-bit CTR counter and the 64-bit counter of WebCrypto
clients agree); the MAC covers the ciphertext. Everything is unpadded base64. A key
description's ``iv``/``mac`` check is the same construction over 32 zero bytes with the
empty name. Passphrase-derived keys (``m.pbkdf2``) are not supported.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import CryptoError, DecryptionError, InvalidKey, InvalidRecoveryKey
from crypto.keys import KEY_SIZE, b64decode_unpadded, b64encode_unpadded

SECRET_STORAGE_ALGORITHM: Final = "m.secret_storage.v1.aes-hmac-sha2"
RECOVERY_KEY_PREFIX: Final = b"\x8b\x01"
BASE58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX: Final = {c: i for i, c in enumerate(BASE58_ALPHABET)}
_RECOVERY_KEY_BYTES: Final = len(RECOVERY_KEY_PREFIX) + KEY_SIZE + 1


def base58_encode(data: bytes) -> str:
    """Bitcoin-alphabet base58; each leading zero byte becomes a leading ``1``."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(BASE58_ALPHABET[rem])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def base58_decode(text: str) -> bytes:
    """Inverse of ``base58_encode``; ``ValueError`` names the first foreign character."""
    number = 0
    for position, char in enumerate(text):
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            raise ValueError(f"character {char!r} at position {position + 1} is not base58")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def _parity(data: bytes) -> int:
    parity = 0
    for byte in data:
        parity ^= byte
    return parity


def encode_recovery_key(key: bytes) -> str:
    """The 32-byte ``key`` as a human-friendly recovery key (``EsTc LW2K …``). Secret."""
    if len(key) != KEY_SIZE:
        raise InvalidKey(f"a recovery key encodes {KEY_SIZE} bytes, got {len(key)}")
    raw = RECOVERY_KEY_PREFIX + bytes(key)
    text = base58_encode(raw + bytes([_parity(raw)]))
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def decode_recovery_key(text: str) -> bytes:
    """The 32-byte key in a recovery key; ``InvalidRecoveryKey`` says what is wrong."""
    compact = "".join(text.split())
    if not compact:
        raise InvalidRecoveryKey("the recovery key is empty")
    try:
        raw = base58_decode(compact)
    except ValueError as exc:
        raise InvalidRecoveryKey(
            f"the recovery key contains a {exc}; check for mistyped 0/O or I/l"
        ) from None
    if len(raw) != _RECOVERY_KEY_BYTES:
        raise InvalidRecoveryKey(
            f"the recovery key has the wrong length ({len(raw)} bytes, expected "
            f"{_RECOVERY_KEY_BYTES}); was all of it copied?"
        )
    if raw[:2] != RECOVERY_KEY_PREFIX:
        raise InvalidRecoveryKey(
            "this is not a Matrix recovery key (wrong prefix); it may be a different kind of key"
        )
    if _parity(raw[:-1]) != raw[-1]:
        raise InvalidRecoveryKey(
            "the recovery key fails its parity check; a character is probably mistyped"
        )
    return raw[2:-1]


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    if len(key) != KEY_SIZE:
        raise InvalidKey(f"secret storage key must be {KEY_SIZE} bytes, got {len(key)}")
    okm = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=b"\0" * 32, info=name.encode("utf-8")
    ).derive(bytes(key))
    return okm[:32], okm[32:]


def _aes_ctr(aes_key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _mac(mac_key: bytes, data: bytes) -> bytes:
    h = crypto_hmac.HMAC(mac_key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def _fresh_iv() -> bytes:
    iv = bytearray(os.urandom(16))
    iv[8] &= 0x7F  # bit 63 (counting from the most significant bit of the block) cleared
    return bytes(iv)


def encrypt_secret(
    secret: bytes | str, key: bytes, name: str, *, iv: bytes | None = None
) -> dict[str, str]:
    """Encrypt ``secret`` for account data ``name``: ``{"iv", "ciphertext", "mac"}``.

    ``iv`` is for test vectors only; by default a fresh one is drawn.
    """
    plaintext = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    aes_key, mac_key = _derive(key, name)
    iv = _fresh_iv() if iv is None else iv
    if len(iv) != 16:
        raise CryptoError(f"iv must be 16 bytes, got {len(iv)}")
    ciphertext = _aes_ctr(aes_key, iv, plaintext)
    return {
        "iv": b64encode_unpadded(iv),
        "ciphertext": b64encode_unpadded(ciphertext),
        "mac": b64encode_unpadded(_mac(mac_key, ciphertext)),
    }


def _field(encrypted: Mapping[str, object], field: str) -> bytes:
    value = encrypted.get(field)
    if not isinstance(value, str):
        raise DecryptionError(f"encrypted secret has no {field!r}")
    try:
        return b64decode_unpadded(value)
    except CryptoError as exc:
        raise DecryptionError(f"encrypted secret's {field!r} is not base64") from exc


def decrypt_secret(encrypted: Mapping[str, object], key: bytes, name: str) -> bytes:
    """The plaintext of ``encrypt_secret``'s output; ``DecryptionError`` if the MAC fails.

    Matrix secrets are strings, so the result is usually UTF-8 (often base64 of a key).
    """
    iv, ciphertext, mac = (_field(encrypted, f) for f in ("iv", "ciphertext", "mac"))
    if len(iv) != 16:
        raise DecryptionError(f"encrypted secret's iv must be 16 bytes, got {len(iv)}")
    aes_key, mac_key = _derive(key, name)
    if not hmac.compare_digest(_mac(mac_key, ciphertext), mac):
        raise DecryptionError(
            f"secret {name!r} fails its MAC: wrong secret storage key, wrong name, or tampered data"
        )
    return _aes_ctr(aes_key, iv, ciphertext)


def key_info_check(key: bytes, *, iv: bytes | None = None) -> dict[str, str]:
    """The ``{"iv", "mac"}`` check stored in a ``m.secret_storage.key.*`` description."""
    encrypted = encrypt_secret(b"\0" * 32, key, "", iv=iv)
    return {"iv": encrypted["iv"], "mac": encrypted["mac"]}


def key_description(key: bytes, name: str | None = None) -> dict[str, str]:
    """A complete ``m.secret_storage.key.[key ID]`` account-data body for ``key``."""
    body = {"algorithm": SECRET_STORAGE_ALGORITHM, **key_info_check(key)}
    if name is not None:
        body["name"] = name
    return body


def key_matches_description(key: bytes, description: Mapping[str, object]) -> bool:
    """Whether ``key`` passes the description's ``iv``/``mac`` check (true if it has none)."""
    if description.get("iv") is None and description.get("mac") is None:
        return True
    iv, mac = _field(description, "iv"), _field(description, "mac")
    if len(iv) != 16:
        return False
    aes_key, mac_key = _derive(key, "")
    return hmac.compare_digest(_mac(mac_key, _aes_ctr(aes_key, iv, b"\0" * 32)), mac)


def generate_secret_storage_key() -> bytes:
    """A fresh random 32-byte secret storage key."""
    return os.urandom(KEY_SIZE)
