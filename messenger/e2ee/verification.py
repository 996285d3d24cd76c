"""Provides emoji (SAS) verification in the request/ready/start flow, to-device and in-room.

Roles: the side that sends ``m.key.verification.start`` is the *starter* (here always the
requester, once the other side is ready). Messages: request → ready → start → accept
(commitment) → key ⇄ key → both compare seven emoji → mac ⇄ mac → done ⇄ done.

To-device, every message carries the flow's ``transaction_id``. In a room, the request is an
``m.room.message`` (msgtype ``m.key.verification.request``, with ``to``); its event ID is the
flow ID, and every later message is a room event relating to it (``m.reference``), sent and
received through the normal (encrypted) room path.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from messenger.e2ee.sasflow import (  # re-exported: callers import them from here
    EARLY_MAX,
    PREFIX,
    REFUSED,
    REQUEST,
    SAS,
    TIMEOUT_S,
    Verification,
)
from messenger.e2ee.trust import CrossSigning
from messenger.errors import MessengerError
from messenger.events import Incoming
from messenger.poison import poison_log
from messenger.session.core import Session

log = logging.getLogger(__name__)

__all__ = ["EARLY_MAX", "PREFIX", "REFUSED", "REQUEST", "SAS", "TIMEOUT_S", "Verification"]
__all__ += ["VerificationManager", "is_verification_event"]


class VerificationManager:
    """Routes verification messages (to-device and in-room) to ``Verification`` objects.

    ``auto_accept(user_id)`` makes a bot: requests it approves are accepted and confirmed
    without a person (bots accept organisation coordinators), the others are cancelled.
    Without it (a person's client) every request waits in ``incoming``.
    """

    def __init__(
        self,
        session: Session,
        cross_signing: CrossSigning,
        auto_accept: Callable[[str], bool] | None = None,
        on_verified: Callable[[Verification], Awaitable[None]] | None = None,
    ) -> None:
        self.session = session
        self.cs = cross_signing
        self.is_bot = auto_accept is not None
        self.auto_accept = auto_accept or (lambda _user: False)
        self.on_verified = on_verified
        self.flows: dict[str, Verification] = {}
        self.incoming: asyncio.Queue[Verification] = asyncio.Queue()
        self._early: dict[str, list[Incoming]] = {}  # in-room replies to a request in flight

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def device_id(self) -> str:
        return self.session.device_id

    @property
    def own_ed25519(self) -> str:
        """This device's Ed25519 identity key (base64)."""
        olm = self.session.client.olm
        if olm is None:
            raise MessengerError("encryption is not loaded")
        return str(olm.account.identity_keys["ed25519"])

    async def send(
        self, user_id: str, device_id: str, event_type: str, content: dict[str, Any]
    ) -> None:
        """Send one to-device message."""
        body = {"messages": {user_id: {device_id: content}}}
        await self.session.api("PUT", f"/sendToDevice/{quote(event_type)}/{uuid.uuid4().hex}", body)

    async def send_room(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send one room event (encrypted in encrypted rooms); return its event ID."""
        return await self.session.send_now(
            room_id, content, txn_id="svv" + uuid.uuid4().hex, event_type=event_type
        )

    async def request(self, user_id: str, device_id: str) -> Verification:
        """Ask another device to verify with us (to-device)."""
        flow = Verification(self, user_id, device_id, uuid.uuid4().hex, we_requested=True)
        self.flows[flow.txn_id] = flow
        await flow._send(
            REQUEST,
            {"from_device": self.device_id, "methods": [SAS], "timestamp": int(time.time() * 1000)},
        )
        return flow

    async def request_in_room(self, room_id: str, user_id: str) -> Verification:
        """Ask ``user_id`` to verify with us in a room both are in; any of their devices may
        answer (the first ``ready`` wins). The request's event ID becomes the flow ID."""
        content = {
            "msgtype": REQUEST,
            "body": f"{self.user_id} asks {user_id} for emoji verification; "
            "your client does not support verification in the room.",
            "to": user_id,
            "from_device": self.device_id,
            "methods": [SAS],
        }
        # Their devices must be known now, or the room key would not reach them.
        await self.session.query_device_keys({user_id})
        event_id = await self.send_room(room_id, "m.room.message", content)
        flow = Verification(self, user_id, "", event_id, we_requested=True, room_id=room_id)
        self.flows[event_id] = flow
        for early in self._early.pop(event_id, []):
            await self._room_event(early)
        return flow

    async def handle(self, to_device: list[dict[str, Any]]) -> None:
        """Feed the to-device events of one sync (others are ignored)."""
        olm = self.session.client.olm
        if olm is not None:  # nio's legacy SAS must not answer (or cancel) our flows
            olm.outgoing_to_device_messages = [
                m for m in olm.outgoing_to_device_messages if not m.type.startswith(PREFIX)
            ]
        for ev in to_device:
            try:
                await self._to_device(ev, olm)
            except Exception as e:  # noqa: BLE001 - remote input: drop it, never stop the sync
                poison_log.note(
                    f"verification:{ev.get('sender')}",
                    "dropping a verification message from %s: %s: %s",
                    ev.get("sender"),
                    e.__class__.__name__,
                    e,
                )

    async def _to_device(self, ev: dict[str, Any], olm: Any) -> None:
        """One to-device event: a verification request or the next step of a flow."""
        event_type = ev.get("type", "")
        if not isinstance(event_type, str) or not event_type.startswith(PREFIX):
            return
        content = ev.get("content")
        if not isinstance(content, dict):
            return
        txn = content.get("transaction_id")
        if olm is not None and txn:
            olm.key_verifications.pop(txn, None)  # nio's legacy SAS must not answer too
        sender = ev.get("sender", "")
        if event_type == REQUEST:
            stamp = content.get("timestamp", 0)
            if not isinstance(stamp, int | float) or not isinstance(txn, str):
                return
            if time.time() * 1000 - stamp > TIMEOUT_S * 1000:
                return
            await self._on_request(
                Verification(
                    self, sender, str(content.get("from_device", "")), txn, we_requested=False
                )
            )
            return
        flow = self.flows.get(txn if isinstance(txn, str) else "")
        if flow is None or flow.room_id is not None or sender != flow.other_user:
            return
        await self._advance(flow, event_type, content)

    async def handle_room(self, events: list[Incoming], initial: bool = False) -> list[Incoming]:
        """Feed the timeline events of one sync; return the others (not verification events).

        Verification events are never commands, whoever they are for. Requests in an initial
        sync (history) or older than ten minutes are not answered.
        """
        rest = []
        for ev in events:
            if not is_verification_event(ev):
                rest.append(ev)
            elif ev.sender != self.user_id and not (initial and ev.type == "m.room.message"):
                try:
                    await self._room_event(ev)
                except Exception as e:  # noqa: BLE001 - remote input: drop it, never stop
                    poison_log.note(
                        f"verification:{ev.room_id}:{ev.sender}",
                        "in-room verification %s failed: %s: %s",
                        ev.event_id,
                        e.__class__.__name__,
                        e,
                    )
        return rest

    async def _room_event(self, ev: Incoming) -> None:
        content = ev.content
        if ev.type == "m.room.message":  # a request
            if content.get("to") != self.user_id or ev.event_id in self.flows:
                return
            if time.time() * 1000 - ev.ts > TIMEOUT_S * 1000:
                return
            if await self.session.store.is_processed(ev.event_id):
                return  # answered before a restart: a flow is never taken up twice
            device = str(content.get("from_device", ""))
            if not self._from_device(ev, device):
                return
            async with self.session.store.transaction() as tx:
                await tx.mark_processed(ev.event_id)
            await self._on_request(
                Verification(
                    self, ev.sender, device, ev.event_id, we_requested=False, room_id=ev.room_id
                )
            )
            return
        flow_id = ev.relates_to.get("event_id")
        if not isinstance(flow_id, str) or ev.relates_to.get("rel_type") != "m.reference":
            return
        flow = self.flows.get(flow_id)
        if flow is None:  # our request may still be on its way back (bots never request)
            early = self._early.get(flow_id, [])
            if not self.is_bot and len(self._early) < EARLY_MAX and len(early) < EARLY_MAX:
                self._early[flow_id] = [*early, ev]
            return
        if flow.room_id != ev.room_id or ev.sender != flow.other_user:
            return
        # Before ``ready`` names their device, any of theirs may answer (e.g. cancel).
        claimed = flow.other_device or str(content.get("from_device", ""))
        if claimed and not self._from_device(ev, claimed):
            return
        await self._advance(flow, ev.type, content)

    def _from_device(self, ev: Incoming, device: str) -> bool:
        """An encrypted event must come from the device it speaks for (Olm-authenticated)."""
        if ev.encrypted and ev.sender_device != device:
            log.warning(
                "ignoring %s from %s: sent by device %s, not %s",
                ev.type,
                ev.sender,
                ev.sender_device,
                device,
            )
            return False
        return True

    async def _on_request(self, flow: Verification) -> None:
        self.flows[flow.txn_id] = flow
        if self.auto_accept(flow.other_user):
            flow.auto = True
            await flow.accept()
        elif self.is_bot:
            await flow.cancel(REFUSED, "m.user")
        else:
            await self.incoming.put(flow)

    async def _advance(self, flow: Verification, event_type: str, content: dict[str, Any]) -> None:
        try:
            await flow.on_event(event_type, content)
        except MessengerError as e:
            log.warning("verification %s failed: %s", flow.txn_id, e)

    async def own_master_key(self) -> str | None:
        """Our master public key (base64), if cross-signing is set up."""
        master = (await self.cs.query(self.user_id)).get("master")
        return next(iter(master["keys"].values())) if master else None

    async def known_keys(self, user_id: str, device_id: str) -> dict[str, str]:
        """Key ID → public key we know for the other device and its owner's master key."""
        info = await self.cs.query(user_id, fresh=True)
        keys: dict[str, str] = {}
        device = info["devices"].get(device_id, {})
        key = device.get("keys", {}).get(f"ed25519:{device_id}")
        if key:
            keys[f"ed25519:{device_id}"] = key
        if info.get("master"):
            keys.update(info["master"]["keys"])
        return keys

    async def mark_verified(self, flow: Verification) -> None:
        """Trust the other device locally; sign their master key when it was verified."""
        client = self.session.client
        if client.olm is not None:
            if flow.other_device not in client.device_store[flow.other_user]:
                await self.session.query_device_keys({flow.other_user})
            device = client.device_store[flow.other_user].get(flow.other_device)
            if device is not None:
                client.verify_device(device)
        if flow.verified_master and self.cs.keys is not None and flow.other_user != self.user_id:
            await self.cs.sign_user(flow.other_user)
        elif flow.other_user == self.user_id and self.cs.keys is not None:
            await self.cs.sign_own_device(flow.other_device)  # as Element does
        if self.on_verified:
            await self.on_verified(flow)


def is_verification_event(ev: Incoming) -> bool:
    """An in-room verification message (the request, or any later step)."""
    if ev.type == "m.room.message":
        return ev.content.get("msgtype") == REQUEST
    return ev.type.startswith(PREFIX)
