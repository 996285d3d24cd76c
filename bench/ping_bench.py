"""Provides the foundation benchmark: a command in a real organisation room vs a bare nio echo bot.

Run: ``python -m bench.ping_bench [--rounds 200] [--rooms 20]``. The organisation is
provisioned as in production: every bot (the five of ``[bots] enabled``) runs in one
``samverkan up`` process and sits in the working group's room with its usual members (a
coordinator and two members). A member sends an encrypted ``!tz`` (one bot answers) and
waits until it has decrypted the threaded answer; the same member does the same round trip
with a bare nio echo bot in a room of its own, in alternating blocks in the same run (the
floor). Also: ``!ping``, which every bot answers; the homeserver's own turnaround (its
clock, command → reply); Synapse's CPU per command (from /proc); cold start of the process in
N rooms to its first answer; and the process's peak RSS with the language detector loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    BOTS,
    Bench,
    EchoBot,
    bench_env,
    bot_process,
    cpu_s,
    loadavg,
    pct,
    peak_rss_mb,
    server_turnaround_ms,
    summary,
)
from tests.support import Member

BLOCK = 10
"""Round trips per block; bot and echo blocks alternate (ABBA) so load drifts hit both."""


@dataclass
class Series:
    """Round trips of one kind: client-side ms, the homeserver's turnaround, Synapse CPU."""

    ms: list[float] = field(default_factory=list)
    turnaround: list[float] = field(default_factory=list)
    synapse_cpu_s: float = 0.0

    def cpu_ms_per_command(self) -> float:
        return self.synapse_cpu_s / max(1, len(self.ms)) * 1000


async def rounds_into(
    series: Series,
    bench: Bench,
    member: Member,
    room_id: str,
    command: str,
    responder: str | None,
    n: int,
    answers: int = 1,
) -> None:
    """``n`` round trips of ``command``; each waits for ``answers`` decrypted replies."""
    pid = bench.synapse.pid
    cpu0 = cpu_s(pid)
    for _ in range(n):
        t0 = time.perf_counter()
        sent = await member.send(room_id, command)
        replies = await member.wait_reply(sent, sender=responder, count=answers, timeout=60)
        series.ms.append((time.perf_counter() - t0) * 1000)
        last = max(replies, key=lambda r: r["origin_server_ts"])
        turn = server_turnaround_ms(member, sent, last)
        if turn is not None:
            series.turnaround.append(turn)
    series.synapse_cpu_s += cpu_s(pid) - cpu0


async def start_bots(org_file: Path, home: Path, apart: bool) -> list[asyncio.subprocess.Process]:
    """The bots in one ``samverkan up``, or each in its own (``--bots``)."""
    if not apart:
        return [await bot_process(org_file, home)]
    return [await bot_process(org_file, home, [name]) for name in BOTS]


