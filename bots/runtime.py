"""Provides ``Runtime``: one process hosting the organisation's bot accounts."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import importlib
import logging
import os
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bots.starting import BOT_MODULES, BotMaker, bot_class, prepare_identity
from messenger.botkit.bot import Bot, Peer
from messenger.botkit.commands import Command, CommandTable
from messenger.botkit.commands import command_names as declared_names
from messenger.botkit.reading import SharedReading
from messenger.calls import backoff_delays
from messenger.config import OrgFile
from messenger.deploy.deployment import Deployment
from messenger.e2ee.identity import Identity
from messenger.errors import MessengerError, RateLimited, TransientError
from messenger.events import SyncBatch
from messenger.session.core import UNDECRYPTED_NS

log = logging.getLogger(__name__)

TICK_S = 1.0
BRING_IN_AFTER_S = 3.0
"""``make_runtime(early=True)``: the other bots are made once the first has handled its first
sync, or after this long if that sync keeps failing."""


def command_names(names: list[str] | None = None) -> list[str]:
    """Every command the bots declare (``!event create`` …), for clients' completion."""
    found = {"!help", "!ping"}
    for name in names or list(BOT_MODULES):
        module, cls_name = BOT_MODULES[name]
        cls: type[Bot] = getattr(importlib.import_module(module), cls_name)
        found.update(declared_names(cls, cls.GROUPS))
    return sorted(found)


class RemotePeer:
    """A bot this process does not run (another process hosts it, or it is still starting):
    what help and the unknown-command check read of it. Its module is imported only when its
    commands are first looked at, not at every start."""

    def __init__(self, name: str, user_id: str) -> None:
        self.name = name
        self.user_id = user_id

    @functools.cached_property
    def table(self) -> CommandTable:
        """Its declared commands (never run here)."""
        cls = bot_class(self.name)
        return CommandTable(
            [
                spec
                for owner in (cls, *getattr(cls, "GROUPS", ()))
                for attr in dir(owner)
                if isinstance(
                    spec := getattr(getattr(owner, attr, None), "__samverkan_command__", None),
                    Command,
                )
            ]
        )


def peer_of(name: str, org: OrgFile) -> RemotePeer:
    """The stand-in of bot ``name`` (its name in ``BOT_MODULES`` is the bot's ``name``)."""
    return RemotePeer(name, org.bot_user_ids()[name])


