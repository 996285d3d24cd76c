"""Provides what the benchmarks share: a private Synapse, people, the bare nio echo bot (the
floor every bot number is a ratio to), bot processes, percentiles, RSS, CPU and load."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    RoomMessageText,
)

from messenger.config import BotSettings
from messenger.deploy.homeserver import EmbeddedSynapse, free_port, register_user
from messenger.deploy.scaled import ScaledSynapse
from tests.support import Member, OrgEnv

ROOT = Path(__file__).resolve().parents[1]
ECHOED = frozenset({"!ping", "!tz"})
"""The commands the echo bot answers (the ones the benchmarks send)."""


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident set size (VmHWM) of a process, in MB."""
    path = Path(f"/proc/{pid or 'self'}/status")
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far, in seconds (0 if unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    """The machine's load average (1, 5, 15 min): numbers on a busy machine are noisy."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def summary(name: str, ms: list[float]) -> str:
    """``name: p50 … p95 … p99 … ms (n=…)``."""
    return (
        f"{name}: p50 {pct(ms, 50):.1f} ms, p95 {pct(ms, 95):.1f} ms, "
        f"p99 {pct(ms, 99):.1f} ms (n={len(ms)})"
    )


@dataclass
class Bench:
    """A private Synapse with helpers to make people and an organisation on it."""

    synapse: EmbeddedSynapse
    tmp: Path
    members: list[Member] = field(default_factory=list)

    async def user(self, prefix: str) -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        user_id = await register_user(
            self.synapse.url,
            self.synapse.shared_secret,
            name,
            f"pw-{name}",
            server_name="localhost",
        )
        return user_id, f"pw-{name}"

    async def member(self, user_id: str, password: str) -> Member:
        m = await Member.login(
            self.synapse.url, user_id, password, self.tmp / f"m{len(self.members)}"
        )
        self.members.append(m)
        return m

    def org(self) -> OrgEnv:
        return OrgEnv(self.synapse, self.tmp / "home", uuid.uuid4().hex[:8], self.user)


BOTS: list[str] = list(BotSettings().enabled)
"""The bots an organisation runs by default (all five): rooms are as members see them."""


@contextlib.asynccontextmanager
async def bench_env() -> AsyncIterator[Bench]:
    """Start a Synapse in a temp dir; stop it and every member afterwards."""
    with tempfile.TemporaryDirectory(prefix="samverkan-bench-") as d:
        tmp = Path(d)
        hs = EmbeddedSynapse(tmp / "synapse", "localhost", free_port())
        scaled = os.environ.get("SAMVERKAN_BENCH_SCALED")  # python -m samverkan.scale test --bench
        if scaled:  # the scaled homeserver's directory (README, "Past one machine") instead
            hs = ScaledSynapse.attach(Path(scaled))  # type: ignore[assignment]
        await hs.start()
        env = Bench(hs, tmp)
        try:
            yield env
        finally:
            for m in env.members:
                await m.close()
            await hs.stop()


class EchoBot:
    """A bare nio client answering ``!ping``/``!tz`` with an encrypted threaded notice: what a
    bot costs at the least (no filter, no store, no exactly-once). It joins every room it is
    invited to, and answers only while ``answering`` is set."""

    def __init__(self, url: str, user_id: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.user_id = user_id
        self.client = AsyncClient(
            url,
            user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.answering = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._joins: set[asyncio.Task[None]] = set()
        self._joining = asyncio.Semaphore(8)

    async def start(self, password: str) -> None:
        """Log in, take the first sync, and keep syncing in the background."""
        await self.client.login(password)
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=30000))

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            task = asyncio.create_task(self._join(room.room_id))  # not one room at a time
            self._joins.add(task)
            task.add_done_callback(self._joins.discard)

    async def _join(self, room_id: str) -> None:
        async with self._joining:
            await self.client.join(room_id)

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.body in ECHOED and event.sender != self.user_id and self.answering.is_set():
            relates = {
                "rel_type": "m.thread",
                "event_id": event.event_id,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": event.event_id},
            }
            await self.client.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.notice", "body": "pong", "m.relates_to": relates},
                ignore_unverified_devices=True,
                tx_id=uuid.uuid4().hex,
            )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=10)
        await self.client.close()


async def bot_process(
    org_file: Path, home: Path, bots: list[str] | None = None
) -> asyncio.subprocess.Process:
    """``samverkan up`` (with ``--bots`` when given) as a child process."""
    env = {
        **os.environ,
        "SAMVERKAN_HOME": str(home),
        "SAMVERKAN_PASSPHRASE": "test passphrase",
        "SAMVERKAN_FAST_KDF": "1",
        "PYTHONPATH": str(ROOT),
    }
    extra = ["--bots", ",".join(bots)] if bots else []
    profile = os.environ.get("SAMVERKAN_BENCH_PROFILE")  # pyinstrument's report goes there
    runner = (
        ["-m", "pyinstrument", "-r", "pstats", "-o", f"{profile}.{time.time_ns()}"]
        if profile
        else []
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *runner,
        "-m",
        "samverkan",
        "up",
        "--config",
        str(org_file),
        *extra,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def server_turnaround_ms(member: Member, command_id: str, reply: dict[str, Any]) -> float | None:
    """The homeserver's clock from a command to its reply (None if the command is not seen)."""
    sent = next((e for _r, e in reversed(member.events) if e.event_id == command_id), None)
    if sent is None:
        return None
    return float(reply["origin_server_ts"] - sent.server_timestamp)


class Answers:
    """A member's answers by the event they answer, indexed as its timeline grows.

    ``Member.replies_to`` reads the whole timeline on every look: in hundreds of rooms with
    twenty commands in flight the benchmark's own client, not the bots, became the bottleneck.
    """

    def __init__(self, member: Member) -> None:
        self.member = member
        self._seen = 0
        self._undecrypted: list[int] = []
        self._answers: dict[str, list[dict[str, Any]]] = {}
        self._ts: dict[str, int] = {}

    def _scan(self) -> None:
        events = self.member.events
        again = []
        for i in [*self._undecrypted, *range(self._seen, len(events))]:
            ev = events[i][1]
            if isinstance(ev, MegolmEvent):
                again.append(i)
                continue
            src = getattr(ev, "source", {})
            self._ts[src.get("event_id", "")] = int(src.get("origin_server_ts", 0))
            content = src.get("content", {})
            rel = content.get("m.relates_to", {}) if isinstance(content, dict) else {}
            reply = rel.get("m.in_reply_to", {}) if isinstance(rel, dict) else {}
            target = reply.get("event_id") if isinstance(reply, dict) else None
            if isinstance(target, str):
                self._answers.setdefault(target, []).append(src)
        self._seen, self._undecrypted = len(events), again

    def to(self, event_id: str, sender: str) -> list[dict[str, Any]]:
        """The decrypted answers to ``event_id`` from ``sender`` seen so far."""
        self._scan()
        return [a for a in self._answers.get(event_id, []) if a.get("sender") == sender]

    async def wait(self, event_id: str, sender: str, timeout: float) -> dict[str, Any]:
        """The first answer to ``event_id`` from ``sender``."""

        async def answered() -> bool:
            return bool(self.to(event_id, sender))

        await self.member.wait_until(answered, timeout)
        return self.to(event_id, sender)[0]

    def turnaround_ms(self, event_id: str, answer: dict[str, Any]) -> float | None:
        """The homeserver's clock from ``event_id`` to ``answer`` (None if not seen)."""
        sent = self._ts.get(event_id)
        return None if sent is None else float(answer["origin_server_ts"] - sent)
