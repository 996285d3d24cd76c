"""Provides ``run_until_signal``: the homeserver, provisioning and the bots, until
SIGINT/SIGTERM, then a clean shutdown (what ``up``, ``demo`` and the federation test run)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from messenger.config import Settings
from messenger.deploy.homeserver import wait_ready
from messenger.errors import MessengerError
from samverkan.context import UsageProblem
from samverkan.paths import example_file
from samverkan.watch import HomeserverWatch, retry_transient

if TYPE_CHECKING:
    from messenger.deploy.homeserver import EmbeddedSynapse


@contextlib.asynccontextmanager
async def provisioned(home: Path) -> AsyncIterator[None]:
    """``provisioning_lock``, waited for off the event loop."""
    manager = provisioning_lock(home)
    await asyncio.to_thread(manager.__enter__)
    try:
        yield
    finally:
        manager.__exit__(None, None, None)


EXAMPLE_CONFIG = example_file("org.toml")
FEDERATION_CONFIG = example_file("federation-org.toml")
HEARTBEAT_FILE = "runtime-status.json"
APPLY_BESIDE_AFTER_S = 20.0
PROVISIONED_NS = "provisioned"
"""Deployment store: the digest of the organisation file last applied without a failure."""


def bots_option(text: str | None, settings: Settings) -> list[str] | None:
    """The bots named by ``up --bots events,resources`` (None: every enabled bot); a name
    the organisation file does not enable is a usage error naming the ones it does."""
    if text is None:
        return None
    enabled = list(settings.org.bots.enabled)
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise UsageProblem(
            f"--bots needs bot names separated by commas, e.g. --bots {','.join(enabled[:2])}"
        )
    unknown = [n for n in names if n not in enabled]
    if unknown:
        raise UsageProblem(
            f"--bots: {', '.join(unknown)} is not a bot the organisation file enables; "
            f"[bots] enabled lists: {', '.join(enabled)}"
        )
    return names


def write_heartbeat(home: Path, runtime: Any, gone: bool = False) -> None:
    """Record each bot's last successful sync for ``status`` (no private data). Processes
    that host different bots (``up --bots``) share the file: each rewrites its own entries
    (and removes them when ``gone``)."""
    path = home / HEARTBEAT_FILE
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        kept = {}
    ours = {b.name for b in runtime.bots}
    data = {k: v for k, v in (kept if isinstance(kept, dict) else {}).items() if k not in ours}
    if not gone:
        data.update(_beats(runtime))
    if not data:
        path.unlink(missing_ok=True)
        return
    tmp = home / f"{HEARTBEAT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _beats(runtime: Any) -> dict[str, Any]:
    return {
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


@contextlib.contextmanager
def provisioning_lock(home: Path) -> Iterator[None]:
    """Held while creating accounts and applying the organisation file, so processes
    started together (``up --bots``) never provision the same room twice."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(home / "provision.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def apply_beside(apply: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
    """Apply the organisation file while the bots run, once the restart's first answers are
    out (in 500 rooms reading every room's state costs seconds of CPU); a failure is
    reported, not fatal."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), APPLY_BESIDE_AFTER_S)
    if stop.is_set():
        return
    try:
        await retry_transient(apply, stop, "applying the organisation file")
    except Exception as e:  # noqa: BLE001 - the bots keep running; the next start tries again
        print(f"could not apply the organisation file: {e}", flush=True)


def print_notices(runtime: Any) -> None:
    """Print the runtime's notices (new recovery keys, restores) not printed yet."""
    for line in runtime.notices:
        print(line, flush=True)
    runtime.notices.clear()


async def run_until_signal(
    settings: Settings,
    on_ready: Callable[[Any], Awaitable[None]] | None = None,
    synapse: EmbeddedSynapse | None = None,
    only: list[str] | None = None,
) -> None:
    """``up``: homeserver, provisioning, bots; until SIGINT/SIGTERM, then a clean shutdown.

    ``synapse`` is a homeserver the caller owns (started here if needed, never stopped).
    ``only`` (``up --bots``): host these bots; the other enabled bots run in other processes
    on the same data directory, and an embedded homeserver another ``up`` already runs is
    used as it is (that process owns it)."""
    from bots.runtime import make_runtime
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.provision import Provisioner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    deployment = await Deployment.open(settings, synapse)
    runtime = None

    async def start_homeserver() -> None:
        if only is not None and deployment.synapse is not None and deployment.owns_synapse:
            with contextlib.suppress(MessengerError):
                await wait_ready(deployment.url, 1)
                deployment.owns_synapse = False  # another `up` runs it: use it, never stop it
                return
        await deployment.start_homeserver()

    digest = hashlib.sha256(settings.org.model_dump_json().encode()).hexdigest()

    async def apply_org() -> None:
        async with provisioned(settings.home):
            service = await deployment.service_session()
            try:
                report = await Provisioner(service, settings.org).apply()
            finally:
                await service.close()
            if not report.failed:
                await deployment.store.put(PROVISIONED_NS, "org", {"digest": digest})
        for line in report.applied:
            print(f"applied: {line}", flush=True)
        for line in report.failed:
            print(f"could not: {line}", flush=True)

    async def start_bots() -> Any:
        async with provisioned(settings.home):
            for bot_id in settings.org.bot_user_ids().values():
                await deployment.ensure_account(bot_id)
        # This file applied before: the bots start at once and the file is checked again
        # beside them (reading every room's state takes seconds in hundreds of rooms).
        if await deployment.store.get(PROVISIONED_NS, "org") != {"digest": digest}:
            await apply_org()
            checked.set()
        # The first bot answers at once; the others are made beside it (wait_synced).
        return await make_runtime(
            deployment, only, apart=only is not None, exclusive=True, early=True
        )

    checked = asyncio.Event()
    background: asyncio.Task[Any] | None = None

    try:
        await retry_transient(start_homeserver, stop, "homeserver")
        if stop.is_set():
            return
        print(f"homeserver ready at {deployment.url}", flush=True)
        runtime = await retry_transient(start_bots, stop, "starting the bots")
        if runtime is None:
            return

        print_notices(runtime)
        runtime.start()
        try:
            await asyncio.wait_for(runtime.wait_synced(), 120)
        except TimeoutError:
            print("warning: not every bot has synced after 120 s; still trying", flush=True)
        print_notices(runtime)
        if not checked.is_set():  # after the first sync: the bots answer first
            background = asyncio.create_task(apply_beside(apply_org, stop))
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
        if background is not None:
            background.cancel()
            await asyncio.wait({background}, timeout=10)
        if runtime:
            await runtime.stop()
            with contextlib.suppress(OSError):
                write_heartbeat(settings.home, runtime, gone=True)
        await deployment.close()
    print("stopped cleanly", flush=True)
