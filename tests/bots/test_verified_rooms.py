"""A ``trust = "verified"`` room: commands from unverified devices are refused until verified."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from messenger.events import Incoming, SyncBatch
from messenger.session.core import Session
from messenger.session.rooms import Rooms
from tests.support import OrgEnv


class Person:
    """A coordinator on our own Session (nio has no request/ready SAS flow to test with):
    to-device and in-room verification, keeps the events it saw."""

    def __init__(self, session: Session, manager: VerificationManager) -> None:
        self.session = session
        self.manager = manager
        self.seen: list[Incoming] = []
        self.task = asyncio.create_task(session.run(self._handle))

    async def _handle(self, batch: SyncBatch) -> None:
        for invite in batch.invites:
            await Rooms(self.session).join(invite.room_id)
        await self.manager.handle(batch.to_device)
        self.seen.extend(batch.events)
        await self.manager.handle_room(batch.events, initial=batch.initial)

    async def command(self, room_id: str, text: str, bot: str) -> Incoming:
        sent = await self.session.send_now(
            room_id, {"msgtype": "m.text", "body": text}, txn_id=uuid.uuid4().hex
        )
        async with asyncio.timeout(30):
            while True:
                for ev in self.seen:
                    if ev.reply_to == sent and ev.sender == bot:
                        return ev
                await asyncio.sleep(0.2)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.session.close()


async def test_unverified_device_is_refused_then_accepted_after_emoji_verification(
    org_env: OrgEnv,
) -> None:  # noqa: E501
    dep = await org_env.open(org_env.write_org(""))
    coord_id, password = await dep.ensure_account("coord-" + org_env.suffix)
    settings = org_env.write_org(
        f"""
        [[working_group]]
        name = "Leadership"
        trust = "verified"
        coordinators = ["{coord_id}"]
    """,
        enabled=["translate"],
    )
    assert not (await org_env.apply(settings)).failed
    room_id = await org_env.room_id("leadership")
    session = await dep.session(coord_id)
    cs = CrossSigning(session)
    await cs.bootstrap(password)
    person = Person(session, VerificationManager(session, cs))
    try:
        runtime = await org_env.start_bots(settings)
        bot = runtime.bots[0]
        await runtime.wait_synced()
        async with asyncio.timeout(30):
            while (  # noqa: ASYNC110 -- polls the state another task syncs
                room_id not in session.client.rooms
                or bot.user_id not in session.client.rooms[room_id].users
            ):
                await asyncio.sleep(0.2)

        refused = await person.command(room_id, "!lang", bot.user_id)
        assert refused.encrypted
        assert "only from verified devices" in refused.body

        await session.query_device_keys({bot.user_id})
        flow = await person.manager.request(bot.user_id, bot.session.device_id)
        assert await flow.wait_for("keys") == "keys"
        assert len(flow.emojis) == 7
        await flow.confirm()
        assert await flow.wait_for("done") == "done", flow.cancel_reason

        accepted = await person.command(room_id, "!lang", bot.user_id)
        assert "only from verified devices" not in accepted.body
        assert "sv" in accepted.body
    finally:
        await person.close()
