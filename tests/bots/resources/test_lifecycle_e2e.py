"""The resources bot end to end on the real Synapse, as members' clients decrypt it.

One long lifecycle (two members, a coordinator): pools, requests, comments, partial approval,
denial, overdraw, permission refusals, bad input, reminders, a restart in the middle (with a
command sent while the bot is down), the report with its encrypted CSV, and the ledger
verified in the room and offline, where flipping any byte of any entry breaks it there.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nio.crypto import decrypt_attachment

from bots.resources.book import entry_key
from crypto.keys import Ed25519PublicKey
from samverkan.ledger_cmd import export_ledger, verify_text
from tests.bots.resources.support import (
    REQUEST_KEY,
    ask,
    ask_id,
    card_event,
    is_error,
    wait_card_status,
)
from tests.support import Member, OrgEnv

LEDGER_KEY = "org.samverkan.ledger"
POOLS_KEY = "org.samverkan.pools"
DAY_MS = 86_400_000


async def ledger_state(m: Member, room: str, bot: str) -> dict[str, Any]:
    reply = await ask(m, room, bot, "!ledger verify")
    return dict(reply[LEDGER_KEY])


async def pools_by_kind(m: Member, room: str, bot: str) -> dict[str, dict[str, str]]:
    reply = await ask(m, room, bot, "!pool show")
    return {f"{p['kind']}/{p['scope']}": p for p in reply[POOLS_KEY]["pools"]}


async def test_full_lifecycle_report_ledger_and_restart(
    org_env: OrgEnv, member_factory, tmp_path: Path
) -> None:
    settings, room, (coord, alice, bob), rt = await org_env.room_with_bots(
        member_factory, members=2, coordinators=1, bots=["resources"]
    )
    bot = rt.bots[0].user_id

    # -- pools: coordinators only; kinds, units and amounts validated --------------------------
    refused = await ask(alice, room, bot, "!pool add funding 5000")
    assert is_error(refused)
    assert "power level 50" in refused["body"]
    bad_unit = await ask(coord, room, bot, "!pool add funding 100 --unit hours")
    assert is_error(bad_unit)
    assert "SEK/EUR" in bad_unit["body"]
    added = await ask(coord, room, bot, "!pool add funding 5000")
    assert added[POOLS_KEY]["pools"][0]["total"] == "5000.00"
    await ask(coord, room, bot, "!pool add hours 20.5")
    await ask(coord, room, bot, "!pool add funding 300 --unit EUR --org")

    # -- requests by two members ------------------------------------------------------------
    by = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 10 * 86400))
    r1_cmd, card1 = await ask_id(
        alice, room, bot, f'!request funding "Flyers <b>now</b>" --amount 1500 --by {by} '
        '--for "Nordic summit"',
    )  # fmt: skip
    c1 = card1[REQUEST_KEY]
    assert (c1["id"], c1["status"], c1["amount"], c1["unit"]) == ("R1", "open", "1500.00", "SEK")
    assert c1["purpose"] == "Nordic summit"
    assert c1["requester"] == alice.user_id
    assert "<b>now</b>" not in card1["formatted_body"]
    r2_cmd, card2 = await ask_id(bob, room, bot, '!request hours "Legal review" --amount 8')
    assert card2[REQUEST_KEY]["id"] == "R2"
    _r3, card3 = await ask_id(bob, room, bot, '!request funding "Bus tickets" --amount 400')
    assert card3[REQUEST_KEY]["id"] == "R3"

    # a comment in R1's thread is kept with it
    await alice.send(
        room,
        "The printer needs the files by Friday",
        **{"m.relates_to": {"rel_type": "m.thread", "event_id": r1_cmd}},
    )

    # -- bad input: a clear reply, nothing changed ---------------------------------------------
    before = await ledger_state(coord, room, bot)
    for body, why in [
        ('!request gadgets "x"', "funding, hours, materials, venue, translation"),
        ('!request funding "x" --amount -5', "negative"),
        ('!request funding "x" --amount abc', "not a number"),
        ('!request funding "x" --amount 1.234', "2 decimal places"),
        ('!request funding "x" --by 2020-01-01', "in the past"),
        ("!request approve R99", "no request R99"),
        ("!request approve R1 --amount 1600", "at most"),
    ]:
        reply = await ask(coord, room, bot, body)
        assert is_error(reply), body
        assert why in reply["body"], (body, reply["body"])

    # -- permission refusals name the level ------------------------------------------------------
    for body in ("!request approve R1", '!request deny R1 "no"', "!request fulfil R1"):
        reply = await ask(bob, room, bot, body)
        assert is_error(reply), body
        assert "power level 50" in reply["body"], body
    not_yours = await ask(bob, room, bot, "!request withdraw R1")
    assert is_error(not_yours)
    assert alice.user_id in not_yours["body"]
    assert (await ledger_state(coord, room, bot))["entries"] == before["entries"]

    # -- reminder before the --by date, to the coordinators, in the request's thread ------------
    rbot = rt.bots[0]
    rbot.clock = lambda: int(time.time() * 1000) + 8 * DAY_MS
    replies = await alice.wait_reply(r1_cmd, sender=bot, count=2)
    reminder = next(r["content"] for r in replies if "⏰" in r["content"]["body"])
    assert reminder["m.mentions"]["user_ids"] == [coord.user_id]
    assert reminder["m.relates_to"]["event_id"] == r1_cmd
    rbot.clock = lambda: int(time.time() * 1000)

    # -- partial approval, card edited in place; denial; overdraw refused ------------------------
    card1_id = card_event(alice, r1_cmd, bot)
    ok = await ask(coord, room, bot, "!request approve R1 --amount 1000")
    assert not is_error(ok)
    assert ok[REQUEST_KEY]["granted"] == "1000.00"
    assert "SEK4,000.00 left" in ok["body"]
    edited = await wait_card_status(alice, card1_id, "approved")
    assert edited[REQUEST_KEY]["granted"] == "1000.00"
    assert edited[REQUEST_KEY]["decided_by"] == coord.user_id
    again = await ask(coord, room, bot, "!request approve R1")
    assert is_error(again)
    assert "already approved" in again["body"]
    denied = await ask(coord, room, bot, '!request deny R2 "Use the party lawyer"')
    assert denied[REQUEST_KEY]["status"] == "denied"
    await wait_card_status(bob, card_event(bob, r2_cmd, bot), "denied")
    closed = await ask(coord, room, bot, "!request approve R2")
    assert is_error(closed)
    assert "already denied" in closed["body"]
    await ask(coord, room, bot, "!pool add funding 0.5")  # total 5000.50, 4000.50 left
    big_cmd, big = await ask_id(alice, room, bot, '!request funding "Venue deposit" --amount 4500')
    over = await ask(coord, room, bot, f"!request approve {big[REQUEST_KEY]['id']}")
    assert is_error(over)
    assert "has SEK4,000.50 left" in over["body"]
    withdrawn = await ask(alice, room, bot, f"!request withdraw {big[REQUEST_KEY]['id']}")
    assert withdrawn[REQUEST_KEY]["status"] == "withdrawn"
    await wait_card_status(alice, card_event(alice, big_cmd, bot), "withdrawn")

    # -- restart mid-lifecycle; a command sent while the bot is down is still carried out --------
    key_before = (await ledger_state(coord, room, bot))["key"]
    await org_env.stop_bots()
    fulfil_id = await coord.send(room, "!request fulfil R1")
    rt = await org_env.start_bots(settings, ["resources"])
    await rt.wait_synced()
    (fulfilled,) = await coord.wait_reply(fulfil_id, sender=bot)
    body = fulfilled["content"]["body"]
    assert fulfilled["content"].get(REQUEST_KEY, {}).get("status") == "fulfilled", body
    await wait_card_status(alice, card1_id, "fulfilled")
    shown = await ask(bob, room, bot, "!request show R1")
    assert "The printer needs the files by Friday" in shown["body"]
    assert shown[REQUEST_KEY]["comments"] == 1
    listed = await ask(alice, room, bot, "!request list mine")
    assert [r["id"] for r in listed["org.samverkan.requests"]["requests"]] == ["R1", "R4"]
    approved3 = await ask(coord, room, bot, "!request approve R3")
    assert approved3[REQUEST_KEY]["granted"] == "400.00"

    # -- pools and the report add up; the CSV decrypts and parses ------------------------------
    pools = await pools_by_kind(coord, room, bot)
    funding = pools["funding/room"]
    assert (funding["total"], funding["granted"], funding["spent"], funding["remaining"]) == (
        "5000.50", "1400.00", "1000.00", "3600.50"
    )  # fmt: skip
    assert pools["funding/org"]["unit"] == "EUR"
    assert pools["hours/room"]["granted"] == "0.00"
    report_cmd = await alice.send(room, "!report")
    replies = await alice.wait_reply(report_cmd, sender=bot, count=2)
    notice = next(r["content"] for r in replies if r["content"]["msgtype"] == "m.notice")
    upload = next(r["content"] for r in replies if r["content"]["msgtype"] == "m.file")
    report = notice["org.samverkan.report"]
    status = await ledger_state(coord, room, bot)
    assert status["ok"]
    assert status["key"] == key_before
    assert report["ledger_head"] == status["head"]
    assert report["ledger_key"] == key_before
    assert report["ledger_head"] in notice["body"]
    rows = await download_csv(alice, upload)
    pool_rows = {r["id"]: r for r in rows if r["record"] == "pool"}
    request_rows = [r for r in rows if r["record"] == "request"]
    assert [r["id"] for r in request_rows] == ["R1", "R2", "R3", "R4"]
    room_funding = next(r for r in pool_rows.values() if r["kind"] == "funding" and r["room_id"])
    granted = sum(
        float(r["granted"]) for r in request_rows
        if r["kind"] == "funding" and r["status"] in {"approved", "fulfilled"}
    )  # fmt: skip
    spent = sum(float(r["granted"]) for r in request_rows if r["status"] == "fulfilled")
    assert granted == float(room_funding["granted"]) == 1400.0
    assert spent == float(room_funding["spent"]) == 1000.0
    assert float(room_funding["total"]) - granted == float(room_funding["remaining"])
    r1 = request_rows[0]
    assert (r1["requester"], r1["decided_by"], r1["what"]) == (
        alice.user_id, coord.user_id, "Flyers <b>now</b>"
    )  # fmt: skip
    assert rows[-1]["record"] == "ledger"
    assert rows[-1]["id"] == report["ledger_head"]

    # -- the exported ledger verifies offline; any flipped byte breaks it at that entry --------
    out = tmp_path / "ledger.jsonl"
    count, verdict, key_b64 = await export_ledger(settings, out)
    assert verdict.ok
    assert key_b64 == key_before
    assert count == status["entries"]
    data = out.read_bytes()
    pub = Ed25519PublicKey.from_base64(key_b64)
    assert verify_text(data, pub, expect_head=report["ledger_head"]).ok
    assert_flips_break_at_their_entry(data, pub)
    assert not alice.undecryptable()
    assert not coord.undecryptable()
    from_bot = [
        ev
        for _r, ev in alice.events
        if getattr(ev, "sender", "") == bot and "state_key" not in ev.source
    ]
    assert len(from_bot) > 30
    plain = [ev for ev in from_bot if not getattr(ev, "decrypted", False)]
    assert not plain, [(type(ev).__name__, ev.source.get("type")) for ev in plain]

    # -- reports on other groups need their coordinator; a tampered entry is named ------------
    other = await ask(alice, room, bot, "!report --room all")
    assert is_error(other)
    assert "coordinate" in other["body"]
    store = rt.bots[0].store
    entry = await store.get("ledger", entry_key(3))
    await store.put("ledger", entry_key(3), {**entry, "actor": "@mallory:localhost"})
    broken = await ledger_state(coord, room, bot)
    assert not broken["ok"]
    assert broken["broken_index"] == 3


async def download_csv(m: Member, content: dict[str, Any]) -> list[dict[str, str]]:
    """Download and decrypt an encrypted attachment with the member's own nio client."""
    f = content["file"]
    resp = await m.client.download(mxc=f["url"])
    plain = decrypt_attachment(resp.body, f["key"]["k"], f["hashes"]["sha256"], f["iv"])
    assert content["info"]["mimetype"] == "text/csv"
    return list(csv.DictReader(io.StringIO(plain.decode("utf-8"))))


def assert_flips_break_at_their_entry(data: bytes, pub: Ed25519PublicKey) -> None:
    """Property: flipping any byte of any entry fails verification at exactly that entry."""
    lines = data.split(b"\n")[:-1]
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.integers(0, len(lines) - 1),
        st.floats(0, 1, exclude_max=True),
        st.integers(1, 255),
    )
    def flip(line: int, where: float, mask: int) -> None:
        pos = starts[line] + int(where * len(lines[line]))
        broken = bytearray(data)
        broken[pos] ^= mask
        verdict = verify_text(bytes(broken), pub)
        assert not verdict.ok
        assert verdict.broken_index == line, (line, verdict.problem)

    flip()
