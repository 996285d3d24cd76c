"""Fixtures for partner homeservers: two federating Synapse on loopback, a partnership room."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from messenger.config import slugify
from messenger.deploy.federation import FederatedSynapse, LoopbackFederation
from tests.federation.support import (
    PARTNERSHIP,
    Partnership,
    new_user,
    org_text,
    settings_for,
    settle_encryption,
)
from tests.support import Member, OrgEnv


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
