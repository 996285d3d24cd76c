"""Provides ``run_until_signal``: the homeserver, provisioning and the bots, until
SIGINT/SIGTERM, then a clean shutdown (what ``up``, ``demo`` and the federation test run)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from messenger.config import Settings
from messenger.errors import MessengerError
from samverkan.paths import example_file
from samverkan.watch import HomeserverWatch, retry_transient

if TYPE_CHECKING:
    from messenger.deploy.homeserver import EmbeddedSynapse

EXAMPLE_CONFIG = example_file("org.toml")
FEDERATION_CONFIG = example_file("federation-org.toml")
HEARTBEAT_FILE = "runtime-status.json"


def write_heartbeat(home: Path, runtime: Any) -> None:
    """Record each bot's last successful sync for ``status`` (no private data)."""
    data = {
        b.name: {
            "user_id": b.user_id,
            "device_id": b.session.device_id,
            "syncing": b.session.sync_ok,
            "at": time.time(),
            "cross_signing": b.trust_summary.get("cross_signing", False),
            "device_signed": b.trust_summary.get("device_signed", False),
            "backup_version": b.backup.version,
            "backed_up": b.backup.backed_up_count,
        }
        for b in runtime.bots
    }
    tmp = home / (HEARTBEAT_FILE + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(home / HEARTBEAT_FILE)


async def run_until_signal(
    settings: Settings,
    on_ready: Callable[[Any], Awaitable[None]] | None = None,
    synapse: EmbeddedSynapse | None = None,
) -> None:
    """``up``: homeserver, provisioning, bots; until SIGINT/SIGTERM, then a clean shutdown.

    ``synapse`` is a homeserver the caller owns (started here if needed, never stopped)."""
    from bots.runtime import make_runtime
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.provision import Provisioner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    deployment = await Deployment.open(settings, synapse)
    runtime = None

    async def start_bots() -> Any:
        for bot_id in settings.org.bot_user_ids().values():
            await deployment.ensure_account(bot_id)
        service = await deployment.service_session()
        try:
            report = await Provisioner(service, settings.org).apply()
        finally:
            await service.close()
        for line in report.applied:
            print(f"applied: {line}", flush=True)
        for line in report.failed:
            print(f"could not: {line}", flush=True)
        made = await make_runtime(deployment)
        for line in made.notices:
            print(line, flush=True)
        return made

    try:
        await retry_transient(deployment.start_homeserver, stop, "homeserver")
        if stop.is_set():
            return
        print(f"homeserver ready at {deployment.url}", flush=True)
        runtime = await retry_transient(start_bots, stop, "starting the bots")
        if runtime is None:
            return

        runtime.start()

        try:
            await asyncio.wait_for(runtime.wait_synced(), 120)
        except TimeoutError:
            print("warning: not every bot has synced after 120 s; still trying", flush=True)
        write_heartbeat(settings.home, runtime)
        print(f"bots running: {', '.join(b.user_id for b in runtime.bots)}", flush=True)

        if on_ready:
            await on_ready(deployment)
        watch = HomeserverWatch(deployment.synapse if deployment.owns_synapse else None)
        while not stop.is_set():
            write_heartbeat(settings.home, runtime)
            for _ in range(5):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1)
                if stop.is_set():
                    break
                await watch.check(stop)
            if runtime.failed.is_set():
                raise MessengerError("a bot task failed; see the log above")
        print("stopping…", flush=True)
    finally:
        if runtime:
            await runtime.stop()
        await deployment.close()
        with contextlib.suppress(FileNotFoundError):
            (settings.home / HEARTBEAT_FILE).unlink()
    print("stopped cleanly", flush=True)
