"""Plaintext commands in an encrypted room — every command of every bot, forged by raw HTTP in a
member's and a coordinator's name — change nothing and get no answer; encrypted, they work."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bots.runtime import Runtime
from tests.reliability.fuzzing import MemberFactory, bot_errors, send_plain
from tests.support import Member, OrgEnv

WAIT_S = 45.0
# Read-only commands whose (encrypted) answers show the state a forged command could change.
READS = [
    "!pool show",
    "!request list all",
    "!request show {R}",
    "!event list --all",
    "!event show {E}",
    "!glossary list",
    "!translator list",
    "!lang",
    "!ledger verify",
]
BUILTINS = ["!ping", "!help", "!events help", "!resources help", "!translate help"]


def command_texts(runtime: Runtime, ids: dict[str, str]) -> list[str]:
    """One concrete text per declared command of every bot (its example, with real IDs)."""
    texts = list(BUILTINS)
    for bot in runtime.bots:
        for cmd in bot.table.commands:
            text = cmd.example or f"!{cmd.name}"
            for prefix, real in ids.items():
                text = re.sub(rf"\b{prefix}\d+\b", real, text)
            texts.append(text)
    return texts


async def ask(member: Member, room: str, body: str, bots: set[str]) -> list[str]:
    """Send ``body`` encrypted; the bodies of every bot answer (bounded wait), sorted."""
    event_id = await member.send(room, body)
    await member.wait_reply(event_id, count=1, timeout=WAIT_S)
    return sorted(r["content"]["body"] for r in member.replies_to(event_id) if r["sender"] in bots)


def first_id(bodies: list[str], prefix: str) -> str:
    for body in bodies:
        m = re.search(rf"\b{prefix}\d+\b", body)
        if m:
            return m.group(0)
    raise AssertionError(f"no {prefix} ID in {bodies}")


async def snapshot(
    member: Member, room: str, ids: dict[str, str], bots: set[str]
) -> dict[str, Any]:
    out = {}
    for read in READS:
        text = read.format(**ids)
        out[text] = await ask(member, room, text, bots)
    return out


def bot_messages_since(
    member: Member, room: str, start: int, bots: set[str]
) -> list[dict[str, Any]]:
    out = []
    for r, ev in member.events[start:]:
        src = getattr(ev, "source", {})
        if r == room and src.get("sender") in bots:
            out.append(src)
    return out


async def test_plaintext_commands_change_nothing_and_get_no_answer(
    org_env: OrgEnv,
    member_factory: MemberFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING")
    _s, room, (coord, member), runtime = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1
    )
    bots = {b.user_id for b in runtime.bots}
    url = org_env.synapse.url

    # Something for the forged commands to act on: funds, a request, an event, a poll.
    await ask(coord, room, "!pool add funding 1000 --unit SEK", bots)
    req = await ask(member, room, '!request funding "Flyers" --amount 100 --unit SEK', bots)
    ev = await ask(member, room, '!event create "Seed meeting" 2031-01-02 10:00 UTC', bots)
    poll = await ask(
        member, room, '!event poll "Seed poll" 2031-02-03T10:00 2031-02-04T10:00', bots
    )
    ids = {"R": first_id(req, "R"), "E": first_id(ev, "E"), "P": first_id(poll, "P")}
    before = await snapshot(member, room, ids, bots)

    # Every command of every bot, forged in plaintext, in the member's and the coordinator's name.
    texts = command_texts(runtime, ids)
    start = len(member.events)
    forged: dict[str, tuple[Member, str]] = {}
    for sender in (member, coord):
        for text in texts:
            content = {"msgtype": "m.text", "body": text}
            status, resp = await send_plain(url, str(sender.client.access_token), room, content)
            assert status == 200, (status, resp)
            forged[resp["event_id"]] = (sender, text)
    # A sentinel after them: once it is answered, every forged command has been seen.
    sentinel = await member.send(room, "!ping")
    await member.wait_reply(sentinel, count=len(bots), timeout=WAIT_S)
    await asyncio.sleep(3.0)

    answered = {
        f"{text!r} from {sender.user_id}: {[r['content'].get('body', '')[:80] for r in got]}"
        for event_id, (sender, text) in forged.items()
        if (got := member.replies_to(event_id))
    }
    assert not answered, (
        f"{len(answered)} of {len(forged)} plaintext commands answered: {sorted(answered)[:12]}"
    )
    # At most one notice per bot that an unencrypted message was ignored, nothing else.
    pongs = {r["event_id"] for r in member.replies_to(sentinel)}
    others = [
        m for m in bot_messages_since(member, room, start, bots) if m["event_id"] not in pongs
    ]
    assert all("encrypt" in str(m["content"].get("body", "")) for m in others), [
        m["content"].get("body", "")[:120] for m in others
    ]
    per_bot = {b: sum(1 for m in others if m["sender"] == b) for b in bots}
    assert max(per_bot.values(), default=0) <= 1, per_bot

    after = await snapshot(member, room, ids, bots)
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"forged plaintext commands changed state: {changed}"
    assert not runtime.failed.is_set(), bot_errors(caplog.records)

    # The same commands, encrypted, are answered (by the sender they were forged for).
    sent: list[tuple[Member, str, str]] = []
    for sender, text in forged.values():
        sent.append((sender, text, await sender.send(room, text)))

    async def all_answered() -> bool:
        return all(s.replies_to(e) for s, _t, e in sent)

    try:
        await member.wait_until(all_answered, WAIT_S * 2)
    except TimeoutError:
        silent = [f"{t!r} from {s.user_id}" for s, t, e in sent if not s.replies_to(e)]
        raise AssertionError(f"encrypted commands not answered: {silent}") from None
    # And they did change state (the funds grew), which the forged ones did not.
    pool = await ask(member, room, "!pool show", bots)
    assert pool != before["!pool show"], pool
