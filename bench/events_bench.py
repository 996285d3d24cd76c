"""Provides the events bot's benchmark: RSVP reactions on many cards → card edits at a member.

Run: ``python -m bench.events_bench [--events 200] [--members 5]``.

One encrypted room on an embedded Synapse, ``--events`` event cards, and ``--members`` real
accounts each reacting ✅/❌/❔ once to every card. Scaling: the issue's 50 members are scaled
down to 5 real accounts (200 × 5 = 1,000 RSVP reactions) because the embedded Synapse on
SQLite moves ~20–25 encrypted messages/s on this 2-core machine and everything (reactions,
edits, baseline) goes through it; that keeps the run under ~3 minutes. ``--members 10``
(2,000 RSVPs) takes ~6 minutes; time grows linearly with events × members.

An observer member (who does not react) decrypts everything. Measured: the time from the
first reaction until the observer's client shows every card in its final state (this phase
also carries the reactions themselves through the homeserver), and per RSVP the latency
until the observer sees a card edit that includes it. Baseline, same run, same room: a bare
nio client sends as many plain encrypted notices as the bot sent card edits, one after
another (as the bot's outbox does), timed until the observer has decrypted all of them.
Printed: both times, their ratio, p50/p95/p99 and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

KEYS = ["✅", "❌", "❔"]
ANSWER = {"✅": "yes", "❌": "no", "❔": "maybe"}


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Watch:
    """Samples the observer's decrypted events and records when each thing was first seen."""

    def __init__(self, member: Any, room: str, bot: str) -> None:
        self.m, self.room, self.bot = member, room, bot
        self.seen: set[str] = set()
        self.rsvp_seen: dict[tuple[str, str], float] = {}  # (event ID, user) → first time
        self.state: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, str] = {}  # E-id → card event ID
        self.notices: dict[str, float] = {}  # baseline marker → first time
        self.edits = 0

    def scan(self) -> None:
        now = time.perf_counter()
        for room, ev in self.m.events:
            src = getattr(ev, "source", {})
            eid = src.get("event_id")
            if room != self.room or eid in self.seen or src.get("type") != "m.room.message":
                continue
            self.seen.add(eid)
            content = src.get("content", {})
            marker = content.get("bench.marker")
            if isinstance(marker, str):
                self.notices.setdefault(marker, now)
            if src.get("sender") != self.bot or content.get("msgtype") != "m.notice":
                continue
            rel = content.get("m.relates_to", {})
            if rel.get("rel_type") == "m.thread":
                continue
            new = content.get("m.new_content")
            data = (new if isinstance(new, dict) else content).get("org.samverkan.event")
            if not isinstance(data, dict):
                continue
            if rel.get("rel_type") == "m.replace":
                self.edits += 1
            else:
                self.cards[data["id"]] = eid
            old = self.state.get(data["id"])
            if old is None or data["revision"] >= old["revision"]:
                self.state[data["id"]] = data
            for user, answer in data["rsvps"].items():
                self.rsvp_seen.setdefault((data["id"], f"{user}:{answer}"), now)

    async def until(self, pred: Any, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while True:
            self.scan()
            if pred():
                return
            if time.perf_counter() > deadline:
                raise TimeoutError("the observer did not see everything in time")
            await asyncio.sleep(0.05)


async def run(events: int, members: int) -> None:
    from messenger.deploy.homeserver import EmbeddedSynapse, free_port, register_user
    from tests.support import Member, OrgEnv

    tmp = Path(tempfile.mkdtemp(prefix="events-bench-"))
    hs = EmbeddedSynapse(tmp / "synapse", "localhost", free_port())
    await hs.start()
    people: list[Member] = []

    async def make_user(prefix: str) -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        pw = f"pw-{name}"
        return await register_user(hs.url, hs.shared_secret, name, pw, server_name="localhost"), pw

    async def member_factory(user_id: str, password: str) -> Member:
        m = await Member.login(hs.url, user_id, password, tmp / f"member-{len(people)}")
        people.append(m)
        return m

    env = OrgEnv(hs, tmp / "home", uuid.uuid4().hex[:8], make_user)
    try:
        t_setup = time.perf_counter()
        settings, room, clients, rt = await env.room_with_bots(
            member_factory, members=members + 1, bots=["events"]
        )
        bot_id = settings.org.bot_user_ids()["events"]
        rt.bots[0].clock = lambda: 1_800_000_000_000  # 2027-01-15: every event is upcoming
        observer, reactors = clients[0], clients[1:]
        watch = Watch(observer, room, bot_id)
        print(f"setup: {members + 1} accounts, room, bot: {time.perf_counter() - t_setup:.1f} s")

        t_create = time.perf_counter()
        creator = reactors[0]
        for i in range(events):
            day = 20 + i % 8
            await creator.send(room, f'!event create "Meeting {i}" 2027-01-{day} 10:00 UTC')
        await watch.until(lambda: len(watch.cards) >= events, 240)
        print(f"created {events} cards: {time.perf_counter() - t_create:.1f} s")

        expected = {
            (eid, f"{m.user_id}:{ANSWER[KEYS[(i + j) % 3]]}")
            for i, eid in enumerate(sorted(watch.cards))
            for j, m in enumerate(reactors)
        }
        sent_at: dict[tuple[str, str], float] = {}

        async def react(j: int, m: Member) -> None:
            for i, eid in enumerate(sorted(watch.cards)):
                key = KEYS[(i + j) % 3]
                sent_at[(eid, f"{m.user_id}:{ANSWER[key]}")] = time.perf_counter()
                rel = {"rel_type": "m.annotation", "event_id": watch.cards[eid], "key": key}
                await m.send_event(room, "m.reaction", {"m.relates_to": rel})

        t0 = time.perf_counter()
        edits_before = watch.edits
        await asyncio.gather(*(react(j, m) for j, m in enumerate(reactors)))
        t_sent = time.perf_counter() - t0

        def final() -> bool:
            return all(
                len(s["rsvps"]) == len(reactors) for s in watch.state.values()
            ) and expected <= set(watch.rsvp_seen)

        await watch.until(final, 600)
        t_bot = time.perf_counter() - t0
        edits = watch.edits - edits_before
        lat = [watch.rsvp_seen[k] - sent_at[k] for k in expected]

        # Baseline: a bare nio client sends as many plain notices, one after another.
        bare = reactors[-1].client
        n = max(edits, 1)
        marks = [uuid.uuid4().hex for _ in range(n)]
        base_sent: dict[str, float] = {}
        t1 = time.perf_counter()
        for mark in marks:
            base_sent[mark] = time.perf_counter()
            await bare.room_send(
                room,
                "m.room.message",
                {"msgtype": "m.notice", "body": f"plain {mark}", "bench.marker": mark},
                ignore_unverified_devices=True,
                tx_id=mark,
            )
        await watch.until(lambda: all(mk in watch.notices for mk in marks), 600)
        t_base = time.perf_counter() - t1
        base_lat = [watch.notices[mk] - base_sent[mk] for mk in marks]

        rsvps = len(expected)
        print()
        print(f"{events} events × {len(reactors)} reacting members = {rsvps} RSVP reactions")
        print(f"reactions sent in {t_sent:.1f} s ({rsvps / t_sent:.0f}/s, {len(reactors)} clients)")
        print(f"card edits the bot sent: {edits} ({edits / rsvps:.2f} per RSVP; coalesced)")
        print(f"events bot: every card final at the observer after {t_bot:.1f} s")
        print(f"baseline:   {n} plain notices from a bare nio client seen after {t_base:.1f} s")
        print(f"ratio (bot time / baseline time, same number of messages): {t_bot / t_base:.2f}")
        print(f"bot time per RSVP: {1000 * t_bot / rsvps:.1f} ms")
        print(
            "RSVP → edit seen  p50/p95/p99: "
            + "/".join(f"{1000 * pct(lat, p):.0f}" for p in (50, 95, 99))
            + " ms"
        )
        print(
            "notice → seen     p50/p95/p99: "
            + "/".join(f"{1000 * pct(base_lat, p):.0f}" for p in (50, 95, 99))
            + " ms"
        )
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        print(f"undecryptable at the observer: {len(observer.undecryptable())}")
    finally:
        for m in people:
            await m.close()
        await env.close()
        await hs.stop()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--members", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.members))


if __name__ == "__main__":
    main()
