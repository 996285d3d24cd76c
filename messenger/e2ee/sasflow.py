"""Provides ``Verification``: one emoji (SAS) flow's state machine on vodozemac — commitment,
key exchange, the seven emoji, MACs — independent of how its messages travel (to-device or
in-room; ``messenger.e2ee.verification`` routes them)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any, Protocol

import vodozemac
from nio.crypto.sas import Sas as _NioSasTable

from crypto import b64encode_unpadded, canonical_json
from messenger.errors import MessengerError


class SasTransport(Protocol):
    """What a flow needs from whoever carries its messages (``VerificationManager``)."""

    @property
    def user_id(self) -> str: ...

    @property
    def device_id(self) -> str: ...

    @property
    def own_ed25519(self) -> str: ...

    async def send(
        self, user_id: str, device_id: str, event_type: str, content: dict[str, Any]
    ) -> None: ...

    async def send_room(self, room_id: str, event_type: str, content: dict[str, Any]) -> str: ...

    async def own_master_key(self) -> str | None: ...

    async def known_keys(self, user_id: str, device_id: str) -> dict[str, str]: ...

    async def mark_verified(self, flow: Verification) -> None: ...


log = logging.getLogger(__name__)

SAS = "m.sas.v1"
KEY_AGREEMENT = "curve25519-hkdf-sha256"
HASH = "sha256"
MAC_METHOD = "hkdf-hmac-sha256.v2"
EMOJI = list(_NioSasTable.emoji)  # the spec's 64-entry table, as data
TIMEOUT_S = 600
PREFIX = "m.key.verification."
REQUEST = PREFIX + "request"
REFUSED = "only coordinators of the organisation can verify this bot"
EARLY_MAX = 64

States = ("requested", "ready", "started", "keys", "confirmed", "done", "cancelled")


class Verification:
    """One verification with another device; ``changed`` is set on every state change."""

    def __init__(
        self,
        manager: SasTransport,
        user_id: str,
        device_id: str,
        txn_id: str,
        we_requested: bool,
        room_id: str | None = None,
    ) -> None:
        self.m = manager
        self.room_id = room_id  # set: an in-room flow; ``txn_id`` is the request's event ID
        self.other_user = user_id
        self.other_device = device_id
        self.txn_id = txn_id
        self.we_requested = we_requested
        self.state = "requested"
        self.emojis: list[tuple[str, str]] = []
        self.decimals: tuple[int, int, int] | None = None
        self.cancel_reason: str | None = None
        self.changed = asyncio.Event()
        self._sas = vodozemac.Sas()
        self._est: Any = None
        self._start_content: dict[str, Any] | None = None
        self._commitment: str | None = None
        self._their_key: str | None = None
        self._their_mac: dict[str, Any] | None = None
        self._sent_done = False
        self._got_done = False
        self.verified_master = False
        self.auto = False  # accepted and confirmed without a person (bots)
        self.created = time.monotonic()

    def _set(self, state: str) -> None:
        self.state = state
        self.changed.set()

    async def wait_for(self, *states: str, timeout: float = 30) -> str:
        """Wait until the state is one of ``states`` (or cancelled)."""
        async with asyncio.timeout(timeout):
            while True:
                self.changed.clear()
                if self.state in (*states, "cancelled"):
                    break
                await self.changed.wait()
        return self.state

    # -- actions --------------------------------------------------------------------------

    async def accept(self) -> None:
        """Answer an incoming request with ``ready``."""
        await self._send(
            "m.key.verification.ready", {"from_device": self.m.device_id, "methods": [SAS]}
        )
        self._set("ready")

    async def confirm(self) -> None:
        """The emoji match: send our MAC; finish when theirs checks out."""
        if self.state != "keys":
            raise MessengerError(f"cannot confirm a verification in state {self.state}")
        await self._send_mac()
        self._set("confirmed")
        await self._check_their_mac()

    async def cancel(self, reason: str = "cancelled by the user", code: str = "m.user") -> None:
        """Stop the verification on both sides."""
        if self.state in {"done", "cancelled"}:
            return
        await self._send("m.key.verification.cancel", {"code": code, "reason": reason})
        self._cancelled(f"{reason} ({code})")

    # -- protocol ---------------------------------------------------------------------------

    def _wire(self, content: dict[str, Any]) -> dict[str, Any]:
        """The content as sent: tied to the flow by transaction ID or (in a room) relation."""
        if self.room_id is not None:
            return {**content, "m.relates_to": {"rel_type": "m.reference", "event_id": self.txn_id}}
        return {**content, "transaction_id": self.txn_id}

    async def _send(self, event_type: str, content: dict[str, Any]) -> None:
        wire = self._wire(content)
        if self.room_id is not None:
            await self.m.send_room(self.room_id, event_type, wire)
        else:
            await self.m.send(self.other_user, self.other_device, event_type, wire)

    def _cancelled(self, reason: str) -> None:
        self.cancel_reason = reason
        self._set("cancelled")

    async def on_event(self, event_type: str, content: dict[str, Any]) -> None:
        """Advance on one incoming message of this transaction."""
        kind = event_type.removeprefix("m.key.verification.")
        if kind == "cancel":
            self._cancelled(f"{content.get('reason', 'cancelled')} ({content.get('code', '?')})")
        elif kind == "ready" and self.we_requested and self.state == "requested":
            self.other_device = content.get("from_device", self.other_device)
            await self._send_start()
        elif kind == "start" and not self.we_requested and self.state in {"ready", "requested"}:
            await self._on_start(content)
        elif kind == "accept" and self.we_requested and self.state == "started":
            self._commitment = content.get("commitment")
            if content.get("message_authentication_code") != MAC_METHOD:
                return await self.cancel("unsupported MAC method", "m.unknown_method")
            await self._send("m.key.verification.key", {"key": self._sas.public_key.to_base64()})
        elif kind == "key" and self.state == "started":
            await self._on_key(content)
        elif kind == "mac" and self.state in {"keys", "confirmed"}:
            self._their_mac = content
            await self._check_their_mac()
        elif kind == "done":
            self._got_done = True
            self._finish()
        else:
            log.info("ignoring %s in state %s", event_type, self.state)

    async def _send_start(self) -> None:
        content = {
            "from_device": self.m.device_id,
            "method": SAS,
            "key_agreement_protocols": [KEY_AGREEMENT],
            "hashes": [HASH],
            "message_authentication_codes": [MAC_METHOD],
            "short_authentication_string": ["emoji", "decimal"],
        }
        self._start_content = self._wire(content)
        await self._send("m.key.verification.start", content)
        self._set("started")

    async def _on_start(self, content: dict[str, Any]) -> None:
        if (
            content.get("method") != SAS
            or KEY_AGREEMENT not in content.get("key_agreement_protocols", [])
            or MAC_METHOD not in content.get("message_authentication_codes", [])
            or "emoji" not in content.get("short_authentication_string", [])
        ):
            return await self.cancel(
                "only m.sas.v1 with emoji and hkdf-hmac-sha256.v2", "m.unknown_method"
            )
        self._start_content = content
        own = self._sas.public_key.to_base64()
        commitment = b64encode_unpadded(
            hashlib.sha256(own.encode() + canonical_json(content)).digest()
        )
        await self._send(
            "m.key.verification.accept",
            {
                "method": SAS,
                "key_agreement_protocol": KEY_AGREEMENT,
                "hash": HASH,
                "message_authentication_code": MAC_METHOD,
                "short_authentication_string": ["emoji", "decimal"],
                "commitment": commitment,
            },
        )
        self._set("started")

    async def _on_key(self, content: dict[str, Any]) -> None:
        their = str(content.get("key", ""))
        if self._start_content is None:
            return await self.cancel("a key before the start", "m.unexpected_message")
        if self.we_requested:
            expected = b64encode_unpadded(
                hashlib.sha256(their.encode() + canonical_json(self._start_content)).digest()
            )
            if expected != self._commitment:
                return await self.cancel(
                    "the other side's key does not match its commitment", "m.mismatched_commitment"
                )
        else:
            await self._send("m.key.verification.key", {"key": self._sas.public_key.to_base64()})
        self._their_key = their
        self._est = self._sas.diffie_hellman(vodozemac.Curve25519PublicKey.from_base64(their))
        own_key = self._sas.public_key.to_base64()
        me = (self.m.user_id, self.m.device_id, own_key)
        them = (self.other_user, self.other_device, their)
        starter, acceptor = (me, them) if self.we_requested else (them, me)
        info = "MATRIX_KEY_VERIFICATION_SAS|" + "|".join([*starter, *acceptor, self.txn_id])
        sas_bytes = self._est.bytes(info)
        self.emojis = [EMOJI[i] for i in sas_bytes.emoji_indices]
        self.decimals = tuple(sas_bytes.decimals)
        self._set("keys")
        if self.auto:
            # A bot cannot look at a screen: it shows its emoji in its output for the person
            # to compare, and confirms; the person's side confirms only if they match.
            shown = " ".join(f"{e} {n}" for e, n in self.emojis)
            log.warning(
                "%s: verifying %s %s: %s", self.m.user_id, self.other_user, self.other_device, shown
            )
            await self.confirm()

    def _mac_base(self, sender: tuple[str, str], receiver: tuple[str, str]) -> str:
        return (
            "MATRIX_KEY_VERIFICATION_MAC"
            + sender[0]
            + sender[1]
            + receiver[0]
            + receiver[1]
            + self.txn_id
        )

    async def _send_mac(self) -> None:
        base = self._mac_base(
            (self.m.user_id, self.m.device_id), (self.other_user, self.other_device)
        )
        keys = {f"ed25519:{self.m.device_id}": self.m.own_ed25519}
        master = await self.m.own_master_key()
        if master:
            keys[f"ed25519:{master}"] = master
        macs = {kid: self._est.calculate_mac(value, base + kid) for kid, value in keys.items()}
        key_list = self._est.calculate_mac(",".join(sorted(macs)), base + "KEY_IDS")
        await self._send("m.key.verification.mac", {"mac": macs, "keys": key_list})

    async def _check_their_mac(self) -> None:
        if self.state != "confirmed" or self._their_mac is None:
            return
        base = self._mac_base(
            (self.other_user, self.other_device), (self.m.user_id, self.m.device_id)
        )
        macs: dict[str, str] = self._their_mac.get("mac", {})
        known = await self.m.known_keys(self.other_user, self.other_device)
        try:
            self._est.verify_mac(
                ",".join(sorted(macs)), base + "KEY_IDS", self._their_mac.get("keys", "")
            )
            checked = 0
            for kid, mac in macs.items():
                if kid in known:
                    self._est.verify_mac(known[kid], base + kid, mac)
                    checked += 1
                    self.verified_master |= known[kid] != known.get(f"ed25519:{self.other_device}")
            if f"ed25519:{self.other_device}" not in macs or checked == 0:
                raise ValueError("the device key was not covered")
        except Exception:
            return await self.cancel("the keys do not match", "m.key_mismatch")
        await self.m.mark_verified(self)
        await self._send("m.key.verification.done", {})
        self._sent_done = True
        self._finish()

    def _finish(self) -> None:
        if self._sent_done and self._got_done and self.state != "cancelled":
            self._set("done")
