"""Four eyes, default units and dated examples of the resources bot (real Synapse).

A coordinator's own request needs another coordinator unless ``[bots] four_eyes = false``; a
request without ``--unit`` is counted in the unit of the room's (else the org's) pool of its
kind; the usage example shown on an error carries a date that is not in the past.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

from messenger.config import parse_org
from tests.bots.resources.support import REQUEST_KEY, ask, is_error
from tests.support import OrgEnv

LEDGER_KEY = "org.samverkan.ledger"
POOLS_KEY = "org.samverkan.pools"


async def test_four_eyes_units_and_examples(org_env: OrgEnv, member_factory) -> None:
    _settings, room, (anna, olle, member), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=2, bots=["resources"]
    )
    bot = rt.bots[0].user_id

    # -- the room's funding pool is in EUR: requests without --unit are counted in EUR ----------
    await ask(anna, room, bot, "!pool add funding 1000 --unit EUR")
    await ask(anna, room, bot, "!pool add funding 50 --org")  # the org's is in SEK
    mine = await ask(anna, room, bot, '!request funding "Train to Brussels" --amount 200')
    assert (mine[REQUEST_KEY]["id"], mine[REQUEST_KEY]["unit"]) == ("R1", "EUR")
    # … and with no pool of the kind in the room, the organisation's unit counts
    await ask(anna, room, bot, "!pool add venue 10 --unit hours --org")
    hall = await ask(member, room, bot, '!request venue "Hall for the summit" --amount 4')
    assert hall[REQUEST_KEY]["unit"] == "hours"
    # no pool of the kind anywhere: the kind's default
    flyers = await ask(member, room, bot, '!request materials "Flyers" --amount 300')
    assert flyers[REQUEST_KEY]["unit"] == "items"
    # an explicit --unit still wins
    sek = await ask(member, room, bot, '!request funding "Coffee" --amount 20 --unit SEK')
    assert sek[REQUEST_KEY]["unit"] == "SEK"

    # -- a coordinator's own request: refused, nothing changes ---------------------------------
    before = (await ask(anna, room, bot, "!ledger verify"))[LEDGER_KEY]
    pools_before = (await ask(anna, room, bot, "!pool show"))[POOLS_KEY]
    own = await ask(anna, room, bot, "!request approve R1")
    assert is_error(own), own["body"]
    assert "your own request" in own["body"]
    assert "another coordinator" in own["body"]
    assert "[bots] four_eyes = false" in own["body"]
    shown = await ask(anna, room, bot, "!request show R1")
    assert shown[REQUEST_KEY]["status"] == "open"
    assert (await ask(anna, room, bot, "!ledger verify"))[LEDGER_KEY]["head"] == before["head"]
    assert (await ask(anna, room, bot, "!pool show"))[POOLS_KEY] == pools_before

    # -- another coordinator approves it, from the EUR pool -------------------------------------
    approved = await ask(olle, room, bot, "!request approve R1")
    assert not is_error(approved), approved["body"]
    assert approved[REQUEST_KEY]["granted"] == "200.00"
    assert approved[REQUEST_KEY]["decided_by"] == olle.user_id
    assert "funding (EUR, room) has €800.00 left" in approved["body"]

    # -- a one-coordinator group sets [bots] four_eyes = false: own approval works -----------
    text = org_env.org_text.replace("[bots]\n", "[bots]\nfour_eyes = false\n", 1)
    rbot = rt.bots[0]
    rbot.org = parse_org(text)
    assert rbot.org.bots.four_eyes is False
    again = await ask(anna, room, bot, '!request funding "Hotel" --amount 100')
    rid = again[REQUEST_KEY]["id"]
    ok = await ask(anna, room, bot, f"!request approve {rid}")
    assert not is_error(ok), ok["body"]
    assert ok[REQUEST_KEY]["decided_by"] == anna.user_id

    # -- the example shown on an error has a date that is not past (and parses) ---------------
    bad = await ask(member, room, bot, "!request funding")
    assert is_error(bad)
    (example,) = [line for line in bad["body"].splitlines() if line.startswith("Example:")]
    (by,) = re.findall(r"--by (\d{4}-\d{2}-\d{2})", example)
    today = datetime.now(UTC).date()
    assert date.fromisoformat(by) >= today + timedelta(days=7), example
    copied = await ask(member, room, bot, example.removeprefix("Example: "))
    assert not is_error(copied), copied["body"]
    assert copied[REQUEST_KEY]["by"] == by
    # the bot's clock moves a year on: the example moves with it
    rbot.clock = lambda: int(time.time() * 1000) + 365 * 86_400_000
    later = await ask(member, room, bot, "!request funding")
    (by_later,) = re.findall(r"--by (\d{4}-\d{2}-\d{2})", later["body"])
    assert date.fromisoformat(by_later) >= today + timedelta(days=365)
