"""Provides ``Session``: one Matrix account and device, its encrypted stores and its sync loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import io
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, DummyEvent, MegolmEvent, RoomKeyRequest
from nio.exceptions import EncryptionError

from crypto.vault import Vault
from messenger.calls import backoff_delays, guarded
from messenger.errors import (
    AuthError,
    MatrixError,
    MessengerError,
    TransientError,
    check,
    raise_for_status,
)
from messenger.events import Incoming, Invite, SyncBatch
from messenger.faults import crash_point
from messenger.olmkeys import WITHHELD, E2EEClient
from messenger.outbox import OutboxMixin
from messenger.store import StateStore

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
UNDECRYPTED_NS = "undecrypted"
WITHHELD_NS = "withheld"
OUTBOUND_NS = "megolm-outbound"
ENCRYPTION_NS = "room-encryption"
INDEX_NS = "megolm-index"
KEY_MISSING = "the room key has not arrived (yet)"
KEY_REQUEST_AFTER_S = 5.0
UNDECRYPTABLE_WAIT_S = 60.0
FORGET_UNDECRYPTABLE_S = 7 * 24 * 3600.0
WITHHELD_WHY = {
    "m.unverified": "its sender's client withheld the key because this device is not verified",
    "m.blacklisted": "its sender's client has blocked this device",
    "m.no_olm": "its sender's client could not set up a secure channel with this device",
    "m.unauthorised": "its sender's client refused to share the key with this device",
    "m.unavailable": "no device had the key to share",
}
SYNC_FILTER = {
    "room": {
        "timeline": {"limit": 100},
        "state": {"lazy_load_members": True},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
    "presence": {"not_types": ["*"]},
}

Handler = Callable[[SyncBatch], Awaitable[None]]
UndecryptableHook = Callable[[Incoming, str], Awaitable[None]]


class Session(OutboxMixin):
    """One logged-in Matrix device with end-to-end encryption.

    Credentials live sealed in the ``StateStore``; nio's Olm store lives under
    ``data_dir/nio`` with its pickle key derived from the vault. The sync token is persisted
    only after a batch has been handled, so a crash never skips a command or a room key.
    """

    def __init__(self, client: AsyncClient, store: StateStore, data_dir: Path) -> None:
        self.client = client
        self.store = store
        self.data_dir = data_dir
        self.outbox_wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self.synced = asyncio.Event()
        self.sync_ok = False
        self._need_full_state = True
        self._http: aiohttp.ClientSession | None = None

        self.on_undecryptable: UndecryptableHook | None = None
        """Called once per event that stays unreadable: (event, why) — withheld or timed out."""
        self.key_request_after_s = KEY_REQUEST_AFTER_S
        self.undecryptable_wait_s = UNDECRYPTABLE_WAIT_S
        self._pickle_key = ""
        self._outbound_sig: dict[str, tuple[Any, ...]] = {}

    @property
    def user_id(self) -> str:
        """This account's Matrix ID."""
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        """This session's device ID."""
        return str(self.client.device_id)

    @classmethod
    async def open(
        cls,
        url: str,
        user_id: str,
        data_dir: Path,
        vault: Vault,
        *,
        password: str | None = None,
        device_name: str = "Samverkan",
    ) -> Session:
        """Restore the stored device, or log in with ``password`` and store the new one."""
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True, mode=0o700)
        store = await StateStore.open(data_dir / "state.db", vault)
        try:
            return await cls._open(url, user_id, data_dir, vault, store, password, device_name)
        except BaseException:
            await store.close()
            raise

    @classmethod
    async def _open(
        cls,
        url: str,
        user_id: str,
        data_dir: Path,
        vault: Vault,
        store: StateStore,
        password: str | None,
        device_name: str,
    ) -> Session:
        nio_dir = data_dir / "nio"
        nio_dir.mkdir(exist_ok=True, mode=0o700)
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=False,
            pickle_key=vault.derive_key("nio-pickle").hex(),
            max_timeouts=2,
            request_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
        )
        creds = await store.get("session", "credentials")
        client = E2EEClient(url, user_id, store_path=str(nio_dir), config=config)
        session = cls(client, store, data_dir)
        session._pickle_key = config.pickle_key
        if creds and creds.get("user_id") == user_id:
            client.restore_login(user_id, creds["device_id"], creds["access_token"])
        elif password is None:
            raise AuthError(f"{user_id} has no stored session here and no password was given")
        else:
            resp = await guarded(client.login(password, device_name=device_name), "login")
            await store.put(
                "session",
                "credentials",
                {
                    "user_id": user_id,
                    "device_id": resp.device_id,
                    "access_token": resp.access_token,
                },
            )
        await session._restore_crypto_state()
        try:
            await session._maintain_keys()
        except TransientError as e:  # the sync loop retries
            log.warning("%s: key maintenance failed (retried on sync): %s", user_id, e)
        return session

    async def _restore_crypto_state(self) -> None:
        """Reload what nio keeps only in memory: outbound Megolm sessions, rotation settings."""
        client = self.client
        assert isinstance(client, E2EEClient)
        for room_id, content in await self.store.items(ENCRYPTION_NS):
            client.rotation[room_id] = content
        for room_id, data in await self.store.items(OUTBOUND_NS):
            try:
                client.import_outbound(room_id, data, self._pickle_key)
            except Exception as e:  # noqa: BLE001 - a lost session only means a rotation
                log.warning("%s: outbound session of %s not restored: %s", self.user_id, room_id, e)
                continue
            self._outbound_sig[room_id] = self._sig(room_id)

    def _sig(self, room_id: str) -> tuple[Any, ...]:
        olm = self.client.olm
        s = olm.outbound_group_sessions.get(room_id) if olm is not None else None
        if s is None:
            return ()
        return (s.id, s.message_count, s.shared, len(s.users_shared_with), len(s.users_ignored))

    async def _persist_outbound(self) -> None:
        """Save outbound Megolm sessions that changed, so a restart does not rotate keys."""
        client = self.client
        if client.olm is None or not isinstance(client, E2EEClient):
            return
        rooms = set(client.olm.outbound_group_sessions) | set(self._outbound_sig)
        for room_id in rooms:
            sig = self._sig(room_id)
            if self._outbound_sig.get(room_id) == sig:
                continue
            data = client.export_outbound(room_id, self._pickle_key)
            if data is None:
                await self.store.delete(OUTBOUND_NS, room_id)
                self._outbound_sig.pop(room_id, None)
            else:
                await self.store.put(OUTBOUND_NS, room_id, data)
                self._outbound_sig[room_id] = sig

    async def close(self) -> None:
        """Stop and close; the device stays logged in (logging out would delete its keys)."""
        self._stopping.set()
        if self._http is not None:
            await self._http.close()
        await self.client.close()
        await self.store.close()

    async def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = True
    ) -> dict[str, Any]:
        """Call a client-server endpoint nio does not wrap (``/_matrix/client/v3`` + ``path``).

        A 401 with a UIA ``flows`` body is returned as data (the caller completes the auth);
        other errors become typed exceptions here, as ``check`` does for nio's responses.
        """
        if self._http is None:
            self._http = aiohttp.ClientSession()
        headers = {"Authorization": f"Bearer {self.client.access_token}"} if auth else {}
        url = f"{self.client.homeserver}/_matrix/client/v3{path}"
        try:
            async with self._http.request(method, url, json=body, headers=headers) as r:
                data = await r.json(content_type=None) if r.content_length != 0 else {}
                status = r.status
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransientError(f"{method} {path} failed: {e.__class__.__name__}: {e}") from None
        data = data if isinstance(data, dict) else {}
        if status == 401 and "flows" in data:
            return data
        if status >= 400:
            raise_for_status(status, data, f"{method} {path}")
        return data

    # -- keys ---------------------------------------------------------------------------

    async def _maintain_keys(self) -> None:
        c = self.client
        if c.should_upload_keys:
            crash_point("keys-uploading")
            await guarded(c.keys_upload(), "uploading keys")
        if c.should_query_keys:
            await guarded(c.keys_query(), "querying keys")
        if c.should_claim_keys:
            await guarded(c.keys_claim(c.get_users_for_key_claiming()), "claiming keys")
        await guarded(
            c.send_to_device_messages(), "sending to-device messages"
        ) if c.outgoing_to_device_messages else None

    async def query_device_keys(self, users: set[str]) -> None:
        """Refresh nio's device store for ``users`` now."""
        if self.client.olm is None:
            return
        self.client.olm.users_for_key_query.update(users)
        await guarded(self.client.keys_query(), "querying keys")

    # -- sync ---------------------------------------------------------------------------

    async def sync_once(self, handler: Handler, timeout_ms: int = SYNC_TIMEOUT_MS) -> None:
        """One /sync: handle the batch (to-device and timeline), then persist the token."""
        await self._maintain_keys()
        token = await self.store.get("session", "sync_token")
        # The first sync of a process asks for full state: nio keeps no room state across
        # restarts, and power levels, names and members must be known before any command.
        full = self._need_full_state and token is not None
        resp = await guarded(
            self.client.sync(
                timeout=0 if full else timeout_ms,
                sync_filter=SYNC_FILTER,
                since=token,
                full_state=full or None,
            ),
            "sync",
        )
        self._need_full_state = False

        crash_point("sync-received")
        batch = await self._batch(resp, initial=token is None)
        await self._retry_undecrypted(batch)
        await handler(batch)
        await self._persist_outbound()
        await self.store.put("session", "sync_token", resp.next_batch)
        self.sync_ok = True
        self.synced.set()
        self.synced.clear()

    async def run(self, handler: Handler) -> None:
        """Sync until ``close``; network errors and homeserver restarts are retried with backoff."""
        delays = backoff_delays()
        while not self._stopping.is_set():
            try:
                await self.sync_once(handler)
                delays = backoff_delays()
            except (TransientError, MatrixError) as e:
                if isinstance(e, AuthError):
                    raise
                self.sync_ok = False
                delay = next(delays)
                log.warning("%s: sync failed (%s); retrying in %.1f s", self.user_id, e, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _batch(self, resp: Any, initial: bool) -> SyncBatch:
        batch = SyncBatch(initial=initial)
        for room_id, info in resp.rooms.invite.items():
            inviter = None
            for ev in info.invite_state:
                if (
                    getattr(ev, "state_key", None) == self.user_id
                    and getattr(ev, "membership", None) == "invite"
                ):
                    inviter = ev.sender
            batch.invites.append(Invite(room_id, inviter))
        timeline = [(r, ev) for r, info in resp.rooms.join.items() for ev in info.timeline.events]
        for room_id, info in resp.rooms.join.items():
            batch.joined.append(room_id)
            for ev in [*info.state, *info.timeline.events]:
                await self._note_encryption_settings(room_id, ev)
        await self._learn_senders(timeline)
        for room_id, ev in timeline:
            batch.events.append(await self._checked(self._incoming(room_id, ev)))
        batch.left.extend(resp.rooms.leave.keys())
        batch.to_device.extend(dict(ev.source) for ev in resp.to_device_events)
        self._reshare_on_request(resp.to_device_events)
        await self._note_withheld(batch.to_device)
        return batch

    async def _note_encryption_settings(self, room_id: str, ev: Any) -> None:
        """Remember the room's ``m.room.encryption`` content (rotation periods)."""
        src = getattr(ev, "source", None) or {}
        if src.get("type") != "m.room.encryption" or src.get("state_key") != "":
            return
        raw = src.get("content")
        content: dict[str, Any] = raw if isinstance(raw, dict) else {}
        client = self.client
        if isinstance(client, E2EEClient) and client.rotation.get(room_id) != content:
            client.rotation[room_id] = content
            await self.store.put(ENCRYPTION_NS, room_id, content)

    def _reshare_on_request(self, to_device: list[Any]) -> None:
        """A device that replaced its Olm session with us (m.dummy) or asks again for a key
        we already gave it gets the current room keys again with our next message."""
        client, olm = self.client, self.client.olm
        if olm is None or not isinstance(client, E2EEClient):
            return
        for ev in to_device:
            if isinstance(ev, DummyEvent):
                device = olm.device_store.device_from_sender_key(ev.sender, ev.sender_key)
                if device is not None:
                    client.reshare_with(ev.sender, device.id)
            elif isinstance(ev, RoomKeyRequest) and (
                ev.sender_key == olm.account.identity_keys["curve25519"]
            ):
                client.reshare_with(ev.sender, ev.requesting_device_id)

    async def _note_withheld(self, to_device: list[dict[str, Any]]) -> None:
        for ev in to_device:
            raw = ev.get("content")
            content: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if ev.get("type") != WITHHELD or not isinstance(content.get("session_id"), str):
                continue
            await self.store.put(
                WITHHELD_NS,
                content["session_id"],
                {"code": str(content.get("code", "")), "sender": ev.get("sender", "")},
            )

    async def _learn_senders(self, events: list[tuple[str, Any]]) -> None:
        """Fetch device keys of senders whose device we do not know yet, before authorising."""
        olm = self.client.olm
        if olm is None:
            return
        unknown = set()
        for _room, ev in events:
            key = getattr(ev, "sender_key", None)
            if not getattr(ev, "decrypted", False) or key is None or ev.sender == self.user_id:
                continue
            if not any(
                d.curve25519 == key for d in self.client.device_store.active_user_devices(ev.sender)
            ):
                unknown.add(ev.sender)
        if unknown:
            olm.users_for_key_query.update(unknown)
            await guarded(self.client.keys_query(), "querying keys")

    async def _checked(self, inc: Incoming) -> Incoming:
        """Reject a Megolm message index seen before under another event ID (a replay)."""
        client = self.client
        indices = client.megolm_indices if isinstance(client, E2EEClient) else {}
        where = indices.pop(inc.event_id, None)
        if where is None or not inc.encrypted or inc.decrypt_error:
            return inc
        key = hashlib.sha256("|".join(map(str, where)).encode()).hexdigest()
        seen = await self.store.get(INDEX_NS, key)
        if seen is None:
            await self.store.put(INDEX_NS, key, {"event_id": inc.event_id})
            return inc
        if seen.get("event_id") == inc.event_id:
            return inc
        log.warning("%s: %s replays the ciphertext of %s", self.user_id, inc.event_id, seen)
        return self._rejected(inc, "replayed ciphertext of an earlier message")

    def _rejected(self, inc: Incoming, why: str) -> Incoming:
        """An encrypted event we decrypted but must not trust: no content, no device."""
        return dataclasses.replace(
            inc,
            type="m.room.encrypted",
            content={},
            sender_device=None,
            device_verified=False,
            decrypt_error=why,
        )

    def _incoming(self, room_id: str, ev: Any) -> Incoming:
        src = dict(ev.source)
        if isinstance(ev, MegolmEvent):
            return Incoming(
                room_id=room_id,
                event_id=ev.event_id,
                sender=ev.sender,
                type="m.room.encrypted",
                content=src.get("content", {}),
                ts=ev.server_timestamp,
                encrypted=True,
                decrypt_error=KEY_MISSING,
                raw=src,
            )
        encrypted = bool(getattr(ev, "decrypted", False))
        device, verified, problem = (None, False, None)
        if encrypted:
            device, verified, problem = self._authenticate(
                room_id, ev.sender, getattr(ev, "sender_key", None), getattr(ev, "session_id", None)
            )
        inc = Incoming(
            room_id=room_id,
            event_id=src.get("event_id", getattr(ev, "event_id", "")),
            sender=ev.sender,
            type=src.get("type", ""),
            content=src.get("content", {}) if isinstance(src.get("content"), dict) else {},
            ts=int(src.get("origin_server_ts", getattr(ev, "server_timestamp", 0))),
            encrypted=encrypted,
            sender_device=device,
            device_verified=verified,
            state_key=src.get("state_key"),
            raw=src,
        )
        if problem:
            log.warning("%s: rejecting %s: %s", self.user_id, inc.event_id, problem)
            return self._rejected(inc, problem)
        return inc

    def _authenticated_device(self, sender: str, sender_key: str | None) -> tuple[str | None, bool]:
        """The sender's device owning the Olm identity key that sent the session, if known."""
        device, verified, _ = self._authenticate(None, sender, sender_key, None)
        return device, verified

    def _authenticate(
        self, room_id: str | None, sender: str, sender_key: str | None, session_id: str | None
    ) -> tuple[str | None, bool, str | None]:
        """(device, verified, problem) for a decrypted event claiming to come from ``sender``.

        The Megolm session must have come from a current device *of the event's sender*
        (its Curve25519 key) and be signed by that device's Ed25519 key; otherwise the
        ``sender`` field is not backed by cryptography (a spoofed or replayed event, or a
        deleted device) and ``problem`` says why.
        """
        olm = self.client.olm
        if sender_key is None or olm is None:
            return None, False, "the event names no sending device key"
        own = olm.account.identity_keys
        if sender == self.user_id and sender_key == own["curve25519"]:
            return self.device_id, True, None
        for device in self.client.device_store.active_user_devices(sender):
            if device.curve25519 != sender_key:
                continue
            if room_id and session_id:
                session = olm.inbound_group_store.get(room_id, sender_key, session_id)
                if session is not None and session.ed25519 != device.ed25519:
                    return None, False, f"the room key is not signed by {sender}'s device"
            return device.id, bool(olm.is_device_verified(device)), None
        if sender not in olm.tracked_users:
            return None, False, None  # devices not fetched yet: unauthenticated, not refuted
        return None, False, f"{sender} has no current device owning the key that encrypted this"

    def incoming(self, room_id: str, event: Any) -> Incoming:
        """Our view of a nio event (e.g. from back-pagination), authenticated and decrypted."""
        return self._incoming(room_id, event)

    async def remember_undecrypted(self, inc: Incoming, now: float | None = None) -> None:
        """Keep an event whose key is missing, so it is retried when the key lands."""
        if inc.decrypt_error == KEY_MISSING and not await self.store.get(
            UNDECRYPTED_NS, inc.event_id
        ):
            await self.store.put(
                UNDECRYPTED_NS,
                inc.event_id,
                {
                    "room_id": inc.room_id,
                    "raw": inc.raw,
                    "asked": False,
                    "first": now or time.time(),
                },
            )

    async def _retry_undecrypted(self, batch: SyncBatch) -> None:
        """Keep undecryptable events and re-try them as keys arrive; after a bounded wait ask
        for the key, and tell ``on_undecryptable`` once when the key was withheld or the
        event stays unreadable past ``undecryptable_wait_s``."""
        now = time.time()
        for inc in batch.events:
            await self.remember_undecrypted(inc, now)
        fresh = []
        for event_id, rec in await self.store.items(UNDECRYPTED_NS):
            ev = MegolmEvent.from_dict(rec["raw"])
            ev.room_id = rec["room_id"]
            try:
                decrypted = self.client.decrypt_event(ev)
            except EncryptionError as e:
                if "Duplicate message index" in str(e):
                    log.warning("%s: dropping replayed event %s", self.user_id, event_id)
                    await self.store.delete(UNDECRYPTED_NS, event_id)
                    continue
                await self._still_undecryptable(event_id, rec, ev, now)
                continue
            await self._reopen(event_id)
            fresh.append(decrypted)
        if fresh:
            await self._learn_senders([(ev.room_id, ev) for ev in fresh])
            incs = [await self._checked(self._incoming(ev.room_id, ev)) for ev in fresh]
            ids = {f.event_id for f in incs}
            batch.events = [e for e in batch.events if e.event_id not in ids] + incs

    async def _reopen(self, event_id: str) -> None:
        """Forget the stored copy, and that the event was handled while unreadable (a bot
        marks the encrypted placeholder processed), so it is handled now that it decrypts."""
        async with self.store.transaction() as tx:
            await tx.delete(UNDECRYPTED_NS, event_id)
            await tx.unmark_processed(event_id)

    async def _still_undecryptable(
        self, event_id: str, rec: dict[str, Any], ev: MegolmEvent, now: float
    ) -> None:
        first = float(rec.get("first") or now)
        age = now - first
        withheld = await self.store.get(WITHHELD_NS, ev.session_id) if ev.session_id else None
        changed = dict(rec, first=first)
        if not rec.get("asked") and not withheld and age >= self.key_request_after_s:
            with contextlib.suppress(MessengerError):
                await guarded(self.client.request_room_key(ev), "requesting a room key")
            changed["asked"] = True
        if not rec.get("notified") and (withheld or age >= self.undecryptable_wait_s):
            code = withheld.get("code", "") if withheld else ""
            why = WITHHELD_WHY.get(code) or (
                f"its key did not reach this device within {int(self.undecryptable_wait_s)} s"
            )
            changed["notified"] = True
            await self._notify_undecryptable(self._incoming(rec["room_id"], ev), why)
        if age > FORGET_UNDECRYPTABLE_S:
            await self.store.delete(UNDECRYPTED_NS, event_id)
        elif changed != rec:
            await self.store.put(UNDECRYPTED_NS, event_id, changed)

    async def _notify_undecryptable(self, inc: Incoming, why: str) -> None:
        log.warning("%s: cannot read %s from %s: %s", self.user_id, inc.event_id, inc.sender, why)
        if self.on_undecryptable is None:
            return
        try:
            await self.on_undecryptable(inc, why)
        except Exception:
            log.exception("%s: the undecryptable-event hook failed", self.user_id)

    async def fetch_event(self, room_id: str, event_id: str) -> Incoming:
        """One event by ID, decrypted when we hold its key."""
        resp = await guarded(self.client.room_get_event(room_id, event_id), "fetching an event")
        ev = resp.event
        if isinstance(ev, MegolmEvent):
            ev.room_id = room_id
            with contextlib.suppress(EncryptionError):
                ev = self.client.decrypt_event(ev)
        with contextlib.suppress(MessengerError):
            await self._learn_senders([(room_id, ev)])
        return self._incoming(room_id, ev)

    async def upload_encrypted(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        """Upload an encrypted attachment; return the ``file`` block of an ``m.file`` message."""
        resp, keys = await self._upload(data, filename)
        return {**keys, "url": resp.content_uri, "mimetype": mimetype}

    async def _upload(self, data: bytes, filename: str) -> tuple[Any, dict[str, Any]]:
        try:
            resp, keys = await self.client.upload(
                lambda *_: io.BytesIO(data),
                content_type="application/octet-stream",
                filename=filename,
                encrypt=True,
                filesize=len(data),
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransientError(f"uploading {filename} failed: {e}") from None
        check(resp, f"uploading {filename}")
        return resp, dict(keys or {})
