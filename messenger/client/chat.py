"""Provides ``ChatClient``: the human-client layer over a Session (rooms, timelines, sending).

The TUI talks only to this class. It keeps each room's ``Timeline``, unread and mention
counts, invites (never joined automatically), the organisation markers that group rooms,
the bots' structured payloads for dashboards, and sends with transaction IDs created once
so a retry never duplicates. Every homeserver call goes through ``guarded``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt

from crypto import CryptoError
from messenger.client.timeline import Message, Timeline
from messenger.e2ee.identity import Identity, bootstrap_identity
from messenger.e2ee.trust import CrossSigning, RecoveryKeyNeeded
from messenger.e2ee.verification import Verification, VerificationManager
from messenger.errors import AuthError, MessengerError, NotFound, TransientError
from messenger.events import Incoming, SyncBatch
from messenger.i18n import N_, SOURCE, Translator, translator
from messenger.protocol import ROOM_MARKER
from messenger.session.core import Session, guarded

READ_NS = "tui-read"
OFFLINE = N_("offline: no homeserver connection")
BACKFILL_EVENTS = 1000
"""Events per room read back on start to fill the dashboards with what bots posted earlier."""
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")
_USER_ID = re.compile(r"@[a-z0-9._=\-/]+:[A-Za-z0-9.\-]+(?::\d+)?")


def markdown_content(text: str, msgtype: str = "m.text") -> dict[str, Any]:
    """A message content; Markdown becomes ``formatted_body`` when it changes anything."""
    content: dict[str, Any] = {"msgtype": msgtype, "body": text}
    rendered = _MD.render(text).strip()
    if rendered != f"<p>{html.escape(text, quote=False)}</p>":
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = rendered
    return content


@dataclass
class RoomInfo:
    """What the room list shows about one room."""

    room_id: str
    name: str
    kind: str = "other"  # "space" | "working_group" | "partnership" | "other"
    encrypted: bool = True
    shield: str = "unverified"  # "verified" | "unverified" | "plain"
    unread: int = 0
    mentions: int = 0
    topic: str = ""
    organisation: str = ""


@dataclass
class InviteInfo:
    """A pending invitation the coordinator may accept or decline."""

    room_id: str
    inviter: str | None
    name: str = ""


@dataclass
class DeviceRow:
    """One device of a member, with its trust state."""

    user_id: str
    device_id: str
    name: str
    fingerprint: str
    state: str  # "own" | "verified" | "unverified" | "blocked"


@dataclass
class BoardItem:
    """The latest structured payload a bot posted about one thing (event, request …)."""

    key: str
    item_id: str
    room_id: str
    event_id: str
    ts: int
    data: dict[str, Any]


@dataclass
class Changes:
    """What one sync changed, for the UI to refresh."""

    rooms: set[str] = field(default_factory=set)
    mentions: list[Message] = field(default_factory=list)
    board: bool = False
    invites: bool = False


def is_mention(msg: Message, me: str, names: list[str]) -> bool:
    """Whether ``msg`` mentions ``me`` (explicit mention, ID or display name in the text)."""
    if msg.sender == me or msg.is_state:
        return False
    if me in msg.mentions:
        return True
    body = msg.body.lower()
    return any(n and len(n) > 2 and re.search(rf"\b{re.escape(n.lower())}\b", body) for n in names)


class ChatClient:
    """A person's view of their account. Construct with a Session, or ``offline`` for tests."""

    def __init__(self, session: Session | None, me: str, trusted: set[str]) -> None:
        self.session = session
        self.me = me
        self.trusted = trusted
        self.timelines: dict[str, Timeline] = {}
        self.info: dict[str, RoomInfo] = {}
        self.invites: dict[str, InviteInfo] = {}
        self.board: dict[str, dict[str, BoardItem]] = {}
        self.read_ts: dict[str, int] = {}
        self.viewing: str | None = None
        self.connected = True
        self.last_error: str | None = None
        self._members: dict[str, dict[str, str]] = {}
        self._paging: dict[str, asyncio.Lock] = {}
        self._stop = asyncio.Event()
        self.verifier: VerificationManager | None = None
        self.cross_signing: CrossSigning | None = None
        self.t: Translator = translator(SOURCE)
        """The language of what this client tells its person (identity problems); the TUI
        sets its own."""
        self.identity = Identity("unavailable", problem=self.t.gettext(N_("not checked yet")))
        if session is not None:
            self.cross_signing = CrossSigning(session)
            self.verifier = VerificationManager(session, self.cross_signing)

    @classmethod
    def offline(cls, me: str, trusted: set[str]) -> ChatClient:
        """A client without a homeserver (snapshots, benchmarks): fill ``info`` and timelines."""
        return cls(None, me, trusted)

    @property
    def nio(self) -> Any:
        """The nio client (only this module uses it)."""
        if self.session is None:
            raise TransientError(self.t.gettext(OFFLINE))
        return self.session.client

    def timeline(self, room_id: str) -> Timeline:
        """The room's timeline (created on first use)."""
        tl = self.timelines.get(room_id)
        if tl is None:
            tl = self.timelines[room_id] = Timeline(room_id, self.me, self.trusted)
        return tl

    def rooms(self) -> list[RoomInfo]:
        """Joined rooms, sorted by name within their kind."""
        return sorted(self.info.values(), key=lambda r: (r.kind, r.name.lower()))

    def display_name(self, user_id: str, room_id: str | None = None) -> str:
        """A member's display name, or their localpart."""
        if room_id and user_id in self._members.get(room_id, {}):
            return self._members[room_id][user_id]
        if self.session is not None:
            for rid in [room_id] if room_id else list(self.nio.rooms):
                room = self.nio.rooms.get(rid)
                name = room.user_name(user_id) if room else None
                if name:
                    return str(name)
        return user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id

    # -- sync -----------------------------------------------------------------------------

    async def run(
        self,
        on_changes: Callable[[Changes], Awaitable[None]],
        on_connection: Callable[[bool, str | None], Awaitable[None]],
    ) -> None:
        """Sync until ``stop``; report each batch and every change of connection state."""
        assert self.session is not None

        async def handle(batch: SyncBatch) -> None:
            await on_changes(await self.apply(batch))

        async def connection(ok: bool, why: str | None) -> None:
            self.connected, self.last_error = ok, why
            await on_connection(ok, why)

        await self.session.run(
            handle,
            timeout_ms=10_000,
            backoff_cap_s=10.0,
            until=self._stop,
            on_connection=connection,
        )

    def stop(self) -> None:
        """Ask ``run`` to return."""
        self._stop.set()

    async def apply(self, batch: SyncBatch) -> Changes:
        """Fold one sync batch into rooms, timelines, counts, invites and the board."""
        changes = Changes()
        events = batch.events
        if self.verifier is not None:
            if batch.to_device:
                await self.verifier.handle(batch.to_device)
            # In-room verification (Element's "verify user") goes to the verifier, not the view.
            events = await self.verifier.handle_room(events, initial=batch.initial)
        for inv in batch.invites:
            if inv.room_id not in self.invites:
                self.invites[inv.room_id] = InviteInfo(inv.room_id, inv.inviter, self._name(inv))
                changes.invites = True
        for room_id in [*batch.joined, *batch.left]:
            if self.invites.pop(room_id, None):
                changes.invites = True
        for room_id in batch.left:
            self.info.pop(room_id, None)
        by_room: dict[str, list[Incoming]] = {}
        for inc in events:
            by_room.setdefault(inc.room_id, []).append(inc)
        for room_id in dict.fromkeys([*batch.joined, *by_room]):
            await self._ensure_read_ts(room_id)
            changed = self.ingest(room_id, by_room.get(room_id, []), live=True, changes=changes)
            if changed or room_id not in self.info:
                changes.rooms.add(room_id)
            self.refresh_info(room_id)
        return changes

    def ingest(
        self, room_id: str, events: list[Incoming], live: bool, changes: Changes | None = None
    ) -> set[str]:
        """Add events to a room's timeline and update counts and the board."""
        tl = self.timeline(room_id)
        changed = tl.add_live(events) if live else tl.add_history(events)
        info = self.info.get(room_id)
        names = [self.me, self.display_name(self.me, room_id)] if live else []
        for event_id in changed:
            msg = tl.get(event_id)
            if msg is None:
                continue
            if msg.structured:
                self._to_board(room_id, msg)
                if changes:
                    changes.board = True
            fresh = live and msg.version == 0 and msg.ts > self.read_ts.get(room_id, 0)
            if fresh and info and room_id != self.viewing and msg.sender != self.me:
                if not msg.is_state:
                    info.unread += 1
                if is_mention(msg, self.me, names):
                    info.mentions += 1
                    if changes:
                        changes.mentions.append(msg)
        return changed

    def _to_board(self, room_id: str, msg: Message) -> None:
        for key, data in msg.structured.items():
            item_id = f"{room_id}|{data.get('id') or data.get('source_event_id') or msg.event_id}"
            items = self.board.setdefault(key, {})
            old = items.get(item_id)
            if old is None or old.ts <= msg.ts or old.event_id == msg.event_id:
                items[item_id] = BoardItem(key, item_id, room_id, msg.event_id, msg.ts, data)

    def _name(self, inv: Any) -> str:
        room = self.nio.invited_rooms.get(inv.room_id) if self.session else None
        return str(room.display_name) if room else inv.room_id

    def refresh_info(self, room_id: str) -> None:
        """Re-read a room's name, encryption and shield from the synced state."""
        room = self.nio.rooms.get(room_id) if self.session else None
        if room is None or self.session is None:
            return
        marker = self.session.state.marker(room_id) or {}
        kind = marker.get("kind") or ("space" if room.room_type == "m.space" else "other")
        info = self.info.get(room_id) or RoomInfo(room_id, room.display_name)
        info.name, info.kind, info.topic = room.display_name, kind, room.topic or ""
        info.encrypted, info.organisation = bool(room.encrypted), marker.get("organisation", "")
        info.shield = self._shield(room)
        self.info[room_id] = info

    def _shield(self, room: Any) -> str:
        if not room.encrypted:
            return "plain"
        olm = self.nio.olm
        for user in room.users:
            for device in self.nio.device_store.active_user_devices(user):
                if device.id != self.nio.device_id and not (olm and olm.is_device_verified(device)):
                    return "unverified"
        return "verified"

    async def load_markers(self) -> None:
        """Fetch each room's organisation marker (kind, organisation) once."""
        assert self.session is not None
        state = self.session.state
        for room_id in list(self.nio.rooms):
            if state.marker(room_id) is not None:
                continue
            try:
                resp = await guarded(
                    self.nio.room_get_state_event(room_id, ROOM_MARKER), "reading the room marker"
                )
                state.set_marker(room_id, dict(resp.content))
            except NotFound:
                state.set_marker(room_id, {})
            except MessengerError:
                continue
            self.refresh_info(room_id)
        await state.save()

    # -- reading --------------------------------------------------------------------------

    async def _ensure_read_ts(self, room_id: str) -> None:
        if room_id not in self.read_ts and self.session is not None:
            rec = await self.session.store.get(READ_NS, room_id)
            self.read_ts[room_id] = int(rec["ts"]) if rec else 0

    async def mark_read(self, room_id: str) -> None:
        """The person looked at the room: clear its counts, remember it, send a receipt."""
        info = self.info.get(room_id)
        if info:
            info.unread = info.mentions = 0
        tl = self.timeline(room_id)
        last = next((m for m in reversed(tl.main()) if not m.pending), None)
        if last is None:
            return
        self.read_ts[room_id] = max(self.read_ts.get(room_id, 0), last.ts)
        if self.session is not None:
            await self.session.store.put(READ_NS, room_id, {"ts": self.read_ts[room_id]})
            with contextlib.suppress(MessengerError):
                await guarded(
                    self.nio.room_read_markers(room_id, last.event_id, last.event_id),
                    "sending a read receipt",
                )

    async def back_paginate(
        self, room_id: str, limit: int = 50, changes: Changes | None = None
    ) -> int:
        """Load one older page (decrypted where we hold keys); return how many events it had.

        One page at a time per room: the view's lazy loading and the board's backfill
        may ask at once, and must not both start from the same token.
        """
        async with self._paging.setdefault(room_id, asyncio.Lock()):
            tl = self.timeline(room_id)
            if tl.at_start or self.session is None:
                return 0
            resp = await guarded(
                self.nio.room_messages(room_id, start=tl.prev_token, limit=limit),
                "loading history",
            )
            events = [self.session.incoming(room_id, ev) for ev in reversed(resp.chunk)]
            for inc in events:
                await self.session.remember_undecrypted(inc)
            if self.ingest(room_id, events, live=False, changes=changes) and changes:
                changes.rooms.add(room_id)
            tl.prev_token = resp.end
            if not resp.end or not resp.chunk:
                tl.at_start = True
            return len(resp.chunk)

    async def backfill(
        self,
        room_id: str,
        on_page: Callable[[Changes], Awaitable[None]],
        max_events: int = BACKFILL_EVENTS,
        page: int = 100,
    ) -> int:
        """Read up to ``max_events`` of a room's history so the board knows what bots posted
        before this run (each card with its latest edit); report each page. Returns the count.
        """
        seen = 0
        while seen < max_events and not self.timeline(room_id).at_start:
            changes = Changes()
            n = await self.back_paginate(room_id, min(page, max_events - seen), changes)
            seen += n
            if changes.rooms or changes.board:
                await on_page(changes)
            if n == 0:
                break
        return seen

    def board_rooms(self) -> list[str]:
        """Joined rooms whose history can hold bot cards (every room but spaces)."""
        return [r.room_id for r in self.rooms() if r.kind != "space"]

    async def load_members(self, room_id: str) -> dict[str, str]:
        """Joined members → display names (fetched; lazy loading leaves the synced list short)."""
        resp = await guarded(self.nio.joined_members(room_id), "listing members")
        self._members[room_id] = {m.user_id: m.display_name or m.user_id for m in resp.members}
        return self._members[room_id]

    def members(self, room_id: str) -> dict[str, str]:
        """Known members of a room → display name."""
        known = dict(self._members.get(room_id, {}))
        room = self.nio.rooms.get(room_id) if self.session else None
        for user_id, user in room.users.items() if room else []:
            known.setdefault(user_id, user.display_name or user_id)
        return known

    def devices(self, user_ids: list[str]) -> list[DeviceRow]:
        """Every known device of these users with its verification state."""
        rows: list[DeviceRow] = []
        if self.session is None:
            return rows
        olm = self.nio.olm
        for user_id in sorted(set(user_ids)):
            for d in self.nio.device_store.active_user_devices(user_id):
                if d.id == self.nio.device_id and user_id == self.me:
                    state = "own"
                elif d.blacklisted:
                    state = "blocked"
                else:
                    state = "verified" if olm and olm.is_device_verified(d) else "unverified"
                fp = " ".join(d.ed25519[i : i + 4] for i in range(0, len(d.ed25519), 4))
                rows.append(DeviceRow(user_id, d.id, d.display_name or "", fp, state))
        return rows

    # -- sending --------------------------------------------------------------------------

    def prepare(
        self,
        room_id: str,
        text: str,
        *,
        reply_to: str | None = None,
        thread_root: str | None = None,
        mentions: list[str] | None = None,
        msgtype: str = "m.text",
    ) -> Message:
        """Build the content, show a local echo and return it; ``deliver`` sends it."""
        content = markdown_content(text, msgtype)
        ids = sorted({*(mentions or []), *_USER_ID.findall(text)} - {self.me})
        content["m.mentions"] = {"user_ids": ids}
        tl = self.timeline(room_id)
        if thread_root:
            root = tl.get(thread_root)
            last = root.thread[-1] if root and root.thread else thread_root
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_root,
                "is_falling_back": reply_to is None,
                "m.in_reply_to": {"event_id": reply_to or last},
            }
        elif reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        txn = "svtui" + uuid.uuid4().hex
        return tl.local_echo(txn, self.me, content, int(time.time() * 1000))

    async def deliver(self, room_id: str, msg: Message) -> None:
        """Send a prepared message; on failure it stays marked and ``deliver`` may retry."""
        assert msg.txn_id is not None
        tl = self.timeline(room_id)
        try:
            event_id = await self._send(room_id, "m.room.message", msg.content, msg.txn_id)
        except MessengerError as e:
            tl.fail(msg.txn_id, str(e))
            raise
        tl.confirm(msg.txn_id, event_id)

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any], txn: str) -> str:
        if self.session is None:
            raise TransientError(self.t.gettext(OFFLINE))
        return await self.session.send_now(room_id, content, txn_id=txn, event_type=event_type)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        """Toggle our reaction ``key`` on a message."""
        msg = self.timeline(room_id).get(event_id)
        mine = [
            r
            for r, (k, s) in (msg._reaction_ids.items() if msg else [])
            if (k, s) == (key, self.me)
        ]
        if mine:
            await guarded(
                self.nio.room_redact(room_id, mine[0], tx_id="svtui" + uuid.uuid4().hex),
                "removing a reaction",
            )
            return
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        await self._send(room_id, "m.reaction", content, "svtui" + uuid.uuid4().hex)

    async def accept_invite(self, room_id: str) -> None:
        """Join a room we were invited to."""
        await guarded(self.nio.join(room_id), f"joining {room_id}")
        self.invites.pop(room_id, None)

    async def decline_invite(self, room_id: str) -> None:
        """Reject an invitation."""
        await guarded(self.nio.room_leave(room_id), f"declining {room_id}")
        self.invites.pop(room_id, None)

    # -- identity -------------------------------------------------------------------------

    async def prepare_identity(
        self, password: str | None, recovery_key: str | None = None
    ) -> Identity:
        """Make sure the account has cross-signing keys and this device is signed by them.

        The first login creates them (the password authorises the upload) and keeps the
        recovery key sealed in the device's store; later starts reuse them. An identity made
        elsewhere (Element, a wiped device) needs its recovery key; it is never replaced here.
        """
        if self.cross_signing is None:
            self.identity = Identity("unavailable", problem=self.t.gettext(OFFLINE))
            return self.identity
        cs = self.cross_signing
        try:
            self.identity = await bootstrap_identity(cs, password, recovery_key=recovery_key)
        except RecoveryKeyNeeded:
            self.identity = Identity("needs_recovery_key")
        except AuthError:
            self.identity = Identity(
                "unavailable",
                problem=self.t.gettext(
                    N_(
                        "this device is not cross-signed yet: sign in with the password once "
                        "to set up the account's cross-signing keys"
                    )
                ),
            )
        except (CryptoError, ValueError) as e:
            self.identity = Identity(
                "needs_recovery_key",
                problem=self.t.gettext(
                    N_("That recovery key did not work: {error}. Check it and try again.")
                ).format(error=e),
            )
        except MessengerError as e:
            self.identity = Identity(
                "unavailable",
                problem=self.t.gettext(N_("cross-signing not set up: {error}")).format(error=e),
            )
        return self.identity

    async def reset_identity(self, password: str) -> Identity:
        """Replace the account's cross-signing identity with new keys (the password authorises
        the upload). Everyone who verified the account must verify it again."""
        if self.cross_signing is None:
            self.identity = Identity("unavailable", problem=self.t.gettext(OFFLINE))
            return self.identity
        cs = self.cross_signing
        try:
            # Checked first: a refused password must not leave half a new identity behind.
            await self.check_password(password)
            self.identity = await bootstrap_identity(cs, password, new_identity=True)
        except AuthError as e:
            self.identity = Identity(
                "needs_recovery_key",
                problem=self.t.gettext(
                    N_(
                        "The identity was not replaced: the homeserver refused the password "
                        "({error}). Try again with the account's password."
                    )
                ).format(error=e),
            )
        except MessengerError as e:
            self.identity = Identity(
                "needs_recovery_key",
                problem=self.t.gettext(N_("The identity was not replaced: {error}")).format(
                    error=e
                ),
            )
        return self.identity

    async def check_password(self, password: str) -> None:
        """Raise ``AuthError`` unless the homeserver accepts the account's password (a
        user-interactive auth on deleting no devices: nothing changes either way)."""
        assert self.session is not None
        first = await self.session.api("POST", "/delete_devices", {"devices": []})
        if "flows" not in first:
            return
        auth = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.me},
            "password": password,
            "session": first.get("session"),
        }
        second = await self.session.api("POST", "/delete_devices", {"devices": [], "auth": auth})
        if "flows" in second:
            raise AuthError(str(second.get("error") or "wrong password"))

    async def verify_own_device(self) -> list[Verification]:
        """Ask every other signed-in device of this account for emoji verification (the way
        Element verifies a new session); the first that accepts is the one to compare with."""
        if self.verifier is None or self.session is None:
            raise TransientError(self.t.gettext(OFFLINE))
        await self.session.query_device_keys({self.me})
        own = self.nio.device_id
        others = [d.id for d in self.nio.device_store.active_user_devices(self.me) if d.id != own]
        if not others:
            raise NotFound(
                self.t.gettext(
                    N_(
                        "{user} has no other signed-in device to verify with: sign in on "
                        "another device (e.g. Element) first, or use the recovery key"
                    )
                ).format(user=self.me)
            )
        return [await self.verifier.request(self.me, device) for device in sorted(others)]

    async def check_cross_signed(self) -> Identity:
        """After verifying with another session: whether it signed this device (it does so
        when it holds the account's self-signing key, as Element does)."""
        if self.cross_signing is None or self.session is None:
            return self.identity
        self.cross_signing.forget(self.me)
        info = await self.cross_signing.query(self.me, fresh=True)
        if await self.cross_signing.device_cross_signed(self.me, self.session.device_id, info):
            self.identity = Identity("verified")
        return self.identity

    # -- verification ---------------------------------------------------------------------

    def incoming_verifications(self) -> asyncio.Queue[Verification] | None:
        """Requests from other devices, waiting for the person to accept them."""
        return self.verifier.incoming if self.verifier else None

    async def start_verification(self, user_id: str, device_id: str) -> Verification:
        """Ask another device (a person's or a bot's) for emoji verification."""
        if self.verifier is None:
            raise TransientError(self.t.gettext(OFFLINE))
        return await self.verifier.request(user_id, device_id)
