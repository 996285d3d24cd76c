"""Provides ``SharedReading``: one bot of a process reads the rooms' messages for all of them.

Every bot account in a room is one more /sync the homeserver answers, and one more decryption
in this process, for every message anyone sends there, though only one bot answers a command.
So the first bot of the process (the reader) syncs the rooms' timelines and hands each
decrypted event to the other bots of the process that are in its room; they leave messages
out of their own syncs while the reader is in every room they are in, and read for
themselves otherwise (a room the reader has not joined yet, or has left). While the reader
reads for them they poll (``POLL_S``) instead of waiting on the homeserver, which would wake
them, and build them a response, for every event in their rooms. Their own syncs still bring
them their to-device messages, invites and the rooms' state, so each bot keeps its own view
of members, devices and power levels, and sends with its own device; when the reader hands
over a state change (a member joined) or a room it has not synced yet, the bot syncs before
it handles the events of that room.

Exactly-once is each bot's own, as before: its processed marks live in its store, and the
reader persists its sync token only after every bot has handled what it was handed. A bot
handles one batch at a time, so an event that reaches it both ways (a room changing from one
to the other) is handled once.

The reader may start alone (``samverkan up``: it answers while the other bots load); those
are ``add``-ed before their own sync loops start, and the reader hands its first batch over
only once all of them are in, so what they leave out of their first syncs reaches them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Sequence

from messenger.botkit.bot import Bot
from messenger.events import Incoming, SyncBatch

Handle = Callable[[Bot, SyncBatch], Awaitable[None]]


class SharedReading:
    """The sync handlers of the bots of one process: ``handler(bot)`` for each."""

    def __init__(self, bots: Sequence[Bot], handle: Handle, coming: int = 0) -> None:
        """``coming``: how many more bots ``add`` will bring (made while the reader already
        answers); the reader hands its first batch over only once they are all in."""
        self.reader = bots[0]
        self.followers: list[Bot] = []
        self._handle = handle
        self._locks = {id(self.reader): asyncio.Lock()}
        self._coming = coming
        self.complete = asyncio.Event()
        """Set once every bot the reader reads for is in."""
        self.first_handled = asyncio.Event()
        """Set once the reader has handled its first batch (its own part of it)."""
        for bot in bots[1:]:
            self.add(bot, expected=False)
        if not self._coming:
            self.complete.set()

    def add(self, bot: Bot, *, expected: bool = True) -> None:
        """Read for ``bot`` from now on; before its own sync loop starts, so nothing it
        leaves out of its syncs can fall between the reader's hand-overs and its own."""
        self.followers.append(bot)
        self._locks[id(bot)] = asyncio.Lock()
        bot.session.read_elsewhere = functools.partial(self.covers, bot)
        if expected:
            self._coming -= 1
            if self._coming <= 0:
                self.complete.set()

    def covers(self, bot: Bot) -> bool:
        """Whether the reader is in every room ``bot`` is in (it then reads them for it)."""
        return bot.session.joined <= self.reader.session.joined

    def handler(self, bot: Bot) -> Callable[[SyncBatch], Awaitable[None]]:
        """The handler of ``bot``'s own sync loop."""

        async def own_batch(batch: SyncBatch) -> None:
            if bot is self.reader:
                handed = list(batch.events)  # before the reader's own handling takes some
                async with self._locks[id(bot)]:
                    await self._handle(bot, batch)
                self.first_handled.set()
                # The bots still starting get this batch too (their own syncs may have moved
                # past it in an earlier run): the reader's token waits for them.
                await self.complete.wait()
                await self._hand_over(handed, batch.initial)
                return
            if bot.session.messages_left_out:
                # The reader hands this bot the rooms' events; its own sync brought their
                # state for the session. Its own joins stay: they date what is new to it.
                batch.events = [e for e in batch.events if e.sender == bot.user_id]
            async with self._locks[id(bot)]:
                await self._handle(bot, batch)

        return own_batch

    async def _hand_over(self, events: list[Incoming], initial: bool) -> None:
        """Give each other bot the reader's events of the rooms it is in; every one of them
        is handled (or has failed) before the reader's sync token moves on."""
        results = await asyncio.gather(
            *(self._give(bot, events, initial) for bot in self.followers), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result  # the reader's batch is retried; what was handled is marked

    async def _give(self, bot: Bot, events: list[Incoming], initial: bool) -> None:
        rooms = bot.session.joined
        mine = [as_seen_by(bot, e) for e in events if e.room_id in rooms]
        if not mine:
            return
        # Where its view of a room's state is behind (a member joined, a power level changed,
        # a room it has not synced yet), it syncs first: it checks commands against, and
        # encrypts for, the room as it is now.
        session = bot.session
        for e in mine:
            if e.state_key is not None or e.room_id not in session.state:
                session.fell_behind(e.room_id)
        await asyncio.gather(*(session.catch_up(r) for r in {e.room_id for e in mine}))
        async with self._locks[id(bot)]:
            await self._handle(bot, SyncBatch(events=mine, initial=initial))


def as_seen_by(bot: Bot, event: Incoming) -> Incoming:
    """``event`` with the sending device's verification as ``bot``'s own session knows it
    (each bot verifies devices itself; the reader's verifications are not the bot's)."""
    if not event.encrypted or event.sender_device is None or event.device_deleted:
        return event
    verified = bot.session.device_verified(event.sender, event.sender_device)
    if verified == event.device_verified:
        return event
    return dataclasses.replace(event, device_verified=verified)
