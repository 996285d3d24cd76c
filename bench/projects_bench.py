"""Provides the projects bot's benchmark: a progress report over 200 projects × 10 milestones,
a card edit's round trip against a bare ``!ping`` in the same run, the dashboard's open time.

Run: ``python -m bench.projects_bench [--projects 200] [--milestones 10] [--rounds 20]``.

One encrypted room on a private Synapse with the projects bot (in process) and one member.
One project is made through the room (its card is real); the other projects and every
milestone are written through the bot's own store functions and signed ledger, as the
commands would have left them (2,200 commands through Synapse would take minutes here and
measure Synapse, not the report). Measured, all through the homeserver and decrypted by the
member:

- ``!project report --all``: from sending until both the summary notice and the encrypted
  attachment (HTML, then CSV) have arrived; the report verifies the whole ledger each time;
- a card edit: ``!metric set P1 …`` until the member has the card's edit showing the value,
  interleaved with a bare ``!ping`` → ``pong`` of the same bot (the ratio is the number);
- the TUI Projects dashboard's open time with every project's card on the board (headless),
  against the F2 dashboards opened on the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env, loadavg, pct, peak_rss_mb, summary  # noqa: E402
from bots.projects import store as s  # noqa: E402
from bots.projects.model import Metric, Milestone, Project  # noqa: E402
from bots.projects.refs import card_key  # noqa: E402
from messenger.client.chat import ChatClient, RoomInfo  # noqa: E402
from messenger.events import Incoming  # noqa: E402
from messenger.i18n import translator  # noqa: E402
from tests.support import Member  # noqa: E402

T0 = 1_799_658_000_000  # 2027-01-11 09:00 UTC
DAY = 86_400_000
ENABLED = ["events", "resources", "translate", "projects"]


async def seed(bot: Any, room: str, owner: str, projects: int, milestones: int) -> None:
    """P1's milestones and metric, then P2 … as the commands would have stored them (and
    their cards, queued as ``!project create`` queues them)."""
    async with bot.store.transaction() as tx:
        for n in range(projects):
            p = await s.load_project(tx, "P1") if n == 0 else None
            if p is None:
                pid = await s.next_id(tx, "P")
                p = Project(
                    id=pid, room=room, title=f"Project {n}", owner=owner, creator=owner,
                    created_ms=T0, until="2027-12-31", sdg=[5],
                )  # fmt: skip
                await bot.book.append(tx, owner, "project.create", {"project": pid}, T0)
            p.metrics.append(Metric(name="participants", unit="people", target="40"))
            for k in range(milestones):
                mid = await s.next_id(tx, "M")
                due = f"2027-{1 + k % 12:02d}-{10 + n % 18:02d}"
                p.milestones.append(Milestone(id=mid, title=f"Step {k}", due=due, owner=owner))
                await s.link_milestone(tx, mid, p.id)
                data = {"project": p.id, "room": room, "milestone": mid, "due": due}
                await bot.book.append(tx, owner, "milestone.add", data, T0)
            await s.save_project(tx, p, changed=n == 0)
            if n:  # its card, as !project create posts it (reminders and flags thread on it)
                content = bot.card_content(translator("en"), p)
                await bot.queue(tx, room, content, cause=f"bench:{p.id}", key=card_key(p.id))


def card_ids(m: Member, room: str, bot: str) -> set[str]:
    """The projects whose card the member has (the cards themselves, not edits)."""
    out: set[str] = set()
    for r, ev in m.events:
        content = getattr(ev, "source", {}).get("content", {})
        card = content.get("org.samverkan.project")
        if r == room and isinstance(card, dict) and "m.new_content" not in content:
            out.add(str(card.get("id")))
    return out


def edit_value(m: Member, room: str, bot: str, pid: str) -> str | None:
    """The participants value the newest edit of a project's card shows."""
    for r, ev in reversed(m.events):
        src = getattr(ev, "source", {})
        content = src.get("content", {})
        if r != room or src.get("sender") != bot:
            continue
        if content.get("m.relates_to", {}).get("rel_type") != "m.replace":
            continue
        card = content.get("m.new_content", {}).get("org.samverkan.project", {})
        if card.get("id") == pid and card.get("metrics"):
            return str(card["metrics"][0].get("value"))
    return None


