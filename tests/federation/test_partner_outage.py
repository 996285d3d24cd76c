"""The partner server goes down and comes back: what was sent meanwhile arrives, late commands
are answered exactly once, and everything stays decryptable."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from messenger.deploy.federation import FederatedSynapse
from tests.federation.support import Partnership, decrypted_replies, undecryptable_since
from tests.support import WAIT_S, Member

EVENT_KEY = "org.samverkan.event"
QUIET_S = 4.0  # after the answers arrived: long enough for a duplicate to show up


def bodies_from(m: Member, room_id: str, sender: str) -> list[str]:
    """Decrypted bodies the member saw from ``sender`` in a room."""
    out = []
    for room, ev in m.events:
        src = getattr(ev, "source", {})
        if room == room_id and src.get("sender") == sender and "body" in src.get("content", {}):
            out.append(src["content"]["body"])
    return out


def newest_card(m: Member, room_id: str, bot: str, event_id: str) -> dict[str, Any]:
    """The newest decrypted state of an event card: the card itself or its latest edit."""
    best: dict[str, Any] = {}
    for room, ev in m.events:
        src = getattr(ev, "source", {})
        content = src.get("content", {})
        rel = content.get("m.relates_to", {})
        if room != room_id or src.get("sender") != bot:
            continue
        if src.get("event_id") == event_id or (
            rel.get("rel_type") == "m.replace" and rel.get("event_id") == event_id
        ):
            data = content.get("m.new_content", content).get(EVENT_KEY)
            if data and data["revision"] >= best.get("revision", -1):
                best = data
    return best


def retry_every_second(m: Member) -> None:
    """Make the member's client retry a failed request each second, as a chat app does."""
    m.client.config = dataclasses.replace(m.client.config, max_timeout_retry_wait_time=1.0)


async def test_partner_outage_catch_up_and_late_commands_answered_once(
    partnership: Partnership, partner: FederatedSynapse
) -> None:
    p = partnership
    room, events = p.room_id, p.bots["events"]
    settled = {m.user_id: len(m.events) for m in (p.coord, p.wanjiru, p.otieno)}
    for m in (p.wanjiru, p.otieno):
        retry_every_second(m)
    create = await p.wanjiru.send(room, '!event create "Outage drill" 2030-07-01 10:00 UTC')
    replies = await p.wanjiru.wait_reply(create, sender=events)
    (card,) = [r for r in replies if EVENT_KEY in r["content"]]

    late: asyncio.Task[list[str]] | None = None
    try:
        await partner.stop()

        # Meanwhile at home: the coordinator talks and answers; the bot updates the card.
        said = [f"While the partner server was down, note {i}" for i in range(3)]
        for text in said:
            await p.coord.send(room, text)
        home_rsvp = await p.coord.send(room, "!event rsvp E1 yes")
        (answer,) = await p.coord.wait_reply(home_rsvp, sender=events)

        # The remote member types two commands while their server is down; the client retries
        # them (same transaction IDs) until it is back.
        late_texts = ["!event rsvp E1 maybe", "!event show E1"]

        async def type_in_order() -> list[str]:
            return [await p.wanjiru.send(room, text) for text in late_texts]

        late = asyncio.create_task(type_in_order())
        await asyncio.sleep(2)
        assert not late.done(), "sent although the server is down"

        await partner.start()
        late_ids = await asyncio.wait_for(late, WAIT_S)
    finally:
        if late is not None and not late.done():
            late.cancel()
        await partner.start()  # no-op when running; keeps the session's pair whole on failure

    # What was sent meanwhile arrives on the partner side, decrypted.
    for m in (p.wanjiru, p.otieno):

        async def caught_up(m: Member = m) -> bool:
            return set(said) <= set(bodies_from(m, room, p.coord.user_id)) and bool(
                decrypted_replies(m, home_rsvp, events)
            )

        await m.wait_until(caught_up)
        assert answer["content"]["body"] in bodies_from(m, room, events)

    # Each late command is answered once, to both servers' members.
    for event_id in late_ids:
        await p.wanjiru.wait_reply(event_id, sender=events)
        await p.coord.wait_reply(event_id, sender=events)
    await asyncio.sleep(QUIET_S)
    for m in (p.wanjiru, p.coord):
        counts = [len(decrypted_replies(m, e, events)) for e in late_ids]
        assert counts == [1, 1], f"{m.user_id} saw answers {counts}"
    (show,) = decrypted_replies(p.wanjiru, late_ids[1], events)
    assert show["content"][EVENT_KEY]["rsvps"] == {
        p.coord.user_id: "yes", p.wanjiru.user_id: "maybe",
    }  # fmt: skip

    async def card_current() -> bool:
        rsvps = newest_card(p.otieno, room, events, card["event_id"]).get("rsvps")
        return rsvps == {p.coord.user_id: "yes", p.wanjiru.user_id: "maybe"}

    await p.otieno.wait_until(card_current)
    for m in (p.coord, p.wanjiru, p.otieno):
        utd = undecryptable_since(m, settled[m.user_id])
        assert not utd, f"{m.user_id} could not decrypt {len(utd)} event(s)"
