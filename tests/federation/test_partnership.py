"""A partnership room across two federating Synapse: remote members use every bot, encrypted.

Home runs the bots and the provisioning account; the partner server holds two sister-party
accounts (a member and a coordinator). Each member's own nio client must decrypt what it
is asserted to see.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from messenger.config import parse_org
from messenger.deploy.federation import FederatedSynapse
from tests.bots.resources.support import (
    REQUEST_KEY,
    ask,
    ask_id,
    card_event,
    is_error,
    wait_card_status,
)
from tests.federation.support import Partnership, new_user, org_text, undecryptable_since
from tests.support import Member

DANISH = "Sommerfuglepartiet vil have mere demokrati i kommunerne, og vi skal tale om det på mødet."
EVENT_KEY = "org.samverkan.event"
REMINDER_KEY = "org.samverkan.event.reminder"
TRANSLATION_KEY = "org.samverkan.translation"
POOLS_KEY = "org.samverkan.pools"
LEDGER_KEY = "org.samverkan.ledger"
START = "2030-06-03T14:00:00+02:00"  # Europe/Stockholm, summer time
START_MS = int(datetime.fromisoformat(START).timestamp() * 1000)
DAY_MS = 86_400_000


def decrypted(m: Member, event_id: str) -> dict[str, Any]:
    """The decrypted content of one event as the member's client holds it ({} if none)."""
    for _r, ev in m.events:
        src = getattr(ev, "source", {})
        if src.get("event_id") == event_id and "body" in src.get("content", {}):
            return dict(src["content"])
    return {}


async def test_remote_members_use_every_bot_encrypted(
    partnership: Partnership,
    home: FederatedSynapse,
    partner: FederatedSynapse,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = partnership
    room, events, resources, translate = (
        p.room_id, p.bots["events"], p.bots["resources"], p.bots["translate"],
    )  # fmt: skip
    settled = {m.user_id: len(m.events) for m in (p.coord, p.wanjiru, p.otieno)}

    # The file's powers hold for remote users: the partner coordinator is at 50, the member not.
    refused = await ask(p.wanjiru, room, resources, "!pool add funding 1000")
    assert is_error(refused)
    assert "power level 50" in refused["body"]
    added = await ask(p.otieno, room, resources, "!pool add funding 1000")
    assert added[POOLS_KEY]["pools"][0]["total"] == "1000.00"

    # Events: the home coordinator plans, the remote member answers with !event rsvp.
    card = await ask_id(
        p.coord, room, events, '!event create "Partner meeting" 2030-06-03 14:00 Europe/Stockholm'
    )
    assert card[1][EVENT_KEY]["id"] == "E1"
    rsvp = await ask(p.wanjiru, room, events, "!event rsvp E1 yes")
    assert rsvp["body"].startswith("Noted: going for Partner meeting")
    assert rsvp[EVENT_KEY]["rsvps"][p.wanjiru.user_id] == "yes"

    # Resources: the remote member asks, the remote coordinator approves, the card follows.
    cmd, req = await ask_id(
        p.wanjiru, room, resources, '!request funding "Bus tickets to Kisumu" --amount 100'
    )
    assert (req[REQUEST_KEY]["id"], req[REQUEST_KEY]["requester"]) == ("R1", p.wanjiru.user_id)
    approved = await ask(p.otieno, room, resources, "!request approve R1")
    assert not is_error(approved), approved["body"]
    await wait_card_status(p.wanjiru, card_event(p.wanjiru, cmd, resources), "approved")
    ledger = await ask(p.wanjiru, room, resources, "!ledger verify")
    assert ledger[LEDGER_KEY]["ok"] is True, ledger

    # Translation: a remote volunteer declares da>en; a Danish message in this en/sw room gets
    # a prompt naming them, which the remote member who wrote it decrypts.
    await ask(p.otieno, room, translate, "!translator add da>en")
    source = await p.wanjiru.send(room, DANISH)
    (prompt, *_) = await p.wanjiru.wait_reply(source, sender=translate)
    data = prompt["content"][TRANSLATION_KEY]
    assert (data["kind"], data["source_language"]) == ("prompt", "da")
    assert data["volunteers"] == [p.otieno.user_id]
    assert p.otieno.user_id in prompt["content"]["body"]

    # Event reminders reach remote members: 24 h before the start, mentioning them.
    p.runtime.bots[0].clock = lambda: START_MS - DAY_MS + 1_000

    async def reminded() -> bool:
        return any(
            REMINDER_KEY in getattr(ev, "source", {}).get("content", {})
            for _r, ev in p.wanjiru.events
        )

    await p.wanjiru.wait_until(reminded)
    (reminder,) = [
        ev.source["content"]
        for _r, ev in p.wanjiru.events
        if REMINDER_KEY in getattr(ev, "source", {}).get("content", {})
    ]
    assert p.wanjiru.user_id in reminder["m.mentions"]["user_ids"]

    # A partner member added to the file later is invited over federation, joins, and reads
    # what is said from then on (the bots' and members' sessions are shared with the new
    # device) but nothing from before (history is visible to joined members only).
    amani_id, amani_pw = await new_user(partner, "amani")
    text = org_text(p.env, home, [p.coord.user_id, p.otieno.user_id], [p.wanjiru.user_id, amani_id])
    later = p.settings.model_copy(update={"org": parse_org(text)})
    assert not (await p.env.apply(later)).failed
    amani = await Member.login(partner.url, amani_id, amani_pw, tmp_path / "amani")
    try:
        await amani.wait_joined(room)
        ask_show = await p.wanjiru.send(room, "!event show E1")
        (shown,) = await amani.wait_reply(ask_show, sender=events)
        assert shown["content"][EVENT_KEY]["id"] == "E1"
        assert decrypted(amani, ask_show)["body"] == "!event show E1"
        seen = {getattr(e, "source", {}).get("event_id") for _r, e in amani.events}
        assert source not in seen, "history from before the join was visible"
    finally:
        await amani.close()

    # The home coordinator reads the remote member's messages too; nothing after the
    # warm-up was undecryptable on any side.
    async def home_decrypted() -> bool:
        return bool(decrypted(p.coord, source))

    await p.coord.wait_until(home_decrypted)
    assert decrypted(p.coord, source)["body"] == DANISH
    for m in (p.coord, p.wanjiru, p.otieno):
        late = undecryptable_since(m, settled[m.user_id])
        assert not late, f"{m.user_id} could not decrypt {len(late)} event(s)"
    # … and no bot ever failed to read a remote member's message, warm-up included.
    logged = caplog.get_records("setup") + caplog.get_records("call")
    assert not [r.getMessage() for r in logged if "cannot read" in r.getMessage()]
