"""Provides server-side key backup (``m.megolm_backup.v1.curve25519-aes-sha2``) for a Session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from nio.crypto.sessions import InboundGroupSession

from crypto import (
    BACKUP_ALGORITHM,
    BackupKey,
    CryptoError,
    decrypt_secret,
    encrypt_secret,
    encrypt_session_for_backup,
    sign_backup_auth_data,
)
from messenger.e2ee.trust import TRUST_NS, CrossSigning
from messenger.errors import MessengerError, NotFound
from messenger.session.core import Session

log = logging.getLogger(__name__)

SECRET_NAME = "m.megolm_backup.v1"
BACKED_UP_NS = "backed_up"
MEGOLM = "m.megolm.v1.aes-sha2"
UPLOAD_BATCH = 200


@dataclass(frozen=True)
class BackupStatus:
    """Backup version on the server and how many sessions this device uploaded to it."""

    version: str | None
    backed_up: int
    server_count: int | None


class KeyBackup:
    """Uploads this device's Megolm sessions to the server backup; restores them elsewhere.

    The backup key lives sealed in the state store and, encrypted, in secret storage, so a
    new device with the recovery key can open it.
    """

    def __init__(self, session: Session, cross_signing: CrossSigning) -> None:
        self.session = session
        self.cs = cross_signing
        self.key: BackupKey | None = None
        self.version: str | None = None
        self._done: set[str] | None = None

    async def enable(self) -> str:
        """Use the current server backup if we hold its key; otherwise create one."""
        stored = await self.session.store.get(TRUST_NS, "backup")
        current = await self._current_version()
        if stored:
            key = BackupKey.from_base64(stored["key"])
            if current and key.matches(current["auth_data"]):
                self.key, self.version = key, current["version"]
                return self.version
        if current:
            opened = await self._key_from_secret_storage()
            if opened is not None and opened.matches(current["auth_data"]):
                self.key, self.version = opened, current["version"]
                await self._remember()
                return self.version
        return await self._create()

    async def _current_version(self) -> dict[str, Any] | None:
        try:
            data = await self.session.api("GET", "/room_keys/version")
        except NotFound:
            return None
        return data if data.get("algorithm") == BACKUP_ALGORITHM else None

    async def _create(self) -> str:
        key = BackupKey.generate()
        auth = key.auth_data()
        if self.cs.keys is not None:
            auth = sign_backup_auth_data(auth, self.cs.keys.master, self.session.user_id)
        resp = await self.session.api(
            "POST", "/room_keys/version", {"algorithm": BACKUP_ALGORITHM, "auth_data": auth}
        )
        self.key, self.version = key, str(resp["version"])
        await self._remember()
        await self._store_secret()
        return self.version

    async def _remember(self) -> None:
        assert self.key is not None
        await self.session.store.put(
            TRUST_NS, "backup", {"key": self.key.to_base64(), "version": self.version}
        )

    async def _store_secret(self) -> None:
        opened = await self.cs.secret_storage_key()
        if opened is None or self.key is None:
            return
        key_id, ssss = opened
        body = {"encrypted": {key_id: encrypt_secret(self.key.to_base64(), ssss, SECRET_NAME)}}
        await self.session.api(
            "PUT", f"/user/{quote(self.session.user_id)}/account_data/{SECRET_NAME}", body
        )

    async def _key_from_secret_storage(self, recovery_key: str | None = None) -> BackupKey | None:
        opened = await self.cs.secret_storage_key(recovery_key)
        data = await self.cs.account_data(SECRET_NAME)
        if opened is None or not data:
            return None
        key_id, ssss = opened
        enc = data.get("encrypted", {}).get(key_id)
        if not enc:
            return None
        return BackupKey.from_base64(decrypt_secret(enc, ssss, SECRET_NAME).decode())

    def _sessions(self) -> list[InboundGroupSession]:
        olm = self.session.client.olm
        if olm is None:
            return []
        return list(olm.inbound_group_store)

    async def upload_new(self) -> int:
        """Upload every session not yet in the backup; return how many."""
        if self.key is None or self.version is None:
            return 0
        if self._done is None:
            self._done = {k for k, _ in await self.session.store.items(BACKED_UP_NS)}
        done = self._done
        pending = [s for s in self._sessions() if f"{self.version}:{s.id}" not in done]
        for i in range(0, len(pending), UPLOAD_BATCH):
            chunk = pending[i : i + UPLOAD_BATCH]
            rooms: dict[str, Any] = {}
            for s in chunk:
                data = {
                    "algorithm": MEGOLM,
                    "sender_key": s.sender_key,
                    "sender_claimed_keys": {"ed25519": s.ed25519},
                    "forwarding_curve25519_key_chain": s.forwarding_chain,
                    "session_key": s.export_session(s.first_known_index),
                }
                rooms.setdefault(s.room_id, {"sessions": {}})["sessions"][s.id] = {
                    "first_message_index": s.first_known_index,
                    "forwarded_count": len(s.forwarding_chain),
                    "is_verified": False,
                    "session_data": encrypt_session_for_backup(self.key.public_key_base64, data),
                }
            await self.session.api(
                "PUT", f"/room_keys/keys?version={self.version}", {"rooms": rooms}
            )
            async with self.session.store.transaction() as tx:
                for s in chunk:
                    await tx.put(BACKED_UP_NS, f"{self.version}:{s.id}", 1)
            done.update(f"{self.version}:{s.id}" for s in chunk)

        return len(pending)

    async def restore(self, recovery_key: str | None = None) -> int:
        """Import every session of the current backup; return how many were new here.

        The backup key comes from the state store or, with ``recovery_key``, from secret
        storage. A wrong recovery key raises CryptoError and imports nothing.
        """
        current = await self._current_version()
        if current is None:
            raise MessengerError("this account has no key backup on the server")
        key = self.key
        if recovery_key is not None or key is None:
            key = await self._key_from_secret_storage(recovery_key)
        if key is None or not key.matches(current["auth_data"]):
            raise CryptoError("the recovery key does not open this account's key backup")
        self.key, self.version = key, current["version"]
        await self._remember()
        data = await self.session.api("GET", f"/room_keys/keys?version={self.version}")
        olm = self.session.client.olm
        assert olm is not None
        imported = 0
        in_backup = []
        for room_id, room in data.get("rooms", {}).items():
            for session_id, entry in room.get("sessions", {}).items():
                try:
                    plain = key.decrypt_session(entry["session_data"])
                    s = InboundGroupSession.import_session(
                        plain["session_key"],
                        plain["sender_claimed_keys"]["ed25519"],
                        plain["sender_key"],
                        room_id,
                        plain.get("forwarding_curve25519_key_chain", []),
                    )
                except Exception as e:  # a bad entry must not stop the others
                    log.warning(
                        "skipping backed-up session %s: %s", session_id, e.__class__.__name__
                    )
                    continue
                if olm.inbound_group_store.add(s):
                    olm.save_inbound_group_session(s)
                    imported += 1
                    in_backup.append(f"{self.version}:{session_id}")
        # What came from the backup is in it: never upload it again from here.
        async with self.session.store.transaction() as tx:
            for entry_key in in_backup:
                await tx.put(BACKED_UP_NS, entry_key, 1)
        if self._done is not None:
            self._done.update(in_backup)
        return imported

    @property
    def backed_up_count(self) -> int:
        """Sessions this device has uploaded (known after the first upload pass)."""
        return len(self._done or ())

    async def status(self) -> BackupStatus:
        """The server's backup version, our uploaded count, and the server's count."""
        current = await self._current_version()
        done = len(await self.session.store.items(BACKED_UP_NS))
        return BackupStatus(
            current["version"] if current else None, done, current.get("count") if current else None
        )
