"""``samverkan up --federation-test`` as a user runs it: two federating Synapse, bots, SIGTERM.

A partner person logs in on the second server with the printed login, is in the partnership
room (invited over federation), and decrypts a bot's reply there; SIGTERM then stops the
bots and both servers with exit code 0, leaving no Synapse process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import alive
from tests.federation.support import decrypted_replies, settle_encryption
from tests.support import Member

ROOT = Path(__file__).resolve().parents[2]
READY = "federation test ready"
READY_S = 90.0
STOP_S = 60.0


async def wait_for_line(log: Path, proc: asyncio.subprocess.Process, marker: str) -> str:
    """The log once it holds ``marker``; fails if the process exits first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_S
    while loop.time() < deadline:
        text = await asyncio.to_thread(log.read_text)
        if marker in text:
            return text
        assert proc.returncode is None, f"up exited with {proc.returncode}:\n{text}"
        await asyncio.sleep(0.5)
    text = await asyncio.to_thread(log.read_text)
    raise AssertionError(f"no {marker!r} within {READY_S:.0f} s:\n{text}")


def synapse_pids(home: Path) -> list[int]:
    """The Synapse processes ``up --federation-test`` started (from their pid files)."""
    files = sorted((home / "federation-test").glob("hs*/samverkan-synapse.pid"))
    return [int(f.read_text()) for f in files]


@pytest.mark.synapse  # starts its own homeserver
async def test_up_federation_test_runs_two_servers_and_stops_on_sigterm(tmp_path: Path) -> None:
    home, log = tmp_path / "home", tmp_path / "up.log"
    environ = {
        **os.environ,
        "SAMVERKAN_HOME": str(home),
        "SAMVERKAN_PASSPHRASE": "test passphrase",
        "SAMVERKAN_FAST_KDF": "1",
        "PYTHONPATH": str(ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "samverkan",
        "up",
        "--federation-test",
        env=environ,
        stdout=open(log, "wb"),  # noqa: ASYNC230, SIM115 -- a log file for the child
        stderr=asyncio.subprocess.STDOUT,
    )
    pids: list[int] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        text = await wait_for_line(log, proc, READY)
        t_ready = loop.time() - t0
        pids = synapse_pids(home)
        assert len(pids) == 2, text
        servers = re.findall(r"^  (home|partner) server (localhost:\d+)", text, re.M)
        assert [role for role, _ in servers] == ["home", "partner"], text
        (home_name, partner_name) = (name for _, name in servers)
        login = re.search(r"^  partner login (@wanjiru:\S+) (\S+) (http://\S+)$", text, re.M)
        assert login, text
        user, password, url = login.groups()
        assert user == f"@wanjiru:{partner_name}"
        room = re.search(r"^  room kenya-local-democracy (!\S+)$", text, re.M)
        assert room, text
        room_id = room.group(1)
        bots = re.search(r"^bots running: (.+)$", text, re.M)
        assert bots, text
        events = next(b for b in bots.group(1).split(", ") if b.startswith("@events:"))
        assert events.endswith(f":{home_name}")

        wanjiru = await Member.login(url, user, password, tmp_path / "wanjiru")
        try:
            # Invited over federation from the home server, joined from the partner server.
            await wanjiru.wait_joined(room_id)
            members = set(wanjiru.client.rooms[room_id].users)
            assert {f"@anna:{home_name}", f"@otieno:{partner_name}", events} <= members
            # A bot on the home server answers the partner member, who decrypts the reply.
            pings = await settle_encryption(wanjiru, room_id, {events})
            ask = await wanjiru.send(room_id, "!event list")
            (reply, *_) = await wanjiru.wait_reply(ask, sender=events)
            assert reply in decrypted_replies(wanjiru, ask, events)
            assert "body" in reply["content"]
        finally:
            await wanjiru.close()

        t_reply = loop.time() - t0
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), STOP_S) == 0, log.read_text()
        print(
            f"ready after {t_ready:.1f} s, reply decrypted after {t_reply:.1f} s "
            f"({pings} ping(s)), stopped after {loop.time() - t0:.1f} s",
            flush=True,
        )
        text = log.read_text()
        assert "stopped cleanly" in text
        assert "stopping both homeservers" in text
        assert not [pid for pid in pids if alive(pid)], "a Synapse outlived up"
        assert synapse_pids(home) == []
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
