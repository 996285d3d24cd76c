"""Provides the scaling series: one bot runtime in 10, 100 and 500 rooms.

Run: ``python -m bench.scaling_bench [--sizes 10,100,500] [--commands 300]``. For each size:
cold start of a provisioned runtime to its first answer, throughput of ``!ping`` commands
spread over every room (sent 20 at a time, until every decrypted answer arrived), and the
runtime's peak RSS. The ceiling is what Synapse alone sustains in the same run: the same
member sending the same number of encrypted messages the same way, with nobody answering.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from bench.common import bench_env, peak_rss_mb
from tests.helpers import Member

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 20


async def blast(member: Member, rooms: list[str], n: int, bot: str | None) -> float:
    """Send ``n`` messages across ``rooms`` (IN_FLIGHT at a time); per second until done."""
    sem = asyncio.Semaphore(IN_FLIGHT)
    t0 = time.perf_counter()

    async def one(i: int) -> None:
        async with sem:
            event_id = await member.send(rooms[i % len(rooms)], "!ping" if bot else f"plain {i}")
            if bot:
                await member.wait_reply(event_id, sender=bot, timeout=300)

    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0)


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
        assert not (await org.apply(settings)).failed
        provision_s = time.perf_counter() - t_prov
        rooms = [await org.room_id(f"room-{i}") for i in range(rooms_n)]
        bot = settings.org.bot_user_ids()["events"]
        member = await bench.member(person, pw)
        for r in rooms:
            await member.wait_joined(r, timeout=300)
        env = {
            **os.environ,
            "SAMVERKAN_HOME": str(org.home),
            "SAMVERKAN_PASSPHRASE": "test passphrase",
            "SAMVERKAN_FAST_KDF": "1",
            "PYTHONPATH": str(ROOT),
        }
        cmd = [sys.executable, "-m", "samverkan", "up", "--config", str(org_file)]
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

        await member.wait_until(joined_all, 600)
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
        bot_rate = await blast(member, rooms, commands, bot)
        rss = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        ceiling = await blast(member, rooms, commands, None)
        await org.close()
        return (
            f"{rooms_n:>4} rooms: provisioning {provision_s:6.1f} s | cold start to first answer "
            f"{cold:5.2f} s | {bot_rate:6.1f} commands/s answered vs Synapse alone "
            f"{ceiling:6.1f} messages/s (ratio {bot_rate / ceiling:.2f}) | runtime peak RSS {rss:5.0f} MB"
        )


async def main(sizes: list[int], commands: int) -> None:
    print(f"# one bot runtime in N rooms; {commands} encrypted !ping, {IN_FLIGHT} in flight")
    for n in sizes:
        print(await one_size(n, commands), flush=True)


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--commands", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.commands))


if __name__ == "__main__":
    run()
