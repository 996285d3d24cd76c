"""Provides ``Session``: one Matrix account and device, its encrypted stores and its sync loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, DummyEvent, MegolmEvent, RoomKeyRequest
from nio.exceptions import EncryptionError

from crypto.vault import Vault
from messenger.calls import BACKOFF_CAP_S, backoff_delays, guarded, json_body
from messenger.errors import (
    AuthError,
    MessengerError,
    TransientError,
    raise_for_status,
)
from messenger.events import Incoming, Invite, SyncBatch
from messenger.faults import crash_point
from messenger.poison import poison_log
from messenger.session.decryption import (
    KEY_MISSING,
    KEY_REQUEST_AFTER_S,
    UNDECRYPTABLE_WAIT_S,
    UNDECRYPTED_NS,
    WITHHELD_NS,
    DecryptionMixin,
    UndecryptableHook,
)
from messenger.session.files import API_TIMEOUT_S, FilesMixin
from messenger.session.olmkeys import E2EEClient
from messenger.session.outbox import OutboxMixin
from messenger.session.reading import ReadingMixin
from messenger.session.statecache import RoomStateCache
from messenger.session.syncfilter import SyncFilter
from messenger.store import StateStore

log = logging.getLogger(__name__)

__all__ = ["KEY_MISSING", "UNDECRYPTED_NS", "WITHHELD_NS", "Session", "backoff_delays", "guarded"]

SYNC_TIMEOUT_MS = 30_000
JOINED_KEY = "joined-rooms"
OUTBOUND_NS = "megolm-outbound"
ENCRYPTION_NS = "room-encryption"
Handler = Callable[[SyncBatch], Awaitable[None]]
ConnectionHook = Callable[[bool, str | None], Awaitable[None]]


class Session(OutboxMixin, DecryptionMixin, ReadingMixin, FilesMixin):
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
        self.rooms_known = asyncio.Event()
        """Set once a sync response has brought nio the rooms and their members (before its
        batch is handled): the outbox may send from then on."""
        self._need_full_state = True
        self._http: aiohttp.ClientSession | None = None
        self.sync_filter = SyncFilter()
        self.resume_from_cache = False
        """A restart's first sync resumes from the stored token when the state cache is
        complete (bots: they read room state only from the cache); otherwise it asks for full
        state, from which nio learns every joined room (the person's client lists them)."""

        self.on_undecryptable: UndecryptableHook | None = None
        """Called once per event that stays unreadable: (event, why) — withheld or timed out."""
        self.key_request_after_s = KEY_REQUEST_AFTER_S
        self.undecryptable_wait_s = UNDECRYPTABLE_WAIT_S
        self._pickle_key = ""
        self._outbound_sig: dict[str, tuple[Any, ...]] = {}
        self._send_attempts: dict[str, int] = {}
        self.key_origins: dict[str, dict[str, Any]] = {}
        self.state = RoomStateCache(store)
        """Markers, power levels and encryption of the rooms, kept current from sync."""
        self._origins_dirty: set[str] = set()
        self._index_pending: dict[str, str] = {}
        self.read_elsewhere: Callable[[], bool] | None = None
        """Whether another session of this process reads this one's room messages for it
        now (``botkit.reading``): its syncs then leave them out."""
        self.joined: set[str] = set()
        """The rooms this account is in: as last run left them, kept current from sync and
        from this process's own joins and leaves."""
        self._joined_saved: set[str] = set()
        self.messages_left_out = False
        """Whether the last sync left the rooms' messages out (``read_elsewhere``): the
        session then polls every ``POLL_S`` instead of waiting on the homeserver."""
        self._poll_wakeup = asyncio.Event()
        self._syncs_started = 0
        self._syncs_done = 0
        self._behind: dict[str, int] = {}

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
        await self._load_origins()
        await self.state.load()
        kept = await self.store.get("session", JOINED_KEY)
        self.joined = set(kept) if isinstance(kept, list) else self.state.rooms()
        self._joined_saved = set(self.joined)
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

    async def _persist_outbound(self, only: str | None = None) -> None:
        """Save outbound Megolm sessions that changed (of room ``only``, or of every room), so
        a restart neither rotates keys nor reuses a message index."""
        client = self.client
        if client.olm is None or not isinstance(client, E2EEClient):
            return
        rooms = (
            {only} if only else set(client.olm.outbound_group_sessions) | set(self._outbound_sig)
        )
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
            # Bounded like nio's requests: a stalled connection fails (and is retried by the
            # caller) instead of holding the sync loop for aiohttp's default five minutes.
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_S, sock_connect=10)
            )
        headers = {"Authorization": f"Bearer {self.client.access_token}"} if auth else {}
        url = f"{self.client.homeserver}/_matrix/client/v3{path}"
        try:
            async with self._http.request(method, url, json=body, headers=headers) as r:
                text = await r.text() if r.content_length != 0 else ""
                status = r.status
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransientError(f"{method} {path} failed: {e.__class__.__name__}: {e}") from None
        data = json_body(status, text, f"{method} {path}")
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

    def ignore_senders(self, user_ids: set[str]) -> None:
        """Leave these accounts' timeline events out of every sync (the homeserver then does
        not wake this session for them): other bots, whose messages no bot reads."""
        self.sync_filter.ignore_senders(user_ids)

    async def sync_once(self, handler: Handler, timeout_ms: int = SYNC_TIMEOUT_MS) -> None:
        """One /sync: handle the batch (to-device and timeline), then persist the token."""
        await self._maintain_keys()
        self._syncs_started += 1
        started = self._syncs_started
        token = await self.store.get("session", "sync_token")
        first = self._need_full_state
        # A bot's restart resumes from the stored token: the room state a command needs
        # (markers, power levels, encryption) is in the sealed state cache. Only a store whose
        # cache was never filled asks for full state once (every room's state: slow in many
        # rooms).
        full = first and token is not None and not (self.resume_from_cache and self.state.complete)
        # The first sync of a process returns at once, with what arrived while it was down.
        wait = 0 if first else timeout_ms
        # nio gives a full-state sync no client timeout at all: bound every sync ourselves,
        # so a stalled connection is given up and retried instead of hanging the bot.
        limit = self.client.config.request_timeout + wait / 1000
        left_out = self.read_elsewhere is not None and self.read_elsewhere()
        self.sync_filter.read_elsewhere(left_out)
        sync_filter = await self.sync_filter.current(self.api, self.user_id)
        resp = await guarded(
            asyncio.wait_for(
                self.client.sync(
                    timeout=wait,
                    sync_filter=sync_filter,
                    since=token,
                    full_state=full or None,
                ),
                limit,
            ),
            "sync",
        )
        self._need_full_state = False
        self.messages_left_out = left_out
        self.rooms_known.set()
        if full or token is None:
            self.state.filled()  # every joined room's state is in this batch

        crash_point("sync-received")
        await self._bind_arrivals()
        batch = await self._batch(resp, initial=token is None)
        await self._retry_undecrypted(batch)
        await handler(batch)
        await self._persist_outbound()
        await self._save_origins()
        # One commit for what the batch leaves behind: message indices, room state, token
        # (none when nothing changed: a poll that brought nothing).
        joined = set(self.joined)
        if (
            resp.next_batch != token
            or self._index_pending
            or self.state.changed
            or joined != self._joined_saved
        ):
            async with self.store.transaction() as tx:
                await self._write_indices(tx)
                await self.state.write(tx)
                if joined != self._joined_saved:
                    await tx.put("session", JOINED_KEY, sorted(joined))
                await tx.put("session", "sync_token", resp.next_batch)
            self._index_pending.clear()
            self.state.written()
            self._joined_saved = joined
        self._syncs_done = started
        self.sync_ok = True
        self.synced.set()
        self.synced.clear()

    async def run(
        self,
        handler: Handler,
        *,
        timeout_ms: int = SYNC_TIMEOUT_MS,
        backoff_cap_s: float = BACKOFF_CAP_S,
        until: asyncio.Event | None = None,
        on_connection: ConnectionHook | None = None,
    ) -> None:
        """Sync until ``close`` (or ``until`` is set); network errors, homeserver restarts and
        any one bad batch are retried with backoff. ``on_connection(ok, why)`` hears every
        change between connected and not (the TUI's banner)."""
        stop = until or self._stopping
        delays = backoff_delays(cap=backoff_cap_s)
        connected: bool | None = None
        while not (stop.is_set() or self._stopping.is_set()):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Python 3.11's wait_for can return a result and drop the cancellation that
                # arrived with it (fixed in 3.12): the loop ends anyway.
                raise asyncio.CancelledError
            try:
                polling = self.messages_left_out
                await self.sync_once(handler, timeout_ms=0 if polling else timeout_ms)
                if self.messages_left_out:
                    await self.poll_pause()
                delays = backoff_delays(cap=backoff_cap_s)
                if connected is not True and on_connection is not None:
                    await on_connection(True, None)
                connected = True
            except AuthError:
                raise
            except Exception as e:  # noqa: BLE001 - the loop outlives any one bad batch
                self.sync_ok = False
                connected = False
                delay = next(delays)
                if isinstance(e, MessengerError):
                    log.warning("%s: sync failed (%s); retrying in %.1f s", self.user_id, e, delay)
                else:
                    log.exception("%s: a sync failed; retrying in %.1f s", self.user_id, delay)
                if on_connection is not None:
                    await on_connection(False, f"{e} — retrying in {delay:.0f} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)

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
        self.joined.update(resp.rooms.join)
        self.joined.difference_update(resp.rooms.leave)
        for room_id, info in resp.rooms.join.items():
            batch.joined.append(room_id)
            for ev in [*info.state, *info.timeline.events]:
                await self._note_encryption_settings(room_id, ev)
                src = getattr(ev, "source", None) or {}
                self.state.note(
                    room_id, src.get("type", ""), src.get("state_key"), src.get("content")
                )
        await self._learn_senders(timeline)
        batch.events.extend(await self._checked_all(self._incoming_all(timeline)))
        batch.left.extend(resp.rooms.leave.keys())
        for room_id in resp.rooms.leave:
            self.state.forget(room_id)
        batch.to_device.extend(dict(ev.source) for ev in resp.to_device_events)
        self._reshare_on_request(resp.to_device_events)
        await self._note_withheld(batch.to_device)
        return batch

    def _incoming_all(self, timeline: list[tuple[str, Any]]) -> list[Incoming]:
        """Our view of each timeline event; one that cannot be read at all is dropped."""
        out = []
        for room_id, ev in timeline:
            try:
                out.append(self._incoming(room_id, ev))
            except Exception as e:  # noqa: BLE001 - remote input: never stop the batch
                poison_log.note(
                    f"timeline:{room_id}",
                    "%s: dropping an unreadable event in %s: %s: %s",
                    self.user_id,
                    room_id,
                    e.__class__.__name__,
                    e,
                )
        return out

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
