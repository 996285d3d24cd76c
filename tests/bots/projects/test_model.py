"""The projects bot's pure rules and parsers (no homeserver): milestone states, when a missed
update reminds, metric progress, resource totals, the Gantt line; every parser either returns
a value or raises ``ValueError`` (property-tested)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.projects import parse
from bots.projects.model import DAY_MS, Metric, MetricPoint, Milestone, Project, resource_totals
from bots.projects.render import gantt
from bots.resources.model import date_ms

T0 = date_ms("2027-01-11") + 9 * 3_600_000


def project(**kw: object) -> Project:
    base: dict[str, object] = {
        "id": "P1", "room": "!r:x", "title": "Alpha", "owner": "@a:x", "creator": "@a:x",
        "created_ms": T0, "until": "2027-06-30",
    }  # fmt: skip
    return Project.model_validate({**base, **kw})


def test_milestone_states() -> None:
    m = Milestone(id="M1", title="x", due="2027-02-01", owner="@a:x")
    assert m.state("2027-02-01") == "open"
    assert m.state("2027-02-02") == "overdue"
    m.done_on = "2027-02-01"
    assert m.state("2027-03-01") == "done-on-time"
    m.done_on = "2027-02-03"
    assert m.state("2027-03-01") == "done-late"


def test_a_missed_update_reminds_once_per_period() -> None:
    p = project()
    assert p.reminder_due() == T0 + 7 * DAY_MS
    assert p.latest_deadline(T0 + 7 * DAY_MS - 1) is None
    assert p.latest_deadline(T0 + 7 * DAY_MS) == T0 + 7 * DAY_MS
    p.reminded_for = T0 + 7 * DAY_MS
    assert p.latest_deadline(T0 + 10 * DAY_MS) is None, "once for that deadline"
    assert p.reminder_due() == T0 + 14 * DAY_MS
    assert p.latest_deadline(T0 + 40 * DAY_MS) == T0 + 35 * DAY_MS, "down for weeks: once"
    p.remind = "never"
    assert p.reminder_due() is None
    q = project(remind="monthly", last_update_ms=T0 + DAY_MS)
    assert q.reminder_due() == T0 + 31 * DAY_MS
    assert project(status="closed").reminder_due() is None


def test_overdue_flags_once_per_due_date() -> None:
    p = project(milestones=[{"id": "M1", "title": "x", "due": "2027-01-20", "owner": "@b:x"}])
    assert [m.id for m in p.overdue_unflagged("2027-01-21")] == ["M1"]
    p.milestones[0].flagged = "2027-01-20"
    assert p.overdue_unflagged("2027-01-21") == []
    p.milestones[0].due = "2027-01-25"  # moved: a new date may be missed again
    assert [m.id for m in p.overdue_unflagged("2027-01-26")] == ["M1"]


def test_metric_progress_and_resources() -> None:
    m = Metric(name="participants", target="40")
    assert (m.value, m.met(), m.percent()) == (None, False, None)
    m.history.append(MetricPoint(value="27", ts=0, by="@a:x"))
    assert (m.met(), m.percent()) == (False, 67)
    m.history.append(MetricPoint(value="40", ts=1, by="@a:x"))
    assert m.met()
    records = [
        {"project": "P1", "unit": "SEK", "granted": 80000, "spent": 80000},
        {"project": "P1", "unit": "SEK", "granted": 1000, "spent": 0},
        {"project": "P1", "unit": "hours", "granted": 500, "spent": True},  # a bool is no amount
        {"project": "P1", "granted": 5},
    ]
    assert resource_totals(records) == {
        "SEK": {"granted": 81000, "spent": 80000},
        "hours": {"granted": 500, "spent": 0},
    }


def test_gantt_marks_today_and_milestones() -> None:
    line = gantt(
        "2027-01-01", "2027-12-31", "2027-07-01", [("2027-03-01", "◆"), ("2027-12-31", "!")]
    )
    bar = line.split(" ")[1]
    assert len(bar) == 32
    assert bar.index("▼") == 15
    assert bar.endswith("!")
    assert "▼" not in gantt("2027-01-01", "2027-02-01", "2027-03-01", [])


@pytest.mark.parametrize(
    ("parser", "word", "value"),
    [
        (parse.parse_project_id, "#p12", "P12"),
        (parse.parse_milestone_id, "m3", "M3"),
        (parse.parse_status, "At_Risk", "at-risk"),
        (parse.parse_remind, "Never", "never"),
        (parse.parse_number, "12,50", "12.5"),
        (parse.parse_number, "-0", "0"),
        (parse.parse_target, "40", "40"),
        (parse.parse_sdg, "5,10,5", [5, 10]),
        (parse.parse_user, "@mette:example.org", "@mette:example.org"),
        (parse.parse_format, "CSV", "csv"),
        (parse.parse_date, "2027-06-30", "2027-06-30"),
    ],
)
def test_parsers_read_what_people_write(parser: object, word: str, value: object) -> None:
    assert parser(word) == value  # type: ignore[operator]


PARSERS = [
    parse.parse_project_id, parse.parse_milestone_id, parse.parse_status, parse.parse_remind,
    parse.parse_number, parse.parse_target, parse.parse_metric_name, parse.parse_sdg,
    parse.parse_user, parse.parse_format, parse.parse_date,
]  # fmt: skip


@given(st.text(max_size=40))
def test_every_parser_returns_or_refuses_with_a_value_error(word: str) -> None:
    for parser in PARSERS:
        try:
            parser(word)
        except ValueError as e:
            reason = str(e)
        else:
            continue
        assert reason, "a refusal says what was wrong"
