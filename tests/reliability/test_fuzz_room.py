"""Fuzz encrypted room messages: random content and random relations inside the ciphertext
(threads, references, edits, reactions to unknown, foreign-room, state, redacted events and to
the bots' own replies; edits of edits; nested garbage). After each batch every bot answers
``!ping`` in every room, nothing was answered twice, and the room goes on."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.reliability.fuzzing import (
    MemberFactory,
    assert_alive,
    assert_no_double_answers,
    fake_event_id,
    garbage,
    garbage_text,
    redact,
    room_state,
    send_ciphertext_only,
    two_rooms,
)
from tests.support import OrgEnv

SEED = 2024
CASES = 100
BATCH = 25
RELS = ["m.thread", "m.reference", "m.replace", "m.annotation", "m.thread", "org.example.rel"]
COMMANDS = [
    "!ping",
    "!help",
    "!event list",
    "!pool show",
    "!lang",
    "!frobnicate now",
    '!event create "unclosed 2031-01-01 10:00',
    '!event create "Fuzz \u202egnitaem\u202c" 2031-01-02 10:00 UTC',
    "!\u202eping",
    "!ping\x00",
    "!",
    "!!ping",
    "! ping",
    "!PING",
    "!event show E\x00",
    "!request list 'a\"b",
    '!tr sv: "',
    '!event agenda E1 add "\u2066x\u2069"',
    "!glossary add \"\" ''",
]


class RoomFuzzer:
    """Seeded contents and relations, with a growing pool of events to relate to."""

    def __init__(self, rng: random.Random, targets: list[str]) -> None:
        self.rng = rng
        self.targets = targets

    def target(self) -> Any:
        rng = self.rng
        if rng.random() < 0.1:
            return garbage(rng, 1)
        return rng.choice([*self.targets, fake_event_id(rng)])

    def relation(self) -> Any:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0:
            return garbage(rng, 3)
        if kind == 1:
            return {"m.in_reply_to": {"event_id": self.target()}}
        rel: dict[str, Any] = {"rel_type": rng.choice(RELS), "event_id": self.target()}
        if rel["rel_type"] == "m.annotation":
            rel["key"] = rng.choice(["👍", "✅", garbage(rng, 0)])
        if rng.random() < 0.5:
            rel["m.in_reply_to"] = rng.choice([{"event_id": self.target()}, garbage(rng, 1)])
        if rng.random() < 0.3:
            rel["is_falling_back"] = garbage(rng, 0)
        return rel

    def body(self) -> Any:
        rng = self.rng
        kind = rng.randrange(10)
        if kind < 5:
            return rng.choice(COMMANDS)
        if kind == 5:
            return "!ping " + "x" * rng.randrange(5_000, 38_000)  # huge
        if kind == 6:
            return garbage(rng, 2)  # not a string
        return garbage_text(rng, 60)

    def content(self) -> tuple[str, Any]:
        """(event type inside the ciphertext, content)."""
        rng = self.rng
        event_type = rng.choice(
            ["m.room.message"] * 6 + ["m.reaction", "m.sticker", "org.example.x", "m.room.message"]
        )
        if rng.random() < 0.05:
            return event_type, garbage(rng, 1)  # not an object at all
        content: dict[str, Any] = {
            "msgtype": rng.choice(["m.text"] * 5 + ["m.notice", "m.emote", garbage(rng, 0)]),
            "body": self.body(),
        }
        if rng.random() < 0.1:
            del content["msgtype"]
        if rng.random() < 0.75:
            content["m.relates_to"] = self.relation()
        rel = content.get("m.relates_to")
        if (isinstance(rel, dict) and rel.get("rel_type") == "m.replace") or rng.random() < 0.1:
            content["m.new_content"] = rng.choice(
                [{"msgtype": "m.text", "body": rng.choice(COMMANDS)}, garbage(rng, 2)]
            )
        if rng.random() < 0.1:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = garbage(rng, 0)
        return event_type, content


async def test_fuzz_encrypted_room_messages(
    org_env: OrgEnv, member_factory: MemberFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING")
    rng = random.Random(SEED)
    (room_a, room_b), coord, member, runtime = await two_rooms(org_env, member_factory)
    bots = {b.user_id for b in runtime.bots}
    url, token = org_env.synapse.url, str(member.client.access_token)

    # Things to relate to: a foreign room's event, state events, a redacted event, bot replies.
    targets = [await member.send(room_b, "over in the other room")]
    targets += [e["event_id"] for e in await room_state(url, token, room_a)][:6]
    gone = await member.send(room_a, "soon redacted")
    status, _ = await redact(url, token, room_a, gone)
    assert status == 200
    targets.append(gone)
    ping = await member.send(room_a, "!ping")
    targets += [r["event_id"] for r in await member.wait_reply(ping, count=len(bots))]
    fuzzer = RoomFuzzer(rng, targets)

    # The case first: a command threaded (inside the ciphertext) on an unknown event.
    rel = {"rel_type": "m.thread", "event_id": fake_event_id(rng), "is_falling_back": True}
    content = {"msgtype": "m.text", "body": "!ping", "m.relates_to": rel}
    status, resp = await send_ciphertext_only(member, room_a, "m.room.message", content)
    assert status == 200, resp
    sent: set[str] = {resp["event_id"]}
    refused: list[tuple[int, Any]] = []
    for start in range(0, CASES, BATCH):
        for _ in range(BATCH):
            room = room_a if rng.random() < 0.8 else room_b
            sender = member if rng.random() < 0.8 else coord
            event_type, content = fuzzer.content()
            if rng.random() < 0.8 or not isinstance(content, dict):
                status, resp = await send_ciphertext_only(sender, room, event_type, content)
            else:  # through nio: the relation also in the clear, where the server checks it
                status, resp = await send_ciphertext_only(
                    sender, room, event_type, content, clear=content.get("m.relates_to")
                )
            if status == 200:
                sent.add(resp["event_id"])
                targets.append(resp["event_id"])  # edits of edits, replies to replies
            else:
                refused.append((status, resp))
        await assert_alive(
            runtime,
            {room_a: member, room_b: coord},
            caplog.records,
            f"room-message cases {start}-{start + BATCH - 1}",
        )
        # The bots' newest replies become targets too.
        targets += [
            getattr(ev, "event_id", "")
            for _r, ev in member.events[-20:]
            if getattr(ev, "sender", "") in bots
        ]

    assert len(sent) >= CASES * 3 // 4, f"the homeserver refused too many cases: {refused[:5]}"
    everything = {getattr(ev, "event_id", "") for c in (member, coord) for _r, ev in c.events}
    assert_no_double_answers([member, coord], bots, everything)
    nxt = await member.send(room_a, "!event list")
    await member.wait_reply(nxt, count=1)
