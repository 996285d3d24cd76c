"""Provides ``Runtime``: one process hosting the organisation's bot accounts."""

from __future__ import annotations

import asyncio
import fcntl
import importlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from messenger.botkit.bot import Bot, Peer
from messenger.botkit.commands import Command, CommandTable
from messenger.botkit.commands import command_names as declared_names
from messenger.botkit.prefs import Preferences
from messenger.botkit.reading import SharedReading
from messenger.config import OrgFile
from messenger.deploy.deployment import RECOVERY_NS, Deployment
from messenger.e2ee.identity import Identity, bootstrap_identity
from messenger.e2ee.trust import RecoveryKeyNeeded
from messenger.errors import MessengerError
from messenger.events import SyncBatch
from messenger.ids import localpart
from messenger.session.core import UNDECRYPTED_NS, Session

log = logging.getLogger(__name__)

TICK_S = 1.0
PUSH_MUTED = "push-muted"  # in the bot's store: its master push rule is on

BotFactory = Callable[[Session, OrgFile], Bot]


@runtime_checkable
class ActsForDeployment(Protocol):
    """A bot that acts for the whole deployment (the resources bot runs the security audit)."""

    deployment: Deployment | None


BOT_MODULES = {
    "events": ("bots.events", "EventsBot"),
    "resources": ("bots.resources", "ResourcesBot"),
    "translate": ("bots.translate", "TranslateBot"),
    "library": ("bots.library", "LibraryBot"),
    "projects": ("bots.projects", "ProjectsBot"),
}


def command_names(names: list[str] | None = None) -> list[str]:
    """Every command the bots declare (``!event create`` …), for clients' completion."""
    found = {"!help", "!ping"}
    for name in names or list(BOT_MODULES):
        module, cls_name = BOT_MODULES[name]
        cls: type[Bot] = getattr(importlib.import_module(module), cls_name)
        found.update(declared_names(cls, cls.GROUPS))
    return sorted(found)


@dataclass(frozen=True)
class RemotePeer:
    """A bot another process hosts: what help and the unknown-command check read of it."""

    name: str
    user_id: str
    table: CommandTable


def peer_of(name: str, org: OrgFile) -> RemotePeer:
    """The stand-in of bot ``name`` (its declared commands, never run here)."""
    cls = bot_class(name)
    found = [
        spec
        for owner in (cls, *getattr(cls, "GROUPS", ()))
        for attr in dir(owner)
        if isinstance(
            spec := getattr(getattr(owner, attr, None), "__samverkan_command__", None), Command
        )
    ]
    bot_name = getattr(cls, "name", name)
    return RemotePeer(str(bot_name), org.bot_user_ids()[name], CommandTable(found))


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


def bot_class(name: str) -> BotFactory:
    """The class of a bot, imported only when the runtime hosts it."""
    module, cls = BOT_MODULES[name]
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


class Runtime:
    """Owns every bot's tasks: sync loop, outbox and timer. ``stop`` cancels them all."""

    def __init__(self, bots: list[Bot], elsewhere: Sequence[Peer] = ()) -> None:
        """``elsewhere``: the organisation's bots that other processes host (``samverkan up
        --bots``); help lists them and the first enabled bot answers what any bot may."""
        self.bots = bots
        everyone: list[Peer] = [*bots, *elsewhere]
        if elsewhere:
            order = bots[0].org.bots.enabled
            everyone.sort(key=lambda p: order.index(p.name) if p.name in order else len(order))
        for bot in bots:
            bot.peers = bots
            bot.everyone = everyone
            bot.primary = bot is everyone[0]
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: list[BotLock] = []
        self.failed = asyncio.Event()
        self.notices: list[str] = []
        """What the operator should read once (new recovery keys, restores): the CLI shows it."""

    def start(self) -> None:
        """Start every bot's tasks. The first bot reads the rooms' messages for the others
        (``botkit.reading``): one account woken and one decryption per message, not five."""
        if not self.bots:
            return
        reading = SharedReading(self.bots, on_batch)
        for bot in self.bots:
            for name, coro in (
                ("sync", bot.session.run(reading.handler(bot))),
                ("outbox", bot.session.run_outbox()),
                ("timer", self._ticks(bot)),
            ):
                task = asyncio.create_task(coro, name=f"{bot.name}-{name}")
                task.add_done_callback(self._on_done)
                self._tasks.append(task)
        task = asyncio.create_task(self._refresh_prefs(), name="preferences")
        task.add_done_callback(self._on_done)
        self._tasks.append(task)

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
        """Wait until every bot has finished one sync."""
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


