"""Provides the outbox half of a Session: sending with fixed transaction IDs, in order per room.

Messages are queued in the state store (sealed) with their transaction ID fixed at that moment;
``run_outbox`` delivers them after the first sync, rooms in parallel, each room in order, and
retries failures with backoff. A repeated transaction ID never duplicates an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from messenger.calls import backoff_delays, guarded
from messenger.errors import (
    AuthError,
    MatrixError,
    MessengerError,
    NotFound,
    RateLimited,
    TooLarge,
    TransientError,
)
from messenger.faults import crash_point
from messenger.session.olmkeys import E2EEClient

if TYPE_CHECKING:
    from messenger.store import Outgoing, StateStore

log = logging.getLogger(__name__)

OUTBOX_REF = "$outbox:"
OUTBOX_PARALLEL_ROOMS = 16
MAX_ATTEMPTS = 5
"""Unexpected (non-network) failures of one message before it is given up."""
STAND_IN_BODY = "⚠ This answer was too large for the homeserver and could not be sent."


class Undeliverable(MessengerError):
    """A queued message that can never be sent (e.g. an edit of a message given up)."""


def too_large_stand_in(content: dict[str, Any], error: Exception) -> dict[str, Any]:
    """A short notice in place of a message the homeserver refused as too large, keeping
    its thread (so the asker still gets an answer where they asked)."""
    log.warning("a message was too large for the homeserver (%s); sending a stand-in", error)
    stand_in: dict[str, Any] = {"msgtype": "m.notice", "body": STAND_IN_BODY}
    rel = content.get("m.relates_to")
    if isinstance(rel, dict) and rel.get("rel_type") != "m.replace":
        stand_in["m.relates_to"] = rel
    return stand_in


class OutboxMixin:
    """Sending for ``Session`` (which provides client, store, user_id, rooms_known, _stopping)."""

    client: Any
    store: StateStore
    user_id: Any
    rooms_known: asyncio.Event
    outbox_wakeup: asyncio.Event
    synced: asyncio.Event
    _stopping: asyncio.Event
    _send_attempts: dict[str, int]

    if TYPE_CHECKING:  # provided by ``Session`` and ``ReadingMixin``; a method here would
        # shadow theirs at run time (this mixin comes first)

        async def _persist_outbound(self, only: str | None = None) -> None:
            """Save the outbound Megolm sessions that changed."""

        async def catch_up(self, room_id: str) -> None:
            """Sync first if the room's state changed unseen."""

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
        client = self.client
        if isinstance(client, E2EEClient) and room_id in client.encrypted_rooms:
            client.ensure_room(room_id)
            client.track_members(room_id)  # devices of new (invited) members before the key
        if client.should_query_keys:
            await guarded(client.keys_query(), "querying keys")
        resp = await guarded(
            self.client.room_send(
                room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True
            ),
            f"sending to {room_id}",
        )
        await self._persist_outbound(room_id)
        return str(resp.event_id)

    async def _deliver(self, out: Outgoing) -> None:
        """Send one queued message and record the event ID the homeserver gave it.

        Network failures, 5xx and rate limits are raised (the room worker retries them with
        backoff, for as long as it takes). A refusal that no retry can change (a 4xx) is
        answered by sending the message without its relation, or a short stand-in for a
        message too large; failing that, and after ``MAX_ATTEMPTS`` unexpected errors, the
        message is given up with a log line, so one message never blocks the room's outbox.
        """
        try:
            content = await self._resolve_refs(out.content)
            event_id = await self._send_degrading(out, content)
        except (TransientError, RateLimited):
            raise
        except Exception as e:
            n = self._send_attempts.get(out.txn_id, 0) + 1
            self._send_attempts[out.txn_id] = n
            if not isinstance(e, Undeliverable | MatrixError) and n < MAX_ATTEMPTS:
                raise
            log.error(
                "%s: giving up on a message to %s after %d attempt(s): %s",
                self.user_id,
                out.room_id,
                n,
                e,
            )
            event_id = ""
        self._send_attempts.pop(out.txn_id, None)
        crash_point("reply-sent")
        await self.store.mark_sent(out.txn_id, event_id)

    async def _send_degrading(self, out: Outgoing, content: dict[str, Any]) -> str:
        """Send; on a permanent refusal try once more without what the server objected to."""
        try:
            return await self.send_now(
                out.room_id, content, txn_id=out.txn_id, event_type=out.event_type
            )
        except TooLarge as e:
            fallback = too_large_stand_in(content, e)
        except (AuthError, NotFound, RateLimited):
            raise
        except MatrixError as e:
            if not (e.status and 400 <= e.status < 500) or "m.relates_to" not in content:
                raise
            log.warning(
                "%s: the homeserver refused a message to %s with its relation (%s); "
                "sending it without",
                self.user_id,
                out.room_id,
                e,
            )
            fallback = {k: v for k, v in content.items() if k != "m.relates_to"}
            new = content.get("m.new_content")
            if isinstance(new, dict):  # an edit without its target: send the new content
                fallback = {k: v for k, v in new.items() if k != "m.relates_to"}
            rel = content["m.relates_to"]
            reply = rel.get("m.in_reply_to") if isinstance(rel, dict) else None
            if isinstance(reply, dict) and rel.get("rel_type") == "m.thread":
                try:  # the thread is refused: answer as a plain reply to the same event
                    return await self.send_now(
                        out.room_id,
                        {**fallback, "m.relates_to": {"m.in_reply_to": reply}},
                        txn_id=out.txn_id + "-r",
                        event_type=out.event_type,
                    )
                except MatrixError as again:
                    if isinstance(again, RateLimited) or not again.status or again.status >= 500:
                        raise
        return await self.send_now(
            out.room_id, fallback, txn_id=out.txn_id + "-d", event_type=out.event_type
        )

    async def _resolve_refs(self, content: dict[str, Any]) -> dict[str, Any]:
        """Replace ``$outbox:KEY`` placeholders (the relation's target and the replied-to
        event) with the event IDs those messages got; not sent yet → retried later. A target
        that was given up is left out (an edit of it is undeliverable)."""
        rel = content.get("m.relates_to")
        if not isinstance(rel, dict):
            return content

        async def resolve(target: object) -> object:
            if not (isinstance(target, str) and target.startswith(OUTBOX_REF)):
                return target
            key = target.removeprefix(OUTBOX_REF)
            event_id = await self.store.sent_event_id(key)
            if event_id:
                return event_id
            if await self.store.given_up(key):
                return None
            raise TransientError(f"{target} has not been sent yet")

        new_rel = {**rel}
        if "event_id" in rel:
            new_rel["event_id"] = await resolve(rel["event_id"])
            if new_rel["event_id"] is None:
                if rel.get("rel_type") == "m.replace":
                    raise Undeliverable("the message it edits could not be sent")
                new_rel = {}
        reply = rel.get("m.in_reply_to")
        if isinstance(reply, dict) and "event_id" in reply:
            target = await resolve(reply["event_id"])
            if target is not None and new_rel:
                new_rel["m.in_reply_to"] = {**reply, "event_id": target}
            else:
                new_rel.pop("m.in_reply_to", None)
        if new_rel == rel:
            return content
        if not new_rel:
            return {k: v for k, v in content.items() if k != "m.relates_to"}
        return {**content, "m.relates_to": new_rel}

    def wake_outbox(self) -> None:
        """Ask the outbox task to send what is queued."""
        self.outbox_wakeup.set()

    async def run_outbox(self) -> None:
        """Deliver the outbox whenever woken: one worker per room with queued messages (each
        room in order, at most ``OUTBOX_PARALLEL_ROOMS`` sending at once), so a slow room never
        holds back the others; failures are retried with backoff; no message is dropped."""
        while not self.rooms_known.is_set() and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):  # nio knows the rooms from the first sync
                await asyncio.wait_for(self.rooms_known.wait(), 0.1)
        limit = asyncio.Semaphore(OUTBOX_PARALLEL_ROOMS)
        workers: dict[str, asyncio.Task[None]] = {}
        more: set[str] = set()
        delays = backoff_delays()
        try:
            while not self._stopping.is_set():
                self.outbox_wakeup.clear()
                try:
                    rooms = await self.store.pending_rooms()
                    delays = backoff_delays()
                except Exception as e:  # noqa: BLE001 - a store hiccup: retry, never give up
                    delay = next(delays)
                    log.warning(
                        "%s: reading the outbox failed (%s); retry in %.1f s",
                        self.user_id,
                        e,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                for room_id in rooms:
                    task = workers.get(room_id)
                    if task is not None and not task.done():
                        more.add(room_id)  # the running worker looks again before it ends
                        continue
                    workers[room_id] = asyncio.create_task(
                        self._room_worker(room_id, limit, more), name=f"outbox {room_id}"
                    )
                for room_id in [r for r, t in workers.items() if t.done()]:
                    del workers[room_id]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.outbox_wakeup.wait(), 5)
        finally:
            for task in workers.values():
                task.cancel()
            if workers:
                await asyncio.wait(workers.values(), timeout=10)

    async def _room_worker(self, room_id: str, limit: asyncio.Semaphore, more: set[str]) -> None:
        """Send one room's queued messages in order until none is left."""
        delays = backoff_delays()
        while not self._stopping.is_set():
            more.discard(room_id)
            try:
                items = await self.store.pending(room_id)
                if not items:
                    if room_id in more:
                        continue
                    return
                async with limit:
                    await self.catch_up(room_id)
                    for out in items:
                        await self._deliver(out)
                delays = backoff_delays()
            except Exception as e:  # noqa: BLE001 - never drop a message; nio raises oddities
                delay = next(delays)
                if not isinstance(e, MessengerError):
                    log.exception("%s: unexpected error while sending", self.user_id)
                log.warning(
                    "%s: sending to %s failed (%s); retrying in %.1f s",
                    self.user_id,
                    room_id,
                    e,
                    delay,
                )
                await asyncio.sleep(delay)
