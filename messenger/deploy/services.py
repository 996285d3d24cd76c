"""Provides the system services of the scaled homeserver as child processes on loopback: a
PostgreSQL cluster of its own, and ``Daemon`` (Redis, nginx, each Synapse process) with a pid
file, found again by its config path after a killed run, and stopped with its process group.

PostgreSQL refuses to run as root: started by root, the cluster belongs to the ``postgres``
account (created by Debian's package) and its tools run through ``runuser``.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from messenger.deploy import leftovers
from messenger.errors import HomeserverError

PG_ACCOUNT = "postgres"
TAIL = 1500  # characters of a log shown when a service fails to start


def tool(name: str) -> str:
    """The path of a system program: on PATH, else PostgreSQL's newest bindir (Debian keeps
    initdb and pg_ctl in /usr/lib/postgresql/<version>/bin)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=path)  # nginx lives in /usr/sbin, off a user's PATH
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")

    def version(path: str) -> float:
        with contextlib.suppress(ValueError):
            return float(Path(path).parents[1].name)
        return 0.0

    if candidates:
        return max(candidates, key=version)
    raise HomeserverError(f"{name} is not installed (see `make scale-test` for the packages)")


def tail(path: Path) -> str:
    """The end of a log file, for an error message."""
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-TAIL:]
    return "(no log)"


async def run(
    argv: list[str], what: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> str:
    """Run a command to its end; its output, or HomeserverError naming ``what`` failed."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise HomeserverError(f"{what} failed (exit {proc.returncode}):\n{text[-TAIL:]}")
    return text


def mentions(pid: int, text: str) -> bool:
    """Whether the process's command line holds ``text`` (nginx and Redis rewrite theirs into
    one string, so an argument is looked for as a part of it)."""
    return text in " ".join(leftovers.cmdline(pid))


def processes_mentioning(text: str) -> list[int]:
    """Every other live process whose command line holds ``text``."""
    found = []
    with contextlib.suppress(OSError):
        for entry in leftovers.PROC.iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                pid = int(entry.name)
                if mentions(pid, text) and leftovers.alive(pid):
                    found.append(pid)
    return sorted(found)


@dataclass
class Daemon:
    """One long-running child process: started in a session of its own (its group is signalled
    on stop), recorded in ``run_dir/<name>.pid``, and recognised by ``marker`` — an argument
    only it has (its config file) — so a copy left by a killed run is found and stopped."""

    name: str
    argv: list[str]
    marker: str
    run_dir: Path
    log: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid_path(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    def running(self) -> int | None:
        """The process ID if this daemon runs (whoever started it)."""
        pids = self._pids()
        return pids[0] if pids else None

    def _pids(self) -> list[int]:
        found = set(processes_mentioning(self.marker))
        recorded = leftovers.read_pid_file(self.pid_path)
        if recorded and leftovers.alive(recorded[0]) and mentions(recorded[0], self.marker):
            found.add(recorded[0])
        return sorted(found)

    def exited(self) -> int | None:
        """The exit code if the child this object started has died."""
        return self._proc.poll() if self._proc else None

    async def start(self) -> None:
        """Spawn it unless it already runs."""
        if self.running():
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)

        def spawn() -> subprocess.Popen[bytes]:
            with open(self.log, "ab") as log:
                return subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

        self._proc = await asyncio.to_thread(spawn)
        self.pid_path.write_text(f"{self._proc.pid}\n")

    async def stop(self) -> None:
        """Stop every copy of it (SIGTERM to the group, SIGKILL after 15 s) and reap ours."""
        pids = self._pids()
        stuck = await leftovers.terminate(pids) if pids else []
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self._proc.wait, 5)
            self._proc = None
        if stuck:
            raise HomeserverError(
                f"{self.name} does not stop: " + ", ".join(leftovers.describe(p) for p in stuck)
            )
        self.pid_path.unlink(missing_ok=True)


class Postgres:
    """A PostgreSQL cluster under ``root`` listening on 127.0.0.1:``port`` only, with one
    superuser ``synapse`` (password login) and a ``synapse`` database in the C locale."""

    def __init__(self, root: Path, port: int, password: str) -> None:
        self.root = root
        self.port = port
        self.password = password

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def _as_owner(self, argv: list[str]) -> list[str]:
        """``argv`` run as the cluster's owner: the postgres account when we are root."""
        if os.geteuid() != 0:
            return argv
        return [tool("runuser"), "-u", PG_ACCOUNT, "--", *argv]

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(PG_ACCOUNT)
            except KeyError:
                raise HomeserverError(
                    f"running as root, PostgreSQL needs the {PG_ACCOUNT!r} account "
                    "(Debian's postgresql package creates it)"
                ) from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    async def start(self) -> None:
        """initdb on first use, then pg_ctl start (waits until it accepts connections)."""
        self._prepare_root()
        if not (self.data / "PG_VERSION").exists():
            pwfile = self.root / "initdb.pw"
            pwfile.write_text(self.password + "\n")
            os.chmod(pwfile, 0o600)
            if os.geteuid() == 0:
                owner = pwd.getpwnam(PG_ACCOUNT)
                os.chown(pwfile, owner.pw_uid, owner.pw_gid)
            try:
                await run(
                    self._as_owner(
                        [
                            tool("initdb"),
                            "-D",
                            str(self.data),
                            "-U",
                            "synapse",
                            f"--pwfile={pwfile}",
                            "-E",
                            "UTF8",
                            "--locale=C",
                            "--auth-local=peer",
                            "--auth-host=scram-sha-256",
                        ]
                    ),
                    "initdb",
                    cwd=self.root,
                )
            finally:
                pwfile.unlink(missing_ok=True)
        if await self.running():
            return
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        try:
            await run(
                self._as_owner(
                    [tool("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options]
                    + ["-w", "-t", "60", "start"]
                ),
                "starting PostgreSQL",
                cwd=self.root,
            )
        except HomeserverError as e:
            raise HomeserverError(f"{e}\n{self.log}:\n{tail(self.log)}") from None
        await self._ensure_database()

    async def running(self) -> bool:
        """Whether the cluster's postmaster runs."""
        if not (self.data / "postmaster.pid").exists():
            return False
        proc = await asyncio.create_subprocess_exec(
            *self._as_owner([tool("pg_ctl"), "-D", str(self.data), "status"]),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await proc.wait() == 0

    async def _ensure_database(self) -> None:
        env = {"PGPASSWORD": self.password}
        base = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "synapse"]
        listed = await run(
            [tool("psql"), *base, "-d", "postgres", "-Atc", "SELECT datname FROM pg_database"],
            "listing the databases",
            env,
        )
        if "synapse" not in listed.split():
            await run(
                [tool("createdb"), *base, "-E", "UTF8", "--locale=C", "-T", "template0"]
                + ["synapse"],
                "creating the synapse database",
                env,
            )

    async def stop(self) -> None:
        """pg_ctl stop (fast: disconnects clients, then a clean shutdown)."""
        if await self.running():
            await run(
                self._as_owner([tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                "stopping PostgreSQL",
                cwd=self.root,
            )
