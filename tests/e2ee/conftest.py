"""Fixtures for the E2EE scenarios: the fault proxy, bare Sessions, bots behind the proxy."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nacl.pwhash
import pytest

from crypto.vault import Vault
from messenger.deploy.homeserver import EmbeddedSynapse
from messenger.session.core import Session
from tests.e2ee.support import Client, ClientFactory
from tests.proxy import FaultProxy
from tests.support import WAIT_S


@pytest.fixture
async def proxy(synapse: EmbeddedSynapse) -> AsyncIterator[FaultProxy]:
    """A fault-injecting proxy in front of the test Synapse."""
    p = await FaultProxy(synapse.url).start()
    yield p
    await p.close()


@pytest.fixture
async def client_factory(synapse: EmbeddedSynapse, tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """Open our Session for (user, password), optionally through ``url`` (a proxy)."""
    vault = await asyncio.to_thread(
        Vault.open_or_create,
        tmp_path / "vault.json",
        "test passphrase",
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    )
    made: list[Client] = []

    async def make(
        user_id: str,
        password: str | None,
        *,
        url: str | None = None,
        data_dir: Path | None = None,
        start: bool = True,
    ) -> Client:
        d = data_dir or tmp_path / f"session-{uuid.uuid4().hex[:6]}"
        s = await Session.open(url or synapse.url, user_id, d, vault, password=password)
        c = Client(s)
        made.append(c)
        if start:
            c.start()
            await asyncio.wait_for(s.synced.wait(), WAIT_S)
        return c

    yield make
    for c in made:
        with contextlib.suppress(Exception):
            await c.close()
