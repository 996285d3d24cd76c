"""Provides the foundation benchmark: encrypted ``!ping`` round trip vs a bare nio echo client.

Run: ``python -m bench.ping_bench [--rounds 200] [--rooms 20]``. A member's nio client sends
an encrypted command and waits until it has decrypted the threaded answer. The same round
trip is measured against a bare nio client that answers every ``!ping`` (the baseline), on
the same Synapse in the same run. Also: cold start of a provisioned bot process in N rooms
to its first answered command, and that process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, MatrixRoom, RoomMessageText

from bench.common import Bench, bench_env, pct, peak_rss_mb, summary
from tests.support import Member

ROOT = Path(__file__).resolve().parents[1]


async def round_trips(member: Member, room_id: str, responder: str, rounds: int) -> list[float]:
    """Send ``!ping`` ``rounds`` times; ms until the responder's decrypted answer arrived."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        sent = await member.send(room_id, "!ping")
        await member.wait_reply(sent, sender=responder, timeout=60)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def echo_client(
    bench: Bench, room_id: str, user_id: str, password: str, enabled: asyncio.Event
) -> tuple[AsyncClient, asyncio.Task[Any]]:
    """A bare nio client answering ``!ping`` with an encrypted threaded notice."""
    client = AsyncClient(
        bench.synapse.url,
        user_id,
        store_path=str(bench.tmp / "echo"),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
    )
    (bench.tmp / "echo").mkdir(exist_ok=True)
    await client.login(password)
    await client.join(room_id)
    await client.sync(timeout=0, full_state=True)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.body == "!ping" and event.sender != user_id and enabled.is_set():
            relates = {
                "rel_type": "m.thread",
                "event_id": event.event_id,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": event.event_id},
            }
            await client.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.notice", "body": "pong", "m.relates_to": relates},
                ignore_unverified_devices=True,
                tx_id=uuid.uuid4().hex,
            )

    client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
    return client, asyncio.create_task(client.sync_forever(timeout=30000))


async def bot_process(org_file: Path, home: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "SAMVERKAN_HOME": str(home),
        "SAMVERKAN_PASSPHRASE": "test passphrase",
        "SAMVERKAN_FAST_KDF": "1",
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "samverkan",
        "up",
        "--config",
        str(org_file),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def main(rounds: int, rooms: int) -> None:
    async with bench_env() as bench:
        org = bench.org()
        person, pw = await bench.user("member")
        echo_id, echo_pw = await bench.user("echo")
        groups = "".join(
            f'\n[[working_group]]\nname = "Group {i}"\nmembers = ["{person}", "{echo_id}"]\n'
            for i in range(rooms)
        )
        settings = org.write_org(groups, enabled=["events"])
        text = org.org_text.replace(
            "[homeserver]\n", f'[homeserver]\nurl = "{bench.synapse.url}"\n'
        )
        org_file = bench.tmp / "org.toml"
        org_file.write_text(text)
        report = await org.apply(settings)
        assert not report.failed, report.failed
        room_id = await org.room_id("group-0")
        bot_id = settings.org.bot_user_ids()["events"]
        member = await bench.member(person, pw)
        await member.wait_joined(room_id)
        answering = asyncio.Event()
        client, task = await echo_client(bench, room_id, echo_id, echo_pw, answering)

        async def echo_joined() -> bool:
            room = member.client.rooms.get(room_id)
            return bool(room) and echo_id in room.users and echo_id not in room.invited_users

        await member.wait_until(echo_joined, 60)

        t0 = time.perf_counter()
        proc = await bot_process(org_file, org.home)

        async def bot_joined() -> bool:
            room = member.client.rooms.get(room_id)
            return bool(room) and bot_id in room.users and bot_id not in room.invited_users

        await member.wait_until(bot_joined, 180)
        first = await member.send(room_id, "!ping")
        await member.wait_reply(first, sender=bot_id, timeout=180)
        cold_first = time.perf_counter() - t0

        await round_trips(member, room_id, bot_id, 5)  # warm up
        bot_ms = await round_trips(member, room_id, bot_id, rounds)
        rss = peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        await proc.wait()

        t1 = time.perf_counter()
        proc = await bot_process(org_file, org.home)
        again = await member.send(room_id, "!ping")
        await member.wait_reply(again, sender=bot_id, timeout=180)
        cold = time.perf_counter() - t1
        proc.send_signal(signal.SIGTERM)
        await proc.wait()

        answering.set()
        await round_trips(member, room_id, echo_id, 5)

        base_ms = await round_trips(member, room_id, echo_id, rounds)
        task.cancel()
        await client.close()
        await org.close()

        print(f"# encrypted !ping round trip, {rounds} commands, member decrypts the answer")
        print(summary("bot (samverkan up, events bot)", bot_ms))
        print(summary("bare nio echo client (baseline)", base_ms))
        for p in (50, 95, 99):
            print(f"ratio p{p}: {pct(bot_ms, p) / pct(base_ms, p):.2f}")
        print(
            f"cold start to first answer, provisioned bot in {rooms} rooms: {cold:.2f} s "
            f"(first ever start incl. login and cross-signing bootstrap: {cold_first:.2f} s)"
        )
        print(f"bot process peak RSS: {rss:.0f} MB")
        print(f"undecryptable events seen by the member: {len(member.undecryptable())}")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.rooms))


if __name__ == "__main__":
    run()
