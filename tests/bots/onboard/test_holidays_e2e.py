"""The partners' calendars and decision norms end to end: an event on Jamhuri Day in a Kenya
room warns and is still created; a poll marks that slot; ``!holidays`` lists the month; a
consensus room's poll accepts no slot when one voter excluded all the others chose."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bots.events.support import card_states, of_type, set_clock
from tests.bots.onboard.support import ask, group_toml, joined, provision, wait_bot_joined
from tests.support import OrgEnv

NOW_MS = int(datetime(2026, 12, 1, 9, 0, tzinfo=UTC).timestamp() * 1000)
ROOT = Path(__file__).resolve().parents[3]


async def test_kenya_holidays_warn_mark_and_list_and_consensus_settles_polls(
    org_env: OrgEnv, member_factory: Any, make_user: Any
) -> None:
    people = [await make_user(n) for n in ("coord", "amani", "bo", "chiku")]
    extra = 'countries = ["KE", "SE"]\ndecisions = "consensus"\nlanguages = ["en"]'
    body = group_toml(
        "Kenya link", [people[0][0]], [u for u, _ in people[1:]], extra, "partnership"
    )
    settings = await provision(org_env, body)
    room, (coord, amani, bo, chiku) = await joined(org_env, member_factory, people, "Kenya link")
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    set_clock(runtime, NOW_MS)
    bot = runtime.bots[0].user_id
    await wait_bot_joined(coord, room, bot)

    answers = await ask(
        amani, room, bot, '!event create "Partner call" 2026-12-12 10:00 Africa/Nairobi', count=2
    )
    assert "Dec 12 is Jamhuri Day in Kenya." in answers
    assert "Partner call" in answers
    card = card_states(amani, room, bot)["E1"]
    assert card["start"] == "2026-12-12T10:00:00+03:00", "created all the same"
    plain = await ask(amani, room, bot, '!event create "Prep" 2026-12-14 10:00 Africa/Nairobi')
    assert "Jamhuri" not in plain

    listed = await ask(amani, room, bot, "!holidays --month 2026-12")
    assert "Public holidays in Kenya and Sweden, December 2026:" in listed
    assert "Jamhuri Day (Kenya)" in listed
    assert "Christmas Day (Sweden)" in listed
    assert "Boxing Day (Kenya)" in listed
    assert listed.index("Jamhuri") < listed.index("Boxing"), "by date"
    assert "Jamhuri" in await ask(amani, room, bot, "!holidays"), "the next 90 days by default"
    bad = await ask(amani, room, bot, "!holidays --month 2026-13")
    assert "not a month: write YYYY-MM" in bad

    poll = await ask(
        amani, room, bot, '!event poll "Retro" 2026-12-11T10:00 2026-12-12T10:00 2026-12-14T10:00'
    )
    assert "Decisions here are by consensus" in poll

    async def started() -> bool:
        return bool(of_type(amani, room, bot, "org.matrix.msc3381.poll.start"))

    await amani.wait_until(started)
    (start,) = of_type(amani, room, bot, "org.matrix.msc3381.poll.start")
    block = start["content"]["org.matrix.msc3381.poll.start"]
    labels = [a["org.matrix.msc1767.text"] for a in block["answers"]]
    assert "⚠ Jamhuri Day (Kenya)" in labels[1]
    assert "⚠" not in labels[0] + labels[2]
    assert block["max_selections"] == 3, "consensus: tick every slot you can make"

    def vote(answers: list[str]) -> dict[str, Any]:
        return {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start["event_id"]},
            "org.matrix.msc3381.poll.response": {"answers": answers},
        }

    await amani.send_event(room, "org.matrix.msc3381.poll.response", vote(["s1", "s3"]))
    await bo.send_event(room, "org.matrix.msc3381.poll.response", vote(["s1", "s3"]))
    await chiku.send_event(room, "org.matrix.msc3381.poll.response", vote(["s2"]))
    await asyncio.sleep(1.5)

    tally = await ask(coord, room, bot, "!event poll close P1")
    assert "No slot was chosen by every voter" in tally, "the tally says why"
    assert "slot 1 left out by " + chiku.user_id in tally
    assert f"slot 2 left out by {amani.user_id}, {bo.user_id}" in tally
    refused = await ask(coord, room, bot, "!event poll accept P1")
    assert "has no slot every voter chose, so by consensus there is nothing to accept" in refused
    forced = await ask(coord, room, bot, "!event poll accept P1 1")
    assert f"{chiku.user_id} did not choose slot 1" in forced
    assert "E3" not in card_states(amani, room, bot), "no event was created"


def test_an_invalid_country_code_fails_org_check_with_its_path(tmp_path: Path) -> None:
    org = tmp_path / "org.toml"
    org.write_text(
        '[organisation]\nname = "O"\n[[working_group]]\nname = "Nordic"\n'
        'countries = ["SE", "XK1"]\n[[partnership]]\nname = "Kenya"\n'
        'coordinators = ["@a:localhost"]\ncountries = ["KE", "QQ"]\ndecisions = "vote"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "samverkan", "org", "check", "--config", str(org)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "SAMVERKAN_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "working_group.0.countries: unknown country code(s) 'XK1'" in result.stderr
    assert "partnership.0.countries: unknown country code(s) 'QQ'" in result.stderr
    assert "partnership.0.decisions:" in result.stderr
    assert "'consensus', 'majority' or 'coordinator'" in result.stderr
    assert "Traceback" not in result.stderr
