"""Provides the scaling series: one bot runtime in 10, 100 and 500 rooms.

Run: ``python -m bench.scaling_bench [--sizes 10,100,500] [--commands 300]`` (or set
``SAMVERKAN_BENCH_SIZES=10,100``). For each size: cold start of a provisioned runtime to its
first answer, throughput of ``!ping`` commands spread over every room (sent ``IN_FLIGHT`` at a
time, until every decrypted answer arrived), where a command's time went, and the runtime's
peak RSS. The ceiling is what Synapse alone sustains in the same run: the same member sending
the same number of encrypted messages the same way, with nobody answering. Rooms are
provisioned ``PROVISION_PARALLEL`` at a time by the service account (the space first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import bench_env, pct, peak_rss_mb
from messenger.deploy.provision import Provisioner
from tests.support import Member, OrgEnv

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 20
PROVISION_PARALLEL = 8


@dataclass
class Blast:
    """One series: the rate, and where a command's time went (ms)."""

    rate: float = 0.0
    send_ms: list[float] = field(default_factory=list)  # the member's PUT until answered
    answer_ms: list[float] = field(default_factory=list)  # sent until the reply decrypted
    turnaround_ms: list[float] = field(default_factory=list)  # server clock: command → reply

    def describe(self) -> str:
        """Where the time went, as p50/p95."""
        text = f"send p50 {pct(self.send_ms, 50):.0f} p95 {pct(self.send_ms, 95):.0f} ms"
        if self.answer_ms:
            text += (
                f"; sent→answer decrypted p50 {pct(self.answer_ms, 50):.0f} "
                f"p95 {pct(self.answer_ms, 95):.0f} ms"
            )
        if self.turnaround_ms:
            text += (
                f"; server clock command→reply p50 {pct(self.turnaround_ms, 50):.0f} "
                f"p95 {pct(self.turnaround_ms, 95):.0f} ms"
            )
        return text


async def blast(member: Member, rooms: list[str], n: int, bot: str | None) -> Blast:
    """Send ``n`` messages across ``rooms`` (IN_FLIGHT at a time); per second until done."""
    sem = asyncio.Semaphore(IN_FLIGHT)
    out = Blast()
    t0 = time.perf_counter()

    async def one(i: int) -> None:
        async with sem:
            t1 = time.perf_counter()
            event_id = await member.send(rooms[i % len(rooms)], "!ping" if bot else f"plain {i}")
            t2 = time.perf_counter()
            out.send_ms.append((t2 - t1) * 1000)
            if not bot:
                return
            reply = (await member.wait_reply(event_id, sender=bot, timeout=300))[0]
            out.answer_ms.append((time.perf_counter() - t2) * 1000)
            sent = next((e for _r, e in reversed(member.events) if e.event_id == event_id), None)
            if sent is not None:
                out.turnaround_ms.append(reply["origin_server_ts"] - sent.server_timestamp)

    await asyncio.gather(*(one(i) for i in range(n)))
    out.rate = n / (time.perf_counter() - t0)
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


async def one_size(rooms_n: int, commands: int) -> str:
    async with bench_env() as bench:
        org = bench.org()
        person, pw = await bench.user("member")
        groups = "".join(
            f'\n[[working_group]]\nname = "Room {i}"\nmembers = ["{person}"]\n'
            for i in range(rooms_n)
        )
        settings = org.write_org(groups, enabled=["events"])
        org_file = bench.tmp / "org.toml"
        org_file.write_text(
            org.org_text.replace("[homeserver]\n", f'[homeserver]\nurl = "{bench.synapse.url}"\n')
        )
        t_prov = time.perf_counter()
        rooms = await provision(org, settings, rooms_n)
        bot = settings.org.bot_user_ids()["events"]
        member = await bench.member(person, pw)
        sem = asyncio.Semaphore(PROVISION_PARALLEL)

        async def join(room_id: str) -> None:
            async with sem:
                await member.client.join(room_id)

        await asyncio.gather(*(join(r) for r in rooms))

        async def member_joined_all() -> bool:
            return all(
                r in member.client.rooms and person in member.client.rooms[r].users for r in rooms
            )

        await member.wait_until(member_joined_all, 900)
        provision_s = time.perf_counter() - t_prov
        env = {
            **os.environ,
            "SAMVERKAN_HOME": str(org.home),
            "SAMVERKAN_PASSPHRASE": "test passphrase",
            "SAMVERKAN_FAST_KDF": "1",
            "PYTHONPATH": str(ROOT),
        }
        cmd = [sys.executable, "-m", "samverkan", "up", "--config", str(org_file)]
        t_join = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )

        async def joined_all() -> bool:
            return all(
                bot in member.client.rooms[r].users
                and bot not in member.client.rooms[r].invited_users
                for r in rooms
                if r in member.client.rooms
            )

        await member.wait_until(joined_all, 900)
        join_s = time.perf_counter() - t_join
        # One answered command before the restart, so both sides hold Megolm sessions in the
        # room of the cold-start command (as in any room where the bot has answered before).
        warm = await member.send(rooms[-1], "!ping")
        await member.wait_reply(warm, sender=bot, timeout=300)
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        # Cold start: provisioned and joined everywhere; from spawn to the first answer.
        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        first = await member.send(rooms[-1], "!ping")
        await member.wait_reply(first, sender=bot, timeout=300)
        cold = time.perf_counter() - t0
        with_bot = await blast(member, rooms, commands, bot)
        rss = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        alone = await blast(member, rooms, commands, None)
        await org.close()
        return (
            f"{rooms_n:>4} rooms: {with_bot.rate:6.1f} commands/s answered vs Synapse alone "
            f"{alone.rate:6.1f} messages/s (ratio {with_bot.rate / alone.rate:.2f}) | cold start "
            f"to first answer {cold:5.2f} s | runtime peak RSS {rss:5.0f} MB\n"
            f"      set-up: rooms made and member joined {provision_s:.0f} s, bot joined "
            f"{join_s:.0f} s\n"
            f"      with the bot: {with_bot.describe()}\n"
            f"      Synapse alone: {alone.describe()}"
        )


async def main(sizes: list[int], commands: int) -> None:
    print(f"# one bot runtime in N rooms; {commands} encrypted !ping, {IN_FLIGHT} in flight")
    for n in sizes:
        print(await one_size(n, commands), flush=True)


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("SAMVERKAN_BENCH_SIZES", "10,100,500"))
    parser.add_argument("--commands", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.commands))


if __name__ == "__main__":
    run()
