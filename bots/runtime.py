"""Provides ``Runtime``: one process hosting the organisation's bot accounts."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable

from messenger.bot import Bot
from messenger.config import OrgFile
from messenger.deployment import Deployment
from messenger.session import Session

log = logging.getLogger(__name__)

TICK_S = 1.0

BotFactory = Callable[[Session, OrgFile], Bot]


BOT_MODULES = {
    "events": ("bots.events", "EventsBot"),
    "resources": ("bots.resources", "ResourcesBot"),
    "translate": ("bots.translate", "TranslateBot"),
}


def bot_class(name: str) -> BotFactory:
    """The class of a bot, imported only when the runtime hosts it."""
    module, cls = BOT_MODULES[name]
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


class Runtime:
    """Owns every bot's tasks: sync loop, outbox and timer. ``stop`` cancels them all."""

    def __init__(self, bots: list[Bot]) -> None:
        self.bots = bots
        for i, bot in enumerate(bots):
            bot.peers = bots
            bot.primary = i == 0
        self._tasks: list[asyncio.Task[None]] = []
        self.failed = asyncio.Event()

    def start(self) -> None:
        """Start every bot's tasks."""
        for bot in self.bots:
            for name, coro in (
                ("sync", bot.session.run(bot.handle_batch)),
                ("outbox", bot.session.run_outbox()),
                ("timer", self._ticks(bot)),
            ):
                task = asyncio.create_task(coro, name=f"{bot.name}-{name}")
                task.add_done_callback(self._on_done)
                self._tasks.append(task)

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


async def make_runtime(deployment: Deployment, names: list[str] | None = None) -> Runtime:
    """Log in (or restore) each enabled bot and build the runtime; used by the CLI and tests."""
    org = deployment.settings.org
    bots: list[Bot] = []
    try:
        for name in names or org.bots.enabled:
            user_id = org.bot_user_ids()[name]
            session = await deployment.session(user_id, device_name=f"Samverkan {name} bot")
            bot = bot_class(name)(session, org)
            bots.append(bot)
            _, password = await deployment.ensure_account(user_id)
            if await bot.cross_signing.bootstrap(password):
                key = await bot.cross_signing.recovery_key()
                print(
                    f"{user_id}: new cross-signing identity; recovery key (shown once, kept "
                    f"sealed in the vault): {key}",
                    flush=True,
                )
            await bot.backup.enable()
            status = await bot.cross_signing.status()
            bot.trust_summary = {
                "cross_signing": status.cross_signing,
                "device_signed": status.device_signed,
            }

    except BaseException:
        for bot in bots:
            await bot.session.close()
        raise
    return Runtime(bots)
