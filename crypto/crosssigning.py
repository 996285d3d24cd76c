"""Provides Matrix cross-signing keys: generation, upload JSON, device and user signatures.

Three Ed25519 keys per user (Matrix spec, "Cross-signing"): the master key (the user's
identity) signs the self-signing key (which signs the user's own devices) and the
user-signing key (which signs other users' master keys). Each key is published as a
``CrossSigningKey`` object whose single key ID is ``ed25519:<unpadded base64 public key>``.

The builders return exactly the bodies ``/keys/device_signing/upload`` and
``/keys/signatures/upload`` expect; nothing here talks to a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from crypto.canonical import ED25519, sign_json, verify_signed_json
from crypto.errors import CryptoError, InvalidKey, InvalidSignature
from crypto.keys import Ed25519PrivateKey, Ed25519PublicKey

Usage = Literal["master", "self_signing", "user_signing"]
MASTER: Final = "master"
SELF_SIGNING: Final = "self_signing"
USER_SIGNING: Final = "user_signing"


def cross_signing_key_json(
    public_key: Ed25519PublicKey, user_id: str, usage: Usage
) -> dict[str, Any]:
    """The unsigned ``CrossSigningKey`` object for ``public_key``."""
    b64 = public_key.to_base64()
    return {"user_id": user_id, "usage": [usage], "keys": {f"{ED25519}:{b64}": b64}}


def cross_signing_public_key(
    key_json: Mapping[str, Any], *, usage: Usage, user_id: str
) -> Ed25519PublicKey:
    """The public key of a ``CrossSigningKey`` object, after checking owner and usage.

    Raises ``InvalidSignature`` when the object is not a well-formed ``usage`` key of
    ``user_id`` (it cannot then vouch for anything).
    """
    if key_json.get("user_id") != user_id:
        raise InvalidSignature(
            f"{usage} key belongs to {key_json.get('user_id')!r}, expected {user_id}"
        )
    usages = key_json.get("usage")
    if not isinstance(usages, list) or usage not in usages:
        raise InvalidSignature(f"key for {user_id} is not marked for usage {usage!r}")
    keys = key_json.get("keys")
    if not isinstance(keys, Mapping) or len(keys) != 1:
        raise InvalidSignature(f"{usage} key of {user_id} must list exactly one key")
    ((key_id, value),) = keys.items()
    if not isinstance(key_id, str) or not isinstance(value, str):
        raise InvalidSignature(f"{usage} key of {user_id} is malformed")
    algorithm, _, encoded = key_id.partition(":")
    if algorithm != ED25519 or encoded != value:
        raise InvalidSignature(
            f"{usage} key of {user_id} has key ID {key_id!r}; expected 'ed25519:<its public key>'"
        )
    try:
        return Ed25519PublicKey.from_base64(value)
    except InvalidKey as exc:
        raise InvalidSignature(f"{usage} key of {user_id} is not a valid Ed25519 key") from exc


@dataclass(frozen=True, repr=False)
class CrossSigningKeys:
    """A user's three cross-signing private keys."""

    master: Ed25519PrivateKey
    self_signing: Ed25519PrivateKey
    user_signing: Ed25519PrivateKey

    def __repr__(self) -> str:
        return (
            f"<CrossSigningKeys master={self.master.public_key.fingerprint}… (private keys hidden)>"
        )

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        """Three fresh keys."""
        return cls(
            Ed25519PrivateKey.generate(),
            Ed25519PrivateKey.generate(),
            Ed25519PrivateKey.generate(),
        )

    def to_seeds(self) -> dict[str, str]:
        """``{"master", "self_signing", "user_signing"}`` → unpadded base64 seed. Secret."""
        return {
            MASTER: self.master.to_base64(),
            SELF_SIGNING: self.self_signing.to_base64(),
            USER_SIGNING: self.user_signing.to_base64(),
        }

    @classmethod
    def from_seeds(cls, seeds: Mapping[str, str]) -> CrossSigningKeys:
        """Inverse of ``to_seeds``; ``InvalidKey`` if a seed is missing or malformed."""
        missing = {MASTER, SELF_SIGNING, USER_SIGNING} - set(seeds)
        if missing:
            raise InvalidKey(f"cross-signing seeds missing: {', '.join(sorted(missing))}")
        return cls(
            Ed25519PrivateKey.from_base64(seeds[MASTER]),
            Ed25519PrivateKey.from_base64(seeds[SELF_SIGNING]),
            Ed25519PrivateKey.from_base64(seeds[USER_SIGNING]),
        )

    @property
    def master_key_id(self) -> str:
        """The master key's key ID without the algorithm: its unpadded base64 public key."""
        return self.master.public_key.to_base64()

    def master_key_json(self, user_id: str) -> dict[str, Any]:
        """The master ``CrossSigningKey`` (unsigned; a device may add its own signature)."""
        return cross_signing_key_json(self.master.public_key, user_id, MASTER)

    def self_signing_key_json(self, user_id: str) -> dict[str, Any]:
        """The self-signing ``CrossSigningKey``, signed by the master key."""
        body = cross_signing_key_json(self.self_signing.public_key, user_id, SELF_SIGNING)
        return sign_json(body, self.master, user_id, self.master_key_id)

    def user_signing_key_json(self, user_id: str) -> dict[str, Any]:
        """The user-signing ``CrossSigningKey``, signed by the master key."""
        body = cross_signing_key_json(self.user_signing.public_key, user_id, USER_SIGNING)
        return sign_json(body, self.master, user_id, self.master_key_id)

    def device_signing_upload_body(self, user_id: str) -> dict[str, Any]:
        """The body of ``POST /keys/device_signing/upload`` (without the ``auth`` field)."""
        return {
            "master_key": self.master_key_json(user_id),
            "self_signing_key": self.self_signing_key_json(user_id),
            "user_signing_key": self.user_signing_key_json(user_id),
        }

    def sign_device(self, device_keys: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        """``device_keys`` with a self-signing signature added, for ``/keys/signatures/upload``."""
        if device_keys.get("user_id") != user_id:
            raise CryptoError(
                f"refusing to self-sign a device of {device_keys.get('user_id')!r} as {user_id}"
            )
        key_id = self.self_signing.public_key.to_base64()
        return sign_json(device_keys, self.self_signing, user_id, key_id)

    def sign_user_master_key(
        self, other_master_key_json: Mapping[str, Any], user_id: str
    ) -> dict[str, Any]:
        """Another user's master key JSON signed with our user-signing key (we are ``user_id``)."""
        other_user = other_master_key_json.get("user_id")
        if not isinstance(other_user, str):
            raise CryptoError("master key JSON has no user_id")
        cross_signing_public_key(other_master_key_json, usage=MASTER, user_id=other_user)
        key_id = self.user_signing.public_key.to_base64()
        return sign_json(other_master_key_json, self.user_signing, user_id, key_id)


def verify_device_signed(
    device_keys: Mapping[str, Any], self_signing_key_json: Mapping[str, Any], user_id: str
) -> None:
    """Raise ``InvalidSignature`` unless ``user_id``'s self-signing key signed ``device_keys``."""
    if device_keys.get("user_id") != user_id:
        raise InvalidSignature(f"device belongs to {device_keys.get('user_id')!r}, not {user_id}")
    ssk = cross_signing_public_key(self_signing_key_json, usage=SELF_SIGNING, user_id=user_id)
    verify_signed_json(device_keys, ssk, user_id, ssk.to_base64())


def verify_user_signed(
    other_master_key_json: Mapping[str, Any], user_signing_key_json: Mapping[str, Any], user_id: str
) -> None:
    """Raise ``InvalidSignature`` unless ``user_id``'s user-signing key signed that master key."""
    usk = cross_signing_public_key(user_signing_key_json, usage=USER_SIGNING, user_id=user_id)
    verify_signed_json(other_master_key_json, usk, user_id, usk.to_base64())


def verify_cross_signing_chain(
    master_json: Mapping[str, Any],
    self_signing_json: Mapping[str, Any],
    device_keys: Mapping[str, Any],
    user_id: str,
    *,
    trusted_master: Ed25519PublicKey | None = None,
) -> Ed25519PublicKey:
    """Check master → self-signing → device for ``user_id``; return the master public key.

    With ``trusted_master`` (a pinned or verified master key), the master key must also be
    exactly that key. Raises ``InvalidSignature`` naming the broken link.
    """
    master = cross_signing_public_key(master_json, usage=MASTER, user_id=user_id)
    if trusted_master is not None and master != trusted_master:
        raise InvalidSignature(
            f"master key of {user_id} is {master.fingerprint}…, "
            f"not the trusted {trusted_master.fingerprint}…"
        )
    cross_signing_public_key(self_signing_json, usage=SELF_SIGNING, user_id=user_id)
    try:
        verify_signed_json(self_signing_json, master, user_id, master.to_base64())
    except InvalidSignature as exc:
        raise InvalidSignature(
            f"self-signing key of {user_id} is not signed by the master key: {exc}"
        ) from exc
    try:
        verify_device_signed(device_keys, self_signing_json, user_id)
    except InvalidSignature as exc:
        raise InvalidSignature(
            f"device of {user_id} is not signed by the self-signing key: {exc}"
        ) from exc
    return master
