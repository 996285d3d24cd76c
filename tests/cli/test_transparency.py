"""``samverkan transparency report``: the figures of a period from the signed ledger, and a
published document that holds no user ID, room ID or request text (md, html and pdf)."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from messenger.botkit.shared import LIBRARY_PUBLIC_NS, PROJECTS_NS
from messenger.config import Settings, parse_org
from messenger.deploy.deployment import unlock_vault
from messenger.ledgerbook import LedgerBook
from messenger.session.statecache import NS as ROOM_STATE_NS
from messenger.store import StateStore
from samverkan.cli import main
from samverkan.transparency import parse_period, reason_category, scrub

PASSPHRASE = "transparency passphrase"
ORG = textwrap.dedent("""
    [organisation]
    name = "Transparency org"
    [bots]
    resources = "res-bot"
    [[working_group]]
    name = "Nordic policy"
    coordinators = ["@anna:localhost"]
    members = ["@bjorn:localhost"]
""")
ROOM = "!nordicRoomId:localhost"
PEOPLE = ("@anna:localhost", "@bjorn:localhost")
SECRET_TEXTS = ("Flyers for the Kalmar meeting", "bus tickets to Oslo", "Bjorn is ill")


def ms(day: str, hour: int = 12) -> int:
    d = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
    return int(d.timestamp() * 1000)


async def write_data(home: Path) -> None:
    """What the running bots leave: a signed ledger and room markers in the resources bot's
    store; projects and public lessons in the deployment store."""
    settings = Settings(home=home, passphrase=PASSPHRASE, org=parse_org(ORG), fast_kdf=True)  # type: ignore[arg-type]
    vault = await unlock_vault(settings)
    bot = await StateStore.open(home / "accounts" / "res-bot" / "state.db", vault)
    book = LedgerBook()
    anna, bjorn = PEOPLE
    entries = [
        (anna, "pool.add", {"pool": f"room:{ROOM}:funding:SEK", "kind": "funding",
                            "unit": "SEK", "amount": 500_000, "total": 500_000}, "2026-10-02"),
        (bjorn, "request.create", {"id": "R1", "room_id": ROOM, "kind": "funding", "unit": "SEK",
                                   "what": SECRET_TEXTS[0], "amount": 120_000}, "2026-10-05"),
        (anna, "request.approve", {"id": "R1", "amount": 100_000, "requested": 120_000},
         "2026-10-06"),
        (anna, "request.fulfil", {"id": "R1", "amount": 100_000}, "2026-10-20"),
        (bjorn, "request.create", {"id": "R2", "room_id": ROOM, "kind": "funding", "unit": "SEK",
                                   "what": SECRET_TEXTS[1], "amount": 50_000}, "2026-11-01"),
        (anna, "request.deny", {"id": "R2", "reason": f"#budget {SECRET_TEXTS[2]}"},
         "2026-11-04"),
        (bjorn, "request.create", {"id": "R3", "room_id": ROOM, "kind": "hours", "unit": "hours",
                                   "what": "outside the quarter"}, "2026-09-01"),
    ]  # fmt: skip
    try:
        async with bot.transaction() as tx:
            for actor, action, data, day in entries:
                await book.append(tx, actor, action, data, ms(day))
            marker = {"marker": {"slug": "nordic-policy", "kind": "working_group"}}
            await tx.put(ROOM_STATE_NS, ROOM, marker)
    finally:
        await bot.close()
    dep = await StateStore.open(home / "deployment.db", vault)
    try:
        await dep.put(
            PROJECTS_NS,
            f"{ROOM}/P1",
            {"title": "Youth exchange with @bjorn:localhost", "status": "on-track",
             "until": "2027-06-01", "sdg": [4, 16], "closed": False,
             "metrics": [{"name": "participants", "unit": "people", "target": 40, "value": 31}]},
        )  # fmt: skip
        await dep.put(
            LIBRARY_PUBLIC_NS,
            f"{ROOM}/K1",
            {"title": "Book venues early", "type": "lesson", "lang": "en",
             "created_ms": ms("2026-11-10")},
        )  # fmt: skip
    finally:
        await dep.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SAMVERKAN_HOME", str(home))
    monkeypatch.setenv("SAMVERKAN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SAMVERKAN_FAST_KDF", "1")
    (tmp_path / "org.toml").write_text(ORG)
    return home


async def report(tmp_path: Path, fmt: str) -> str:
    out = tmp_path / f"report.{fmt}"
    argv = ["transparency", "report", "--period", "2026-Q4", "--format", fmt, "--out", str(out),
            "--config", str(tmp_path / "org.toml")]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    if fmt == "pdf":
        return "\n".join(p.extract_text() for p in PdfReader(str(out)).pages)
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
async def test_published_report_has_the_figures_and_no_personal_data(
    home: Path, tmp_path: Path, fmt: str
) -> None:
    await write_data(home)
    text = await report(tmp_path, fmt)
    flat = " ".join(text.replace("\\", "").split())
    for forbidden in (*PEOPLE, "bjorn", ROOM, "nordicRoomId", *SECRET_TEXTS, "outside the quarter"):
        assert forbidden not in flat, (forbidden, fmt)
    assert "Nordic policy" in flat
    assert "5000.00" in flat  # pooled in the quarter
    assert "1000.00" in flat  # granted, and spent
    assert "budget" in flat  # the denial's stated category, not its text
    assert "Book venues early" in flat
    assert "participants" in flat
    assert "48.0 hours" in flat  # the median of 1 day (R1) and 3 days (R2)
    assert "requests made: 2" in flat  # R3 was made before the quarter


async def test_the_report_names_the_ledger_head_that_verifies(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_data(home)
    text = await report(tmp_path, "md")
    head = text.split("its head is `")[1].split("`")[0]
    key = text.split("Ed25519 key `")[1].split("`")[0]
    export = tmp_path / "ledger.jsonl"
    config = str(tmp_path / "org.toml")
    assert await asyncio.to_thread(main, ["ledger", "export", str(export), "--config", config]) == 0
    argv = ["ledger", "verify", str(export), "--key", key, "--head", head]
    assert await asyncio.to_thread(main, argv) == 0
    assert "the expected head is entry 6 (the newest)" in capsys.readouterr().out


async def test_a_period_without_activity_says_so(home: Path, tmp_path: Path) -> None:
    await write_data(home)
    out = tmp_path / "empty.md"
    argv = ["transparency", "report", "--period", "2027-Q3", "--out", str(out),
            "--config", str(tmp_path / "org.toml")]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    text = out.read_text()
    assert "No resources were pooled, granted or spent in this period." in text
    assert "No request was denied in this period." in text
    assert "No project figures have been recorded." in text  # P1 ended 2027-06-01
    assert "No lesson was published in this period." in text
    assert "requests made: 0" in text


def test_periods_categories_and_scrubbing() -> None:
    assert parse_period("2026-q4")[:2] == (
        datetime(2026, 10, 1).date(),
        datetime(2027, 1, 1).date(),
    )
    assert parse_period("2026-02")[1] == datetime(2026, 3, 1).date()
    assert parse_period("2026")[1] == datetime(2027, 1, 1).date()
    for bad in ("2026-Q5", "2026-13", "Q4", "last year"):
        with pytest.raises(ValueError, match="not a period"):
            parse_period(bad)
    assert reason_category("No #Budget left") == "budget"
    assert reason_category("#later #scope") == "scope"
    assert reason_category("no money") == "other"
    assert scrub("ask @anna:localhost in !room:example.org:8448") == "ask […] in […]"


async def test_a_bad_period_is_refused_clearly(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_data(home)
    argv = ["transparency", "report", "--period", "2026-Q9", "--config", str(tmp_path / "org.toml")]
    assert await asyncio.to_thread(main, argv) == 2
    assert "--period: '2026-Q9' is not a period" in capsys.readouterr().err
