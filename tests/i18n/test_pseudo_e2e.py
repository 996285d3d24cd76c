"""Completeness, proven rather than read: the bots' commands run against the real Synapse
with every member on the pseudo-locale ``en-XA`` and the room's cards in it too; any reply or
card that still holds a plain English phrase was built outside the catalogues."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from messenger.i18n import PSEUDO
from tests.support import Member, OrgEnv

TRANSLATED = re.compile(r"⟦[^⟦⟧]*⟧")
COMMAND_LINE = re.compile(r"![a-z][^\n]*")  # usage lines, examples, command words: the interface
NOISE = re.compile(r"[@#$!][^\s,;)]+|https?://\S+|\S*\d\S*|<[^>]+>|\[[^\]]*\]|`[^`]*`")
WORD = re.compile(r"[A-Za-z]{2,}")
#: Words that legitimately stay as they are: user content below, bot names, units, codes.
ALLOWED = {
    "events", "resources", "translate", "funding", "travel", "venue", "materials", "hours",
    "SEK", "EUR", "UTC", "sv", "da", "nb", "en", "XA", "yes", "no", "maybe", "open", "all",
    "mine", "Helsingfors", "Oslo", "Kalmar", "Tallinn",
}  # fmt: skip

COMMANDS = [
    "!help",
    "!ping",
    "!events help",
    '!event create "Kalmar 2027" tomorrow 14:00 --duration 2h --where Oslo',
    "!event list",
    "!event show E1",
    "!event rsvp E1 yes",
    '!event agenda E1 add "Tallinn 2027"',
    "!event remind E1 1h",
    "!event create",
    "!event create Kalmar 2001-01-01 10:00",
    "!event rsvp E9 perhaps",
    '!event poll "Oslo 2027" 2027-03-01T10:00 2027-03-02T10:00',
    "!tz Europe/Helsinki",
    "!tz Mars/Olympus",
    "!pool add funding 5000",
    "!pool show",
    '!request funding "Helsingfors 2027" --amount 1200',
    "!request list all",
    "!request approve R1",
    "!request deny R9 no",
    "!request funding",
    "!ledger verify",
    "!report",
    "!lang",
    "!translator add da>sv",
    "!translator list",
    "!glossary list",
    "!mt",
    "!nonsense",
    '!event create "unclosed',
    "!locale",
]


def leftovers(body: str) -> list[str]:
    """Runs of three or more plain (untranslated) words in a reply or card."""
    text, previous = body, None
    while text != previous:  # nested: a translated reason inside a translated sentence
        previous, text = text, TRANSLATED.sub(" ", text)
    text = COMMAND_LINE.sub(" ", text)
    text = NOISE.sub(" ", text)
    found, run = [], []
    for token in re.split(r"[^A-Za-z]+", text):
        if WORD.fullmatch(token) and token not in ALLOWED:
            run.append(token)
            continue
        if len(run) >= 3:
            found.append(" ".join(run))
        run = []
    if len(run) >= 3:
        found.append(" ".join(run))
    return found


async def test_every_reply_and_card_goes_through_the_catalogues(
    org_env: OrgEnv, member_factory: Any
) -> None:
    _s, room_id, (coord, member), runtime = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1
    )
    bots = {b.user_id for b in runtime.bots}
    await runtime.bots[0].prefs.set_room_languages(room_id, [PSEUDO])  # cards in en-XA too
    for person in (coord, member):
        sent = await person.send(room_id, f"!locale {PSEUDO}")
        await person.wait_reply(sent, runtime.bots[0].user_id)
    for command in COMMANDS:
        who: Member = coord if command.startswith(("!pool", "!request approve")) else member
        sent = await who.send(room_id, command)
        await who.wait_reply(sent, timeout=45)
    await asyncio.sleep(3)  # the last card edits
    problems = []
    for _room, ev in member.events:
        src = getattr(ev, "source", {})
        if src.get("sender") not in bots:
            continue
        content = src.get("content", {})
        new = content.get("m.new_content")
        text = (new or content).get("body", "") if isinstance(content, dict) else ""
        for phrase in leftovers(str(text)):
            problems.append(f"{src.get('sender')}: {phrase!r} in {str(text)[:160]!r}")
    assert not problems, "English outside the catalogues:\n" + "\n".join(sorted(set(problems)))
