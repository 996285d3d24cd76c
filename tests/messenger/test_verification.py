"""Emoji (SAS) verification between two of our sessions over the real Synapse."""

from __future__ import annotations

import asyncio
import contextlib

from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from messenger.events import SyncBatch
from messenger.session.core import Session
from tests.support import OrgEnv


class Side:
    """A session that syncs in the background and feeds its verification manager."""

    def __init__(self, session: Session, manager: VerificationManager) -> None:
        self.session = session
        self.manager = manager
        self.task = asyncio.create_task(session.run(self._handle))

    async def _handle(self, batch: SyncBatch) -> None:
        await self.manager.handle(batch.to_device)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.session.close()


async def two_sides(org_env: OrgEnv) -> tuple[Side, Side]:
    dep = await org_env.open(org_env.write_org(""))
    sides = []
    for name in ("alice", "bob"):
        user_id, password = await dep.ensure_account(f"{name}-{org_env.suffix}")
        session = await dep.session(user_id)
        cs = CrossSigning(session)
        await cs.bootstrap(password)
        sides.append(Side(session, VerificationManager(session, cs)))
    return sides[0], sides[1]


async def test_emoji_verification_completes_and_both_trust(org_env: OrgEnv) -> None:
    alice, bob = await two_sides(org_env)
    try:
        await alice.session.query_device_keys({bob.session.user_id})
        await bob.session.query_device_keys({alice.session.user_id})
        flow_a = await alice.manager.request(bob.session.user_id, bob.session.device_id)
        flow_b = await asyncio.wait_for(bob.manager.incoming.get(), 30)
        assert flow_b.other_user == alice.session.user_id
        await flow_b.accept()
        assert await flow_a.wait_for("keys") == "keys"
        assert await flow_b.wait_for("keys") == "keys"
        assert len(flow_a.emojis) == 7
        assert flow_a.emojis == flow_b.emojis
        await flow_a.confirm()
        await flow_b.confirm()
        assert await flow_a.wait_for("done") == "done", flow_a.cancel_reason
        assert await flow_b.wait_for("done") == "done", flow_b.cancel_reason
        a_client, b_client = alice.session.client, bob.session.client
        bob_device = a_client.device_store[bob.session.user_id][bob.session.device_id]
        alice_device = b_client.device_store[alice.session.user_id][alice.session.device_id]
        assert a_client.olm.is_device_verified(bob_device)
        assert b_client.olm.is_device_verified(alice_device)
        # Cross-signing: each signed the other's master key with its user-signing key.
        info = await alice.manager.cs.query(bob.session.user_id, fresh=True)
        assert alice.session.user_id in info["master"]["signatures"]
    finally:
        await alice.close()
        await bob.close()


async def test_emoji_mismatch_cancels_on_both_sides(org_env: OrgEnv) -> None:
    alice, bob = await two_sides(org_env)
    try:
        await alice.session.query_device_keys({bob.session.user_id})
        flow_a = await alice.manager.request(bob.session.user_id, bob.session.device_id)
        flow_b = await asyncio.wait_for(bob.manager.incoming.get(), 30)
        await flow_b.accept()
        await flow_a.wait_for("keys")
        await flow_b.wait_for("keys")
        await flow_b.cancel("the emoji did not match", "m.mismatched_sas")
        assert await flow_a.wait_for("done") == "cancelled"
        assert "m.mismatched_sas" in (flow_a.cancel_reason or "")
        bob_device = alice.session.client.device_store[bob.session.user_id][bob.session.device_id]
        assert not alice.session.client.olm.is_device_verified(bob_device)
    finally:
        await alice.close()
        await bob.close()
