"""Start-up while the homeserver is away: ``samverkan up`` waits with backoff instead of dying,
then answers; SIGTERM during the wait ends it cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.bots.test_exactly_once import bot_joined, provisioned
from tests.support import OrgEnv


async def logged(up, text: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in up.log.read_text():
        assert loop.time() < deadline, f"{text!r} not in the log:\n{up.log.read_text()[-2000:]}"
        await asyncio.sleep(0.2)


async def test_up_waits_for_a_homeserver_that_is_down_then_answers(
    org_env: OrgEnv, make_user, member_factory, tmp_path: Path
) -> None:
    room_id, member, bot, up = await provisioned(org_env, make_user, member_factory, tmp_path)
    await org_env.synapse.stop()
    try:
        await up.start()
        await logged(up, "retrying in")
        assert up.proc is not None
        assert up.proc.returncode is None, "up died instead of waiting"

    finally:
        await org_env.synapse.start()
    try:
        await logged(up, "bots running")
        await bot_joined(member, room_id, bot)
        ping = await member.send(room_id, "!ping")
        await member.wait_reply(ping, sender=bot, timeout=60)
        await asyncio.sleep(1)
        assert len(member.replies_to(ping, sender=bot)) == 1
    finally:
        assert await up.stop() == 0, up.log.read_text()[-2000:]


async def test_sigterm_while_waiting_for_the_homeserver_stops_cleanly(
    org_env: OrgEnv, make_user, member_factory, tmp_path: Path
) -> None:
    _room_id, _member, _bot, up = await provisioned(org_env, make_user, member_factory, tmp_path)
    await org_env.synapse.stop()
    try:
        await up.start()
        await logged(up, "retrying in")
        assert await up.stop() == 0, up.log.read_text()[-2000:]
    finally:
        await org_env.synapse.start()
