"""Provides ``QuietGC``: full garbage collections only while the person is not scrolling or typing.

A full (generation 2) collection walks every long-lived object — the timeline's rendered
lines among them — and takes 20–60 ms, several frames. Python starts one whenever enough
objects survived; during a scroll that is a visible stutter. While the app runs, automatic
full collections are switched off; the young generations are still collected as usual
(they are cheap), and a timer runs the full collection once the app has been quiet for a
moment. Textual's ``PAUSE_GC_ON_SCROLL`` does the same for animated scrolling only.
"""

from __future__ import annotations

import gc
import time

QUIET_S = 1.0
CHECK_S = 0.5
NEVER = 1_000_000_000


class QuietGC:
    """Install with ``start()``, call ``touch()`` on activity, ``tick()`` from a timer."""

    def __init__(self, quiet_s: float = QUIET_S) -> None:
        self.quiet_s = quiet_s
        self.last_activity = time.monotonic()
        self.collections = 0
        self._saved: tuple[int, int, int] | None = None

    @property
    def active(self) -> bool:
        """Whether automatic full collections are currently held back."""
        return self._saved is not None

    def start(self) -> None:
        """Hold back automatic full collections (idempotent)."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            gen0, gen1, _ = self._saved
            gc.set_threshold(gen0, gen1, NEVER)

    def stop(self) -> None:
        """Restore the interpreter's thresholds (the app is closing)."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def touch(self) -> None:
        """The person did something that must stay smooth (scroll, key)."""
        self.last_activity = time.monotonic()

    def tick(self) -> bool:
        """Collect everything if the app has been quiet long enough; True if it did."""
        if self._saved is None or time.monotonic() - self.last_activity < self.quiet_s:
            return False
        if gc.get_count()[2] == 0:  # nothing was promoted since the last full collection
            return False
        gc.collect()
        self.collections += 1
        return True


QUIET_GC = QuietGC()
