"""``samverkan up --bots``: bots of one organisation in separate processes act as one."""

from __future__ import annotations

import asyncio

import pytest

from bots.runtime import make_runtime, restore_bot
from messenger.deploy.deployment import Deployment
from messenger.deploy.homeserver import EmbeddedSynapse
from messenger.errors import MessengerError
from samverkan.cli import build_parser
from samverkan.context import UsageProblem
from samverkan.running import bots_option
from tests.support import Member, OrgEnv

SETTLE_S = 2.0  # long enough for a second, wrong answer to arrive


def test_bots_option_names_enabled_bots(org_env: OrgEnv) -> None:
    settings = org_env.write_org("")
    assert bots_option(None, settings) is None
    assert bots_option("events", settings) == ["events"]
    assert bots_option(" resources, events,resources ", settings) == ["resources", "events"]
    args = build_parser().parse_args(["up", "--bots", "events,translate"])
    assert bots_option(args.bots, settings) == ["events", "translate"]


def test_bots_option_refuses_what_the_file_does_not_enable(org_env: OrgEnv) -> None:
    settings = org_env.write_org("", enabled=["events", "resources"])
    with pytest.raises(UsageProblem, match=r"translate is not a bot .* events, resources"):
        bots_option("events,translate", settings)
    with pytest.raises(UsageProblem, match="frobnicator is not a bot"):
        bots_option("frobnicator", settings)
    with pytest.raises(UsageProblem, match="--bots needs bot names"):
        bots_option(" , ", settings)


async def only_reply(member: Member, event_id: str, sender: str | None = None) -> dict:
    """The one answer to ``event_id``; fails if a second one comes."""
    await member.wait_reply(event_id, sender=sender)
    await asyncio.sleep(SETTLE_S)
    replies = member.replies_to(event_id)
    assert len(replies) == 1, [r["content"]["body"] for r in replies]
    return replies[0]


async def test_bots_in_two_processes_answer_as_one(
    org_env: OrgEnv, member_factory, synapse: EmbeddedSynapse
) -> None:
    settings, room_id, (member,), _ = await org_env.room_with_bots(member_factory)
    bots = settings.org.bot_user_ids()
    await org_env.stop_bots()
    # Two deployments on one data directory: two processes' connections to its store.
    first = org_env.deployment
    assert first is not None
    second = await Deployment.open(settings, synapse=synapse)
    a = await make_runtime(first, ["events"], apart=True)
    b = None
    try:
        b = await make_runtime(second, ["resources", "translate"], apart=True)
        with pytest.raises(MessengerError, match="events bot already runs"):
            await make_runtime(second, ["events"], apart=True)
        with pytest.raises(MessengerError, match="events bot already runs"):
            await restore_bot(second, "events")  # never beside the process running it
        a.start()
        b.start()
        await a.wait_synced()
        await b.wait_synced()

        help_reply = await only_reply(member, await member.send(room_id, "!help"))
        assert help_reply["sender"] == bots["events"]  # the first enabled bot, as in one
        for name in ("events", "resources", "translate", "!pool show", "!lang"):
            assert name in help_reply["content"]["body"]
        pool = await only_reply(member, await member.send(room_id, "!pool show"))
        assert pool["sender"] == bots["resources"]  # the events bot knows it is a command
        unknown = await only_reply(member, await member.send(room_id, "!frobnicate"))
        assert "unknown command !frobnicate" in unknown["content"]["body"]

        tz = await member.send(room_id, "!tz Europe/Oslo")
        await member.wait_reply(tz, sender=bots["events"])
        elsewhere = b.bots[0].prefs

        async def seen() -> bool:
            return elsewhere.member(member.user_id, "tz") == "Europe/Oslo"

        await member.wait_until(seen, 10)  # the other process's tick reads it again
        assert not member.undecryptable()
    finally:
        await a.stop()
        if b is not None:
            await b.stop()
        await second.close()
