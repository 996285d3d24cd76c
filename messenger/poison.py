"""Provides the rate-limited log for bad input from the network and the test-only poison hook.

Anything a remote party sends (to-device events, room events, relations) may be garbage. Such
input is dropped, and said once in the log per kind and source at most every
``REPEAT_AFTER_S`` — so a flood of garbage cannot flood the log either.

``SAMVERKAN_POISON=marker`` (or ``set_poison``) makes every bot handler raise on an event whose
body contains ``marker``: the tests use it to prove that one failing event is isolated.
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger("messenger.poison")

REPEAT_AFTER_S = 3600.0
MAX_KEYS = 10_000


class RateLimitedLog:
    """Logs a warning per key at most once every ``every_s`` seconds."""

    def __init__(self, every_s: float = REPEAT_AFTER_S) -> None:
        self.every_s = every_s
        self._last: dict[str, float] = {}
        self.dropped = 0
        """How many bad inputs were dropped since start (logged or not)."""

    def note(self, key: str, message: str, *args: object) -> bool:
        """Count one dropped input; log it unless ``key`` was logged lately. True if logged."""
        self.dropped += 1
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.every_s:
            return False
        if len(self._last) >= MAX_KEYS:
            self._last.clear()
        self._last[key] = now
        log.warning(message, *args)
        return True


poison_log = RateLimitedLog()

_marker: str | None = os.environ.get("SAMVERKAN_POISON") or None


def set_poison(marker: str | None) -> None:
    """Make handlers raise on events whose body contains ``marker`` (None: off). Tests only."""
    global _marker
    _marker = marker or None


class PoisonedEvent(RuntimeError):
    """Raised by the test-only poison hook."""


def poison_check(body: str) -> None:
    """Raise ``PoisonedEvent`` if the test-only poison marker is set and in ``body``."""
    if _marker is not None and _marker in body:
        raise PoisonedEvent(f"test poison {_marker!r} in an event")
