"""The whole path: a member's encrypted command, the bots' encrypted threaded answers."""

from __future__ import annotations

from tests.support import OrgEnv


async def test_ping_and_help_are_answered_encrypted_in_thread(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room_id, (member,), _rt = await org_env.room_with_bots(member_factory)
    bots = settings.org.bot_user_ids()

    ping = await member.send(room_id, "!ping")
    replies = await member.wait_reply(ping, count=3)
    assert {r["sender"] for r in replies} == set(bots.values())
    for r in replies:
        c = r["content"]
        assert c["msgtype"] == "m.notice"
        assert c["m.relates_to"]["rel_type"] == "m.thread"
        assert c["m.relates_to"]["event_id"] == ping
        assert c["org.samverkan.notice"]["kind"] == "pong"
        assert "formatted_body" in c

    help_id = await member.send(room_id, "!help")
    (help_reply,) = await member.wait_reply(help_id)
    text = help_reply["content"]["body"]
    for name in ("events", "resources", "translate"):
        assert name in text
    assert not member.undecryptable()


async def test_bad_input_gets_a_clear_answer(org_env: OrgEnv, member_factory) -> None:
    _settings, room_id, (member,), _rt = await org_env.room_with_bots(member_factory)
    unknown = await member.send(room_id, "!frobnicate now")
    (r,) = await member.wait_reply(unknown)
    assert "unknown command !frobnicate" in r["content"]["body"]
    assert r["content"]["org.samverkan.notice"]["kind"] == "error"

    quoting = await member.send(room_id, '!event create "Board meeting 2026-12-03')
    (r,) = await member.wait_reply(quoting)
    assert "close every quote" in r["content"]["body"]
