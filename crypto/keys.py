"""Provides checked key value objects over PyNaCl (Ed25519, Curve25519) and unpadded base64.

Each key checks its size in ``__init__``, compares in constant time, converts to raw bytes
with ``bytes(key)``, and never shows private material in ``repr``. Public keys show a short
fingerprint (the first characters of their unpadded base64 form, as Matrix clients do).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Final

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.signing
import nacl.utils

from crypto.errors import CryptoError, InvalidKey, InvalidSignature

KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
FINGERPRINT_CHARS: Final = 8


def b64encode_unpadded(data: bytes) -> str:
    """Standard-alphabet base64 without ``=`` padding, as Matrix uses everywhere."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64decode_unpadded(text: str) -> bytes:
    """Decode standard base64, padded or not; raise ``CryptoError`` on anything else."""
    if not isinstance(text, str):
        raise CryptoError(f"expected a base64 string, got {type(text).__name__}")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise CryptoError("not valid base64: impossible length")
    try:
        return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("not valid base64") from exc


def b64decode_strict(text: str) -> bytes:
    """Decode unpadded base64 and insist it is the canonical encoding of the result.

    Rejects padding and non-zero trailing bits, so one byte string has one text form.
    """
    data = b64decode_unpadded(text)
    if b64encode_unpadded(data) != text:
        raise CryptoError("not canonical unpadded base64")
    return data


def _check_size(kind: str, raw: bytes, size: int = KEY_SIZE) -> bytes:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise InvalidKey(f"{kind} must be bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) != size:
        raise InvalidKey(f"{kind} must be {size} bytes, got {len(raw)}")
    return raw


def _decode_key(kind: str, text: str) -> bytes:
    try:
        return b64decode_unpadded(text)
    except CryptoError as exc:
        raise InvalidKey(f"{kind} is not valid base64") from exc


class _RawKey:
    """Shared behaviour: fixed-size bytes, constant-time equality, ``bytes(key)``."""

    __slots__ = ("_raw",)
    KIND = "key"

    def __init__(self, raw: bytes) -> None:
        self._raw = _check_size(self.KIND, raw)

    def __bytes__(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _RawKey)
        return hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._raw))

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_raw"):
            raise AttributeError(f"{type(self).__name__} is immutable")
        object.__setattr__(self, name, value)


class _PublicKey(_RawKey):
    __slots__ = ()

    def to_base64(self) -> str:
        """The key as unpadded base64 (the form Matrix key IDs and JSON use)."""
        return b64encode_unpadded(self._raw)

    @property
    def fingerprint(self) -> str:
        """A short, non-secret identifier for logs and repr."""
        return self.to_base64()[:FINGERPRINT_CHARS]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.fingerprint}…>"


class _PrivateKey(_RawKey):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} hidden>"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError(f"{type(self).__name__} refuses to be pickled; store to_base64()")


class Ed25519PublicKey(_PublicKey):
    """A 32-byte Ed25519 verification key."""

    __slots__ = ()
    KIND = "Ed25519 public key"

    @classmethod
    def from_base64(cls, text: str) -> Ed25519PublicKey:
        """Decode an unpadded (or padded) base64 public key."""
        return cls(_decode_key(cls.KIND, text))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise ``InvalidSignature`` unless ``signature`` is this key's over ``message``."""
        if len(signature) != SIGNATURE_SIZE:
            raise InvalidSignature(
                f"signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}"
            )
        try:
            nacl.bindings.crypto_sign_open(bytes(signature) + bytes(message), self._raw)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError) as exc:
            raise InvalidSignature(
                f"signature does not verify with Ed25519 key {self.fingerprint}…"
            ) from exc


class Ed25519PrivateKey(_PrivateKey):
    """An Ed25519 signing key, held as its 32-byte seed."""

    __slots__ = ("_signing",)
    KIND = "Ed25519 seed"
    _signing: nacl.signing.SigningKey

    def __init__(self, seed: bytes) -> None:
        super().__init__(seed)
        object.__setattr__(self, "_signing", nacl.signing.SigningKey(self._raw))

    @classmethod
    def generate(cls) -> Ed25519PrivateKey:
        """A fresh key from the OS random source."""
        return cls(nacl.utils.random(KEY_SIZE))

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519PrivateKey:
        """The key whose 32-byte seed is ``seed``."""
        return cls(seed)

    @classmethod
    def from_base64(cls, text: str) -> Ed25519PrivateKey:
        """Decode a base64 seed (as stored by ``to_base64``)."""
        return cls(_decode_key(cls.KIND, text))

    def to_base64(self) -> str:
        """The seed as unpadded base64. Secret: store it only sealed."""
        return b64encode_unpadded(self._raw)

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The matching verification key."""
        return Ed25519PublicKey(bytes(self._signing.verify_key))

    def sign(self, message: bytes) -> bytes:
        """A detached 64-byte signature over ``message``."""
        return bytes(self._signing.sign(bytes(message)).signature)


class Curve25519PublicKey(_PublicKey):
    """A 32-byte X25519 public key."""

    __slots__ = ()
    KIND = "Curve25519 public key"

    @classmethod
    def from_base64(cls, text: str) -> Curve25519PublicKey:
        """Decode an unpadded (or padded) base64 public key."""
        return cls(_decode_key(cls.KIND, text))


class Curve25519PrivateKey(_PrivateKey):
    """A 32-byte X25519 private scalar (clamped by libsodium when used)."""

    __slots__ = ()
    KIND = "Curve25519 private key"

    @classmethod
    def generate(cls) -> Curve25519PrivateKey:
        """A fresh key from the OS random source."""
        return cls(bytes(nacl.public.PrivateKey.generate()))

    @classmethod
    def from_base64(cls, text: str) -> Curve25519PrivateKey:
        """Decode a base64 private key (as stored by ``to_base64``)."""
        return cls(_decode_key(cls.KIND, text))

    def to_base64(self) -> str:
        """The private key as unpadded base64. Secret: store it only sealed."""
        return b64encode_unpadded(self._raw)

    @property
    def public_key(self) -> Curve25519PublicKey:
        """The matching public key."""
        return Curve25519PublicKey(nacl.bindings.crypto_scalarmult_base(self._raw))

    def exchange(self, peer: Curve25519PublicKey) -> bytes:
        """The X25519 shared secret with ``peer``; ``InvalidKey`` for a low-order point."""
        try:
            return bytes(nacl.bindings.crypto_scalarmult(self._raw, bytes(peer)))
        except (nacl.exceptions.RuntimeError, nacl.exceptions.CryptoError) as exc:
            raise InvalidKey(f"unusable Curve25519 public key {peer.fingerprint}…") from exc
