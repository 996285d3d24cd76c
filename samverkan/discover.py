"""Finds which deployment a command means: the demo's pointer file, the homeserver on the port."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from messenger.config import OrgFile
from messenger.deploy import leftovers
from messenger.deploy.homeserver import PID_FILE

DEMO_HOME = Path(".samverkan-demo")
POINTER = "demo.json"
DEMO_ORG = "demo-org.toml"


@dataclass(frozen=True)
class DemoPointer:
    """What ``samverkan demo`` leaves in its data directory for the other commands."""

    home: Path
    config: Path
    url: str


def write_pointer(home: Path, org_text: str, url: str) -> DemoPointer:
    """Save the demo's effective organisation file and the pointer to it in ``home``."""
    config = home / DEMO_ORG
    config.write_text(org_text)
    pointer = DemoPointer(home=home, config=config, url=url)
    data = {"home": str(home), "config": str(config), "url": url}
    (home / POINTER).write_text(json.dumps(data, indent=2) + "\n")
    return pointer


def read_pointer(home: Path) -> DemoPointer | None:
    """The demo pointer in ``home``, if there is a valid one."""
    try:
        data = json.loads((home / POINTER).read_text())
        pointer = DemoPointer(Path(data["home"]), Path(data["config"]), str(data["url"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pointer if pointer.config.is_file() else None


def find_demo(config: Path | None, default: Path) -> DemoPointer | None:
    """The demo in the current directory, when the command names no organisation file of its
    own (no ``--config``, no ./org.toml) and no data directory ($SAMVERKAN_HOME)."""
    if "SAMVERKAN_HOME" in os.environ or (config is not None and config != default):
        return None
    if default.exists():
        return None
    return read_pointer(DEMO_HOME.absolute())


def command_lines(pointer: DemoPointer, passphrase: str, samverkan: str) -> list[str]:
    """The exact command lines that reach this demo, from its directory and from anywhere."""
    env = (
        f"SAMVERKAN_HOME={shlex.quote(str(pointer.home))} "
        f"SAMVERKAN_PASSPHRASE={shlex.quote(passphrase)}"
    )
    anywhere = f"--config {shlex.quote(str(pointer.config))}"
    return [
        f"in {pointer.home.parent} (the demo's data is in {pointer.home}):",
        f"  {samverkan} status",
        f"  {samverkan} tui --user anna",
        f"  {samverkan} ledger export ledger.jsonl",
        "from any directory:",
        f"  {env} {samverkan} status {anywhere}",
    ]


def data_dir_of(pid: int) -> Path | None:
    """The data directory of a Samverkan Synapse process (from its ``-c …/homeserver.yaml``)."""
    for arg in leftovers.cmdline(pid):
        if arg.endswith("/synapse/homeserver.yaml"):
            return Path(arg).parent.parent
    return None


def other_homeserver(org: OrgFile, home: Path) -> str | None:
    """Why the embedded homeserver's port answers for someone else, or None if it does not.

    None when the homeserver is not embedded, when this data directory's Synapse runs, or when
    the port is free (the command may start this data directory's own)."""
    hs = org.homeserver
    if not hs.embedded:
        return None
    recorded = leftovers.read_pid_file(home / "synapse" / PID_FILE)
    if recorded and leftovers.alive(recorded[0]):
        return None
    if not leftovers.port_in_use(hs.port):
        return None
    holders = leftovers.listeners(hs.port)
    homes = [h for h in map(data_dir_of, holders) if h is not None and h != home]
    if not homes:
        who = ", ".join(leftovers.describe(p) for p in holders) or "another program"
        return (
            f"port {hs.port} is in use by {who}, not by the homeserver of the data directory "
            f"{home} (which is not running): stop that program or set another "
            "[homeserver] port"
        )
    other = homes[0]
    text = (
        f"the homeserver at {hs.client_url} is running, but from the data directory {other}, "
        f"not from {home}: point at it with SAMVERKAN_HOME={other}"
    )
    demo = read_pointer(other)
    if demo is not None:
        text += (
            f" — it is the demo's: run the command without --config in {other.parent}, or "
            f"with SAMVERKAN_HOME={other} and --config {demo.config}"
        )
    return text
