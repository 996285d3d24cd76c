"""In-room emoji verification of a bot in an encrypted organisation room (real Synapse)."""

from __future__ import annotations

import asyncio

from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import REFUSED, VerificationManager, is_verification_event
from messenger.session.core import Session
from tests.bots.test_verified_rooms import Person
from tests.support import WAIT_S, OrgEnv


async def wait_member(session: Session, room_id: str, user_id: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while (  # noqa: ASYNC110 -- polls the room state another task syncs
            room_id not in session.client.rooms
            or user_id not in session.client.rooms[room_id].users
        ):
            await asyncio.sleep(0.2)


async def test_coordinator_verifies_bot_in_room_and_others_are_refused(org_env: OrgEnv) -> None:
    dep = await org_env.open(org_env.write_org(""))
    people = {}
    for role in ("coord", "member"):
        user_id, password = await dep.ensure_account(f"{role}-{org_env.suffix}")
        people[role] = (user_id, password)
    settings = org_env.write_org(
        f"""
        [[working_group]]
        name = "Leadership"
        coordinators = ["{people["coord"][0]}"]
        members = ["{people["member"][0]}"]
        """,
        enabled=["events"],
    )
    assert not (await org_env.apply(settings)).failed
    room_id = await org_env.room_id("leadership")
    persons: list[Person] = []
    try:
        for user_id, password in people.values():
            session = await dep.session(user_id)
            cs = CrossSigning(session)
            await cs.bootstrap(password)
            persons.append(Person(session, VerificationManager(session, cs)))
        coord, member = persons
        runtime = await org_env.start_bots(settings)
        bot = runtime.bots[0]
        await runtime.wait_synced()
        for p in persons:
            await wait_member(p.session, room_id, bot.user_id)

        # The coordinator asks in the room; the bot accepts, both see the same seven emoji.
        flow = await coord.manager.request_in_room(room_id, bot.user_id)
        assert flow.room_id == room_id
        assert await flow.wait_for("keys") == "keys", flow.cancel_reason
        bot_flow = bot.verifier.flows[flow.txn_id]
        assert bot_flow.room_id == room_id
        assert bot_flow.other_device == coord.session.device_id
        assert flow.other_device == bot.session.device_id
        assert len(flow.emojis) == 7
        assert flow.emojis == bot_flow.emojis
        await flow.confirm()
        assert await flow.wait_for("done") == "done", flow.cancel_reason
        assert await bot_flow.wait_for("done") == "done", bot_flow.cancel_reason

        # Each trusts the other: the device locally, the identity by cross-signing.
        c_client = coord.session.client
        assert c_client.olm.is_device_verified(
            c_client.device_store[bot.user_id][bot.session.device_id]
        )
        b_client = bot.session.client
        assert b_client.olm.is_device_verified(
            b_client.device_store[coord.session.user_id][coord.session.device_id]
        )
        assert await coord.manager.cs.device_trusted(bot.user_id, bot.session.device_id)
        bot.cross_signing.forget(coord.session.user_id)
        assert await bot.cross_signing.device_trusted(
            coord.session.user_id, coord.session.device_id
        )

        # The flow ran as encrypted room events tied to the request; none was a command.
        steps = [e for e in coord.seen if is_verification_event(e) and e.sender == bot.user_id]
        kinds = {e.type.removeprefix("m.key.verification.") for e in steps}
        assert {"ready", "accept", "key", "mac", "done"} <= kinds
        assert all(e.encrypted for e in steps)
        assert all(
            e.relates_to == {"rel_type": "m.reference", "event_id": flow.txn_id} for e in steps
        )

        # A member who is not a coordinator is refused: the bot cancels in the room.
        refused = await member.manager.request_in_room(room_id, bot.user_id)
        assert await refused.wait_for("done") == "cancelled"
        assert REFUSED in (refused.cancel_reason or "")
        assert "m.user" in (refused.cancel_reason or "")
        assert bot.verifier.flows[refused.txn_id].state == "cancelled"

        # The bot answered no verification event as a command (no notices in reply).
        await asyncio.sleep(1)
        ids = {flow.txn_id, refused.txn_id, *(e.event_id for e in steps)}
        answers = [
            e
            for e in coord.seen
            if e.sender == bot.user_id and (e.reply_to in ids or e.thread_root in ids)
        ]
        assert answers == []
    finally:
        for p in persons:
            await p.close()
