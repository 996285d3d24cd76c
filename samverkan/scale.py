"""Provides ``python -m samverkan.scale``: the scaled homeserver (Synapse with PostgreSQL, Redis
and workers behind nginx) for development, and ``make scale-test``, which starts it, runs the
tests that matter against it and stops every process it started.

- ``up [--data DIR] [--config org.toml]``: start it (in DIR/homeserver) and keep it running
  until SIGINT/SIGTERM; with ``--config``, register the organisation's bot and service
  accounts on it first (kept in $SAMVERKAN_HOME), so that ``samverkan up`` with
  ``[homeserver] url`` set to the URL it prints runs the bots against it.
- ``test [--data DIR] [--bench SIZES] [-- PYTEST ARGS]``: a fresh deployment in DIR/homeserver,
  then the routing, exactly-once, E2EE-scenario and soak tests with
  ``SAMVERKAN_TEST_SCALED=DIR/homeserver`` (the test fixture then uses it instead of an
  embedded Synapse; their temporary files stay in DIR/pytest), then optionally the scaling
  bench on an embedded Synapse and then on it, in the same run (both series, and the CPU each
  part of the deployment used, go to a section of bench/RESULTS.md that ``make bench`` keeps);
  the exit code of the first failing step.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from messenger.config import Settings, load_org
from messenger.deploy.deployment import Deployment
from messenger.deploy.scaled import ScaledSynapse
from messenger.errors import MessengerError
from samverkan.context import passphrase

DEFAULT_DATA = Path(".samverkan-scale")
RESULTS = Path(__file__).resolve().parents[1] / "bench" / "RESULTS.md"
RESULTS_SECTION = "## Scaling on the scaled homeserver (make scale-test)"
TESTS = [
    "tests/messenger/test_scaled.py",
    "tests/bots/test_exactly_once.py",
    "tests/e2ee",
    "tests/reliability/test_soak.py",
]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its reaped children used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The process's live children (PostgreSQL's backends, nginx's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    found.append(int(entry.name))
    return found


def part_pids(hs: ScaledSynapse) -> dict[str, int | None]:
    """The main process ID of each part of the deployment (None when it is not running)."""
    postmaster = None  # postmaster.pid: the process ID, then the data directory, …
    with contextlib.suppress(OSError, ValueError, IndexError):
        postmaster = int((hs.postgres.data / "postmaster.pid").read_text().split()[0])
    pids: dict[str, int | None] = {"postgresql": postmaster}
    return pids | {d.name: d.running() for d in (hs.redis, hs.nginx, *hs.synapses)}


async def sample_cpu(hs: ScaledSynapse, used: dict[str, dict[int, tuple[float, float]]]) -> None:
    """Every second, each part's CPU seconds (with its children) into ``used``: part →
    process ID → (first seen, last seen), so that processes restarted meanwhile count too."""
    while True:
        for part, pid in part_pids(hs).items():
            if pid:
                now = cpu_s(pid) + sum(cpu_s(c) for c in children(pid))
                first, _ = used.setdefault(part, {}).get(pid, (now, now))
                used[part][pid] = (first, now)
        await asyncio.sleep(1.0)


def create(root: Path, counts: dict[str, int]) -> ScaledSynapse:
    """The deployment in ``root`` (a new one with this many workers of each kind)."""
    return ScaledSynapse.create(
        root,
        synchrotrons=counts["synchrotrons"],
        client_workers=counts["client_workers"],
        persisters=counts["persisters"],
    )


def show(hs: ScaledSynapse) -> None:
    """What runs where."""
    print(f"scaled homeserver in {hs.root}: clients use {hs.url}", flush=True)
    for name, role, where in hs.describe():
        print(f"  {name:<22} {where:<28} {role}", flush=True)


async def step(argv: list[str], env: dict[str, str], out: list[str] | None = None) -> int:
    """Run one step as a child process (SIGINT/SIGTERM to us are passed on); its exit code.
    With ``out``, its output lines are also collected there."""
    print(f"== {' '.join(argv)}", flush=True)
    pipe = asyncio.subprocess.PIPE if out is not None else None
    proc = await asyncio.create_subprocess_exec(*argv, env={**os.environ, **env}, stdout=pipe)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, proc.send_signal, sig)
    try:
        if out is not None and proc.stdout is not None:
            async for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip()
                print(line, flush=True)
                if line.strip() and "recovery key" not in line:  # never a key in a report
                    out.append(line)
        return await proc.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def bench_both(hs: ScaledSynapse, sizes: str) -> int:
    """The scaling bench on an embedded Synapse, then on ``hs``, in the same run; both series
    and the CPU each part of the deployment used go to bench/RESULTS.md."""
    python = sys.executable
    argv = [python, "-m", "bench.scaling_bench", "--sizes", sizes]
    load = [loadavg()]
    embedded: list[str] = []
    code = await step(argv, {}, embedded)
    load.append(loadavg())
    await hs.start()  # whatever a test stopped
    scaled: list[str] = []
    used: dict[str, dict[int, tuple[float, float]]] = {}
    sampler = asyncio.create_task(sample_cpu(hs, used))
    try:
        code = await step(argv, {"SAMVERKAN_BENCH_SCALED": str(hs.root)}, scaled) or code
    finally:
        sampler.cancel()
    load.append(loadavg())
    cpu = [
        f"  {part:<22} {sum(last - first for first, last in by_pid.values()):8.1f} s"
        for part, by_pid in used.items()
    ]
    print("CPU seconds each part of the deployment used during its bench:", *cpu, sep="\n")
    write_results(sizes, embedded, scaled, cpu, load)
    return code


def loadavg() -> str:
    """The machine's 1-minute load average."""
    with contextlib.suppress(OSError, IndexError):
        return Path("/proc/loadavg").read_text().split()[0]
    return "?"


