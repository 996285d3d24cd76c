"""A project's life end to end against the real Synapse, as a member's client decrypts it:
create → milestones → update → metrics → report with the right numbers and a verified ledger."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crypto.errors import InvalidSignature
from crypto.keys import Ed25519PublicKey
from crypto.ledger import LedgerEntry
from tests.bots.projects.support import (
    DAY,
    REPORT_KEY,
    T0_MS,
    ask,
    card_event,
    csv_rows,
    in_card_thread,
    is_error,
    projects_room,
    report,
    set_clock,
    wait_card,
)
from tests.support import OrgEnv


async def test_create_milestones_update_metrics_and_report(
    org_env: OrgEnv, member_factory: Any
) -> None:
    _s, room, (coord, alice), rt, bot = await projects_room(
        org_env, member_factory, members=1, coordinators=1
    )
    created = await ask(
        alice, room, bot,
        '!project create "Kvinder i lokalpolitik" --until 2027-06-30 --goal "40 candidates" '
        "--sdg 5",
    )  # fmt: skip
    card = created["org.samverkan.project"]
    assert (card["id"], card["owner"], card["status"], card["sdg"]) == (
        "P1",
        alice.user_id,
        "new",
        [5],
    )
    assert "Kvinder i lokalpolitik (P1)" in created["body"]
    assert "2027-01-11" in created["body"]
    assert "2027-06-30" in created["body"]
    assert "▼" in created["body"]  # today on it

    m1 = await ask(alice, room, bot, '!milestone add P1 "Kickoff" 2027-01-20')
    assert m1["org.samverkan.project"]["milestones"][0]["id"] == "M1"
    await ask(
        alice,
        room,
        bot,
        f'!milestone add P1 "Training in Skopje" 2027-03-01 --owner {coord.user_id}',
    )
    await ask(alice, room, bot, '!milestone add P1 "Final conference" 2027-06-01')
    up = await ask(alice, room, bot, '!update P1 on-track "Partners signed"')
    assert not is_error(up)
    await ask(alice, room, bot, "!metric add P1 participants --target 40 --unit people")
    await ask(alice, room, bot, "!metric add P1 trainings --target 3")
    set27 = await ask(alice, room, bot, "!metric set P1 participants 27")
    assert "27 / 40 people (67 %)" in set27["body"]
    await ask(alice, room, bot, "!metric set P1 trainings 3")

    state = await wait_card(
        alice, room, bot, "P1", lambda c: c["status"] == "on-track" and len(c["metrics"]) == 2
        and c["metrics"][1]["value"] == "3",
    )  # fmt: skip
    assert [m["id"] for m in state["milestones"]] == ["M1", "M2", "M3"]
    assert state["milestones"][1]["owner"] == coord.user_id
    root = card_event(alice, room, bot, "P1")
    thread = in_card_thread(alice, room, bot, root)
    assert any("Partners signed" in s["content"]["body"] for s in thread), "updates are threaded"

    # M1 is done late, M2 on time (by its owner, the coordinator); M3 stays open
    set_clock(rt, T0_MS + 14 * DAY)  # 2027-01-25
    late = await ask(alice, room, bot, "!milestone done M1")
    assert "done late" in late["body"]
    set_clock(rt, T0_MS + 40 * DAY)  # 2027-02-20
    on_time = await ask(coord, room, bot, "!milestone done M2")
    assert "done on time" in on_time["body"]
    again = await ask(coord, room, bot, "!milestone done M2")
    assert is_error(again)
    assert "already" in again["body"]

    notice, data = await report(alice, room, bot, "!project report P1 --format csv")
    summary = notice[REPORT_KEY]
    assert summary["verified"] is True
    assert summary["projects"] == 1
    (row,) = summary["rows"]
    assert (row["metrics_met"], row["metrics"]) == (1, 2)
    assert (row["on_time"], row["late"], row["overdue"], row["open"]) == (1, 1, 0, 1)
    assert "metrics 1/2 met; milestones 1 on time, 1 late, 0 overdue, 1 open" in notice["body"]
    rows = csv_rows(data)
    metrics = {r["id"]: r for r in rows if r["record"] == "metric"}
    assert (metrics["participants"]["value"], metrics["participants"]["target"]) == ("27", "40")
    assert metrics["participants"]["status"] == "not-met"
    assert metrics["trainings"]["status"] == "met"
    states = {r["id"]: r["status"] for r in rows if r["record"] == "milestone"}
    assert states == {"M1": "done-late", "M2": "done-on-time", "M3": "open"}
    entries = [r for r in rows if r["record"] == "ledger-entry"]
    actions = [r["detail"] for r in entries]
    assert len(entries) == 11, actions  # create, 3 milestones, update, 2+2 metrics, 2 done
    key = Ed25519PublicKey.from_base64(summary["ledger_key"])
    for row_ in entries:  # each entry checks out offline with nothing but the report
        entry = LedgerEntry.from_dict(json.loads(row_["detail"]))
        key.verify(entry.signed_bytes(), entry.signature)
        assert entry.entry_hash == row_["hash"]
    metric_set = next(json.loads(r["detail"]) for r in entries if "metric.set" in r["detail"])
    assert metric_set["data"]["value"] == "27"
    forged = LedgerEntry.from_dict({**metric_set, "data": {**metric_set["data"], "value": "40"}})
    with pytest.raises(InvalidSignature):
        key.verify(forged.signed_bytes(), forged.signature)
    assert rows[-1]["record"] == "ledger"
    assert rows[-1]["hash"] == summary["ledger_head"]
    assert rows[-1]["status"] == "verified"

    html_notice, page = await report(alice, room, bot, "!project report --all")
    assert html_notice[REPORT_KEY]["projects"] == 1
    assert b"<!doctype html>" in page
    assert b"Kvinder i lokalpolitik" in page
    assert not alice.undecryptable()
