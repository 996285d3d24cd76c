"""Provides what the benchmarks share: a private Synapse, people, percentiles, RSS."""

from __future__ import annotations

import contextlib
import os
import resource
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from messenger.deploy.homeserver import EmbeddedSynapse, free_port, register_user
from messenger.deploy.scaled import ScaledSynapse
from tests.support import Member, OrgEnv


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
