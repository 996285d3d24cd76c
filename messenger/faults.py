"""Provides crash points: named places where tests may SIGKILL the process (off unless asked).

``SAMVERKAN_CRASH_AT=name[,name…]`` kills the process the first time it reaches a named
point; with ``SAMVERKAN_CRASH_ONCE=path`` the kill happens only if ``path`` does not exist
yet (the file is created first), so a restarted process runs through. Points:

- ``sync-received``: a /sync response arrived, nothing of it handled yet
- ``command-committed``: a command's state and reply are committed, the reply not sent
- ``reply-sent``: the homeserver accepted a reply, the outbox not yet marked
- ``keys-uploading``: a one-time-key upload request is about to go out
- ``sync-unprocessed``: a /sync with to-device events arrived; nio has not touched it
- ``keys-uploaded``: the server stored our keys; the response is not yet handled

"""

from __future__ import annotations

import os
import signal
from pathlib import Path

_POINTS = frozenset(p for p in os.environ.get("SAMVERKAN_CRASH_AT", "").split(",") if p)


def crash_point(name: str) -> None:
    """SIGKILL this process here if a test asked for it."""
    if name not in _POINTS:
        return
    once = os.environ.get("SAMVERKAN_CRASH_ONCE")
    if once:
        marker = Path(once)
        if marker.exists():
            return
        marker.write_text(name)
    os.kill(os.getpid(), signal.SIGKILL)
