"""Start two (or more) Synapse on loopback that federate with each other only, for development.

    python examples/federation.py                 # fresh servers in a temporary directory
    python examples/federation.py --dir .fed      # keep data (and ports) between runs
    python examples/federation.py --accounts      # also register @anna on home, @wanjiru on partner

It prints each server's name (``localhost:PORT``, which is also its TLS federation port with a
self-signed certificate), its client URL for Element or ``samverkan tui``, and an organisation
file skeleton whose partnership spans both servers. The servers run until Ctrl-C.

Accounts: register more with the shared secret printed below, e.g.
``register_new_matrix_user -u NAME -p PW --no-admin -k SECRET http://127.0.0.1:CLIENTPORT``.
For development only: certificates are not verified. See docs/federation.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import tempfile
import textwrap
from pathlib import Path

from messenger.deploy.federation import FederatedSynapse, LoopbackFederation
from messenger.deploy.homeserver import register_user

DEV_PASSWORD = "samverkan-dev"
ROLES = ["home", "partner"]


def describe(i: int, hs: FederatedSynapse) -> str:
    role = ROLES[i] if i < len(ROLES) else f"server {i + 1}"
    return textwrap.dedent(f"""\
        {role}: {hs.server_name}
          client API      {hs.url}
          federation API  {hs.federation_url}  (self-signed TLS)
          shared secret   {hs.shared_secret}
          data            {hs.data_dir}
    """)


def org_skeleton(home: FederatedSynapse, partner: FederatedSynapse) -> str:
    return textwrap.dedent(f"""\
        # organisation file skeleton (bots and provisioning live on the home server)
        [homeserver]
        server_name = "{home.server_name}"
        port = {home.port}
        partners = ["{partner.server_name}"]

        [[partnership]]
        name = "Kenya local democracy"
        partners = ["Sister party youth wing"]
        languages = ["en", "sw"]
        coordinators = ["@anna:{home.server_name}"]
        members = ["@wanjiru:{partner.server_name}"]
    """)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="data directory (default: a temporary one)")
    parser.add_argument("--count", type=int, default=2, help="how many servers (default 2)")
    parser.add_argument(
        "--accounts",
        action="store_true",
        help=f"register @anna on the first and @wanjiru on the second (password {DEV_PASSWORD})",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        root = args.dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        fed = LoopbackFederation(root, count=max(2, args.count))
        print(f"starting {len(fed.servers)} Synapse under {root} …", flush=True)
        await fed.start()
        try:
            for i, hs in enumerate(fed.servers):
                print(describe(i, hs))
            home, partner = fed.servers[:2]
            if args.accounts:
                for name, hs in (("anna", home), ("wanjiru", partner)):
                    user = await register_user(
                        hs.url, hs.shared_secret, name, DEV_PASSWORD, server_name=hs.server_name
                    )
                    print(f"account {user} (password {DEV_PASSWORD}) at {hs.url}")
                print()
            print(org_skeleton(home, partner))
            print("running; Ctrl-C stops both servers", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            print("stopping …", flush=True)
            await fed.stop()


if __name__ == "__main__":
    asyncio.run(main())
