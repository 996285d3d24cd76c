"""Benchmark: the TUI timeline with 10,000 messages — open time, scroll-step p50/p99, peak RSS.

Run: ``.venv/bin/python bench/tui_bench.py [--messages 10000] [--steps 1000]``.
Measured headless in ``App.run_test``; the baseline, in the same run, is Textual's own
``Log`` widget showing the same messages as plain lines (the fastest stock widget in
NOTES.md), opened and scrolled the same way. A scroll step's cost is the process CPU time
it causes (see ``scroll_steps``), so other load on the machine affects it little.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Log  # noqa: E402

from messenger.client.chat import ChatClient, RoomInfo  # noqa: E402
from messenger.events import Incoming  # noqa: E402
from tui.app import SamverkanApp  # noqa: E402
from tui.widgets.timeline import TimelineView  # noqa: E402

ROOM = "!bench:localhost"
PEOPLE = ["@anna:localhost", "@bjorn:localhost", "@mette:localhost"]
WORDS = "samverkan nordic policy congress budget meeting translation request travel".split()
SIZE = (160, 48)
STEP_LINES = 3


def bodies(n: int) -> list[str]:
    return [
        f"{i}: " + " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(5 + (i * 13) % 40))
        for i in range(n)
    ]


def client_with(n: int) -> ChatClient:
    client = ChatClient.offline(PEOPLE[0], set())
    client.info[ROOM] = RoomInfo(ROOM, "Bench room", "working_group")
    events = [
        Incoming(
            ROOM,
            f"$b{i}",
            PEOPLE[i % 3],
            "m.room.message",
            {"msgtype": "m.text", "body": b},
            1_796_000_000_000 + i * 30_000,
            encrypted=True,
        )
        for i, b in enumerate(bodies(n))
    ]
    client.ingest(ROOM, events, live=False)
    client.timeline(ROOM).at_start = True
    return client


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def scroll_steps(pilot: Any, widget: Any, steps: int, scroll: bool = True) -> list[float]:
    """Scroll up ``STEP_LINES`` per step and let the app settle; CPU ms spent per step.

    ``pilot.pause()`` waits for idle in ~20 ms sleeps, so wall time per step measures the
    pilot, not the app; the process CPU time of a step is the work the scroll caused
    (layout, ``render_line`` of the visible lines, compositing). ``scroll=False`` gives
    the idle cost of a pause, reported for reference.
    """
    out = []
    for _ in range(steps):
        t = time.process_time()
        if scroll:
            y = max(0, widget.scroll_y - STEP_LINES)
            widget.scroll_to(y=y, animate=False, immediate=True)
        await pilot.pause()
        out.append((time.process_time() - t) * 1000)
    return out


async def bench_samverkan(n: int, steps: int) -> dict[str, Any]:
    app = SamverkanApp(client=client_with(n), sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        t, cpu = time.perf_counter(), time.process_time()
        app.open_room(ROOM)
        await pilot.pause()
        open_ms = (time.perf_counter() - t) * 1000
        open_cpu = (time.process_time() - cpu) * 1000
        view = app.screen.query_one("#timeline", TimelineView)
        newest = view.shown()[-1].body
        assert any(newest[:30] in s.text for s in view._lines[-40:]), "newest page not shown"
        times = await scroll_steps(pilot, view, steps)
        idle = await scroll_steps(pilot, view, 100, scroll=False)
        assert view.max_scroll_y - view.scroll_y >= steps * STEP_LINES, "did not scroll"
    return {"open_ms": open_ms, "open_cpu": open_cpu, "steps": times, "idle": idle}


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Log()


async def bench_log(n: int, steps: int) -> dict[str, Any]:
    lines = [f"12:00  {PEOPLE[i % 3]}  {b}" for i, b in enumerate(bodies(n))]
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        log = app.query_one(Log)
        t, cpu = time.perf_counter(), time.process_time()
        log.write_lines(lines)
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        open_ms = (time.perf_counter() - t) * 1000
        open_cpu = (time.process_time() - cpu) * 1000
        times = await scroll_steps(pilot, log, steps)
        idle = await scroll_steps(pilot, log, 100, scroll=False)
    return {"open_ms": open_ms, "open_cpu": open_cpu, "steps": times, "idle": idle}


def row(name: str, r: dict[str, Any]) -> str:
    s = r["steps"]
    idle = statistics.median(r["idle"])
    return (
        f"{name:<22} open {r['open_ms']:6.1f} ms (CPU {r['open_cpu']:5.1f})   scroll step (CPU) "
        f"p50 {statistics.median(s):5.2f}  p95 {pct(s, 95):5.2f}  p99 {pct(s, 99):5.2f} ms"
        f"   idle pause {idle:4.2f} ms"
    )


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--steps", type=int, default=1000)
    a = p.parse_args()
    base = await bench_log(a.messages, a.steps)
    ours = await bench_samverkan(a.messages, a.steps)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{a.messages} messages, {a.steps} scroll steps of {STEP_LINES} lines, {SIZE[0]}x{SIZE[1]}"
        f" (load average {load}: open is wall time, so it suffers most from a busy machine)"
    )
    print(row("baseline: Textual Log", base))
    print(row("Samverkan timeline", ours))
    p99 = pct(ours["steps"], 99)
    print(
        f"ratio vs baseline: open {ours['open_ms'] / base['open_ms']:.2f}x, "
        f"p50 step {statistics.median(ours['steps']) / statistics.median(base['steps']):.2f}x, "
        f"p99 step {p99 / pct(base['steps'], 99):.2f}x"
    )
    print(
        f"targets: open < 150 ms: {'met' if ours['open_ms'] < 150 else 'MISSED'}; "
        f"p99 step < 16 ms: {'met' if p99 < 16 else 'MISSED'}"
    )
    print(f"peak RSS (whole process, both apps): {rss_mb:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
