"""Provides ``samverkan demo``: the example organisation, seeded accounts, a showcase, the TUI."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import re
import signal
import socket
import sys
from pathlib import Path

from pydantic import SecretStr

from messenger.config import OrgFile, Settings, load_org
from messenger.deploy.deployment import Deployment
from messenger.deploy.homeserver import free_port
from messenger.ids import localpart, server_of
from samverkan.context import DEMO_PASSPHRASE
from samverkan.paths import example_file

EXAMPLE = example_file("org.toml")
COORDINATOR = "anna"
SHOWCASE_MARKER = "showcase-ran"


def demo_password(user: str) -> str:
    """The printed password of a demo account."""
    return f"demo-{localpart(user)}"


def port_free(port: int) -> bool:
    """Whether nothing listens on the loopback port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def demo_org(port: int | None = None) -> OrgFile:
    """examples/org.toml, on ``port`` if given, else moved to a free port if 8008 is taken."""
    org = load_org(EXAMPLE)
    if port is None and not port_free(org.homeserver.port):
        port = free_port()
        print(f"port {org.homeserver.port} is taken; the demo homeserver uses {port}")
    if port is not None:
        org = org.model_copy(
            update={"homeserver": org.homeserver.model_copy(update={"port": port})}
        )
    return org


def org_text(org: OrgFile) -> str:
    """examples/org.toml's text with the port the demo really uses."""
    text = EXAMPLE.read_text()
    return re.sub(r"(?m)^port = \d+", f"port = {org.homeserver.port}", text, count=1)


def samverkan_command() -> str:
    """How to call this installation's ``samverkan`` (``.venv/bin/samverkan`` in a checkout)."""
    script = Path(sys.executable).parent / "samverkan"
    if not script.exists():
        return "samverkan"
    with contextlib.suppress(ValueError):
        return str(script.relative_to(Path.cwd()))
    return str(script)


async def showcase_once(deployment: Deployment, org: OrgFile, home: Path) -> None:
    """The showcase, once per data directory (a second demo must not repeat its messages)."""
    from samverkan.showcase import showcase

    marker = home / SHOWCASE_MARKER
    if marker.exists():
        print(
            f"\nthe showcase already ran in this data directory ({marker.read_text().strip()}); "
            f"its messages are in the rooms. Delete {marker} to run it again."
        )
        return
    marker.write_text(f"started {datetime.datetime.now().isoformat(timespec='seconds')}\n")
    await showcase(deployment, org, COORDINATOR, demo_password(COORDINATOR))


def demo_users(org: OrgFile) -> list[str]:
    """Every local person named in the organisation file."""
    people = {u for g in org.groups for u in g.everyone}
    return sorted(u for u in people if server_of(u) == org.homeserver.server_name)


async def seed(deployment: Deployment, org: OrgFile) -> None:
    """Register the demo people and print their passwords."""
    print("demo accounts (password in brackets):")
    for user in demo_users(org):
        user_id, _ = await deployment.ensure_account(user, demo_password(user))
        print(f"  {user_id}  [{demo_password(user)}]")


async def run_demo(args: argparse.Namespace) -> int:
    """Run ``up`` on the example organisation, show the bots at work, then open the TUI."""
    from samverkan.discover import DEMO_HOME, command_lines, write_pointer
    from samverkan.running import run_until_signal

    org = demo_org(getattr(args, "port", None))
    home = Path(os.environ.get("SAMVERKAN_HOME", str(DEMO_HOME))).absolute()  # noqa: ASYNC240
    print(f"demo data in {home}; the demo passphrase is {DEMO_PASSPHRASE!r} (demo only!)")
    fast = os.environ.get("SAMVERKAN_FAST_KDF") == "1"  # tests only
    settings = Settings(home=home, passphrase=SecretStr(DEMO_PASSPHRASE), org=org, fast_kdf=fast)

    async def on_ready(deployment: Deployment) -> None:
        await showcase_once(deployment, org, home)
        print(f"\nConnect Element to {deployment.url} and log in as any demo account above.")
        pointer = write_pointer(home, org_text(org), deployment.url)
        print("\nThe CLI reaches this demo while it runs; the exact command lines:")
        for line in command_lines(pointer, DEMO_PASSPHRASE, samverkan_command()):
            print(f"  {line}")
        if args.showcase_only:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        if not args.no_tui and sys.stdin.isatty() and sys.stdout.isatty():
            from samverkan.tui_entry import open_tui_in_process

            await open_tui_in_process(
                settings,
                deployment.url,
                f"@{COORDINATOR}:{org.homeserver.server_name}",
                demo_password(COORDINATOR),
            )
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            print("running; press Ctrl-C to stop", flush=True)

    deployment = await Deployment.open(settings)
    try:
        await deployment.start_homeserver()
        await seed(deployment, org)
    finally:
        await deployment.close()
    await run_until_signal(settings, on_ready)
    return 0
