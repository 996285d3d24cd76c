"""Provides the decryption half of a Session: authenticating senders, rejecting replays,
keeping undecryptable events and retrying them as keys arrive.

A decrypted event is trusted only when its Megolm session came from a device of its sender
that existed when the key arrived (a device signed out later keeps its messages readable).
An event whose key is missing is kept (sealed) and retried on every sync, a key is requested
after ``KEY_REQUEST_AFTER_S`` and the bot is told once when it stays unreadable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nio import MegolmEvent
from nio.exceptions import EncryptionError

from messenger.calls import guarded
from messenger.errors import MessengerError
from messenger.events import Incoming, SyncBatch
from messenger.i18n import N_
from messenger.poison import poison_log
from messenger.session.keyshare import WITHHELD
from messenger.session.olmkeys import MALFORMED_PAYLOAD, E2EEClient
from messenger.store import StateStore, Tx

log = logging.getLogger(__name__)

UNDECRYPTED_NS = "undecrypted"
WITHHELD_NS = "withheld"
INDEX_NS = "megolm-index"
ORIGIN_NS = "key-origin"
DELETED_NS = "device-deleted"
KEY_MISSING = N_("the room key has not arrived (yet)")
KEY_LATE = N_("its key did not reach this device in time")
KEY_REQUEST_AFTER_S = 5.0
UNDECRYPTABLE_WAIT_S = 60.0
FORGET_UNDECRYPTABLE_S = 7 * 24 * 3600.0
WITHHELD_WHY = {
    "m.unverified": N_("its sender's client withheld the key because this device is not verified"),
    "m.blacklisted": N_("its sender's client has blocked this device"),
    "m.no_olm": N_("its sender's client could not set up a secure channel with this device"),
    "m.unauthorised": N_("its sender's client refused to share the key with this device"),
    "m.unavailable": N_("no device had the key to share"),
}

UndecryptableHook = Callable[[Incoming, str], Awaitable[None]]


class DecryptionMixin:
    """Decryption for ``Session`` (which provides client, store, user_id and device_id)."""

    client: Any
    store: StateStore
    on_undecryptable: UndecryptableHook | None
    key_request_after_s: float
    undecryptable_wait_s: float

    user_id: Any
    device_id: Any
    key_origins: dict[str, dict[str, Any]]
    """Megolm session ID → the device (and its keys) it came from, bound when it arrived."""
    _origins_dirty: set[str]
    _index_pending: dict[str, str]

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

    async def _checked_all(self, incs: list[Incoming]) -> list[Incoming]:
        """Reject a Megolm message index seen before under another event ID (a replay).

        New indices are recorded with the batch's sync token (``_write_indices``, one
        transaction at the end of the batch): a crash before it re-delivers the batch, whose
        decryption finds the same indices again, so nothing is missed."""
        client = self.client
        indices = client.megolm_indices if isinstance(client, E2EEClient) else {}
        todo: list[tuple[int, str]] = []
        for i, inc in enumerate(incs):
            where = indices.pop(inc.event_id, None)
            if where is not None and inc.encrypted and not inc.decrypt_error:
                todo.append((i, hashlib.sha256("|".join(map(str, where)).encode()).hexdigest()))
        out = list(incs)
        for i, key in todo:
            inc = incs[i]
            seen = self._index_pending.get(key)
            if seen is None:
                kept = await self.store.get(INDEX_NS, key)
                seen = kept.get("event_id") if isinstance(kept, dict) else None
            if seen is None:
                self._index_pending[key] = inc.event_id
            elif seen != inc.event_id:
                log.warning("%s: %s replays the ciphertext of %s", self.user_id, inc.event_id, seen)
                out[i] = self._rejected(inc, "replayed ciphertext of an earlier message")
        return out

    async def _write_indices(self, tx: Tx) -> None:
        """Record the message indices ``_checked_all`` saw first (cleared once committed)."""
        for key, event_id in self._index_pending.items():
            await tx.put(INDEX_NS, key, {"event_id": event_id})

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
        device, verified, deleted, problem = (None, False, False, None)
        ts = int(src.get("origin_server_ts", getattr(ev, "server_timestamp", 0)))
        if encrypted:
            device, verified, deleted, problem = self._authenticate(
                room_id,
                ev.sender,
                getattr(ev, "sender_key", None),
                getattr(ev, "session_id", None),
                ts,
            )
        inc = Incoming(
            room_id=room_id,
            event_id=src.get("event_id", getattr(ev, "event_id", "")),
            sender=ev.sender,
            type=src.get("type", ""),
            content=src.get("content", {}) if isinstance(src.get("content"), dict) else {},
            ts=ts,
            encrypted=encrypted,
            sender_device=device,
            device_verified=verified,
            device_deleted=deleted,
            state_key=src.get("state_key"),
            raw=src,
        )
        if problem:
            log.warning("%s: rejecting %s: %s", self.user_id, inc.event_id, problem)
            return self._rejected(inc, problem)
        return inc

    def _authenticate(
        self,
        room_id: str | None,
        sender: str,
        sender_key: str | None,
        session_id: str | None,
        ts: int,
    ) -> tuple[str | None, bool, bool, str | None]:
        """(device, verified, deleted, problem) for a decrypted event claiming ``sender``.

        The Megolm session must have come from a device *of the event's sender* (its
        Curve25519 key) and be signed by that device's Ed25519 key; otherwise the ``sender``
        field is not backed by cryptography (a spoofed or replayed event) and ``problem`` says
        why. A device signed out since is still that sender's device for the keys it sent
        while it existed: the binding made when the key arrived (``key_origins``) holds for
        messages sent before we saw the device signed out; anything later under its keys is
        refused (whoever still holds them is no longer a device of the sender).
        """
        olm = self.client.olm
        if sender_key is None or olm is None:
            return None, False, False, "the event names no sending device key"
        own = olm.account.identity_keys
        if sender == self.user_id and sender_key == own["curve25519"]:
            return self.device_id, True, False, None
        session = (
            olm.inbound_group_store.get(room_id, sender_key, session_id)
            if room_id and session_id
            else None
        )
        for device in self.client.device_store.active_user_devices(sender):
            if device.curve25519 != sender_key:
                continue
            if session is not None and session.ed25519 != device.ed25519:
                return None, False, False, f"the room key is not signed by {sender}'s device"
            verified = bool(olm.is_device_verified(device))
            if session is not None and session_id and not session.forwarding_chain:
                self._bind_origin(session_id, sender, device.id, sender_key, device.ed25519)
            return device.id, verified, False, None
        origin = self.key_origins.get(session_id or "")
        if (
            origin is not None
            and session is not None
            and origin["sender"] == sender
            and origin["curve25519"] == sender_key
            and origin["ed25519"] == session.ed25519
        ):
            gone = self.client.deleted_at.get(f"{sender}|{origin['device']}")
            if gone is None or ts <= gone:
                return origin["device"], bool(origin.get("verified")), True, None
            return None, False, False, f"sent after {sender}'s device was signed out"
        if sender not in olm.tracked_users:
            return None, False, False, None  # devices not fetched yet: not authenticated
        return (
            None,
            False,
            False,
            f"{sender} has no device we knew when the key arrived that owns the key "
            "that encrypted this",
        )

    def _bind_origin(
        self,
        session_id: str,
        sender: str,
        device_id: str,
        curve25519: str,
        ed25519: str,
        verified: bool = False,
    ) -> None:
        """Remember which device a room key came from, while that device exists."""
        if session_id in self.key_origins:
            return
        self.key_origins[session_id] = {
            "sender": sender,
            "device": device_id,
            "curve25519": curve25519,
            "ed25519": ed25519,
            "verified": verified,
        }
        self._origins_dirty.add(session_id)

    def note_device_trusted(self, user_id: str, device_id: str) -> None:
        """Record that a device was trusted (verified) while it existed: the keys it sent
        keep that trust after it is signed out."""
        for session_id, origin in self.key_origins.items():
            if (
                origin["sender"] == user_id
                and origin["device"] == device_id
                and not origin.get("verified")
            ):
                origin["verified"] = True
                self._origins_dirty.add(session_id)

    async def _bind_arrivals(self) -> None:
        """Bind the room keys that arrived in this sync to the devices that sent them (their
        device keys fetched first where unknown); persist every new binding."""
        client, olm = self.client, self.client.olm
        arrivals = list(getattr(client, "key_arrivals", []))
        if olm is not None and arrivals:
            unknown = {ev.sender for ev in arrivals if self._device_by_key(ev) is None}
            if unknown:
                olm.users_for_key_query.update(unknown)
                try:
                    await guarded(client.keys_query(), "querying keys")
                except MessengerError as e:
                    log.warning("%s: device query for new room keys failed: %s", self.user_id, e)
            for ev in arrivals:
                device = self._device_by_key(ev)
                session = olm.inbound_group_store.get(ev.room_id, ev.sender_key, ev.session_id)
                if device is None or session is None or session.ed25519 != device.ed25519:
                    continue
                self._bind_origin(
                    ev.session_id,
                    ev.sender,
                    device.id,
                    ev.sender_key,
                    device.ed25519,
                    bool(olm.is_device_verified(device)),
                )
            client.key_arrivals.clear()
        await self._save_origins()

    def _device_by_key(self, ev: Any) -> Any:
        """The sender's device (current or signed out since we saw it) owning the Olm key
        that sent a room key: only that device holds the key's private half."""
        store = self.client.olm.device_store
        devices = store[ev.sender].values() if ev.sender in store.users else []
        return next((d for d in devices if d.curve25519 == ev.sender_key), None)

    async def _save_origins(self) -> None:
        deletions: set[str] = getattr(self.client, "deletions_new", set())
        if not self._origins_dirty and not deletions:
            return
        async with self.store.transaction() as tx:
            for session_id in self._origins_dirty:
                await tx.put(ORIGIN_NS, session_id, self.key_origins[session_id])
            for key in deletions:
                await tx.put(DELETED_NS, key, {"at": self.client.deleted_at[key]})
        self._origins_dirty.clear()
        deletions.clear()

    async def _load_origins(self) -> None:
        self.key_origins = dict(await self.store.items(ORIGIN_NS))
        client = self.client
        if hasattr(client, "deleted_at"):
            stored = await self.store.items(DELETED_NS)
            client.deleted_at.update({k: int(v["at"]) for k, v in stored})
            client.note_deletions()  # signed out while we were not looking: from now on

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
                if "Duplicate message index" in str(e) or MALFORMED_PAYLOAD in str(e):
                    poison_log.note(
                        f"undecryptable:{rec['room_id']}:{ev.sender}",
                        "%s: dropping %s from %s: %s",
                        self.user_id,
                        event_id,
                        ev.sender,
                        e,
                    )
                    await self.store.delete(UNDECRYPTED_NS, event_id)
                    continue
                await self._still_undecryptable(event_id, rec, ev, now)
                continue
            await self._reopen(event_id)
            fresh.append(decrypted)
        if fresh:
            await self._learn_senders([(ev.room_id, ev) for ev in fresh])
            incs = await self._checked_all([self._incoming(ev.room_id, ev) for ev in fresh])
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
            why = WITHHELD_WHY.get(code) or KEY_LATE
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
