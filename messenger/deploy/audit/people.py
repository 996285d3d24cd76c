"""Provides the checks of people and bots: devices not cross-signed by their owner, devices
unseen for too long (our homeserver's admin API), server admins, the bots' keys and backups.

Device keys come from ``/keys/query`` (partners' devices too, over federation); when a device
was last seen, and from where, only our homeserver's admin API knows — the address and the
user agent go into ``Finding.private`` and never into a room.
"""

from __future__ import annotations

from dataclasses import dataclass

from messenger.deploy.audit.admin import SynapseAdmin
from messenger.e2ee.trust import CrossSigning
from messenger.errors import NotFound
from messenger.protocol.audit import OPERATOR, Finding

DAY_MS = 86_400_000


@dataclass(frozen=True)
class BotHealth:
    """What the running bots report about their keys (``samverkan up``'s heartbeat)."""

    name: str
    user_id: str
    device_id: str
    backup_version: str | None
    backed_up: int


async def check_devices(cs: CrossSigning, user_id: str, room: str | None = None) -> list[Finding]:
    """A finding per device of ``user_id`` that its owner has not cross-signed."""
    info = await cs.query(user_id, fresh=True)
    has_identity = bool(info.get("master") and info.get("self_signing"))
    out = []
    for device_id in sorted(info["devices"]):
        if await cs.device_cross_signed(user_id, device_id, info):
            continue
        out.append(
            Finding(
                severity="medium",
                code="device.not-cross-signed" if has_identity else "device.no-identity",
                subject=user_id,
                setting=device_id,
                room=room,
                who=user_id,
            )
        )
    return out


async def check_stale(
    admin: SynapseAdmin, user_id: str, stale_days: int, now_ms: int, room: str | None = None
) -> list[Finding]:
    """A finding per device of a local user unseen for more than ``stale_days``."""
    try:
        devices = await admin.devices(user_id)
    except NotFound:
        return [Finding(severity="medium", code="person.unknown", subject=user_id, room=room)]
    out = []
    for d in devices:
        if d.last_seen_ts is None:
            continue
        days = (now_ms - d.last_seen_ts) // DAY_MS
        if days > stale_days:
            out.append(
                Finding(
                    severity="low",
                    code="device.stale",
                    subject=user_id,
                    setting=d.device_id,
                    value=str(days),
                    expected=str(stale_days),
                    room=room,
                    who=user_id,
                    private={"last_seen_ip": d.ip, "user_agent": d.user_agent},
                )
            )
    return out


def check_admins(admins: list[str], allowed: set[str], people: set[str] | None) -> list[Finding]:
    """Server admins other than ``allowed`` (only those among ``people`` when given)."""
    return [
        Finding(severity="high", code="server.admin", subject=user, setting="admin", value="true")
        for user in admins
        if user not in allowed and (people is None or user in people)
    ]


async def check_bot(
    cs: CrossSigning, name: str, user_id: str, health: BotHealth | None
) -> list[Finding]:
    """The bot's cross-signing, its devices' signatures, and its key backup."""
    info = await cs.query(user_id, fresh=True)
    out = []
    if not (info.get("master") and info.get("self_signing")):
        out.append(Finding(severity="high", code="bot.no-cross-signing", subject=name))
    else:
        for device_id in sorted(info["devices"]):
            if not await cs.device_cross_signed(user_id, device_id, info):
                out.append(
                    Finding(
                        severity="high",
                        code="bot.device-unsigned",
                        subject=name,
                        setting=device_id,
                    )
                )
    if health is None:
        out.append(Finding(severity="info", code="bot.health-unknown", subject=name))
    elif health.backup_version is None:
        out.append(Finding(severity="high", code="bot.no-backup", subject=name, who=OPERATOR))
    elif health.backed_up == 0:
        out.append(
            Finding(
                severity="low",
                code="bot.backup-empty",
                subject=name,
                setting=f"backup {health.backup_version}",
                value="0",
            )
        )
    return out