def write_results(
    sizes: str, embedded: list[str], scaled: list[str], cpu: list[str], load: list[str]
) -> None:
    """Put (or replace) the scaled homeserver's section at the end of bench/RESULTS.md."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    section = [
        RESULTS_SECTION,
        "",
        f"`make scale-test SCALE_BENCH={sizes}`, run {when} on {os.cpu_count()} cores; the two "
        "series one after the other in the same run. 1-minute load average before / between / "
        f"after: {' / '.join(load)} (other work shares this machine). In the scaled series "
        "'Synapse CPU' counts the main process only; the table after it counts every part.",
        "",
        "Embedded Synapse (one process, SQLite):",
        "",
        "```",
        *embedded,
        "```",
        "",
        "Scaled homeserver (nginx, PostgreSQL, Redis, Synapse main + event persister + "
        "synchrotron + client worker):",
        "",
        "```",
        *scaled,
        "```",
        "",
        "CPU seconds each part of the scaled deployment used during its series:",
        "",
        "```",
        *cpu,
        "```",
        "",
    ]
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if RESULTS_SECTION in text:
        start = text.index(RESULTS_SECTION)
        end = text.find("\n## ", start + 1)
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    RESULTS.write_text(text.rstrip("\n") + "\n\n" + "\n".join(section))
    print(f"wrote the scaled homeserver's series to {RESULTS}", flush=True)


async def test(work: Path, counts: dict[str, int], bench: str | None, args: list[str]) -> int:
    """A fresh deployment in ``work/homeserver``, the tests (their temporary files, logs of
    the bots included, in ``work/pytest``) and the bench against it, then everything stopped."""
    data = work / "homeserver"
    if (data / "scaled.json").exists():
        await ScaledSynapse.attach(data).shutdown()  # a killed earlier run's processes
    shutil.rmtree(work, ignore_errors=True)
    hs = create(data, counts)
    env = {"SAMVERKAN_TEST_SCALED": str(data)}
    try:
        await hs.start()
        show(hs)
        python = sys.executable
        pytest = [python, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
        code = await step([*pytest, f"--basetemp={work / 'pytest'}", *(args or TESTS)], env)
        if code == 0 and bench:
            code = await bench_both(hs, bench)
        return code
    finally:
        await hs.shutdown()
        print(f"stopped every process of {hs.root}", flush=True)


def org_settings(config: Path) -> Settings:
    """The organisation file with $SAMVERKAN_HOME and its passphrase (asked if not set)."""
    from pydantic import SecretStr

    home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan")).absolute()
    fast = os.environ.get("SAMVERKAN_FAST_KDF") == "1"
    org = load_org(config)
    return Settings(home=home, passphrase=SecretStr(passphrase()), org=org, fast_kdf=fast)


async def register_accounts(hs: ScaledSynapse, settings: Settings, config: Path) -> None:
    """Register the organisation's bot and service accounts on ``hs`` (its shared secret) and
    keep their passwords in $SAMVERKAN_HOME, as ``samverkan up`` does on its embedded server:
    then ``samverkan up`` with ``[homeserver] url`` set to ``hs.url`` runs the bots there."""
    org = settings.org
    deployment = await Deployment.open(settings, hs)  # type: ignore[arg-type]
    try:
        for bot in org.bot_user_ids().values():
            await deployment.ensure_account(bot)
        await deployment.ensure_account(org.service_user_id(), admin=True)
    finally:
        await deployment.close()
    print(f"accounts of {config} registered, kept in {settings.home}", flush=True)
    if org.homeserver.url != hs.url:
        print(f'set [homeserver] url = "{hs.url}" in {config}', flush=True)
    print(f"then: SAMVERKAN_HOME={settings.home} samverkan up --config {config}", flush=True)


async def up(
    work: Path, counts: dict[str, int], config: Path | None, settings: Settings | None
) -> int:
    """Start (or reuse) the deployment in ``work/homeserver`` (and register the accounts of
    the organisation file ``config`` on it); stop it on SIGINT/SIGTERM."""
    hs = create(work / "homeserver", counts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await hs.start()
        show(hs)
        if config and settings:
            await register_accounts(hs, settings, config)
        print("running until Ctrl-C", flush=True)
        await stop.wait()
    finally:
        await hs.shutdown()
        print(f"stopped every process of {hs.root}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samverkan.scale", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "test"):
        sp = sub.add_parser(name)
        sp.add_argument(
            "--data", type=Path, default=DEFAULT_DATA, help="its directory (default %(default)s)"
        )
        for kind in ("synchrotrons", "client-workers", "persisters"):
            sp.add_argument(f"--{kind}", type=int, default=1, help="how many (a new deployment)")
    sub.choices["up"].add_argument(
        "--config", type=Path, help="register this organisation's bot and service accounts"
    )
    sub.choices["test"].add_argument(
        "--bench", metavar="SIZES", help="then the scaling bench at these room counts (10,100)"
    )
    sub.choices["test"].add_argument("pytest_args", nargs="*", help="tests instead of the set")
    args = parser.parse_args(argv)
    data = args.data.absolute()
    counts = {
        "synchrotrons": args.synchrotrons,
        "client_workers": args.client_workers,
        "persisters": args.persisters,
    }
    if min(counts.values()) < 1:
        parser.error("each kind of worker needs at least one")
    try:
        if args.command == "up":
            settings = org_settings(args.config) if args.config else None
            return asyncio.run(up(data, counts, args.config, settings))
        return asyncio.run(test(data, counts, args.bench, args.pytest_args))
    except MessengerError as e:
        print(f"scaled homeserver: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
