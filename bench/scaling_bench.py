"""Provides the scaling series: the bots in 10, 100 and 500 rooms against a bare nio echo bot.

Run: ``python -m bench.scaling_bench [--sizes 10,100,500] [--commands 300]`` (or set
``SAMVERKAN_BENCH_SIZES=10,100``). For each size an organisation with every bot (the five
of ``[bots] enabled``) is provisioned; one member and a bare nio echo bot are in every room.
Series, in the same rooms, each sending ``!tz`` (one bot answers) spread over every room,
``IN_FLIGHT`` at a time, until every decrypted answer arrived:

- the bots in one ``samverkan up`` process;
- the bare nio echo bot answering the same commands (the bots stopped): the floor;
- the bots each in its own process (``samverkan up --bots events`` and so on);
- Synapse alone: the same member sending as many encrypted messages, nobody answering.

For each: commands/s, where a command's time went, and Synapse's CPU per command (from
/proc of the Synapse process: the cost that bounds one machine). Also the cold start of the
one-process runtime to its first answer (median of ``COLD_RUNS``; ``--cold-only`` measures
only that), and its peak RSS with the language detector loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import (
    BOTS,
    Answers,
    Bench,
    EchoBot,
    bench_env,
    bot_process,
    cpu_s,
    loadavg,
    pct,
    peak_rss_mb,
)
from messenger.deploy.provision import Provisioner
from tests.support import Member, OrgEnv

IN_FLIGHT = 20
PROVISION_PARALLEL = 8
COLD_RUNS = 5


@dataclass
class Blast:
    """One series: the rate, where a command's time went (ms), Synapse's CPU per command."""

    rate: float = 0.0
    synapse_ms: float = 0.0
    send_ms: list[float] = field(default_factory=list)  # the member's PUT until answered
    answer_ms: list[float] = field(default_factory=list)  # sent until the reply decrypted
    turnaround_ms: list[float] = field(default_factory=list)  # server clock: command → reply

    def describe(self) -> str:
        """Where the time went, as p50/p95."""
        text = f"send p50 {pct(self.send_ms, 50):.0f} p95 {pct(self.send_ms, 95):.0f} ms"
        if self.answer_ms:
            text += (
                f"; sent→answer decrypted p50 {pct(self.answer_ms, 50):.0f} "
                f"p95 {pct(self.answer_ms, 95):.0f} p99 {pct(self.answer_ms, 99):.0f} ms"
            )
        if self.turnaround_ms:
            text += (
                f"; server clock command→reply p50 {pct(self.turnaround_ms, 50):.0f} "
                f"p95 {pct(self.turnaround_ms, 95):.0f} ms"
            )
        return text + f"; Synapse CPU {self.synapse_ms:.1f} ms per command"


async def blast(bench: Bench, member: Member, rooms: list[str], n: int, bot: str | None) -> Blast:
    """Send ``n`` messages across ``rooms`` (IN_FLIGHT at a time); per second until done."""
    sem = asyncio.Semaphore(IN_FLIGHT)
    out = Blast()
    answers = Answers(member)
    pid = bench.synapse.pid
    cpu0, t0 = cpu_s(pid), time.perf_counter()

    async def one(i: int) -> None:
        async with sem:
            t1 = time.perf_counter()
            event_id = await member.send(rooms[i % len(rooms)], "!tz" if bot else f"plain {i}")
            t2 = time.perf_counter()
            out.send_ms.append((t2 - t1) * 1000)
            if not bot:
                return
            reply = await answers.wait(event_id, bot, timeout=300)
            out.answer_ms.append((time.perf_counter() - t2) * 1000)
            turn = answers.turnaround_ms(event_id, reply)
            if turn is not None:
                out.turnaround_ms.append(turn)

    await asyncio.gather(*(one(i) for i in range(n)))
    out.rate = n / (time.perf_counter() - t0)
    out.synapse_ms = (cpu_s(pid) - cpu0) / n * 1000
    return out


async def provision(org: OrgEnv, settings: Any, n: int) -> list[str]:
    """Create the space, then the ``n`` rooms concurrently (bounded); return their IDs."""
    dep = await org.open(settings)
    service = await dep.service_session()
    try:
        prov = Provisioner(service, settings.org)
        changes = await prov.plan()
        await changes[0].run()  # the space: every room links into it
        sem = asyncio.Semaphore(PROVISION_PARALLEL)

        async def run(change: Any) -> None:
            async with sem:
                await change.run()

        await asyncio.gather(*(run(c) for c in changes[1:]))
        existing = await prov.existing()
        return [existing[f"room-{i}"].room_id for i in range(n)]
    finally:
        await service.close()


async def stop(*procs: asyncio.subprocess.Process) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        await proc.wait()


async def one_size(rooms_n: int, commands: int, cold_only: bool = False) -> str:
    async with bench_env() as bench:
        org = bench.org()
        person, pw = await bench.user("member")
        echo_id, echo_pw = await bench.user("echo")
        groups = "".join(
            f'\n[[working_group]]\nname = "Room {i}"\nmembers = ["{person}", "{echo_id}"]\n'
            for i in range(rooms_n)
        )
        settings = org.write_org(groups, enabled=BOTS)
        org_file = bench.tmp / "org.toml"
        org_file.write_text(
            org.org_text.replace("[homeserver]\n", f'[homeserver]\nurl = "{bench.synapse.url}"\n')
        )
        t_prov = time.perf_counter()
        rooms = await provision(org, settings, rooms_n)
        bots = settings.org.bot_user_ids()
        bot = bots["events"]
        member = await bench.member(person, pw)
        echo = EchoBot(bench.synapse.url, echo_id, bench.tmp / "echo")
        await echo.start(echo_pw)
        sem = asyncio.Semaphore(PROVISION_PARALLEL)

        async def join(room_id: str) -> None:
            async with sem:
                await member.client.join(room_id)

        await asyncio.gather(*(join(r) for r in rooms))
        await member.wait_all_joined(rooms, {person, echo_id}, 900)
        provision_s = time.perf_counter() - t_prov

        t_join = time.perf_counter()
        proc = await bot_process(org_file, org.home)
        await member.wait_all_joined(rooms, set(bots.values()), 900)
        join_s = time.perf_counter() - t_join
        # One answered command before the restart, so both sides hold Megolm sessions in the
        # room of the cold-start command (as in any room where the bot has answered before).
        warm = await member.send(rooms[-1], "!tz")
        await member.wait_reply(warm, sender=bot, timeout=300)
        await stop(proc)

        # Cold start: provisioned and joined everywhere; from spawn to the first answer, the
        # median of COLD_RUNS restarts (one start varies by a few tenths with the machine).
        colds = []
        for i in range(COLD_RUNS):
            t0 = time.perf_counter()
            proc = await bot_process(org_file, org.home)
            first = await member.send(rooms[-1], "!tz")
            await member.wait_reply(first, sender=bot, timeout=300)
            colds.append(time.perf_counter() - t0)
            if i < COLD_RUNS - 1:
                await asyncio.sleep(3)  # the other bots are in and synced
                await stop(proc)
        cold = statistics.median(colds)
        cold_line = (
            f"cold start to first answer {cold:.2f} s (median of {len(colds)}: "
            f"{min(colds):.2f}–{max(colds):.2f} s)"
        )
        if cold_only:
            await stop(proc)
            await echo.close()
            await org.close()
            return f"{rooms_n:>4} rooms: {cold_line}; load {loadavg()}"
        # The translation bot loads its language detector on the first plain message.
        await member.send(rooms[0], "Hej allihopa, vi ses på mötet i morgon bitti.")
        one_process = await blast(bench, member, rooms, commands, bot)
        rss = peak_rss_mb(proc.pid)
        await stop(proc)

        echo.answering.set()
        floor = await blast(bench, member, rooms, commands, echo_id)
        echo.answering.clear()

        procs = [await bot_process(org_file, org.home, [name]) for name in BOTS]
        ready = await member.send(rooms[-1], "!tz")
        await member.wait_reply(ready, sender=bot, timeout=300)
        three = await blast(bench, member, rooms, commands, bot)
        rss3 = [peak_rss_mb(p.pid) for p in procs]
        await stop(*procs)

        alone = await blast(bench, member, rooms, commands, None)
        await echo.close()
        await org.close()
        return (
            f"{rooms_n:>4} rooms: bots {one_process.rate:5.1f} commands/s, echo bot "
            f"{floor.rate:5.1f} (ratio {one_process.rate / floor.rate:.2f}); bots in {len(BOTS)} "
            f"processes {three.rate:5.1f} (ratio {three.rate / floor.rate:.2f}); Synapse alone "
            f"{alone.rate:5.1f} messages/s\n"
            f"      Synapse CPU per command: bots {one_process.synapse_ms:.1f} ms, echo bot "
            f"{floor.synapse_ms:.1f} ms (ratio {one_process.synapse_ms / floor.synapse_ms:.2f}); "
            f"per message alone {alone.synapse_ms:.1f} ms\n"
            f"      {cold_line} | runtime peak RSS {rss:.0f} MB "
            f"(detector loaded; {len(BOTS)} processes: {' + '.join(f'{r:.0f}' for r in rss3)} MB)\n"
            f"      set-up: rooms made and member, echo joined {provision_s:.0f} s, bots joined "
            f"{join_s:.0f} s; load {loadavg()}\n"
            f"      bots, one process: {one_process.describe()}\n"
            f"      bots, {len(BOTS)} processes: {three.describe()}\n"
            f"      echo bot: {floor.describe()}\n"
            f"      Synapse alone: {alone.describe()}"
        )


async def main(sizes: list[int], commands: int, cold_only: bool) -> None:
    print(
        f"# the bots ({', '.join(BOTS)}) in N rooms; {commands} encrypted !tz, "
        f"{IN_FLIGHT} in flight; load at start {loadavg()}"
    )
    for n in sizes:
        print(await one_size(n, commands, cold_only), flush=True)


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("SAMVERKAN_BENCH_SIZES", "10,100,500"))
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument(
        "--cold-only", action="store_true", help="only the cold starts (no throughput series)"
    )
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.commands, args.cold_only))


if __name__ == "__main__":
    run()