async def prepare_identity(
    bot: Bot,
    deployment: Deployment,
    password: str | None,
    recovery_key: str | None = None,
    new_identity: bool = False,
) -> Identity:
    """Bootstrap, or restore on a wiped disk, the bot's identity; then enable the key backup.

    The recovery key comes from ``recovery_key`` or the copy the deployment store keeps
    (sealed); a restore signs the new device with the old self-signing key and imports the
    key backup, so the bot reads the room history from before the wipe.
    """
    name = localpart(bot.user_id)
    kept = await deployment.store.get(RECOVERY_NS, name)
    key = recovery_key or (kept or {}).get("recovery_key")
    try:
        identity = await bootstrap_identity(
            bot.cross_signing, password, recovery_key=key, new_identity=new_identity
        )
    except RecoveryKeyNeeded as e:
        raise RecoveryKeyNeeded(
            f"{e}. Run: samverkan account restore {bot.name} --recovery-key '<key>' "
            f"(or --new-identity)"
        ) from None
    current = await bot.cross_signing.recovery_key()
    if current and (kept or {}).get("recovery_key") != current:
        await deployment.store.put(RECOVERY_NS, name, {"recovery_key": current})
    restored = 0
    if bot.cross_signing.restored:
        try:
            restored = await bot.backup.restore()
        except MessengerError as e:  # no backup on the server: nothing to read back
            log.warning("%s: no key backup restored: %s", bot.user_id, e)
    await bot.backup.enable()
    status = await bot.cross_signing.status()
    bot.trust_summary = {
        "cross_signing": status.cross_signing,
        "device_signed": status.device_signed,
    }
    identity.master_fingerprint = status.master_fingerprint
    identity.device_signed = status.device_signed
    identity.sessions_restored = restored
    return identity


async def mute_notifications(session: Session) -> None:
    """Turn the bot account's master push rule on, once: the homeserver then runs no
    notification rules for the bot on each message in its rooms (a bot reads none)."""
    if await session.store.get("session", PUSH_MUTED):
        return
    try:
        await session.api(
            "PUT", "/pushrules/global/override/.m.rule.master/enabled", {"enabled": True}
        )
    except MessengerError as e:  # only a cost on the homeserver: tried again next start
        log.warning("%s: could not turn notifications off: %s", session.user_id, e)
        return
    await session.store.put("session", PUSH_MUTED, True)


async def make_runtime(
    deployment: Deployment,
    names: list[str] | None = None,
    recovery_keys: dict[str, str] | None = None,
    *,
    apart: bool = False,
    exclusive: bool = False,
) -> Runtime:
    """Log in (or restore) each enabled bot and build the runtime; used by the CLI and tests.

    ``recovery_keys`` (bot name → recovery key) restores bots whose disk was wiped; the
    deployment store's copies are used otherwise. ``apart``: the enabled bots not in ``names``
    run in other processes (``samverkan up --bots``). ``exclusive`` (``up``, always): each
    hosted bot's data directory is locked to this process, so no bot ever runs in two (its
    exactly-once store and device are its own).
    """
    org = deployment.settings.org
    hosted = names or list(org.bots.enabled)
    made: dict[str, Bot] = {}
    notices: list[str] = []
    locks: list[BotLock] = []

    async def one(name: str) -> None:
        user_id = org.bot_user_ids()[name]
        if exclusive or apart:
            locks.append(BotLock.take(deployment.account_dir(user_id), name))
        session = await deployment.session(user_id, device_name=f"Samverkan {name} bot")
        bot = made[name] = bot_class(name)(session, org)
        session.ignore_senders(set(org.bot_user_ids().values()) - {user_id})
        session.resume_from_cache = True
        _, password = await deployment.ensure_account(user_id)
        identity = await prepare_identity(
            bot, deployment, password, (recovery_keys or {}).get(name)
        )
        await mute_notifications(session)
        if identity.state == "created":
            notices.append(
                f"{user_id}: new cross-signing identity; recovery key (shown once, kept "
                f"sealed in the vault): {identity.recovery_key}"
            )
        elif identity.state == "restored":
            notices.append(
                f"{user_id}: restored its cross-signing identity on new device "
                f"{session.device_id}; {identity.sessions_restored} room keys from the backup"
            )

    try:
        # The bots start side by side: each one's identity checks are round trips.
        results = await asyncio.gather(*(one(n) for n in hosted), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise failed[0]
    except BaseException:
        for bot in made.values():
            await bot.session.close()
        for lock in locks:
            lock.release()
        raise
    bots = [made[n] for n in hosted]
    prefs = Preferences(deployment.store)  # one copy for every bot: !locale, !tz
    await prefs.load()
    for bot in bots:
        bot.prefs = prefs
        bot.shared = deployment.store
        if isinstance(bot, ActsForDeployment):
            bot.deployment = deployment
    elsewhere = [peer_of(n, org) for n in org.bots.enabled if n not in hosted] if apart else []
    runtime = Runtime(bots, elsewhere)
    runtime.notices = notices
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
