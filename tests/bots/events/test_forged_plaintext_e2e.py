"""Forged plaintext events in an encrypted room (real Synapse): a reaction gives an RSVP, nothing
more; a plaintext message, command or poll vote does nothing at all.

Everything forged is sent as a homeserver (or anyone with a member's access token) could: a raw
``PUT /send`` in the clear, in a coordinator's name. The encrypted commands after it still work.
"""

from __future__ import annotations

from typing import Any

from tests.bots.resources.support import REQUEST_KEY, ask, card_event, is_error
from tests.support import Member, OrgEnv, send_in_clear

LEDGER_KEY = "org.samverkan.ledger"
POOLS_KEY = "org.samverkan.pools"
EVENT_KEY = "org.samverkan.event"


async def forge(m: Member, room_id: str, event_type: str, content: dict[str, Any]) -> str:
    """Send an event in the clear with the member's access token (no encryption)."""
    return await send_in_clear(
        m.client.homeserver, m.client.access_token, room_id, event_type, content
    )


def annotation(target: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}, **extra}


async def test_forged_reactions_do_no_more_than_an_rsvp(org_env: OrgEnv, member_factory) -> None:
    settings, room, (coord, member), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events", "resources"]
    )
    ids = settings.org.bot_user_ids()
    res, evb = ids["resources"], ids["events"]
    await ask(coord, room, res, "!pool add funding 1000")
    r1_cmd = await member.send(room, '!request funding "Flyers" --amount 300')
    (card,) = [
        r for r in await member.wait_reply(r1_cmd, sender=res) if REQUEST_KEY in r["content"]
    ]
    request_card = card_event(member, r1_cmd, res)
    plan = await coord.send(room, '!event create "Summit" 2031-05-20 10:00 Europe/Stockholm')
    (event_card,) = await coord.wait_reply(plan, sender=evb)
    event_card_id = event_card["event_id"]
    ledger_before = (await ask(coord, room, res, "!ledger verify"))[LEDGER_KEY]
    pools_before = (await ask(coord, room, res, "!pool show"))[POOLS_KEY]

    # -- forged in the coordinator's name, in the clear --------------------------------------
    forged = [
        # reactions on the request card: a "yes", a thumbs-up, one dressed as a command
        await forge(coord, room, "m.reaction", annotation(request_card, "✅")),
        await forge(coord, room, "m.reaction", annotation(request_card, "👍")),
        await forge(
            coord,
            room,
            "m.reaction",
            annotation(
                request_card, "!request approve R1", msgtype="m.text", body="!request approve R1"
            ),
        ),  # fmt: skip
        # a reaction on the command that made the request (the request's thread root)
        await forge(coord, room, "m.reaction", annotation(r1_cmd, "✅")),
        # plaintext messages: a comment in the request's thread and commands
        await forge(
            coord,
            room,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "Approved, pay it out",
                "m.relates_to": {"rel_type": "m.thread", "event_id": r1_cmd},
            },
        ),  # fmt: skip
        await forge(
            coord, room, "m.room.message", {"msgtype": "m.text", "body": "!pool add funding 9"}
        ),
        await forge(
            coord, room, "m.room.message", {"msgtype": "m.text", "body": "!request approve R1"}
        ),
        await forge(
            coord, room, "m.room.message", {"msgtype": "m.text", "body": "!event cancel E1"}
        ),
        # a reaction on the event card: an RSVP, which is all a reaction can be
        await forge(coord, room, "m.reaction", annotation(event_card_id, "❌")),
    ]

    # the encrypted commands after them are answered: the forged ones were handled (in order)
    shown = await ask(member, room, res, "!request show R1")
    event_now = await ask(member, room, evb, "!event show E1")
    for event_id in forged:
        assert coord.replies_to(event_id) == [], event_id
        assert member.replies_to(event_id) == [], event_id
    assert shown[REQUEST_KEY]["status"] == "open"
    assert shown[REQUEST_KEY]["comments"] == 0
    assert "pay it out" not in shown["body"]
    ledger_after = (await ask(coord, room, res, "!ledger verify"))[LEDGER_KEY]
    assert (ledger_after["entries"], ledger_after["head"]) == (
        ledger_before["entries"], ledger_before["head"]
    )  # fmt: skip
    assert (
        f"--head {ledger_after['head']}" in (await ask(coord, room, res, "!ledger verify"))["body"]
    )
    assert (await ask(coord, room, res, "!pool show"))[POOLS_KEY] == pools_before
    assert event_now[EVENT_KEY]["status"] == "scheduled"
    assert event_now[EVENT_KEY]["rsvps"] == {coord.user_id: "no"}  # the RSVP, nothing more

    # a redaction (always in the clear) of that reaction takes the RSVP back: still an RSVP
    await coord.client.room_redact(room, forged[-1])
    assert (await ask(member, room, evb, "!event show E1"))[EVENT_KEY]["rsvps"] == {}

    # -- the same commands encrypted work -----------------------------------------------------
    approved = await ask(coord, room, res, "!request approve R1")
    assert not is_error(approved), approved["body"]
    assert approved[REQUEST_KEY]["granted"] == "300.00"
    assert card["content"][REQUEST_KEY]["id"] == "R1"
    cancelled = await ask(coord, room, evb, "!event cancel E1")
    assert cancelled[EVENT_KEY]["status"] == "cancelled"
