"""Resolves what a command works on: organisation file, data directory and passphrase."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from messenger.config import OrgFile, Settings, load_org
from messenger.errors import MessengerError

DEFAULT_CONFIG = Path("org.toml")
DEMO_PASSPHRASE = "samverkan-demo-passphrase"


class UsageProblem(MessengerError):
    """A CLI argument or environment problem, reported without a traceback."""


def passphrase(prompt: bool = True, new_store: Path | None = None) -> str:
    """The passphrase from $SAMVERKAN_PASSPHRASE or a prompt; asked twice when it will create
    the store ``new_store`` (a typo would otherwise lock the new store with it)."""
    value = os.environ.get("SAMVERKAN_PASSPHRASE")
    if value:
        return value
    if prompt and sys.stdin.isatty():
        if new_store is None or new_store.exists():
            return getpass.getpass("Samverkan passphrase: ")
        print(f"there is no encrypted store at {new_store.parent} yet; a new one will be made")
        first = getpass.getpass("passphrase for the new store: ")
        if getpass.getpass("the same passphrase again: ") != first:
            raise UsageProblem(
                "the two passphrases differ; nothing was created. Run the command again "
                "(or set SAMVERKAN_HOME if you meant an existing data directory)"
            )
        return first
    raise UsageProblem(
        "no passphrase: set SAMVERKAN_PASSPHRASE or run in a terminal to be asked for it"
    )


# Commands that only read a data directory: they never create one.
READ_ONLY = {"status", "ledger", "audit", "transparency"}
# Commands that may run against a homeserver whose data directory is another one.
ANY_HOMESERVER = {"tui", "up", "demo"}


def settings_for(args: argparse.Namespace, org: OrgFile | None = None) -> Settings:
    """Settings from the CLI arguments and environment — or, with neither an organisation
    file nor $SAMVERKAN_HOME, from the demo in the current directory (.samverkan-demo)."""
    from pydantic import SecretStr

    from samverkan.discover import find_demo, other_homeserver

    fast = os.environ.get("SAMVERKAN_FAST_KDF") == "1"
    command = getattr(args, "command", "")
    demo = None if org else find_demo(getattr(args, "config", None), DEFAULT_CONFIG)
    if demo is not None:
        note = f"using the demo: data in {demo.home}, organisation file {demo.config}"
        print(note, file=sys.stderr)
        org, home = load_org(demo.config), demo.home
    else:
        org = org or load_org(getattr(args, "config", None) or DEFAULT_CONFIG)
        home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan")).resolve()
    if command not in ANY_HOMESERVER:
        problem = other_homeserver(org, home)
        if problem:
            raise UsageProblem(problem)
    vault = home / "vault.json"
    if command in READ_ONLY and not vault.exists():
        raise UsageProblem(
            f"no Samverkan data in {home} (no vault.json): set SAMVERKAN_HOME to the data "
            "directory of `samverkan up`, or run the command where `make demo` ran"
        )
    if demo is not None:
        secret = os.environ.get("SAMVERKAN_PASSPHRASE") or DEMO_PASSPHRASE
    else:
        secret = passphrase(new_store=vault)
        if not vault.exists():
            create_store(home, secret, fast)
    return Settings(home=home, passphrase=SecretStr(secret), org=org, fast_kdf=fast)


def create_store(home: Path, secret: str, fast: bool) -> None:
    """Create the data directory's vault now, and say so."""
    import nacl.pwhash

    from crypto import Vault

    limits: dict[str, int] = {}
    if fast:
        limits = {
            "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
            "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
        }
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    Vault.open_or_create(home / "vault.json", secret, **limits)
    print(
        f"created a new encrypted store at {home} (it opens only with this passphrase)",
        file=sys.stderr,
        flush=True,
    )
