"""Fixtures for partner homeservers: two federating Synapse on loopback, a partnership room."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bots.runtime import Runtime
from messenger.config import Settings, parse_org, slugify
from messenger.deploy.federation import FederatedSynapse, LoopbackFederation
from messenger.deploy.homeserver import register_user
from messenger.ids import server_of
from tests.helpers import Member, OrgEnv

PARTNERSHIP = "Kenya local democracy"
WARMUP_ATTEMPTS = 6
WARMUP_WAIT_S = 15.0


@pytest.fixture(scope="session")
async def federation(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LoopbackFederation]:
    """Two Synapse on loopback ("home" and "partner") that federate with each other only."""
    fed = LoopbackFederation(tmp_path_factory.mktemp("federation"), count=2)
    await fed.start()
    yield fed
    await fed.stop()


@pytest.fixture
def home(federation: LoopbackFederation) -> FederatedSynapse:
    """Our side: the bots and the provisioning account live here."""
    return federation.servers[0]


@pytest.fixture
def partner(federation: LoopbackFederation) -> FederatedSynapse:
    """The sister party's own homeserver."""
    return federation.servers[1]


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
            languages = ["sv", "en"]
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


@pytest.fixture
async def partnership(
    home: FederatedSynapse, partner: FederatedSynapse, tmp_path: Path
) -> AsyncIterator[Partnership]:
    """Provisioned on home, joined from both servers, bots running, encryption settled."""
    suffix = uuid.uuid4().hex[:8]
    env = OrgEnv(home, tmp_path / "home", suffix=suffix, make_user=None)
    clients: list[Member] = []
    try:
        anna = await new_user(home, "anna")
        wanjiru = await new_user(partner, "wanjiru")
        otieno = await new_user(partner, "otieno")
        text = org_text(env, home, [anna[0], otieno[0]], [wanjiru[0]])
        env.org_text = text
        settings = settings_for(env, text)
        report = await env.apply(settings)
        assert not report.failed, report.failed
        room_id = await env.room_id(slugify(PARTNERSHIP))
        for (user, pw), hs in ((anna, home), (wanjiru, partner), (otieno, partner)):
            store = tmp_path / f"member-{len(clients)}"
            clients.append(await Member.login(hs.url, user, pw, store))
        for c in clients:
            await c.wait_joined(room_id)
        runtime = await env.start_bots(settings)
        await runtime.wait_synced()
        bots = settings.org.bot_user_ids()
        for c in clients:

            async def bots_joined(c: Member = c) -> bool:
                room = c.client.rooms.get(room_id)
                joined = set(room.users) - set(room.invited_users) if room else set()
                return set(bots.values()) <= joined

            await c.wait_until(bots_joined)
        coord, remote_member, remote_coord = clients
        p = Partnership(settings, room_id, coord, remote_member, remote_coord, runtime, env, bots)
        for c in clients:
            p.pings[c.user_id] = await settle_encryption(c, room_id, set(bots.values()))
        print(f"pings until every pong decrypted: {p.pings}", flush=True)
        yield p
    finally:
        for c in clients:
            await c.close()
        await env.close()


def undecryptable_since(m: Member, seen: int) -> list[object]:
    """Events still undecryptable among those the member received after the first ``seen``."""
    utd = {id(ev) for ev in m.undecryptable()}
    return [ev for _r, ev in m.events[seen:] if id(ev) in utd]
