"""Provides what the bot can tell about a member's checklist: timezone and language chosen (the
shared preferences), skills listed (its store), sessions cross-signed (``/keys/query``)."""

from __future__ import annotations

import logging

from bots.onboard import store
from bots.onboard.model import Checklist, Item
from messenger.botkit.bot import Bot
from messenger.errors import MessengerError
from messenger.store import Tx

log = logging.getLogger(__name__)


async def devices_cross_signed(bot: Bot, user_id: str) -> tuple[bool | None, int, int]:
    """(every session cross-signed by its owner, how many are, how many sessions); None when
    the homeserver could not be asked."""
    try:
        info = await bot.cross_signing.query(user_id, fresh=True)
        devices = list(info.get("devices", {}))
        signed = 0
        for device in devices:
            if await bot.cross_signing.device_cross_signed(user_id, device, info):
                signed += 1
    except MessengerError as e:
        log.info("%s: could not check %s's sessions: %s", bot.user_id, user_id, e)
        return None, 0, 0
    return bool(devices) and signed == len(devices), signed, len(devices)


async def checklist(bot: Bot, tx: Tx, user_id: str) -> tuple[Checklist, dict[Item, str]]:
    """A member's checklist and what each done item shows (their zone, language, skills)."""
    values: dict[Item, str] = {}
    done: dict[Item, bool | None] = {}
    for item in ("tz", "locale"):
        chosen = bot.prefs.member(user_id, item)
        done[item] = isinstance(chosen, str) and bool(chosen)
        if done[item]:
            values[item] = str(chosen)
    skills = (await store.load_skills(tx, user_id)).skills
    done["skills"] = bool(skills)
    values["skills"] = ", ".join(skills)
    done["devices"], signed, total = await devices_cross_signed(bot, user_id)
    values["devices"] = f"{signed}/{total}"
    return Checklist(done=done), values
