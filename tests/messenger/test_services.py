"""Daemons of the scaled homeserver: started once, found again by their config path after the
process that started them is gone, and stopped with nothing left running."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from messenger.deploy import leftovers
from messenger.deploy.services import Daemon, processes_mentioning, tool


def sleeper(tmp_path: Path, marker: str) -> Daemon:
    """A daemon whose command line holds ``marker`` (as a real one holds its config path)."""
    argv = [sys.executable, "-c", "import time, sys; time.sleep(120)", marker]
    return Daemon("sleeper", argv, marker, tmp_path / "run", tmp_path / "sleeper.log")


async def test_daemon_starts_once_and_a_stranger_stops_it(tmp_path: Path) -> None:
    marker = str(tmp_path / "sleeper.conf")
    first = sleeper(tmp_path, marker)
    await first.start()
    pid = first.running()
    assert pid
    assert leftovers.alive(pid)
    assert first.pid_path.read_text().strip() == str(pid)
    await first.start()  # already running: no second copy
    assert processes_mentioning(marker) == [pid]
    # Another process (a later run, or the tests) knows it only by its directory.
    stranger = sleeper(tmp_path, marker)
    assert stranger.running() == pid
    await stranger.stop()
    assert not leftovers.alive(pid)
    assert stranger.running() is None
    assert not first.pid_path.exists()
    await first.stop()  # nothing left to stop: no error


async def test_daemon_ignores_processes_of_other_directories(tmp_path: Path) -> None:
    ours = sleeper(tmp_path / "a", str(tmp_path / "a" / "x.conf"))
    theirs = sleeper(tmp_path / "b", str(tmp_path / "b" / "x.conf"))
    await theirs.start()
    try:
        assert ours.running() is None
        await ours.stop()
        assert theirs.running()
    finally:
        await theirs.stop()


def test_tool_finds_programs_on_path() -> None:
    assert os.path.basename(tool("sh")) == "sh"
