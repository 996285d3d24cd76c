"""Provides ``Session``: one Matrix account and device, its encrypted stores and its sync loop."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, MegolmEvent
from nio.exceptions import EncryptionError, LocalProtocolError


from crypto.vault import Vault
from messenger.errors import (
    AuthError,
    MatrixError,
    MessengerError,
    NotFound,
    TransientError,
    check,
    raise_for_status,
)
from messenger.events import Incoming, Invite, SyncBatch
from messenger.faults import crash_point
from messenger.store import Outgoing, StateStore

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0
UNDECRYPTED_NS = "undecrypted"
OUTBOX_REF = "$outbox:"
OUTBOX_PARALLEL_ROOMS = 8
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


def backoff_delays(first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_CAP_S) -> Any:
    """Exponential backoff with full jitter, capped: 0.5 s, 1 s, 2 s … ≤ ``cap``."""
    attempt = 0
    while True:
        yield random.uniform(first / 2, min(cap, first * 2**attempt))
        attempt += 1


async def guarded(coro: Awaitable[Any], action: str) -> Any:
    """Await a nio call: transport failures become TransientError, error responses typed errors."""
    try:
        response = await coro
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        raise TransientError(f"{action} failed: {e.__class__.__name__}: {e}") from None
    except LocalProtocolError as e:  # nio's local state is not ready (e.g. room not synced yet)
        raise TransientError(f"{action} failed: {e}") from None
    return check(response, action)


class Session:
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
        self._http: aiohttp.ClientSession | None = None

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
        client = AsyncClient(url, user_id, store_path=str(nio_dir), config=config)
        session = cls(client, store, data_dir)
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
        await session._maintain_keys()
        return session

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
        """One /sync: handle the batch, then persist the token."""
        await self._maintain_keys()
        token = await self.store.get("session", "sync_token")
        resp = await guarded(
            self.client.sync(timeout=timeout_ms, sync_filter=SYNC_FILTER, since=token), "sync"
        )
        crash_point("sync-received")
        batch = self._batch(resp, initial=token is None)
        await self._retry_undecrypted(batch)
        await handler(batch)
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

    def _batch(self, resp: Any, initial: bool) -> SyncBatch:
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
        for room_id, info in resp.rooms.join.items():
            batch.joined.append(room_id)
            for ev in info.timeline.events:
                batch.events.append(self._incoming(room_id, ev))
        batch.left.extend(resp.rooms.leave.keys())
        batch.to_device.extend(dict(ev.source) for ev in resp.to_device_events)
        return batch

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
                decrypt_error="the room key has not arrived (yet)",
                raw=src,
            )
        encrypted = bool(getattr(ev, "decrypted", False))
        device, verified = (None, False)
        if encrypted:
            device, verified = self._authenticated_device(
                ev.sender, getattr(ev, "sender_key", None)
            )
        return Incoming(
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

    def _authenticated_device(self, sender: str, sender_key: str | None) -> tuple[str | None, bool]:
        """The sender's device owning the Olm identity key that sent the session, if known."""
        if sender_key is None:
            return None, False
        for device in self.client.device_store.active_user_devices(sender):
            if device.curve25519 == sender_key:
                return device.id, bool(
                    self.client.olm and self.client.olm.is_device_verified(device)
                )
        return None, False

    async def _retry_undecrypted(self, batch: SyncBatch) -> None:
        """Keep undecryptable events; re-try them when keys arrive, and ask for keys once."""
        fresh = []
        for _i, inc in enumerate(batch.events):
            if inc.decrypt_error:
                await self.store.put(
                    UNDECRYPTED_NS,
                    inc.event_id,
                    {"room_id": inc.room_id, "raw": inc.raw, "asked": False},
                )
        for event_id, rec in await self.store.items(UNDECRYPTED_NS):
            ev = MegolmEvent.from_dict(rec["raw"])
            ev.room_id = rec["room_id"]
            try:
                decrypted = self.client.decrypt_event(ev)
            except EncryptionError:
                if not rec["asked"]:
                    with contextlib.suppress(MessengerError):
                        await guarded(self.client.request_room_key(ev), "requesting a room key")
                    await self.store.put(UNDECRYPTED_NS, event_id, {**rec, "asked": True})
                continue
            await self.store.delete(UNDECRYPTED_NS, event_id)
            fresh.append(self._incoming(rec["room_id"], decrypted))
        if fresh:
            ids = {f.event_id for f in fresh}
            batch.events = [e for e in batch.events if e.event_id not in ids] + fresh

    async def fetch_event(self, room_id: str, event_id: str) -> Incoming:
        """One event by ID, decrypted when we hold its key."""
        resp = await guarded(self.client.room_get_event(room_id, event_id), "fetching an event")
        ev = resp.event
        if isinstance(ev, MegolmEvent):
            ev.room_id = room_id
            with contextlib.suppress(EncryptionError):
                ev = self.client.decrypt_event(ev)
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

    # -- sending ------------------------------------------------------------------------

    async def send_now(
        self,
        room_id: str,
        content: dict[str, Any],
        *,
        txn_id: str,
        event_type: str = "m.room.message",
    ) -> str:
        """Send one event (encrypted in encrypted rooms); a repeated ``txn_id`` never duplicates."""
        resp = await guarded(
            self.client.room_send(
                room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
            ),
            f"sending to {room_id}",
        )
        return str(resp.event_id)

    async def flush_outbox(self) -> int:
        """Send every queued message; rooms in parallel, each room in order. Return the count."""
        by_room: dict[str, list[Outgoing]] = {}
        for out in await self.store.pending():
            by_room.setdefault(out.room_id, []).append(out)
        if not by_room:
            return 0
        limit = asyncio.Semaphore(OUTBOX_PARALLEL_ROOMS)

        async def deliver(items: list[Outgoing]) -> int:
            async with limit:
                for out in items:
                    content = await self._resolve_refs(out.content)
                    try:
                        event_id = await self.send_now(
                            out.room_id, content, txn_id=out.txn_id, event_type=out.event_type
                        )
                    except (AuthError, NotFound) as e:
                        log.error(
                            "%s: giving up on a message to %s: %s", self.user_id, out.room_id, e
                        )
                        event_id = ""
                    crash_point("reply-sent")
                    await self.store.mark_sent(out.txn_id, event_id)
                return len(items)

        results = await asyncio.gather(
            *(deliver(v) for v in by_room.values()), return_exceptions=True
        )
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return sum(r for r in results if isinstance(r, int))

    async def _resolve_refs(self, content: dict[str, Any]) -> dict[str, Any]:
        """Replace ``$outbox:KEY`` placeholders with the event IDs those messages got."""
        rel = content.get("m.relates_to")
        target = rel.get("event_id") if isinstance(rel, dict) else None
        if not (isinstance(target, str) and target.startswith(OUTBOX_REF)):
            return content
        event_id = await self.store.sent_event_id(target.removeprefix(OUTBOX_REF))
        if not event_id:
            raise TransientError(f"{target} has not been sent yet")
        return {**content, "m.relates_to": {**rel, "event_id": event_id}}

    def wake_outbox(self) -> None:
        """Ask the outbox task to send what is queued."""
        self.outbox_wakeup.set()

    async def run_outbox(self) -> None:
        """Deliver the outbox whenever woken; retry failures with backoff; never drop a message."""
        delays = backoff_delays()
        while not self.sync_ok and not self._stopping.is_set():
            await asyncio.sleep(0.1)  # rooms are known to nio only after the first sync
        while not self._stopping.is_set():
            self.outbox_wakeup.clear()
            try:
                await self.flush_outbox()
                delays = backoff_delays()
            except MessengerError as e:
                delay = next(delays)
                log.warning("%s: sending failed (%s); retrying in %.1f s", self.user_id, e, delay)
                await asyncio.sleep(delay)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox_wakeup.wait(), 5)
