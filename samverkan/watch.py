"""Keeps ``up`` honest: transient retries, its homeserver child watched, crashes logged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from messenger.calls import backoff_delays
from messenger.errors import MessengerError, RateLimited, TransientError

if TYPE_CHECKING:
    from messenger.deploy.homeserver import EmbeddedSynapse


async def retry_transient(
    step: Callable[[], Awaitable[Any]], stop: asyncio.Event, action: str
) -> Any:
    """Run ``step`` until it gets past transient failures (homeserver restarting, connection
    reset), waiting with backoff; None if ``stop`` is set meanwhile. Every step is idempotent."""
    for delay in backoff_delays():
        try:
            return await step()
        except (TransientError, RateLimited) as e:
            print(f"{action}: {e}; retrying in {delay:.1f} s", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return None
    return None


class HomeserverWatch:
    """Notices when ``up``'s own homeserver child exits, and restarts it (a few times)."""

    RESTARTS = 3
    WINDOW_S = 300.0

    def __init__(self, synapse: EmbeddedSynapse | None) -> None:
        self.synapse = synapse
        self.exits: list[float] = []

    async def check(self, stop: asyncio.Event) -> None:
        """Restart an exited homeserver; MessengerError once it keeps exiting."""
        hs = self.synapse
        code = hs.exit_code if hs else None
        if hs is None or code is None:
            return
        now = time.monotonic()
        self.exits = [t for t in self.exits if now - t < self.WINDOW_S] + [now]
        logs = f"{hs.data_dir / 'homeserver.log'} and homeserver.stderr"
        if len(self.exits) > self.RESTARTS:
            raise MessengerError(
                f"the homeserver exited (code {code}) {len(self.exits)} times in "
                f"{self.WINDOW_S / 60:.0f} minutes; giving up: see {logs}"
            )
        print(f"the homeserver exited unexpectedly (code {code}); restarting it", flush=True)
        await retry_transient(hs.start, stop, "restarting the homeserver")
        if hs.pid:
            print(f"homeserver restarted at {hs.url} (pid {hs.pid})", flush=True)


def crash_log(error: BaseException) -> Path:
    """Write ``error``'s traceback to a new file in the data directory (else the temp dir)."""
    import tempfile
    import traceback

    home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan"))
    folder = home if home.is_dir() and os.access(home, os.W_OK) else Path(tempfile.gettempdir())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = (folder / f"samverkan-crash-{stamp}-{os.getpid()}.log").absolute()
    text = "".join(traceback.format_exception(error))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"samverkan {' '.join(sys.argv[1:])}\n{text}")
    return path