async def stop_bots(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        await proc.wait()


async def main(rounds: int, rooms: int, apart: bool = False) -> None:
    async with bench_env() as bench:
        org = bench.org()
        person, pw = await bench.user("member")
        coord, _ = await bench.user("coord")
        other, _ = await bench.user("member")
        echo_id, echo_pw = await bench.user("echo")
        groups = (
            f'\n[[working_group]]\nname = "Group 0"\ncoordinators = ["{coord}"]\n'
            f'members = ["{person}", "{other}"]\n'
        )
        groups += "".join(
            f'\n[[working_group]]\nname = "Group {i}"\nmembers = ["{person}"]\n'
            for i in range(1, rooms)
        )
        settings = org.write_org(groups, enabled=BOTS)
        org_file = bench.tmp / "org.toml"
        org_file.write_text(
            org.org_text.replace("[homeserver]\n", f'[homeserver]\nurl = "{bench.synapse.url}"\n')
        )
        report = await org.apply(settings)
        assert not report.failed, report.failed
        room_id = await org.room_id("group-0")
        bots = settings.org.bot_user_ids()
        member = await bench.member(person, pw)
        await member.wait_joined(room_id)

        echo = EchoBot(bench.synapse.url, echo_id, bench.tmp / "echo")
        await echo.start(echo_pw)
        made = await member.client.room_create(
            name="echo",
            invite=[echo_id],
            initial_state=[
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ],
        )
        echo_room = made.room_id
        await member.wait_all_joined([echo_room], {echo_id}, 60)

        t0 = time.perf_counter()
        procs = await start_bots(org_file, org.home, apart)
        await member.wait_all_joined([room_id], set(bots.values()), 180)
        first = await member.send(room_id, "!tz")
        await member.wait_reply(first, sender=bots["events"], timeout=180)
        cold_first = time.perf_counter() - t0
        # The translation bot loads its language detector on the first plain message.
        await member.send(room_id, "Hej allihopa, vi ses på mötet i morgon bitti.")

        echo.answering.set()
        tz, floor, ping = Series(), Series(), Series()
        await rounds_into(Series(), bench, member, room_id, "!tz", bots["events"], 5)
        await rounds_into(Series(), bench, member, echo_room, "!tz", echo_id, 5)
        for i in range(0, rounds, BLOCK):
            n = min(BLOCK, rounds - i)
            order = [(tz, room_id, bots["events"]), (floor, echo_room, echo_id)]
            for series, room, who in order if i // BLOCK % 2 == 0 else order[::-1]:
                await rounds_into(series, bench, member, room, "!tz", who, n)
        pings = max(10, rounds // 4)
        await rounds_into(ping, bench, member, room_id, "!ping", None, pings, len(BOTS))
        rss = sum(peak_rss_mb(p.pid) for p in procs)
        await stop_bots(procs)

        t1 = time.perf_counter()
        procs = await start_bots(org_file, org.home, apart)
        again = await member.send(room_id, "!tz")
        await member.wait_reply(again, sender=bots["events"], timeout=180)
        cold = time.perf_counter() - t1
        await stop_bots(procs)
        await echo.close()
        await org.close()

        where = f"{len(BOTS)} processes (up --bots)" if apart else "one process"
        print(
            f"# encrypted round trips in a provisioned organisation room ({len(BOTS)} bots in "
            f"{where}, coordinator, 2 members), {rounds} each, alternating blocks of {BLOCK}; "
            f"load {loadavg()}"
        )
        print(summary("!tz, events bot (samverkan up, all bots)", tz.ms))
        print(summary("!tz, bare nio echo bot, own room (floor)", floor.ms))
        for p in (50, 95, 99):
            print(f"ratio p{p}: {pct(tz.ms, p) / pct(floor.ms, p):.2f}")
        print(
            f"homeserver clock, command → reply: bot p50 {pct(tz.turnaround, 50):.0f} ms, "
            f"echo p50 {pct(floor.turnaround, 50):.0f} ms"
        )
        print(
            f"Synapse CPU per command: bot {tz.cpu_ms_per_command():.1f} ms, "
            f"echo {floor.cpu_ms_per_command():.1f} ms "
            f"(ratio {tz.cpu_ms_per_command() / max(0.01, floor.cpu_ms_per_command()):.2f})"
        )
        print(summary(f"!ping, all {len(BOTS)} bots answer", ping.ms))
        ratio = pct(ping.ms, 50) / pct(floor.ms, 50)
        print(f"ratio p50 !ping ({len(BOTS)} answers) / floor: {ratio:.2f}")
        print(
            f"cold start to first answer, {len(BOTS)} bots in {rooms} rooms: {cold:.2f} s "
            f"(first ever start incl. login and cross-signing bootstrap: {cold_first:.2f} s)"
        )
        print(f"bot processes' peak RSS (language detector loaded): {rss:.0f} MB")
        print(f"undecryptable events seen by the member: {len(member.undecryptable())}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument(
        "--apart", action="store_true", help="each bot in its own process (up --bots)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.rooms, args.apart))


if __name__ == "__main__":
    run()
