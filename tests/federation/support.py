"""Helpers for the tests in this folder (the fixtures live in conftest.py)."""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from bots.runtime import Runtime
from messenger.config import Settings, parse_org
from messenger.deploy.federation import FederatedSynapse
from messenger.deploy.homeserver import register_user
from messenger.ids import server_of
from tests.support import Member, OrgEnv

PARTNERSHIP = "Kenya local democracy"


WARMUP_ATTEMPTS = 6


WARMUP_WAIT_S = 15.0


async def new_user(hs: FederatedSynapse, prefix: str) -> tuple[str, str]:
    """A fresh account on ``hs``: (user ID, password)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    password = f"pw-{name}"
    user_id = await register_user(
        hs.url, hs.shared_secret, name, password, server_name=hs.server_name
    )
    return user_id, password


def decrypted_replies(m: Member, event_id: str, sender: str | None = None) -> list[dict[str, Any]]:
    """Replies to ``event_id`` the member could decrypt (undecryptable ones carry no relation)."""
    return [r for r in m.replies_to(event_id, sender) if "body" in r.get("content", {})]


async def settle_encryption(m: Member, room_id: str, bot_ids: set[str]) -> int:
    """Ping until ``m`` decrypts a pong from every bot; return how many pings it took.

    Across servers a member's first message may reach a bot before the bot's homeserver has
    the member's device list (and the pong before the member has the bots' room keys).
    """
    for attempt in range(1, WARMUP_ATTEMPTS + 1):
        ping = await m.send(room_id, "!ping")

        async def pongs(ping: str = ping) -> bool:
            return {r["sender"] for r in decrypted_replies(m, ping)} >= bot_ids

        try:
            await m.wait_until(pongs, WARMUP_WAIT_S)
            return attempt
        except TimeoutError:
            continue
    raise AssertionError(f"{m.user_id} never decrypted a pong from every bot")


@dataclass
class Partnership:
    """A partnership room spanning home and partner, with the bots running on home."""

    settings: Settings
    room_id: str
    coord: Member  # home coordinator
    wanjiru: Member  # partner member
    otieno: Member  # partner coordinator
    runtime: Runtime
    env: OrgEnv
    bots: dict[str, str] = field(default_factory=dict)
    pings: dict[str, int] = field(default_factory=dict)


def settings_for(env: OrgEnv, text: str) -> Settings:
    """Settings for the organisation file ``text`` with ``env``'s data directory."""
    org = parse_org(text)
    return Settings(home=env.home, passphrase=SecretStr("test passphrase"), org=org, fast_kdf=True)


def quoted(users: list[str]) -> str:
    """TOML array items."""
    return ", ".join(f'"{u}"' for u in users)


def org_text(
    env: OrgEnv,
    home: FederatedSynapse,
    coords: list[str],
    members: list[str],
    bots: tuple[str, ...] = ("events", "resources", "translate"),
    trust: str = "tofu",
    partners: list[str] | None = None,
) -> str:
    """An organisation file whose home server is ``home`` and whose partnership spans servers.

    ``partners`` (``[homeserver] partners``) defaults to the servers of the people named.
    """
    if partners is None:
        partners = sorted({server_of(u) for u in [*coords, *members]} - {home.server_name})
    return (
        textwrap.dedent(f"""
            [organisation]
            name = "Federation test {env.suffix}"
            languages = ["en", "sv"]
            [homeserver]
            server_name = "{home.server_name}"
            port = {home.port}
            partners = [{quoted(partners)}]
        """)
        + env.bots_table(list(bots))
        + textwrap.dedent(f"""
            [[partnership]]
            name = "{PARTNERSHIP}"
            partners = ["Sister party youth wing"]
            languages = ["en", "sw"]
            coordinators = [{quoted(coords)}]
            members = [{quoted(members)}]
            trust = "{trust}"
        """)
    )


def undecryptable_since(m: Member, seen: int) -> list[object]:
    """Events still undecryptable among those the member received after the first ``seen``."""
    utd = {id(ev) for ev in m.undecryptable()}
    return [ev for _r, ev in m.events[seen:] if id(ev) in utd]
