"""Another device asks the TUI for emoji verification: the person sees it, compares, decides."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from textual.widgets import Static

from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from messenger.events import SyncBatch
from messenger.session.core import Session
from tests.support import OrgEnv
from tests.tui.support import password_of, tui_for, until
from tui.screens.identity import RecoveryKeyScreen
from tui.screens.verify import VerifyScreen


@contextlib.asynccontextmanager
async def other_device(
    org_env: OrgEnv, user_id: str, path: Any
) -> AsyncIterator[tuple[Session, VerificationManager]]:
    """A second device of ``user_id`` (another client) that syncs and can verify."""
    assert org_env.deployment is not None
    session = await Session.open(
        org_env.synapse.url,
        user_id,
        path,
        org_env.deployment.vault,
        password=password_of(user_id),
        device_name="other client",
    )
    manager = VerificationManager(session, CrossSigning(session))

    async def feed(batch: SyncBatch) -> None:
        await manager.handle(batch.to_device)

    syncing = asyncio.create_task(session.run(feed))
    try:
        yield session, manager
    finally:
        syncing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await syncing
        await session.close()


def shown_emoji(screen: VerifyScreen) -> list[str]:
    return [str(s.render()) for s in screen.query(".emoji").results(Static)]


async def test_incoming_verification_is_shown_compared_and_answered(
    org_env: OrgEnv, make_user: Any, tmp_path: Any
) -> None:
    settings = org_env.write_org("")
    await org_env.open(settings)
    coord, _ = await make_user("coord")
    member, _ = await make_user("member")
    async with (
        other_device(org_env, member, tmp_path / "other") as (other, manager),
        tui_for(org_env, settings, coord, dismiss_identity=False) as (app, pilot),
    ):
        # The first login bootstraps cross-signing and shows the recovery key once.
        await until(pilot, lambda: isinstance(app.screen, RecoveryKeyScreen), "the recovery key")
        assert app.client is not None
        assert app.client.session is not None
        assert app.client.cross_signing is not None
        assert app.client.identity.state == "created"
        kept = await app.client.cross_signing.recovery_key()  # sealed in the device's store
        assert kept
        assert kept in str(app.screen.query_one("#recovery-key", Static).render())
        assert app.client.identity.recovery_key is None  # not kept around in memory
        await pilot.press("enter")
        assert not isinstance(app.screen, RecoveryKeyScreen)
        tui_device = app.client.session.device_id
        # Another client sees the account's master and self-signing keys, and this device
        # signed by them.
        seen = await manager.cs.query(coord, fresh=True)
        assert seen["master"]
        assert seen["self_signing"]
        assert await manager.cs.device_cross_signed(coord, tui_device, info=seen)
        await other.query_device_keys({coord})
        await app.client.session.query_device_keys({member})

        # A request the person refuses: Esc cancels it on the other device too.
        refused = await manager.request(coord, tui_device)
        await until(pilot, lambda: isinstance(app.screen, VerifyScreen), "the request on screen")
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        assert screen.incoming
        title = str(screen.query_one("#verify-title", Static).render())
        assert member in title
        assert "wants to verify with you" in title
        assert "Press a to accept" in str(screen.query_one("#verify-state", Static).render())
        assert any("Verification request" in (n.title or "") for n in app._notifications)
        await pilot.press("escape")
        assert await refused.wait_for("done") == "cancelled"
        assert not isinstance(app.screen, VerifyScreen)

        # A request the person accepts, compares and confirms.
        flow = await manager.request(coord, tui_device)
        await until(pilot, lambda: isinstance(app.screen, VerifyScreen), "the second request")
        screen = app.screen
        assert isinstance(screen, VerifyScreen)
        await pilot.press("a")
        await until(pilot, lambda: screen.v.state == "keys", "the emoji")
        assert await flow.wait_for("keys") == "keys"
        shown = shown_emoji(screen)
        assert len(shown) == 7
        assert [s.split("\n")[1] for s in shown] == [name for _e, name in flow.emojis]
        await flow.confirm()
        await pilot.press("y")
        await until(pilot, lambda: screen.v.state == "done", "done on the TUI")
        assert await flow.wait_for("done") == "done", flow.cancel_reason
        assert "Verified" in str(screen.query_one("#verify-state", Static).render())
        (row,) = [r for r in app.client.devices([member]) if r.device_id == other.device_id]
        assert row.state == "verified"
        theirs = other.client.device_store[coord][tui_device]
        assert other.client.olm.is_device_verified(theirs)  # and the other side trusts the TUI
