"""Shared fixtures: one real Synapse per test session, fresh users and organisations per test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from messenger.deploy.homeserver import EmbeddedSynapse, free_port, register_user
from messenger.deploy.scaled import ScaledSynapse
from tests.support import Member, OrgEnv

os.environ.setdefault("SAMVERKAN_FAST_KDF", "1")

HOMESERVER_FIXTURES = {"synapse", "federation"}


LONG_FIRST = (
    "tests/reliability/test_soak.py",
    "tests/cli/test_demo.py",
    "tests/reliability/test_plaintext_commands.py",
    "tests/reliability/test_orphans.py",
    "tests/federation/",
    "tests/reliability/test_startup.py",
)
"""Files that take longest: run first, so that with several workers (``make test``) none of
them starts last and holds up the end."""


TEST_SYNAPSE = {"bcrypt_rounds": 4}
"""The test homeserver hashes passwords with 4 bcrypt rounds, not Synapse's 12: every account
the suite registers and every password login costs ≈ 0.3 s of Synapse CPU at 12 rounds, for
thousands of them. Nothing a test checks depends on the cost of a password hash."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a real homeserver (through any fixture) ``synapse``, so
    ``pytest -m "not synapse"`` runs the pure units alone in seconds; put the long files
    first."""
    for item in items:
        if HOMESERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.synapse)

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return next((i for i, p in enumerate(LONG_FIRST) if path.startswith(p)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: each file keeps its order


@pytest.fixture(scope="session")
async def synapse(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedSynapse]:
    """A real Synapse on a free loopback port, started once for the whole test session.

    With ``SAMVERKAN_TEST_SCALED=DIR`` the tests use the scaled homeserver (PostgreSQL, Redis,
    workers behind nginx) that ``make scale-test`` runs in DIR instead; a test that stops it
    (a homeserver restart) stops its Synapse processes, and it is left running afterwards."""
    scaled = os.environ.get("SAMVERKAN_TEST_SCALED")
    if scaled:
        shared = ScaledSynapse.attach(Path(scaled))
        await shared.start()
        yield shared  # type: ignore[misc]
        await shared.start()
        return
    hs = EmbeddedSynapse(
        tmp_path_factory.mktemp("synapse"), "localhost", free_port(), extra=TEST_SYNAPSE
    )
    await hs.start()
    yield hs
    await hs.stop()


def unique(prefix: str) -> str:
    """A localpart no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_user(synapse: EmbeddedSynapse) -> Callable[[str], Awaitable[tuple[str, str]]]:
    """Register a fresh account; returns (user ID, password)."""

    async def make(prefix: str = "user") -> tuple[str, str]:
        name = unique(prefix)
        password = f"pw-{name}"
        user_id = await register_user(
            synapse.url, synapse.shared_secret, name, password, server_name="localhost"
        )
        return user_id, password

    return make


@pytest.fixture
async def member_factory(
    synapse: EmbeddedSynapse, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Member]]]:
    """Logged-in plain nio clients with E2EE: a member's view, independent of our Session."""
    members: list[Member] = []

    async def make(user_id: str, password: str) -> Member:
        m = await Member.login(synapse.url, user_id, password, tmp_path / f"member-{len(members)}")
        members.append(m)
        return m

    yield make
    for m in members:
        await m.close()


@pytest.fixture
async def org_env(synapse: EmbeddedSynapse, tmp_path: Path, make_user) -> AsyncIterator[OrgEnv]:  # type: ignore[no-untyped-def]
    """A fresh organisation (unique bot and service accounts) on the shared Synapse."""
    env = OrgEnv(synapse, tmp_path / "home", suffix=uuid.uuid4().hex[:8], make_user=make_user)
    yield env
    await asyncio.wait_for(env.close(), 60)
