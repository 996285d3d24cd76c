"""Provides ``E2EEClient``: matrix-nio's AsyncClient with its E2EE gaps closed, without a fork.

What it changes, and why (see ``shared/NOTES.md``):

- one-time keys are generated and *saved* before they are uploaded, and a crashed upload sends
  the very same keys again (no "key already exists" wedge after a SIGKILL);
- a fallback key is uploaded with them and replaced once the server reports it used;
- room keys go out in batches of ``ROOM_KEY_BATCH`` devices, a failed request fails the send,
  and devices that get no key are told why (``messenger.session.keyshare``);
- the room's ``rotation_period_ms`` / ``rotation_period_msgs`` drive Megolm rotation;
- inviting a user shares the next key with them even before the invite comes down ``/sync``;
- crash points ``sync-unprocessed`` and ``keys-uploaded`` for the SIGKILL tests.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from nio import (
    AsyncClient,
    ForwardedRoomKeyEvent,
    KeysQueryResponse,
    KeysUploadResponse,
    RoomKeyEvent,
    SyncResponse,
)
from nio.api import Api
from nio.events.misc import UnknownBadEvent
from nio.exceptions import EncryptionError, LocalProtocolError
from nio.responses import ErrorResponse
from nio.rooms import MatrixRoom

from messenger.errors import TransientError
from messenger.faults import crash_point
from messenger.poison import poison_log
from messenger.session.keyshare import RoomKeySharing

log = logging.getLogger(__name__)

ROOM_KEY_BATCH = 100
MALFORMED_PAYLOAD = "the decrypted payload is not a valid event"
SIGNED_CURVE = "signed_curve25519"


class E2EEClient(RoomKeySharing, AsyncClient):  # type: ignore[misc]
    """An AsyncClient whose key upload, key sharing and rotation survive faults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fallback_needed: bool | None = None  # None: not known until the first sync
        self.withhold_from_unverified = False
        self.rotation: dict[str, dict[str, Any]] = {}  # room ID → m.room.encryption content
        self._withheld_sent: set[tuple[str, str, str]] = set()
        self.megolm_indices: dict[str, tuple[str, str, int]] = {}
        self.key_arrivals: list[RoomKeyEvent] = []
        self.deleted_at: dict[str, int] = {}
        """``user|device`` → when (ms) we first saw the device signed out."""
        self.deletions_new: set[str] = set()
        self._parsed: dict[int, dict[Any, Any]] = {}
        """Room keys received over Olm since the session last looked (``Session`` drains it)."""
        """event ID → (sender key, session ID, message index) of events decrypted lately."""

    def load_store(self) -> None:
        """Load nio's store; room keys then go out ``ROOM_KEY_BATCH`` devices per request.

        nio writes an Olm or Megolm session to SQLite (on the event loop) each time one
        changes; in its default rollback-journal mode every such write waits for two or three
        fsyncs. The store is switched to WAL with ``synchronous=NORMAL``: a write is then one
        append to the log, still atomic and still kept when the process is killed (only a power
        loss can drop the last few, as for the state store).
        """
        super().load_store()
        db = getattr(self.store, "database", None)
        if db is not None and hasattr(db, "pragma"):
            db.pragma("journal_mode", "wal", permanent=True)
            db.pragma("synchronous", "normal", permanent=True)
        self._save_encrypted_rooms_once()
        olm = self.olm
        if olm is None:
            return
        olm._maxToDeviceMessagesPerRequest = ROOM_KEY_BATCH
        index_ok = olm.message_index_ok

        def remember_index(message_index: int, event: Any) -> bool:
            if len(self.megolm_indices) > 10_000:
                self.megolm_indices.clear()
            self.megolm_indices[event.event_id] = (
                event.sender_key,
                event.session_id,
                message_index,
            )
            return bool(index_ok(message_index, event))

        olm.message_index_ok = remember_index
        decrypt = olm.decrypt_megolm_event

        def strict_decrypt(event: Any, room_id: str | None = None) -> Any:
            result = decrypt(event, room_id)
            if isinstance(result, UnknownBadEvent):  # nio would put it in the timeline
                raise EncryptionError(MALFORMED_PAYLOAD)
            return result

        olm.decrypt_megolm_event = strict_decrypt

    def _save_encrypted_rooms_once(self) -> None:
        """nio writes the set of encrypted rooms to SQLite after every sync, even an empty
        one (a transaction and an account lookup on the event loop, about a third of a bot's
        CPU per command): write only rooms not written before."""
        store = self.store
        if store is None:
            return
        save, saved = store.save_encrypted_rooms, set(self.encrypted_rooms)

        def save_new(rooms: set[str]) -> None:
            new = set(rooms) - saved
            if new:
                save(new)
                saved.update(new)

        store.save_encrypted_rooms = save_new

    # -- to-device input -----------------------------------------------------------------

    def _handle_decrypt_to_device(self, event: Any) -> Any:
        """nio's to-device handling, one event at a time, never raising: a malformed or
        undecryptable to-device event from anyone (any local account, any federating server)
        is logged (rate-limited) and dropped, so it cannot stop the sync loop. A room key that
        arrives from a device we know is remembered with that device (``key_arrivals``)."""
        try:
            decrypted = super()._handle_decrypt_to_device(event)
        except Exception as e:  # noqa: BLE001 - remote input: never let it end the process
            poison_log.note(
                f"to-device:{getattr(event, 'sender', '?')}:{e.__class__.__name__}",
                "dropping a to-device event from %s (%s): %s: %s",
                getattr(event, "sender", "?"),
                getattr(event, "source", {}).get("type", "?"),
                e.__class__.__name__,
                e,
            )
            return None
        if isinstance(decrypted, RoomKeyEvent) and not isinstance(decrypted, ForwardedRoomKeyEvent):
            self.key_arrivals.append(decrypted)
        return decrypted

    # -- responses ----------------------------------------------------------------------

    async def create_matrix_response(
        self, response_class: type, transport_response: Any, data: Any = None, save_to: Any = None
    ) -> Any:
        """nio's response parsing, keeping the sync fields nio drops (fallback key usage)."""
        resp = await super().create_matrix_response(
            response_class, transport_response, data, save_to
        )
        if isinstance(resp, SyncResponse):
            body = self._parsed.pop(id(transport_response), None) or {}
            types = body.get("device_unused_fallback_key_types")
            if types is None:
                types = body.get("org.matrix.msc2732.device_unused_fallback_key_types")
            resp.unused_fallback_key_types = types
        return resp

    async def parse_body(self, transport_response: Any) -> dict[Any, Any]:
        """nio's parsing, keeping the body for ``create_matrix_response`` (a sync's JSON is
        then parsed once, not twice)."""
        body: dict[Any, Any] = await super().parse_body(transport_response)
        if isinstance(body, dict):
            if len(self._parsed) > 64:  # responses that never reached create_matrix_response
                self._parsed.clear()
            self._parsed[id(transport_response)] = body
        return body

    async def receive_response(self, response: Any) -> None:
        """Apply a response to nio's state, with crash points before anything is applied."""
        if isinstance(response, SyncResponse):
            if None in response.to_device_events:  # nio could not parse them (e.g. `{}`)
                poison_log.note("to-device:unparsed", "dropping to-device events nio cannot parse")
                response.to_device_events = [e for e in response.to_device_events if e]
            if response.to_device_events:
                crash_point("sync-unprocessed")
            types = getattr(response, "unused_fallback_key_types", None)
            if isinstance(types, list) and self.olm is not None and self.olm.account.shared:
                self.fallback_needed = SIGNED_CURVE not in types
        elif isinstance(response, KeysUploadResponse):
            crash_point("keys-uploaded")
        await super().receive_response(response)
        if isinstance(response, KeysUploadResponse):
            self.fallback_needed = False
        elif isinstance(response, KeysQueryResponse):
            self.note_deletions()

    def note_deletions(self) -> None:
        """Record when we first saw each device signed out: messages under the keys it sent
        while it existed stay its owner's only if they were sent before that moment."""
        if self.olm is None:
            return
        now = int(time.time() * 1000)
        for device in self.olm.device_store:
            key = f"{device.user_id}|{device.id}"
            if device.deleted and key not in self.deleted_at:
                self.deleted_at[key] = now
                self.deletions_new.add(key)

    # -- key upload -----------------------------------------------------------------------

    @property
    def should_upload_keys(self) -> bool:
        """One-time keys below target, a fallback key missing, or keys left from a crash."""
        if self.olm is None:
            return False
        pending = bool(self.olm.account._account.one_time_keys)
        return bool(self.olm.should_upload_keys or self.fallback_needed or pending)

    def _signed(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.olm is not None
        signature = self.olm.sign_json(dict(payload))
        return {**payload, "signatures": {self.user_id: {f"ed25519:{self.device_id}": signature}}}

    def _device_keys(self) -> dict[str, Any]:
        assert self.olm is not None
        keys = self.olm.account.identity_keys
        return self._signed(
            {
                "algorithms": self.olm._algorithms,
                "device_id": self.device_id,
                "user_id": self.user_id,
                "keys": {
                    f"curve25519:{self.device_id}": keys["curve25519"],
                    f"ed25519:{self.device_id}": keys["ed25519"],
                },
            }
        )

    async def keys_upload(self) -> Any:
        """Upload device keys, one-time keys and a fallback key, crash-safely.

        Keys are generated and the account saved *before* the request: if the process dies
        before the response is handled, the restarted process finds the same unpublished keys
        and uploads them again, which the server accepts (same key IDs, same keys).
        """
        olm = self.olm
        if olm is None:
            raise LocalProtocolError("encryption is not loaded")
        account = olm.account
        vz = account._account
        if not vz.one_time_keys:
            have = olm.uploaded_key_count if account.shared else 0
            if have is not None and account.max_one_time_keys > have:
                account.generate_one_time_keys(account.max_one_time_keys - have)
        if not vz.fallback_key and (self.fallback_needed or not account.shared):
            vz.generate_fallback_key()
        olm.save_account()
        content: dict[str, Any] = {}
        if not account.shared:
            content["device_keys"] = self._device_keys()
        otks = {
            f"{SIGNED_CURVE}:{kid}": self._signed({"key": key.to_base64()})
            for kid, key in vz.one_time_keys.items()
        }
        if otks:
            content["one_time_keys"] = otks
        fallback = {
            f"{SIGNED_CURVE}:{kid}": self._signed({"key": key.to_base64(), "fallback": True})
            for kid, key in vz.fallback_key.items()
        }
        if fallback:
            content["fallback_keys"] = fallback
        crash_point("keys-uploading")
        method, path, data = Api.keys_upload(self.access_token, content)
        return await self._send(KeysUploadResponse, method, path, data)

    # -- room keys ------------------------------------------------------------------------

    async def keys_claim(self, user_set: dict[str, Any]) -> Any:
        """Claim one-time keys; a failed claim is a TransientError (nio raises TypeError
        while building its own error response for it)."""
        try:
            resp = await super().keys_claim(user_set)
        except TypeError as e:
            raise TransientError(f"claiming one-time keys failed: {e}") from None
        status = getattr(getattr(resp, "transport_response", None), "status", 200)
        if isinstance(resp, ErrorResponse) or status >= 400:
            raise TransientError(f"claiming one-time keys failed: {resp}")
        return resp

    def ensure_room(self, room_id: str) -> MatrixRoom:
        """nio's room object, created for a room not seen since the restart (nio keeps rooms
        only in memory; with a persisted sync token they reappear only when active)."""
        room = self.rooms.get(room_id)
        if room is None:
            room = MatrixRoom(room_id, self.user_id, room_id in self.encrypted_rooms)
            self.rooms[room_id] = room
        return room

    def track_members(self, room_id: str) -> None:
        """Queue a device query for every member (joined or invited) whose devices we do not
        track yet, so a room key is never shared before a new member's devices are known
        (the spec's "members being tracked" rule)."""
        olm, room = self.olm, self.rooms.get(room_id)
        if olm is None or room is None:
            return
        untracked = set(room.users) - olm.tracked_users - {self.user_id}
        olm.users_for_key_query.update(untracked)

    def apply_rotation(self, room_id: str) -> None:
        """Set the outbound session's limits from the room's ``m.room.encryption`` content."""
        olm = self.olm
        session = olm.outbound_group_sessions.get(room_id) if olm is not None else None
        content = self.rotation.get(room_id)
        if session is None or not content:
            return
        ms, msgs = content.get("rotation_period_ms"), content.get("rotation_period_msgs")
        if isinstance(ms, int) and ms > 0:
            session.max_age = timedelta(milliseconds=ms)
        if isinstance(msgs, int) and msgs > 0:
            session.max_messages = msgs

    async def room_send(self, room_id: str, *args: Any, **kwargs: Any) -> Any:
        """nio's room_send, rotating by the room's own settings."""
        self.apply_rotation(room_id)
        return await super().room_send(room_id, *args, **kwargs)

    def encrypt(self, room_id: str, message_type: str, content: dict[Any, Any]) -> Any:
        """Encrypt with the room's rotation limits applied."""
        self.apply_rotation(room_id)
        return super().encrypt(room_id, message_type, content)

    async def room_create(self, *args: Any, **kwargs: Any) -> Any:
        """Create a room; one created encrypted is known as encrypted at once (nio learns it
        only from a later /sync, and would send plaintext until then)."""
        resp = await super().room_create(*args, **kwargs)
        state = kwargs.get("initial_state") or []
        if not isinstance(resp, ErrorResponse) and any(
            e.get("type") == "m.room.encryption" for e in state
        ):
            self.encrypted_rooms.add(resp.room_id)
            self.ensure_room(resp.room_id).encrypted = True
        return resp

    async def room_invite(self, room_id: str, user_id: str) -> Any:
        """Invite, and make the next key include the invitee before the invite is synced."""
        resp = await super().room_invite(room_id, user_id)
        if not isinstance(resp, ErrorResponse) and self.olm is not None:
            room = self.rooms.get(room_id)
            if room is not None:
                room.add_member(user_id, None, None, invited=True)
                self.olm.users_for_key_query.add(user_id)
                self.invalidate_outbound_session(room_id)
        return resp
