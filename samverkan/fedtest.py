"""Provides ``samverkan up --federation-test``: the organisation on two loopback Synapse that
federate with each other only, for development and tests."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from messenger.config import OrgFile, Settings, load_org
from samverkan.context import UsageProblem, passphrase
from samverkan.running import FEDERATION_CONFIG, run_until_signal

if TYPE_CHECKING:
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.federation import LoopbackFederation

FEDERATION_TEST_PASSWORD = "dev-{localpart}"


def federation_test_root() -> Path:
    """Where ``up --federation-test`` keeps both servers and the bots' data."""
    return Path(os.environ.get("SAMVERKAN_HOME", ".samverkan")).absolute() / "federation-test"


async def run_federation_test(args: argparse.Namespace) -> int:
    """``up --federation-test``: the organisation on two loopback Synapse federating together.

    Our server runs the bots; every partner server in the file becomes the second Synapse,
    where the partner people get accounts. Both stop on SIGINT/SIGTERM.
    """
    from pydantic import SecretStr

    from messenger.deploy.deployment import Deployment
    from messenger.deploy.federation import LoopbackFederation, loopback_org, people_by_server
    from messenger.deploy.homeserver import register_user
    from messenger.ids import localpart

    source = load_org(args.config or FEDERATION_CONFIG)
    if not source.homeserver.partners:
        raise UsageProblem(
            f"{args.config}: [homeserver] partners names no partner homeserver, so there is "
            f"nothing to federate with; add one, or run without --config ({FEDERATION_CONFIG})"
        )
    root = federation_test_root()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    fed = LoopbackFederation(root, count=2)
    home, partner = fed.servers
    org = loopback_org(source, home, partner)
    settings = Settings(
        home=root / "samverkan",
        passphrase=SecretStr(passphrase()),
        org=org,
        fast_kdf=os.environ.get("SAMVERKAN_FAST_KDF") == "1",
    )
    people = people_by_server(org)
    print(f"federation test: two Synapse under {root} …", flush=True)
    try:
        await fed.start()
        if stop.is_set():
            return 0
        deployment = await Deployment.open(settings, home)
        try:
            for user in people.get(home.server_name, []):
                pw = FEDERATION_TEST_PASSWORD.format(localpart=localpart(user))
                await deployment.ensure_account(user, pw)
        finally:
            await deployment.close()
        for user in people.get(partner.server_name, []):
            name = localpart(user)
            pw = FEDERATION_TEST_PASSWORD.format(localpart=name)
            await register_user(
                partner.url, partner.shared_secret, name, pw, server_name=partner.server_name
            )
        if stop.is_set():
            return 0

        async def on_ready(deployment: Deployment) -> None:
            await print_federation_test(source, fed, people, deployment)

        await run_until_signal(settings, on_ready, synapse=home)
    finally:
        print("stopping both homeservers…", flush=True)
        await fed.stop()
    return 0


async def print_federation_test(
    source: OrgFile, fed: LoopbackFederation, people: dict[str, list[str]], deployment: Deployment
) -> None:
    """What is where: servers, URLs, logins and the rooms, once the bots run."""
    from messenger.deploy.provision import Provisioner
    from messenger.ids import localpart

    home, partner = fed.servers
    service = await deployment.service_session()
    try:
        rooms = await Provisioner(service, deployment.settings.org).existing()
    finally:
        await service.close()
    lines = ["", "federation test: two Synapse on loopback, federating with each other only"]
    for role, hs, names in (
        ("home", home, [source.homeserver.server_name]),
        ("partner", partner, source.homeserver.partners),
    ):
        lines += [
            f"  {role} server {hs.server_name} (the file's {', '.join(names)})",
            f"    client API      {hs.url}",
            f"    federation API  {hs.federation_url}  (self-signed TLS)",
        ]
    lines.append("logins (development passwords):")
    for role, hs in (("home", home), ("partner", partner)):
        for user in people.get(hs.server_name, []):
            pw = FEDERATION_TEST_PASSWORD.format(localpart=localpart(user))
            lines.append(f"  {role} login {user} {pw} {hs.url}")
    lines.append("rooms (on both servers once the partners join):")
    for slug, state in sorted(rooms.items()):
        lines.append(f"  room {slug} {state.room_id}")
    lines.append("federation test ready; Ctrl-C stops the bots and both servers")
    print("\n".join(lines), flush=True)