async def round_trip(m: Member, room: str, bot: str, body: str, count: int = 1) -> float:
    """ms from sending a command to the bot's ``count``-th answer to it."""
    t = time.perf_counter()
    sent = await m.send(room, body)
    await m.wait_reply(sent, sender=bot, count=count, timeout=300)
    return (time.perf_counter() - t) * 1000


async def card_edit(m: Member, room: str, bot: str, value: int) -> float:
    """ms from ``!metric set`` to the member holding the card's edit with the value."""
    t = time.perf_counter()
    await m.send(room, f"!metric set P1 participants {value}")

    async def shown() -> bool:
        return edit_value(m, room, bot, "P1") == str(value)

    await m.wait_until(shown, timeout=120)
    return (time.perf_counter() - t) * 1000


async def dashboard_open(cards: list[dict[str, Any]], room: str, bot: str) -> tuple[float, float]:
    """(ms to open the Projects dashboard, ms to open the F2 dashboards) on the same client."""
    from tui.app import SamverkanApp

    client = ChatClient.offline("@bench:localhost", {bot})
    client.info[room] = RoomInfo(room, "Bench room", "working_group")
    events = [
        Incoming(room, f"$card{i}", bot, "m.room.message",
                 {"msgtype": "m.notice", "body": "card", "org.samverkan.project": c},
                 T0 + i, encrypted=True)
        for i, c in enumerate(cards)
    ]  # fmt: skip
    client.ingest(room, events, live=False)
    app = SamverkanApp(client=client, sync=False)
    out = []
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for action in (app.action_projects, app.action_dashboards):
            t = time.perf_counter()
            action()
            await pilot.pause()
            out.append((time.perf_counter() - t) * 1000)
            await pilot.press("escape")
            await pilot.pause()
    return out[0], out[1]


async def main(projects: int, milestones: int, rounds: int) -> None:
    async with bench_env() as env:
        org = env.org()
        t = time.perf_counter()
        settings, room, (alice,), rt = await org.room_with_bots(
            env.member, members=1, bots=["projects"], enabled=ENABLED
        )
        bot: Any = rt.bots[0]
        bot.clock = lambda: T0
        bot_id = settings.org.bot_user_ids()["projects"]
        await round_trip(alice, room, bot_id, '!project create "Bench" --until 2027-12-31')
        await seed(bot, room, alice.user_id, projects, milestones)
        bot.recheck = True

        async def every_card() -> bool:
            return len(card_ids(alice, room, bot_id)) >= projects

        await alice.wait_until(every_card, timeout=600)
        print(f"setup: room, bot, {projects} projects × {milestones} milestones, their cards: "
              f"{time.perf_counter() - t:.1f} s (load {loadavg()})")  # fmt: skip

        await round_trip(alice, room, bot_id, "!ping")  # warm both paths
        await card_edit(alice, room, bot_id, 1)
        pings, edits = [], []
        for i in range(rounds):
            pings.append(await round_trip(alice, room, bot_id, "!ping"))
            edits.append(await card_edit(alice, room, bot_id, 10 + i))
        print(summary("bare !ping → pong", pings))
        print(summary("!metric set → card edit at the member", edits))
        print(f"card edit / !ping ratio (p50): {pct(edits, 50) / pct(pings, 50):.2f}")

        reports: dict[str, list[float]] = {"html": [], "csv": []}
        for _ in range(3):
            for fmt in reports:
                body = f"!project report --all --format {fmt}"
                reports[fmt].append(await round_trip(alice, room, bot_id, body, count=2))
        for fmt, ms in reports.items():
            print(summary(f"!project report --all ({projects} projects, {fmt})", ms))
        print(f"report / !ping ratio (p50, html): {pct(reports['html'], 50) / pct(pings, 50):.1f}")

        today = bot.today()
        cards = [p.card(today).model_dump(mode="json") for p in await s.all_projects(bot.store)]
        await org.close()
    projects_ms, f2_ms = await dashboard_open(cards, room, bot_id)
    print(f"Projects dashboard open ({len(cards)} projects × {milestones} milestones): "
          f"{projects_ms:.0f} ms;"
          f" F2 dashboards on the same client: {f2_ms:.0f} ms")  # fmt: skip
    print(f"peak RSS: {peak_rss_mb():.0f} MB; load {loadavg()}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--milestones", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.projects, args.milestones, args.rounds))


if __name__ == "__main__":
    run()
