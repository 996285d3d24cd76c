"""No orphaned homeserver: a SIGKILLed ``samverkan up`` leaves no Synapse behind for long, a
leftover one is stopped by the next ``up``, and a homeserver child that dies is noticed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from messenger.deploy.homeserver import free_port, wait_ready
from tests.cli.test_cli import env_for, org_file

READY_S = 180.0


def synapses_of(home: Path) -> list[int]:
    """Live (non-zombie) processes whose command line names a file under ``home``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(str(home).encode() in a for a in args):
            found.append(int(entry.name))
    return found


def pid_file(home: Path) -> int | None:
    try:
        return int((home / "synapse" / "samverkan-synapse.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


class Up:
    """``samverkan up`` as a child process writing to one log."""

    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp, self.port = tmp, port
        self.home = tmp / "home"
        self.config = org_file(tmp, port)
        self.log = tmp / "up.log"
        self.proc: asyncio.subprocess.Process | None = None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def start(self) -> None:
        with open(self.log, "a") as f:  # noqa: ASYNC230
            f.write("== test: starting up\n")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "samverkan",
            "up",
            "--config",
            str(self.config),
            env=env_for(self.home),
            stdout=open(self.log, "ab"),  # noqa: ASYNC230, SIM115 -- the child's log
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    async def wait_for(self, marker: str, after: int = 0, timeout: float = READY_S) -> None:
        """Wait until ``marker`` appears in the log past offset ``after``."""
        assert self.proc
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while marker not in self.text()[after:]:
            assert self.proc.returncode is None, f"up exited early:\n{self.text()[-3000:]}"
            assert loop.time() < deadline, f"no {marker!r}:\n{self.text()[-3000:]}"
            await asyncio.sleep(0.3)

    async def running(self) -> None:
        offset = len(self.text())
        await self.start()
        await self.wait_for("bots running", offset)
        await wait_ready(f"http://127.0.0.1:{self.port}", 10)

    async def sigterm(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 90)

    async def sigkill(self) -> None:
        assert self.proc
        self.proc.kill()
        await asyncio.wait_for(self.proc.wait(), 30)


async def no_synapse_left(home: Path, timeout: float = 20.0) -> None:
    for _ in range(int(timeout * 5)):
        if not synapses_of(home):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"still running on {home}: {synapses_of(home)}")


def only_synapse_is_child_of(up: Up) -> int:
    """The one Synapse on the data dir is the one the pid file names, a child of this ``up``."""
    assert up.proc
    pid = pid_file(up.home)
    assert pid is not None, up.text()[-3000:]
    assert synapses_of(up.home) == [pid], (pid, synapses_of(up.home), up.text()[-3000:])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    assert int(stat[1]) == up.proc.pid, "the running Synapse is not the new up's own child"
    return pid


@pytest.mark.synapse  # starts its own homeserver
async def test_sigkilled_up_then_restart_and_sigterm_leaves_no_homeserver(tmp_path: Path) -> None:
    up = Up(tmp_path, free_port())
    orphan: asyncio.subprocess.Process | None = None
    try:
        await up.running()
        first = only_synapse_is_child_of(up)
        await up.sigkill()

        # The next up works on the same data dir and port, with its own homeserver.
        await up.running()
        second = only_synapse_is_child_of(up)
        assert second != first
        assert await up.sigterm() == 0, up.text()[-3000:]
        assert "stopped cleanly" in up.text()
        await no_synapse_left(up.home, timeout=1)
        assert pid_file(up.home) is None

        # A leftover the kernel did not stop (another OS, an older version, a Synapse started by
        # hand on this data dir): the next up stops it and runs its own.
        config = up.home / "synapse" / "homeserver.yaml"
        orphan = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        (up.home / "synapse" / "samverkan-synapse.pid").write_text(f"{orphan.pid}\n")
        await wait_ready(f"http://127.0.0.1:{up.port}", 90)
        await up.running()
        assert "left over from an earlier run" in up.text()
        await asyncio.wait_for(orphan.wait(), 5)  # the leftover was stopped
        third = only_synapse_is_child_of(up)
        assert third != orphan.pid
    finally:
        code = await up.sigterm()
        if orphan and orphan.returncode is None:
            orphan.kill()
            await orphan.wait()
    assert code == 0, up.text()[-3000:]
    assert "Traceback" not in up.text()
    await no_synapse_left(up.home, timeout=1)


@pytest.mark.synapse  # starts its own homeserver
async def test_homeserver_child_that_dies_is_noticed_and_restarted(tmp_path: Path) -> None:
    up = Up(tmp_path, free_port())
    try:
        await up.running()
        first = only_synapse_is_child_of(up)
        offset = len(up.text())
        os.kill(first, signal.SIGKILL)
        await up.wait_for("the homeserver exited unexpectedly", offset, timeout=30)
        await up.wait_for("homeserver restarted", offset, timeout=120)
        await wait_ready(f"http://127.0.0.1:{up.port}", 10)
        assert only_synapse_is_child_of(up) != first
    finally:
        code = await up.sigterm()
    assert code == 0, up.text()[-3000:]
    await no_synapse_left(up.home, timeout=1)
