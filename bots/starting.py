"""Provides ``BotMaker``: logging a process's bots in (or restoring them) and checking their
identities, for ``bots.runtime``."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from messenger.botkit.bot import Bot
from messenger.botkit.prefs import Preferences
from messenger.config import OrgFile
from messenger.deploy.deployment import RECOVERY_NS, Deployment
from messenger.e2ee.identity import Identity, bootstrap_identity
from messenger.e2ee.trust import RecoveryKeyNeeded
from messenger.errors import MessengerError
from messenger.ids import localpart
from messenger.session.core import Session

log = logging.getLogger(__name__)

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


def bot_class(name: str) -> BotFactory:
    """The class of a bot, imported only when the runtime hosts it."""
    module, cls = BOT_MODULES[name]
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


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


class BotMaker:
    """Makes the bots of one process: logs each in (or restores it) and checks its identity."""

    def __init__(self, deployment: Deployment, recovery_keys: dict[str, str] | None) -> None:
        self.deployment = deployment
        self.recovery_keys = recovery_keys or {}
        self.prefs: Preferences | None = None
        self._notices: list[str] = []
        self._made: list[Bot] = []

    async def make_all(self, names: Sequence[str]) -> list[Bot]:
        """Make these bots side by side (each one's identity checks are round trips); on a
        failure close the ones made and raise the first error."""
        made: dict[str, Bot] = {}
        results = await asyncio.gather(*(self._one(n, made) for n in names), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            for bot in made.values():
                self._made.remove(bot)
                await bot.session.close()
            raise failed[0]
        if self.prefs is None:
            self.prefs = Preferences(self.deployment.store)  # one copy for every bot
            await self.prefs.load()
        bots = [made[n] for n in names]
        for bot in bots:
            bot.prefs = self.prefs
            bot.shared = self.deployment.store
            if isinstance(bot, ActsForDeployment):
                bot.deployment = self.deployment
        return bots

    async def _one(self, name: str, made: dict[str, Bot]) -> None:
        deployment = self.deployment
        org = deployment.settings.org
        user_id = org.bot_user_ids()[name]
        session = await deployment.session(user_id, device_name=f"Samverkan {name} bot")
        bot = made[name] = bot_class(name)(session, org)
        self._made.append(bot)
        session.ignore_senders(set(org.bot_user_ids().values()) - {user_id})
        session.resume_from_cache = True
        _, password = await deployment.ensure_account(user_id)
        identity = await prepare_identity(bot, deployment, password, self.recovery_keys.get(name))
        await mute_notifications(session)
        if identity.state == "created":
            self._notices.append(
                f"{user_id}: new cross-signing identity; recovery key (shown once, kept "
                f"sealed in the vault): {identity.recovery_key}"
            )
        elif identity.state == "restored":
            self._notices.append(
                f"{user_id}: restored its cross-signing identity on new device "
                f"{session.device_id}; {identity.sessions_restored} room keys from the backup"
            )

    def take_notices(self) -> list[str]:
        """The notices of the bots made since the last call."""
        out, self._notices = self._notices, []
        return out

    async def close_unused(self, used: list[Bot]) -> None:
        """Close the sessions of bots made but never started (``stop`` during a start)."""
        for bot in [b for b in self._made if b not in used]:
            self._made.remove(bot)
            await bot.session.close()
