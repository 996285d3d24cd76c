"""Provisioning against the real Synapse, seen from a member's client."""

from __future__ import annotations

from tests.support import OrgEnv


async def test_apply_creates_encrypted_rooms_in_space_and_is_idempotent(
    org_env: OrgEnv, make_user, member_factory
) -> None:
    anna, anna_pw = await make_user("anna")
    bjorn, bjorn_pw = await make_user("bjorn")
    settings = org_env.write_org(f"""
        [[working_group]]
        name = "Nordic policy"
        coordinators = ["{anna}"]
        members = ["{bjorn}"]
        [[partnership]]
        name = "Kenya local democracy"
        partners = ["Sister party youth wing"]
        languages = ["en", "sw"]
        coordinators = ["{anna}"]
    """)
    report = await org_env.apply(settings)
    assert not report.failed, report.failed
    assert any("create space" in line for line in report.applied)

    # Second apply: nothing to do.
    assert await org_env.plan(settings) == []

    nordic = await org_env.room_id("nordic-policy")
    kenya = await org_env.room_id("kenya-local-democracy")
    space = await org_env.room_id("_space")

    member = await member_factory(bjorn, bjorn_pw)
    await member.wait_joined(nordic)
    await member.wait_joined(space)
    room = member.client.rooms[nordic]
    assert room.encrypted
    assert room.join_rule == "invite"
    assert room.power_levels.get_user_level(anna) == 50
    bots = settings.org.bot_user_ids().values()
    assert all(room.power_levels.get_user_level(b) == 50 for b in bots)
    assert room.power_levels.get_user_level(bjorn) == 0
    # Bjørn is not in the Kenya partnership: never invited.
    assert kenya not in member.client.invited_rooms
    assert kenya not in member.client.rooms
    state = await member.client.room_get_state(nordic)
    by_type = {e["type"]: e["content"] for e in state.events if e.get("state_key") == ""}
    assert by_type["m.room.guest_access"]["guest_access"] == "forbidden"
    assert by_type["m.room.history_visibility"]["history_visibility"] == "joined"
    assert by_type["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
    space_state = await member.client.room_get_state(space)
    children = {e["state_key"] for e in space_state.events if e["type"] == "m.space.child"}
    assert {nordic, kenya} <= children


async def test_member_added_and_removed_by_editing_the_file(
    org_env: OrgEnv, make_user, member_factory
) -> None:
    anna, _ = await make_user("anna")
    mette, mette_pw = await make_user("mette")
    body = f"""
        [[working_group]]
        name = "European coordination"
        coordinators = ["{anna}"]
        members = [{{members}}]
    """
    await org_env.apply(org_env.write_org(body.replace("{members}", "")))
    room_id = await org_env.room_id("european-coordination")

    added = org_env.write_org(body.replace("{members}", f'"{mette}"'))
    plan = [c.description for c in await org_env.plan(added)]
    assert any(f"invite {mette}" in d for d in plan), plan
    await org_env.apply(added)
    member = await member_factory(mette, mette_pw)
    await member.wait_joined(room_id)

    removed = org_env.write_org(body.replace("{members}", ""))
    plan = [c.description for c in await org_env.plan(removed)]
    assert any(f"remove {mette}" in d for d in plan), plan
    report = await org_env.apply(removed)
    assert not report.failed

    async def gone() -> bool:
        return room_id not in (await member.client.joined_rooms()).rooms

    await member.wait_until(gone)
    assert await org_env.plan(removed) == []
