"""The resources bot in a member's language (real Synapse, issue 16).

A member who chose ``!locale sv`` gets Swedish replies with Swedish numbers (``1 234,50 kr``)
and Swedish errors whose usage line and example stay as declared; request cards belong to the
room and stay in its language whoever acts on them; the structured copies never change.
"""

from __future__ import annotations

import time
from typing import Any

from tests.bots.resources.support import (
    REQUEST_KEY,
    ask,
    ask_id,
    card_event,
    is_error,
    wait_card_status,
)
from tests.support import OrgEnv

POOLS_KEY = "org.samverkan.pools"
LEDGER_KEY = "org.samverkan.ledger"


def plain(text: str) -> str:
    """``text`` with Babel's no-break spaces as plain spaces: tests compare meaning."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def body(content: dict[str, Any]) -> str:
    return plain(str(content["body"]))


async def test_swedish_replies_numbers_errors_and_cards_in_the_rooms_language(
    org_env: OrgEnv, member_factory
) -> None:
    _settings, room, (anna, olle, maja), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=2, bots=["resources"]
    )
    bot = rt.bots[0].user_id
    for sv in (anna, olle):
        chosen = await ask(sv, room, bot, "!locale sv")
        assert not is_error(chosen), chosen["body"]

    # -- !pool add and !pool show for an sv member: Swedish words and numbers ---------------
    added = await ask(anna, room, bot, "!pool add funding 1234.50")
    assert "1 234,50 kr" in body(added), added["body"]
    assert "finansiering (SEK, rummet)" in body(added), added["body"]
    await ask(anna, room, bot, "!pool add hours 12.5 --org")
    shown = await ask(anna, room, bot, "!pool show")
    text, html_body = body(shown), plain(shown["formatted_body"])
    assert "totalt 1 234,50 kr" in text, text
    assert "kvar 1 234,50 kr" in text, text
    assert "12,5 timmar" in text, text
    assert "<th>kvar</th>" in html_body, html_body
    # the structured copy is the same for everyone, never localised
    pools = {p["kind"]: p for p in shown[POOLS_KEY]["pools"]}
    assert pools["funding"]["total"] == "1234.50"
    assert pools["hours"]["total"] == "12.50"
    # … and a member without a choice reads the room's language (English here)
    english = await ask(maja, room, bot, "!pool show")
    assert "SEK1,234.50" in body(english), english["body"]
    assert "12.5 hours" in body(english), english["body"]
    assert english[POOLS_KEY] == shown[POOLS_KEY]

    # -- a malformed command: a Swedish reason, the usage and example as declared -------------
    bad = await ask(anna, room, bot, "!pool add funding abc")
    assert is_error(bad)
    assert "inte ett tal" in bad["body"], bad["body"]
    assert "!pool add <kind> <amount> [--unit SEK|EUR|hours|items] [--org]" in bad["body"]
    assert "!pool add funding 5000 --unit SEK" in bad["body"]
    assert "not a number" not in bad["body"]

    # -- the card of a request is the room's: English, whoever made it ------------------------
    cmd, made = await ask_id(anna, room, bot, '!request funding "Tåg till Bryssel" --amount 200')
    assert made[REQUEST_KEY]["id"] == "R1"
    assert "funding · open" in made["body"], made["body"]
    assert "asked by" in made["body"], made["body"]

    # -- four eyes refused in Swedish; nothing changes -----------------------------------------
    before = (await ask(anna, room, bot, "!ledger verify"))[LEDGER_KEY]
    own = await ask(anna, room, bot, "!request approve R1")
    assert is_error(own), own["body"]
    assert "din egen begäran" in own["body"], own["body"]
    assert "fyra ögon" in own["body"], own["body"]
    assert "[bots] four_eyes = false" in own["body"]
    assert "your own request" not in own["body"]
    assert "!request approve <id> [--amount N]" in own["body"]
    assert "!request approve R12 --amount 1000" in own["body"]
    after = (await ask(anna, room, bot, "!ledger verify"))[LEDGER_KEY]
    assert after["head"] == before["head"]
    listed = await ask(anna, room, bot, "!request show R1")
    assert listed[REQUEST_KEY]["status"] == "open"
    assert "finansiering · öppen" in listed["body"], listed["body"]  # a reply: anna's language

    # -- an sv coordinator approves: a Swedish reply, the card edited in English ---------------
    approved = await ask(olle, room, bot, "!request approve R1")
    assert not is_error(approved), approved["body"]
    assert "R1 beviljad: 200,00 kr" in body(approved), approved["body"]
    assert "1 034,50 kr kvar" in body(approved), approved["body"]
    edit = await wait_card_status(maja, card_event(maja, cmd, bot), "approved")
    assert "funding · approved" in edit["body"], edit["body"]
    assert f"approved SEK200.00 by {olle.user_id}" in body(edit), edit["body"]
    assert "beviljad" not in edit["body"]
    assert edit[REQUEST_KEY]["granted"] == "200.00"

    # -- the transparency report in the asker's language; the CSV's name and the data as ever --
    report_cmd = await anna.send(room, "!report")
    replies = await anna.wait_reply(report_cmd, sender=bot, count=2)
    notice = next(r["content"] for r in replies if r["content"]["msgtype"] == "m.notice")
    upload = next(r["content"] for r in replies if r["content"]["msgtype"] == "m.file")
    assert notice["body"].startswith("Transparensrapport — Nordic policy"), notice["body"]
    assert "Alla rader finns i den bifogade CSV-filen." in notice["body"]
    assert "beviljat 200,00 kr" in body(notice), notice["body"]
    assert upload["body"].startswith("transparency-report-")
    assert notice["org.samverkan.report"]["requests"][0]["status"] == "approved"


async def test_a_swedish_room_keeps_its_cards_and_reminders_swedish(
    org_env: OrgEnv, member_factory
) -> None:
    _settings, room, (coord, eve), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["resources"],
        extra='languages = ["sv"]',
    )  # fmt: skip
    bot = rt.bots[0].user_id
    await ask(eve, room, bot, "!locale en")
    # a member without a choice reads the room's language
    empty = await ask(coord, room, bot, "!pool show")
    assert empty["body"].startswith("Inga potter än."), empty["body"]
    by = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 2 * 86400))
    cmd, made = await ask_id(
        eve, room, bot, f'!request materials "Affischer" --amount 30 --by {by}'
    )
    assert "material · öppen" in made["body"], made["body"]  # the room's card, not eve's
    assert "30 st." in body(made), made["body"]
    mine = await ask(eve, room, bot, "!request list mine")
    assert "Your requests (1)" in mine["body"], mine["body"]  # a reply: eve's language
    assert "materials" in mine["body"], mine["body"]
    assert "30 items" in body(mine), mine["body"]
    # the reminder goes to the room, in the room's language
    rt.bots[0].clock = lambda: int(time.time() * 1000) + 2 * 3_600_000
    replies = await eve.wait_reply(cmd, sender=bot, count=2)
    (nudge,) = [r["content"] for r in replies if "⏰" in r["content"]["body"]]
    assert "väntar fortfarande på beslut" in nudge["body"], nudge["body"]
    assert coord.user_id in nudge["m.mentions"]["user_ids"]
