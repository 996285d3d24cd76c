"""Provides the ``samverkan status`` table: homeserver, bots, rooms, encryption."""

from __future__ import annotations

import json
import time
from pathlib import Path

from messenger.config import Settings
from messenger.deploy.homeserver import wait_ready
from messenger.errors import MessengerError

STALE_S = 60


def heartbeat(home: Path, name: str) -> dict[str, dict[str, object]]:
    """What the running ``up`` last wrote about its bots."""
    try:
        return json.loads((home / name).read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, ValueError):
        return {}


async def status_table(
    settings: Settings, heartbeat_file: str
) -> tuple[list[tuple[str, str]], bool]:
    """Rows of (what, state) and whether everything is healthy."""
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.provision import Provisioner

    rows: list[tuple[str, str]] = []
    ok = True
    deployment = await Deployment.open(settings)
    try:
        try:
            await wait_ready(deployment.url, 2)
            rows.append(("homeserver", f"reachable at {deployment.url}"))
        except MessengerError:
            rows.append(
                ("homeserver", f"NOT reachable at {deployment.url} (is `samverkan up` running?)")
            )
            return rows, False
        beats = heartbeat(settings.home, heartbeat_file)
        for name, user_id in settings.org.bot_user_ids().items():
            beat = beats.get(name)
            if not beat:
                rows.append((f"bot {name}", f"{user_id}: not running"))
                ok = False
                continue
            fresh = time.time() - float(beat["at"]) < STALE_S  # type: ignore[arg-type]
            syncing = bool(beat["syncing"]) and fresh
            ok &= syncing
            rows.append(
                (
                    f"bot {name}",
                    f"{user_id} device {beat['device_id']}: "
                    f"{'syncing' if syncing else 'NOT syncing'}",
                )
            )
            signed = bool(beat.get("cross_signing")) and bool(beat.get("device_signed"))
            ok &= signed
            rows.append(
                (
                    f"  {name} keys",
                    (
                        f"cross-signing {'set up' if beat.get('cross_signing') else 'MISSING'}, "
                        f"device {'signed' if beat.get('device_signed') else 'NOT signed'}, "
                        "key backup "
                        + (
                            f"version {beat['backup_version']} with "
                            f"{beat.get('backed_up', 0)} sessions"
                            if beat.get("backup_version")
                            else "OFF"
                        )
                    ),
                )
            )

        service = await deployment.service_session()
        try:
            existing = await Provisioner(service, settings.org).existing()
        finally:
            await service.close()
        rooms = [st for slug, st in existing.items() if slug != "_space"]
        unencrypted = [st.name for st in existing.values() if not st.encrypted]
        rows.append(
            (
                "rooms",
                f"{len(rooms)} of {len(settings.org.groups)} provisioned, space "
                f"{'present' if '_space' in existing else 'missing'}",
            )
        )
        rows.append(
            (
                "encryption",
                "on in every room" if not unencrypted else f"OFF in: {', '.join(unencrypted)}",
            )
        )
        ok &= not unencrypted and len(rooms) == len(settings.org.groups)
        return rows, ok
    finally:
        await deployment.store.close()
