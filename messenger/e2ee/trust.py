"""Provides cross-signing for a Session: bootstrap, secret storage, and device trust checks."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from crypto import (
    CrossSigningKeys,
    CryptoError,
    InvalidSignature,
    cross_signing_public_key,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    generate_secret_storage_key,
    key_description,
    key_matches_description,
    verify_cross_signing_chain,
    verify_user_signed,
)
from messenger.errors import AuthError, MessengerError
from messenger.session.core import Session

log = logging.getLogger(__name__)

TRUST_NS = "trust"
SECRET_NAMES = (
    "m.cross_signing.master",
    "m.cross_signing.self_signing",
    "m.cross_signing.user_signing",
)
SEED_FIELDS = ("master", "self_signing", "user_signing")


class RecoveryKeyNeeded(MessengerError):
    """The account's identity exists on the server but this device cannot open it."""


@dataclass(frozen=True)
class TrustStatus:
    """What ``samverkan status`` shows about one account's identity."""

    cross_signing: bool
    device_signed: bool
    master_fingerprint: str | None


class CrossSigning:
    """One account's cross-signing identity, kept sealed in the session's state store."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.keys: CrossSigningKeys | None = None
        self.restored = False  # the last bootstrap restored a published identity
        self._query_cache: dict[str, dict[str, Any]] = {}

    @property
    def user_id(self) -> str:
        """The account."""
        return self.session.user_id

    async def _load(self) -> CrossSigningKeys | None:
        stored = await self.session.store.get(TRUST_NS, "cross_signing")
        return CrossSigningKeys.from_seeds(stored["seeds"]) if stored else None

    async def recovery_key(self) -> str | None:
        """The recovery key (secret storage key) in its printable form, if set up."""
        stored = await self.session.store.get(TRUST_NS, "secret_storage")
        return stored["recovery_key"] if stored else None

    async def bootstrap(
        self,
        password: str | None,
        *,
        recovery_key: str | None = None,
        new_identity: bool = False,
    ) -> bool:
        """Make sure this account has cross-signing keys and this device is signed.

        Returns True when new keys were created (the recovery key should be shown once).
        An identity published before (a wiped disk, a new device) is restored from secret
        storage with ``recovery_key`` (or the one this device stored) and ``restored`` is set;
        without a key that opens it this raises ``RecoveryKeyNeeded`` rather than silently
        replacing the identity — unless ``new_identity`` asks for exactly that (everyone who
        verified the account must then verify it again). New keys need the password (UIA).
        """
        self.keys = await self._load()
        self.restored = False
        created = False
        if self.keys is None:
            published = (await self.query(self.user_id, fresh=True)).get("master")
            if published and not new_identity:
                self.keys = await self._restore_from_secret_storage(recovery_key)
                if self.keys is None:
                    raise RecoveryKeyNeeded(
                        f"{self.user_id} already has a cross-signing identity, but this device "
                        "holds no recovery key for it: restore it with the recovery key shown "
                        "at its first start, or replace it (everyone who verified it must "
                        "verify it again)"
                    )
                self.restored = True
            else:
                if password is None:
                    raise AuthError(
                        f"{self.user_id}: creating cross-signing keys needs the password"
                    )
                self.keys = CrossSigningKeys.generate()
                await self._upload_keys(password)
                await self.session.store.put(
                    TRUST_NS, "cross_signing", {"seeds": self.keys.to_seeds()}
                )
                await self._store_secrets()
                created = True
        await self.sign_own_device()
        return created

    async def _upload_keys(self, password: str) -> None:
        assert self.keys
        body = self.keys.device_signing_upload_body(self.user_id)
        first = await self.session.api("POST", "/keys/device_signing/upload", body)
        if "flows" in first:
            auth = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": password,
                "session": first.get("session"),
            }
            second = await self.session.api(
                "POST", "/keys/device_signing/upload", {**body, "auth": auth}
            )
            if "flows" in second or "errcode" in second:
                raise AuthError(
                    "the homeserver did not accept the password for replacing the "
                    f"cross-signing identity of {self.user_id}: "
                    f"{second.get('error', 'authentication failed')}",
                    errcode=second.get("errcode"),
                    status=401,
                )

    async def _store_secrets(self) -> None:
        """Put the private keys in secret storage under a fresh recovery key."""
        assert self.keys
        key = generate_secret_storage_key()
        key_id = secrets.token_urlsafe(12)
        uid = quote(self.user_id)
        await self.session.api(
            "PUT",
            f"/user/{uid}/account_data/m.secret_storage.key.{key_id}",
            key_description(key, "Samverkan recovery key"),
        )
        await self.session.api(
            "PUT", f"/user/{uid}/account_data/m.secret_storage.default_key", {"key": key_id}
        )
        seeds = self.keys.to_seeds()
        for name, field in zip(SECRET_NAMES, SEED_FIELDS, strict=True):
            await self.session.api(
                "PUT",
                f"/user/{uid}/account_data/{name}",
                {"encrypted": {key_id: encrypt_secret(seeds[field], key, name)}},
            )
        await self.session.store.put(
            TRUST_NS, "secret_storage", {"key_id": key_id, "recovery_key": encode_recovery_key(key)}
        )

    async def account_data(self, event_type: str) -> dict[str, Any] | None:
        """One account-data event of this account, or None."""
        try:
            return await self.session.api(
                "GET", f"/user/{quote(self.user_id)}/account_data/{event_type}"
            )
        except MessengerError:
            return None

    async def secret_storage_key(self, recovery_key: str | None = None) -> tuple[str, bytes] | None:
        """(key ID, key) of the default secret storage key, opened with the recovery key."""
        stored = await self.session.store.get(TRUST_NS, "secret_storage")
        text = recovery_key or (stored or {}).get("recovery_key")
        default = await self.account_data("m.secret_storage.default_key")
        if not text or not default:
            return None
        key_id = default["key"]
        key = decode_recovery_key(text)
        desc = await self.account_data(f"m.secret_storage.key.{key_id}") or {}
        if not key_matches_description(key, desc):
            raise CryptoError("the recovery key does not open this account's secret storage")
        return key_id, key

    async def _restore_from_secret_storage(
        self, recovery_key: str | None = None
    ) -> CrossSigningKeys | None:
        opened = await self.secret_storage_key(recovery_key)
        if opened is None:
            return None
        key_id, key = opened
        seeds = {}
        for name, field in zip(SECRET_NAMES, SEED_FIELDS, strict=True):
            data = await self.account_data(name)
            if not data or key_id not in data.get("encrypted", {}):
                return None
            seeds[field] = decrypt_secret(data["encrypted"][key_id], key, name).decode()
        keys = CrossSigningKeys.from_seeds(seeds)
        await self.session.store.put(TRUST_NS, "cross_signing", {"seeds": keys.to_seeds()})
        if recovery_key:
            await self.session.store.put(
                TRUST_NS, "secret_storage", {"key_id": key_id, "recovery_key": recovery_key}
            )
        return keys

    async def restore(self, recovery_key: str) -> None:
        """Restore the identity from secret storage with a recovery key (a wiped disk)."""
        self.keys = await self._restore_from_secret_storage(recovery_key)
        if self.keys is None:
            raise CryptoError("no cross-signing keys in secret storage for this recovery key")
        await self.sign_own_device()

    async def sign_own_device(self, device_id: str | None = None) -> None:
        """Sign this device (or another of ours, just verified by emoji) with the
        self-signing key, unless the server already shows it signed."""
        assert self.keys
        device_id = device_id or self.session.device_id
        info = await self.query(self.user_id, fresh=True)
        device = info["devices"].get(device_id)
        if device is None:
            raise MessengerError(f"{self.user_id}: own device {device_id} is not published")
        if await self.device_cross_signed(self.user_id, device_id, info=info):
            return
        signed = self.keys.sign_device(device, self.user_id)
        body = {self.user_id: {device_id: signed}}
        resp = await self.session.api("POST", "/keys/signatures/upload", body)
        if resp.get("failures"):
            raise MessengerError(f"signing own device failed: {resp['failures']}")
        self._query_cache.pop(self.user_id, None)

    async def sign_user(self, user_id: str) -> None:
        """Sign another user's master key with our user-signing key (after verifying them)."""
        assert self.keys
        master = (await self.query(user_id, fresh=True)).get("master")
        if not master:
            return
        signed = self.keys.sign_user_master_key(master, self.user_id)
        key_id = next(iter(master["keys"]))
        pub = key_id.split(":", 1)[1]
        await self.session.api("POST", "/keys/signatures/upload", {user_id: {pub: signed}})
        self._query_cache.pop(user_id, None)

    async def query(self, user_id: str, fresh: bool = False) -> dict[str, Any]:
        """``/keys/query`` for one user: devices, master, self_signing, user_signing keys."""
        if fresh or user_id not in self._query_cache:
            resp = await self.session.api("POST", "/keys/query", {"device_keys": {user_id: []}})
            self._query_cache[user_id] = {
                "devices": resp.get("device_keys", {}).get(user_id, {}),
                "master": resp.get("master_keys", {}).get(user_id),
                "self_signing": resp.get("self_signing_keys", {}).get(user_id),
                "user_signing": resp.get("user_signing_keys", {}).get(user_id),
            }
        return self._query_cache[user_id]

    def forget(self, user_id: str) -> None:
        """Drop cached keys of a user (their device list changed)."""
        self._query_cache.pop(user_id, None)

    async def device_cross_signed(
        self, user_id: str, device_id: str, info: dict[str, Any] | None = None
    ) -> bool:
        """Whether the device carries a valid signature chain from its owner's master key."""
        info = info or await self.query(user_id)
        device = info["devices"].get(device_id)
        if not (device and info.get("master") and info.get("self_signing")):
            return False
        try:
            verify_cross_signing_chain(info["master"], info["self_signing"], device, user_id)
        except (InvalidSignature, CryptoError):
            return False
        return True

    async def user_verified(self, user_id: str) -> bool:
        """Whether we signed ``user_id``'s current master key with our user-signing key."""
        if user_id == self.user_id:
            return self.keys is not None
        theirs = (await self.query(user_id)).get("master")
        ours = (await self.query(self.user_id)).get("user_signing")
        if not (theirs and ours):
            return False
        try:
            verify_user_signed(theirs, ours, self.user_id)
        except (InvalidSignature, CryptoError):
            return False
        return True

    async def device_trusted(self, user_id: str, device_id: str) -> bool:
        """A device we trust: cross-signed by its owner, whose identity we verified."""
        return await self.device_cross_signed(user_id, device_id) and await self.user_verified(
            user_id
        )

    async def status(self) -> TrustStatus:
        """Cross-signing state as the server shows it."""
        info = await self.query(self.user_id, fresh=True)
        master = info.get("master")
        fingerprint = None
        if master:
            try:
                fingerprint = cross_signing_public_key(
                    master, usage="master", user_id=self.user_id
                ).fingerprint
            except CryptoError:
                fingerprint = None
        return TrustStatus(
            cross_signing=bool(master and info.get("self_signing")),
            device_signed=await self.device_cross_signed(
                self.user_id, self.session.device_id, info
            ),
            master_fingerprint=fingerprint,
        )
