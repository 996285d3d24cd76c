"""Finds processes by their command line, pid file or listening port, and stops them (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from pathlib import Path

PROC = Path("/proc")


def cmdline(pid: int) -> list[str]:
    """The process's arguments, or [] if it is gone or unreadable."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, …"""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def parent_of(pid: int) -> int | None:
    """The parent's process ID, or None if the process is gone."""
    fields = _stat(pid)
    return int(fields[1]) if len(fields) > 1 else None


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat(pid)
    return not fields or fields[0] != "Z"


def describe(pid: int) -> str:
    """``pid 123 (python -m synapse.app.homeserver …)`` for messages."""
    args = " ".join(cmdline(pid))
    return f"pid {pid} ({args[:120]}{'…' if len(args) > 120 else ''})" if args else f"pid {pid}"


def processes_with_arg(arg: str) -> list[int]:
    """Every other process one of whose arguments is exactly ``arg``."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for entry in PROC.iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                pid = int(entry.name)
                if arg in cmdline(pid) and alive(pid):
                    found.append(pid)
    return sorted(found)


def read_pid_file(path: Path) -> tuple[int, int | None] | None:
    """(process ID, owner's process ID if recorded) from a ``PID [OWNER]`` file."""
    try:
        parts = path.read_text().split()
        return int(parts[0]), (int(parts[1]) if len(parts) > 1 else None)
    except (OSError, ValueError, IndexError):
        return None


def port_in_use(port: int) -> bool:
    """Whether binding 127.0.0.1:``port`` fails (as Synapse's own bind would)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def listeners(port: int) -> list[int]:
    """Processes (that we may inspect) with a TCP socket listening on ``port``."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (PROC / "net" / table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    found: set[int] = set()
    if not inodes:
        return []
    with contextlib.suppress(OSError):
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                for fd in (entry / "fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) in inodes:
                            found.add(int(entry.name))
                            break
    return sorted(found)


def _signal(pid: int, sig: signal.Signals) -> None:
    """Signal the process, and its whole group when it leads one (Synapse runs in its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


async def terminate(pids: list[int], timeout: float = 15.0) -> list[int]:
    """SIGTERM ``pids`` (SIGKILL after ``timeout``); return those still alive after that."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    for sig_after, wait in ((signal.SIGKILL, timeout), (None, 5.0)):
        for _ in range(int(wait * 10)):
            if not any(alive(p) for p in pids):
                break
            await asyncio.sleep(0.1)
        if sig_after is not None:
            for pid in pids:
                if alive(pid):
                    _signal(pid, sig_after)
    return [p for p in pids if alive(p)]
