"""Provides Matrix canonical JSON and Ed25519 signing and verification of JSON objects.

Canonical JSON (Matrix spec, appendices): UTF-8, no insignificant whitespace, object keys
sorted by code point, non-ASCII characters not escaped, numbers only as integers in
``[-(2**53)+1, 2**53-1]``. Floats (even integral ones such as ``1e10`` parsed by
``json.loads``) are refused rather than silently re-encoded.

Signing follows "Signing JSON": ``signatures`` and ``unsigned`` are removed, the rest is
signed, and the signature is added under ``signatures[signer]["ed25519:" + key_id]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from crypto.errors import CryptoError, InvalidSignature
from crypto.keys import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    b64decode_unpadded,
    b64encode_unpadded,
)

MAX_SAFE_INTEGER: Final = 2**53 - 1
ED25519: Final = "ed25519"
_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def _check(value: object, path: str) -> None:
    """Refuse anything canonical JSON cannot represent exactly."""
    if value is None or value is True or value is False or type(value) is str:
        return
    if type(value) is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CryptoError(f"canonical JSON: integer at {path} is outside ±(2**53-1)")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise CryptoError(f"canonical JSON: non-string key {key!r} at {path}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, float):
        raise CryptoError(f"canonical JSON: float at {path}; only integers are allowed")
    if isinstance(value, str | int):  # subclasses: IntEnum, StrEnum, ...
        raise CryptoError(
            f"canonical JSON: {type(value).__name__} at {path}; pass a plain str or int"
        )
    raise CryptoError(f"canonical JSON: cannot encode {type(value).__name__} at {path}")


def canonical_json(obj: object) -> bytes:
    """Encode ``obj`` as Matrix canonical JSON bytes; ``CryptoError`` if it cannot be."""
    _check(obj, "$")
    try:
        return _ENCODER.encode(obj).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError) as exc:  # e.g. lone surrogates
        raise CryptoError(
            f"canonical JSON: cannot encode value ({exc.__class__.__name__})"
        ) from exc


def signing_key_id(key_id: str) -> str:
    """``"ed25519:" + key_id``, refusing a ``key_id`` that already carries the prefix."""
    if not key_id or key_id.startswith(ED25519 + ":"):
        raise CryptoError(
            f"key_id must be the part after 'ed25519:' (a device ID or public key), got {key_id!r}"
        )
    return f"{ED25519}:{key_id}"


def signable_bytes(obj: Mapping[str, Any]) -> bytes:
    """The bytes a Matrix signature covers: canonical JSON without signatures/unsigned."""
    return canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


def sign_json(
    obj: Mapping[str, Any], signing_key: Ed25519PrivateKey, signer_user_id: str, key_id: str
) -> dict[str, Any]:
    """A copy of ``obj`` with this key's signature added; other signatures are kept."""
    full_key_id = signing_key_id(key_id)
    signature = b64encode_unpadded(signing_key.sign(signable_bytes(obj)))
    result = dict(obj)
    old = obj.get("signatures", {})
    if not isinstance(old, Mapping):
        raise CryptoError("cannot sign: 'signatures' is not an object")
    signatures: dict[str, Any] = {user: dict(sigs) for user, sigs in old.items()}
    signatures.setdefault(signer_user_id, {})[full_key_id] = signature
    result["signatures"] = signatures
    return result


def get_signature(obj: Mapping[str, Any], signer_user_id: str, key_id: str) -> bytes:
    """The raw signature ``signer_user_id`` made with ``ed25519:key_id``, or InvalidSignature."""
    full_key_id = signing_key_id(key_id)
    signatures = obj.get("signatures")
    by_signer = signatures.get(signer_user_id) if isinstance(signatures, Mapping) else None
    encoded = by_signer.get(full_key_id) if isinstance(by_signer, Mapping) else None
    if encoded is None:
        raise InvalidSignature(f"no signature by {signer_user_id} with {full_key_id}")
    if not isinstance(encoded, str):
        raise InvalidSignature(f"signature by {signer_user_id} with {full_key_id} is not a string")
    try:
        return b64decode_unpadded(encoded)
    except CryptoError as exc:
        raise InvalidSignature(
            f"signature by {signer_user_id} with {full_key_id} is not valid base64"
        ) from exc


def verify_signed_json(
    obj: Mapping[str, Any], public_key: Ed25519PublicKey, signer_user_id: str, key_id: str
) -> None:
    """Raise ``InvalidSignature`` unless ``obj`` carries a valid signature by this key."""
    signature = get_signature(obj, signer_user_id, key_id)
    try:
        message = signable_bytes(obj)
    except CryptoError as exc:
        raise InvalidSignature(f"cannot verify: object is not canonical JSON ({exc})") from exc
    try:
        public_key.verify(message, signature)
    except InvalidSignature as exc:
        raise InvalidSignature(
            f"signature by {signer_user_id} with {signing_key_id(key_id)} does not verify"
        ) from exc
