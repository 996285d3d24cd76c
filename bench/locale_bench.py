"""Provides the localization benchmark: does rendering through the catalogues cost the round
trip? Two members of one room, one with ``!locale sv`` and one in English, take turns sending
the same encrypted commands (``!ping``, ``!event list`` with events on it) to the same bots in
the same run; the ratio of their round trips is the cost of translating.

Run: ``python -m bench.locale_bench [--rounds 100]``. Target: p50 ratio sv/en ≤ 1.02.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.common import bench_env, pct, summary
from tests.support import Member


async def round_trip(member: Member, room_id: str, text: str, bot: str) -> float:
    """ms from sending ``text`` until the member decrypted the bot's answer."""
    t0 = time.perf_counter()
    sent = await member.send(room_id, text)
    await member.wait_reply(sent, sender=bot, timeout=60)
    return (time.perf_counter() - t0) * 1000


async def main(rounds: int) -> None:
    async with bench_env() as bench:
        org = bench.org()
        _s, room_id, (sv, en), runtime = await org.room_with_bots(
            bench.member, members=2, bots=["events"]
        )
        bot = runtime.bots[0].user_id
        for title in ("Nordisk planering 1", "Nordisk planering 2", "Nordisk planering 3"):
            await round_trip(en, room_id, f'!event create "{title}" tomorrow 14:00', bot)
        await round_trip(sv, room_id, "!locale sv", bot)
        results: dict[tuple[str, str], list[float]] = {}
        for command in ("!ping", "!event list"):
            for member in (sv, en):  # warm up both
                await round_trip(member, room_id, command, bot)
            for i in range(rounds):
                order = (("sv", sv), ("en", en)) if i % 2 == 0 else (("en", en), ("sv", sv))
                for who, member in order:  # interleaved, alternating who goes first
                    ms = await round_trip(member, room_id, command, bot)
                    results.setdefault((command, who), []).append(ms)
        await org.close()
        print(f"# encrypted round trips, {rounds} per member and command, interleaved (ms)")
        for command in ("!ping", "!event list"):
            print(summary(f"{command} — member with !locale sv", results[(command, "sv")]))
            print(summary(f"{command} — member in English (baseline)", results[(command, "en")]))
            for p in (50, 95):
                ratio = pct(results[(command, "sv")], p) / pct(results[(command, "en")], p)
                print(f"{command} ratio sv/en p{p}: {ratio:.3f}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.rounds))


if __name__ == "__main__":
    run()
