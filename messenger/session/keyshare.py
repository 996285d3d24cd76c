"""Provides ``RoomKeySharing``: how ``E2EEClient`` shares, withholds and keeps its Megolm room
keys (a part of ``messenger.session.olmkeys``).

- room keys go out in to-device requests of ``ROOM_KEY_BATCH`` devices; a failed request or key
  claim fails the send (the outbox retries it) instead of leaving devices without the key;
- devices that get no key are told so with ``m.room_key.withheld`` (``m.no_olm``,
  ``m.blacklisted``, and ``m.unverified`` when ``withhold_from_unverified`` is set);
- outbound sessions are exported and imported, so a restart keeps sharing the same key.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import aiohttp
from nio.api import Api
from nio.crypto.sessions import OutboundGroupSession
from nio.exceptions import LocalProtocolError
from nio.responses import ShareGroupSessionResponse

from messenger.errors import TransientError

if TYPE_CHECKING:
    from nio.rooms import MatrixRoom

log = logging.getLogger(__name__)

MEGOLM = "m.megolm.v1.aes-sha2"
WITHHELD = "m.room_key.withheld"
WITHHELD_REASONS = {
    "m.unverified": "The sender disabled sharing keys with unverified devices.",
    "m.blacklisted": "The sender has blocked this device.",
    "m.no_olm": "The sender could not establish a secure channel with this device.",
}


class RoomKeySharing:
    """Room-key sharing for ``E2EEClient`` (which is a nio ``AsyncClient`` and provides the
    rest: ``olm``, ``send``, ``keys_claim``, ``ensure_room`` …)."""

    olm: Any
    access_token: str
    user_id: str
    device_id: str
    sharing_session: dict[str, asyncio.Event]
    withhold_from_unverified: bool
    _withheld_sent: set[tuple[str, str, str]]

    if TYPE_CHECKING:  # provided by E2EEClient / AsyncClient; a method here would shadow theirs

        def ensure_room(self, room_id: str) -> MatrixRoom: ...
        def apply_rotation(self, room_id: str) -> None: ...
        def get_missing_sessions(self, room_id: str) -> dict[str, list[str]]: ...
        async def keys_claim(self, user_set: dict[str, Any]) -> Any: ...
        async def send(self, method: str, path: str, data: Any = None) -> Any: ...
        async def receive_response(self, response: Any) -> None: ...

    def _outbound_for_sharing(self, room_id: str) -> OutboundGroupSession:
        assert self.olm is not None
        session = self.olm.outbound_group_sessions.get(room_id)
        if session is None or session.shared:
            self.olm.create_outbound_group_session(room_id)
            session = self.olm.outbound_group_sessions[room_id]
        self.apply_rotation(room_id)
        return session

    async def share_group_session(
        self, room_id: str, ignore_unverified_devices: bool = False
    ) -> ShareGroupSessionResponse:
        """Share the room key with every device of the room, in batches, or fail as a whole.

        A failed key claim or to-device request raises TransientError and leaves the session
        unshared, so the next attempt sends the key to exactly the devices still missing it.
        Devices that get no key are sent ``m.room_key.withheld``.
        """
        olm = self.olm
        if olm is None:
            raise LocalProtocolError("encryption is not loaded")
        room = self.ensure_room(room_id)
        if room_id in self.sharing_session:
            raise LocalProtocolError(f"Already sharing a group session for {room_id}")
        self.sharing_session[room_id] = asyncio.Event()
        try:
            missing = self.get_missing_sessions(room_id)
            if missing:
                await self.keys_claim(missing)
            users = list(room.users)
            session = self._outbound_for_sharing(room_id)
            unverified = self._skip_unverified(session, users)
            requests = []
            for sharing_with, to_device in olm.share_group_session_parallel(
                room_id, users, ignore_unverified_devices=ignore_unverified_devices
            ):
                method, path, data = Api.to_device(
                    self.access_token, "m.room.encrypted", to_device, uuid4()
                )
                requests.append(self._send_room_keys(room_id, sharing_with, method, path, data))
            results = await asyncio.gather(*requests, return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                raise TransientError(f"sending the room key of {room_id} failed: {failed[0]}")
            await self._send_withheld(room_id, session, users, unverified)
            session.shared = True
        finally:
            self.sharing_session.pop(room_id).set()
        return ShareGroupSessionResponse(room_id, set(session.users_shared_with))

    async def _send_room_keys(
        self, room_id: str, sharing_with: set[Any], method: str, path: str, data: Any
    ) -> ShareGroupSessionResponse:
        """One to-device request of room keys; nio's state learns of it only if it succeeded.

        (nio's own path marks the devices as having the key whatever the HTTP status was.)
        """
        try:
            resp = await self.send(method, path, data)
            status = resp.status
            resp.release()
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransientError(f"sending room keys failed: {e.__class__.__name__}") from None
        if status >= 400:
            raise TransientError(f"sending room keys failed: HTTP {status}")
        shared = ShareGroupSessionResponse(room_id, sharing_with)
        await self.receive_response(shared)
        return shared

    def _skip_unverified(self, session: OutboundGroupSession, users: list[str]) -> set[Any]:
        """With ``withhold_from_unverified``, leave unverified devices out of this session."""
        if not self.withhold_from_unverified or self.olm is None:
            return set()
        skipped = set()
        for user in users:
            for device in self.olm.device_store.active_user_devices(user):
                if (user, device.id) in session.users_shared_with:
                    continue
                if not self.olm.is_device_verified(device):
                    session.users_ignored.add((user, device.id))
                    skipped.add((user, device.id))
        return skipped

    async def _send_withheld(
        self, room_id: str, session: OutboundGroupSession, users: list[str], unverified: set[Any]
    ) -> None:
        """Tell every device that gets no key for ``session`` why (one request)."""
        olm = self.olm
        assert olm is not None
        messages: dict[str, dict[str, Any]] = {}
        for user in users:
            for device in olm.device_store.active_user_devices(user):
                if (user, device.id) in session.users_shared_with or (
                    user == self.user_id and device.id == self.device_id
                ):
                    continue
                if (user, device.id) in unverified:
                    code = "m.unverified"
                elif olm.is_device_blacklisted(device):
                    code = "m.blacklisted"
                elif olm.session_store.get(device.curve25519) is None:
                    code = "m.no_olm"
                else:
                    continue
                if (session.id, user, device.id) in self._withheld_sent:
                    continue
                self._withheld_sent.add((session.id, user, device.id))
                messages.setdefault(user, {})[device.id] = {
                    "algorithm": MEGOLM,
                    "room_id": room_id,
                    "session_id": session.id,
                    "sender_key": olm.account.identity_keys["curve25519"],
                    "from_device": self.device_id,
                    "code": code,
                    "reason": WITHHELD_REASONS[code],
                }
        if not messages:
            return
        method, path, data = Api.to_device(
            self.access_token, WITHHELD, {"messages": messages}, uuid4()
        )
        try:
            resp = await self.send(method, path, data)
            if resp.status >= 400:
                log.warning("%s: sending %s failed: HTTP %s", self.user_id, WITHHELD, resp.status)
        except Exception as e:  # noqa: BLE001 - advisory message; the key state is unchanged
            log.warning("%s: sending %s failed: %s", self.user_id, WITHHELD, e)

    def reshare_with(self, user_id: str, device_id: str) -> None:
        """Send the current room keys to a device again (its Olm session was replaced)."""
        if self.olm is None:
            return
        for session in self.olm.outbound_group_sessions.values():
            if (user_id, device_id) in session.users_shared_with:
                session.users_shared_with.discard((user_id, device_id))
                session.shared = False

    # -- persistence of outbound sessions -------------------------------------------------

    def export_outbound(self, room_id: str, pickle_key: str) -> dict[str, Any] | None:
        """The room's outbound Megolm session as data to store (sealed by the caller)."""
        session = self.olm.outbound_group_sessions.get(room_id) if self.olm else None
        if session is None:
            return None
        return {
            "pickle": session.pickle(pickle_key).decode(),
            "created": session.creation_time.timestamp(),
            "count": session.message_count,
            "shared": session.shared,
            "shared_with": sorted(session.users_shared_with),
            "ignored": sorted(session.users_ignored),
        }

    def import_outbound(self, room_id: str, data: dict[str, Any], pickle_key: str) -> None:
        """Restore an outbound Megolm session saved with ``export_outbound``."""
        if self.olm is None:
            return
        session = OutboundGroupSession.from_pickle(data["pickle"].encode(), pickle_key)
        session.creation_time = datetime.fromtimestamp(data["created"])
        session.message_count = int(data["count"])
        session.shared = bool(data["shared"])
        session.users_shared_with = {tuple(x) for x in data["shared_with"]}
        session.users_ignored = {tuple(x) for x in data["ignored"]}
        self.olm.outbound_group_sessions[room_id] = session
