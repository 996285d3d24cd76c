"""Provides ``audit_from_bot``: an audit run inside the bots' process, as the service account.

The runtime gives the hosting bot the ``Deployment``; the audit opens the service account's
session for the run (it owns the rooms and is a server admin on the embedded homeserver)
and takes the bots' key health from the running bots themselves.
"""

from __future__ import annotations

from messenger.botkit.bot import Bot
from messenger.config import Group
from messenger.deploy.audit.auditor import (
    Auditor,
    AuditReport,
    Deployed,
    admin_for,
    deployed_facts,
)
from messenger.deploy.audit.people import BotHealth
from messenger.deploy.deployment import Deployment


def bots_health(bot: Bot) -> dict[str, BotHealth]:
    """The device and key backup of every bot running in this process, by bot name."""
    return {
        p.name: BotHealth(
            p.name, p.user_id, p.session.device_id, p.backup.version, p.backup.backed_up_count
        )
        for p in bot.peers
        if isinstance(p, Bot)  # a bot in another process reports through its own heartbeat
    }


async def audit_from_bot(
    bot: Bot, deployment: Deployment, groups: list[Group] | None
) -> AuditReport:
    """Audit ``groups`` (None: the whole organisation and its deployment)."""
    service = await deployment.service_session()
    admin = admin_for(deployment, service)
    try:
        auditor = Auditor(service, bot.org, admin, bot.now_ms())
        health = bots_health(bot)
        if groups is None:
            return await auditor.run(None, await deployed_facts(deployment, health))
        return await auditor.run(groups, Deployed(bots=health))
    finally:
        await admin.close()
        await service.close()