class BotLock:
    """An exclusive lock on a bot's data directory, held while a process hosts the bot."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def take(cls, account_dir: Path, name: str) -> BotLock:
        """Lock, or fail at once naming the bot another process already runs."""
        account_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(account_dir / "runtime.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise MessengerError(
                f"the {name} bot already runs in another process on this data directory; "
                f"a bot runs in one process only (its store and device are its own)"
            ) from None
        return cls(fd)

    def release(self) -> None:
        """Unlock (the kernel also does when the process ends)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Runtime:
    """Owns every bot's tasks: sync loop, outbox and timer. ``stop`` cancels them all."""

    def __init__(
        self,
        bots: list[Bot],
        elsewhere: Sequence[Peer] = (),
        coming: Sequence[str] = (),
        maker: BotMaker | None = None,
    ) -> None:
        """``elsewhere``: the organisation's bots that other processes host (``samverkan up
        --bots``); help lists them and the first enabled bot answers what any bot may.
        ``coming``: bots of this process ``maker`` makes once ``start`` has the first one
        answering (``make_runtime(early=True)``)."""
        self.bots = bots
        self._elsewhere = list(elsewhere)
        self._coming = list(coming)
        self._maker = maker
        self._reading: SharedReading | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: list[BotLock] = []
        self.failed = asyncio.Event()
        self.error: BaseException | None = None
        """Why a bot could not be made (``failed`` is set; ``wait_synced`` raises it)."""
        self.made = asyncio.Event()
        """Set once every bot of the process is made (at once unless some are ``coming``)."""
        self.notices: list[str] = []
        """What the operator should read once (new recovery keys, restores): the CLI shows it."""
        self._link()
        if not self._coming:
            self.made.set()

    def _link(self) -> None:
        """Tell every bot of the process who its peers are (the coming ones by stand-in)."""
        if not self.bots:
            return
        org = self.bots[0].org
        here = {b.name for b in self.bots}
        stand_ins = [peer_of(n, org) for n in self._coming if n not in here]
        everyone: list[Peer] = [*self.bots, *stand_ins, *self._elsewhere]
        if stand_ins or self._elsewhere:
            order = org.bots.enabled
            everyone.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
        for bot in self.bots:
            bot.peers = self.bots
            bot.everyone = everyone
            bot.primary = bot is everyone[0]

    def start(self) -> None:
        """Start every bot's tasks. The first bot reads the rooms' messages for the others
        (``botkit.reading``): one account woken and one decryption per message, not five.
        Bots still ``coming`` are made once the first has handled its first sync."""
        if not self.bots:
            return
        self._reading = SharedReading(self.bots, on_batch, coming=len(self._coming))
        for bot in self.bots:
            self._run(bot)
        if self._coming:
            self._spawn(self._bring_in(), "bringing in the other bots")
        self._spawn(self._refresh_prefs(), "preferences")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._on_done)
        self._tasks.append(task)

    def _run(self, bot: Bot) -> None:
        assert self._reading is not None
        self._spawn(bot.session.run(self._reading.handler(bot)), f"{bot.name}-sync")
        self._spawn(bot.session.run_outbox(), f"{bot.name}-outbox")
        self._spawn(self._ticks(bot), f"{bot.name}-timer")

    async def _bring_in(self) -> None:
        """Make the coming bots (retrying transient failures) and start each one."""
        assert self._maker is not None
        assert self._reading is not None
        # The first answer before the others' stores and identities take the CPU.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reading.first_handled.wait(), BRING_IN_AFTER_S)
        for delay in backoff_delays():
            try:
                new = await self._maker.make_all(self._coming)
                break
            except (TransientError, RateLimited) as e:
                log.warning("starting the bots %s: %s; retrying in %.1f s", self._coming, e, delay)
                await asyncio.sleep(delay)
            except Exception as e:  # for good (a recovery key needed …): up stops, saying why
                if not isinstance(e, MessengerError):
                    log.exception("starting the bots %s failed", self._coming)
                self.error = e
                self.failed.set()
                self.made.set()
                self._reading.complete.set()  # the reader goes on without them
                return
        self.notices.extend(self._maker.take_notices())
        for bot in new:
            self.bots.append(bot)
            self._link()
            self._reading.add(bot)  # before its sync loop: see SharedReading.add
            self._run(bot)
        self._coming = []
        self.made.set()

    async def _refresh_prefs(self) -> None:
        """Pick up preferences other processes wrote (one cheap query a tick when none did)."""
        prefs = {id(b.prefs): b.prefs for b in self.bots}.values()
        while True:
            await asyncio.sleep(TICK_S)
            for p in prefs:
                try:
                    await p.refresh()
                except Exception:
                    log.exception("reading the shared preferences again failed")

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("bot task %s failed", task.get_name(), exc_info=task.exception())
            self.failed.set()

    async def _ticks(self, bot: Bot) -> None:
        while True:
            try:
                await bot.on_tick(bot.now_ms())
            except Exception:
                log.exception("%s: timer failed", bot.user_id)
            await asyncio.sleep(TICK_S)

    async def wait_synced(self) -> None:
        """Wait until every bot is made and has finished one sync; raise why one could not
        be made."""
        await self.made.wait()
        if self.error is not None:
            raise self.error
        await asyncio.gather(*(b.session.synced.wait() for b in self.bots if not b.session.sync_ok))

    async def stop(self) -> None:
        """Cancel every task and close the sessions (never logging a device out)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a task that does not end within 10 s is logged and left behind.
            _done, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:
                log.error("bot task %s did not stop within 10 s", task.get_name())
        self._tasks.clear()
        if self._maker is not None:
            await self._maker.close_unused(self.bots)

        for bot in self.bots:
            try:
                await bot.close()
            except Exception:
                log.exception("%s: closing failed", bot.user_id)
            try:
                await asyncio.wait_for(bot.session.close(), 10)
            except TimeoutError:
                log.error("%s: closing the session took over 10 s", bot.user_id)
        for lock in self._locks:
            lock.release()
        self._locks.clear()


async def on_batch(bot: Bot, batch: SyncBatch) -> None:
    """The runtime's sync handler: in-room verification first, then the bot's own handling.

    Verification events go to the bot's verifier and never reach command dispatch. An
    initial sync (a new device, a lost sync token) is history the bot never answers; its
    events that could not be decrypted are forgotten too, so a key arriving later (a
    restored backup) cannot turn an old command into a new one.
    """
    batch.events = await bot.verifier.handle_room(batch.events, initial=batch.initial)
    await bot.handle_batch(batch)
    if batch.initial:
        async with bot.store.transaction() as tx:
            for event in batch.events:
                if event.decrypt_error is not None:
                    await tx.delete(UNDECRYPTED_NS, event.event_id)


async def make_runtime(
    deployment: Deployment,
    names: list[str] | None = None,
    recovery_keys: dict[str, str] | None = None,
    *,
    apart: bool = False,
    exclusive: bool = False,
    early: bool = False,
) -> Runtime:
    """Log in (or restore) each enabled bot and build the runtime; used by the CLI and tests.

    ``recovery_keys`` (bot name → recovery key) restores bots whose disk was wiped; the
    deployment store's copies are used otherwise. ``apart``: the enabled bots not in ``names``
    run in other processes (``samverkan up --bots``). ``exclusive`` (``up``, always): each
    hosted bot's data directory is locked to this process, so no bot ever runs in two (its
    exactly-once store and device are its own). ``early`` (``up``): only the first bot is
    made here; ``start`` has it answer at once and makes the others beside it (a cold start
    waits for one store and identity, not five; ``wait_synced`` waits for them all).
    """
    org = deployment.settings.org
    hosted = names or list(org.bots.enabled)
    locks: list[BotLock] = []
    try:
        if exclusive or apart:  # all at once: fail before anything starts
            for name in hosted:
                locks.append(BotLock.take(deployment.account_dir(org.bot_user_ids()[name]), name))
        maker = BotMaker(deployment, recovery_keys)
        now = hosted[:1] if early else hosted
        bots = await maker.make_all(now)
    except BaseException:
        for lock in locks:
            lock.release()
        raise
    elsewhere = [peer_of(n, org) for n in org.bots.enabled if n not in hosted] if apart else []
    runtime = Runtime(bots, elsewhere, coming=hosted[len(now) :], maker=maker)
    runtime.notices = maker.take_notices()
    runtime._locks = locks
    return runtime


async def restore_bot(
    deployment: Deployment,
    name: str,
    recovery_key: str | None = None,
    new_identity: bool = False,
) -> Identity:
    """``samverkan account restore``: make bot ``name`` (events, resources, translate) whole
    again on this disk — its identity from ``recovery_key``, or a new identity.

    Idempotent: on an intact disk it only checks the key and keeps a copy. Run it while the
    bots are stopped (it opens the bot's stores).
    """
    org = deployment.settings.org
    user_id = org.bot_user_ids().get(name)
    if user_id is None:
        raise MessengerError(f"no bot named {name!r}; bots: {', '.join(org.bot_user_ids())}")
    lock = BotLock.take(deployment.account_dir(user_id), name)  # not while `up` runs it
    try:
        session = await deployment.session(user_id, device_name=f"Samverkan {name} bot")
    except BaseException:
        lock.release()
        raise
    try:
        bot = bot_class(name)(session, org)
        _, password = await deployment.ensure_account(user_id)
        if recovery_key and not new_identity:
            await bot.cross_signing.secret_storage_key(recovery_key)  # a wrong key fails here
        identity = await prepare_identity(bot, deployment, password, recovery_key, new_identity)
        await bot.close()
        return identity
    finally:
        await session.close()
        lock.release()
