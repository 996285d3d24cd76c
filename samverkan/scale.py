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
  bench against it; the exit code of the first failing step.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

from messenger.config import Settings, load_org
from messenger.deploy.deployment import Deployment
from messenger.deploy.scaled import ScaledSynapse
from messenger.errors import MessengerError
from samverkan.context import passphrase

DEFAULT_DATA = Path(".samverkan-scale")
TESTS = [
    "tests/messenger/test_scaled.py",
    "tests/bots/test_exactly_once.py",
    "tests/e2ee",
    "tests/reliability/test_soak.py",
]


def show(hs: ScaledSynapse) -> None:
    """What runs where."""
    print(f"scaled homeserver in {hs.root}: clients use {hs.url}", flush=True)
    for name, role, where in hs.describe():
        print(f"  {name:<22} {where:<28} {role}", flush=True)


async def step(argv: list[str], env: dict[str, str]) -> int:
    """Run one step as a child process (SIGINT/SIGTERM to us are passed on); its exit code."""
    print(f"== {' '.join(argv)}", flush=True)
    proc = await asyncio.create_subprocess_exec(*argv, env={**os.environ, **env})
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, proc.send_signal, sig)
    try:
        return await proc.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def test(work: Path, bench: str | None, pytest_args: list[str]) -> int:
    """A fresh deployment in ``work/homeserver``, the tests (their temporary files, logs of
    the bots included, in ``work/pytest``) and the bench against it, then everything stopped."""
    data = work / "homeserver"
    if (data / "scaled.json").exists():
        await ScaledSynapse.attach(data).shutdown()  # a killed earlier run's processes
    shutil.rmtree(work, ignore_errors=True)
    hs = ScaledSynapse.create(data)
    env = {"SAMVERKAN_TEST_SCALED": str(data)}
    try:
        await hs.start()
        show(hs)
        python = sys.executable
        pytest = [python, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider"]
        code = await step([*pytest, f"--basetemp={work / 'pytest'}", *(pytest_args or TESTS)], env)
        if code == 0 and bench:
            await hs.start()  # whatever a test stopped
            bench_env = {"SAMVERKAN_BENCH_SCALED": str(data)}
            code = await step([python, "-m", "bench.scaling_bench", "--sizes", bench], bench_env)
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


async def up(work: Path, config: Path | None, settings: Settings | None) -> int:
    """Start (or reuse) the deployment in ``work/homeserver`` (and register the accounts of
    the organisation file ``config`` on it); stop it on SIGINT/SIGTERM."""
    hs = ScaledSynapse.create(work / "homeserver")
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
    sub.choices["up"].add_argument(
        "--config", type=Path, help="register this organisation's bot and service accounts"
    )
    sub.choices["test"].add_argument(
        "--bench", metavar="SIZES", help="then the scaling bench at these room counts (10,100)"
    )
    sub.choices["test"].add_argument("pytest_args", nargs="*", help="tests instead of the set")
    args = parser.parse_args(argv)
    data = args.data.absolute()
    try:
        if args.command == "up":
            settings = org_settings(args.config) if args.config else None
            return asyncio.run(up(data, args.config, settings))
        return asyncio.run(test(data, args.bench, args.pytest_args))
    except MessengerError as e:
        print(f"scaled homeserver: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
