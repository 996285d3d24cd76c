"""Exactly once: SIGKILL the bot runtime at chosen points; every command is answered once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support import Member, OrgEnv

ROOT = Path(__file__).resolve().parents[2]


class UpProcess:
    """``samverkan up`` in a child process, against the test Synapse (``[homeserver] url``)."""

    def __init__(self, env: OrgEnv, config: Path, tmp: Path) -> None:
        self.env = env
        self.config = config
        self.tmp = tmp
        self.proc: asyncio.subprocess.Process | None = None
        self.log = tmp / "up.log"

    async def start(self, crash_at: str | None = None) -> None:
        environ = {
            **os.environ,
            "SAMVERKAN_HOME": str(self.env.home),
            "SAMVERKAN_PASSPHRASE": "test passphrase",
            "SAMVERKAN_FAST_KDF": "1",
            "PYTHONPATH": str(ROOT),
        }
        environ.pop("SAMVERKAN_CRASH_AT", None)
        if crash_at:
            environ["SAMVERKAN_CRASH_AT"] = crash_at
            environ["SAMVERKAN_CRASH_ONCE"] = str(self.tmp / f"crashed-{crash_at}")
        with open(self.log, "a") as f:  # noqa: ASYNC230
            f.write(f"== test: starting (crash at {crash_at})\n")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "samverkan",
            "-v",
            "up",
            "--config",
            str(self.config),
            env=environ,
            stdout=open(self.log, "ab"),  # noqa: ASYNC230, SIM115 -- a log file for the child
            stderr=asyncio.subprocess.STDOUT,
        )

    async def wait_killed(self) -> int:
        assert self.proc
        return await asyncio.wait_for(self.proc.wait(), 60)

    async def stop(self) -> int:
        assert self.proc
        with open(self.log, "a") as f:  # noqa: ASYNC230
            f.write(f"== test: stopping pid {self.proc.pid} (returncode {self.proc.returncode})\n")
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)

        return await asyncio.wait_for(self.proc.wait(), 60)


async def provisioned(org_env: OrgEnv, make_user, member_factory, tmp_path: Path):  # type: ignore[no-untyped-def]
    user, pw = await make_user("member")
    body = f"""
        [[working_group]]
        name = "Nordic policy"
        members = ["{user}"]
    """
    settings = org_env.write_org(body, enabled=["events"])
    text = org_env.org_text.replace(
        "[homeserver]\n", f'[homeserver]\nurl = "{org_env.synapse.url}"\n'
    )
    config = tmp_path / "org.toml"
    config.write_text(text)
    report = await org_env.apply(settings)
    assert not report.failed
    room_id = await org_env.room_id("nordic-policy")
    member = await member_factory(user, pw)
    await member.wait_joined(room_id)
    bot = settings.org.bot_user_ids()["events"]
    return room_id, member, bot, UpProcess(org_env, config, tmp_path)


async def bot_joined(member: Member, room_id: str, bot: str) -> None:
    async def joined() -> bool:
        room = member.client.rooms.get(room_id)
        return room is not None and bot in room.users and bot not in room.invited_users

    await member.wait_until(joined, 60)


@pytest.mark.parametrize("crash_at", ["sync-received", "command-committed", "reply-sent"])
async def test_sigkill_then_restart_answers_every_command_exactly_once(
    org_env: OrgEnv, make_user, member_factory, tmp_path: Path, crash_at: str
) -> None:
    room_id, member, bot, up = await provisioned(org_env, make_user, member_factory, tmp_path)
    await up.start(crash_at=None if crash_at == "sync-received" else crash_at)
    await bot_joined(member, room_id, bot)
    if crash_at == "sync-received":
        # Let the bot finish joining first; then crash on the sync carrying the command.
        await up.stop()
        await up.start(crash_at=crash_at)
        await asyncio.sleep(3)
    ping = await member.send(room_id, "!ping")
    assert await up.wait_killed() == -signal.SIGKILL, up.log.read_text()[-2000:]

    await up.start()
    try:
        (reply,) = await member.wait_reply(ping, sender=bot, timeout=60)
        assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
        later = await member.send(room_id, "!ping")
        await member.wait_reply(later, sender=bot, timeout=60)
        await asyncio.sleep(2)  # room for a duplicate to show up, if there were one
        assert len(member.replies_to(ping, sender=bot)) == 1
        assert len(member.replies_to(later, sender=bot)) == 1
        assert not member.undecryptable()
    finally:
        assert await up.stop() == 0, up.log.read_text()[-2000:]


async def test_bots_resume_after_homeserver_restart(org_env: OrgEnv, member_factory) -> None:
    settings, room_id, (member,), runtime = await org_env.room_with_bots(
        member_factory, bots=["events"]
    )
    bot = runtime.bots[0].user_id
    first = await member.send(room_id, "!ping")
    await member.wait_reply(first, sender=bot)

    await org_env.synapse.stop()
    await asyncio.sleep(1)
    await org_env.synapse.start()

    second = await member.send(room_id, "!ping")
    (reply,) = await member.wait_reply(second, sender=bot, timeout=60)
    assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
    assert len(member.replies_to(first, sender=bot)) == 1
    assert not member.undecryptable()
