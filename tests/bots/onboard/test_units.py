"""Onboarding's pure parts: skill parsing and matching, months, the checklist, holidays."""

from __future__ import annotations

from datetime import date

import pytest

from bots.onboard import holidays, parse, render
from bots.onboard.model import Checklist, SkillSet
from messenger.config import parse_org
from messenger.i18n import translator


def test_skills_are_quoted_words_normalised() -> None:
    assert parse.skills('"Lokaldemokrati" "kampanj  planering" lokaldemokrati') == [
        "lokaldemokrati",
        "kampanj planering",
    ]
    assert parse.skills("“public speaking”") == ["public speaking"]


@pytest.mark.parametrize("bad", ["", '"unclosed', '"<b>"', "x" * 61, " ".join(["a"] * 31)])
def test_bad_skills_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each message is a catalogue entry
        parse.skills(bad)


def test_skill_set_adds_once_removes_and_globs() -> None:
    mine = SkillSet()
    assert mine.add(["lokaldemokrati", "kampanjplanering"]) == [
        "lokaldemokrati",
        "kampanjplanering",
    ]
    assert mine.add(["lokaldemokrati"]) == []
    assert mine.matching(parse.pattern("LOKAL*")) == ["lokaldemokrati"]
    assert mine.matching(parse.pattern("*plan*")) == ["kampanjplanering"]
    assert mine.matching(parse.pattern("lokal")) == [], "no wildcard: the whole skill"
    assert mine.remove(["kampanjplanering", "nothing"]) == ["kampanjplanering"]
    assert mine.skills == ["lokaldemokrati"]
    with pytest.raises(ValueError):  # noqa: PT011
        mine.add([f"s{i}" for i in range(parse.MAX_SKILLS)])
    assert mine.skills == ["lokaldemokrati"], "a refused add changes nothing"


@pytest.mark.parametrize("bad", ["", "*", "?*", "x" * 61])
def test_patterns_need_a_letter(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        parse.pattern(bad)


def test_months() -> None:
    assert parse.month("2026-12") == date(2026, 12, 1)
    for bad in ["2026-13", "12-2026", "december", "2026-00"]:
        with pytest.raises(ValueError):  # noqa: PT011
            parse.month(bad)


def test_checklist_counts_only_what_is_known_to_be_left() -> None:
    checks = Checklist(done={"tz": True, "locale": False, "devices": None, "skills": False})
    assert checks.missing() == ["locale", "skills"]
    assert not checks.finished
    assert Checklist(done={"tz": True, "locale": True, "devices": None, "skills": True}).finished


def test_kenya_holidays_in_the_readers_language() -> None:
    (jamhuri,) = holidays.on_day(["KE"], date(2026, 12, 12), "en")
    assert jamhuri.name == "Jamhuri Day"
    assert holidays.on_day(["KE", "SE"], date(2026, 12, 11), "en") == []
    (swahili,) = holidays.on_day(["KE"], date(2026, 12, 12), "sw")
    assert swahili.name != "Jamhuri Day", "Kiswahili names where the library has them"
    (sv,) = holidays.on_day(["SE"], date(2026, 12, 25), "sv")
    assert sv.name == "Juldagen"
    (nb,) = holidays.on_day(["NO"], date(2026, 5, 17), "nb")
    assert nb.name == "Grunnlovsdag", "nb readers get the library's 'no' names"
    assert holidays.on_day(["XX"], date(2026, 12, 12), "en") == [], "an unknown code is skipped"


def test_the_warning_names_the_day_holiday_and_country() -> None:
    org = parse_org(
        '[organisation]\nname = "O"\n[[partnership]]\nname = "Kenya"\n'
        'coordinators = ["@a:localhost"]\ncountries = ["ke"]\n'
    )
    group = org.groups[0]
    assert group.countries == ["KE"]
    (en,) = render.warnings(translator("en"), group, date(2026, 12, 12))
    assert "Jamhuri Day" in en
    assert "Kenya" in en
    assert "12" in en
    (sv,) = render.warnings(translator("sv"), group, date(2026, 12, 12))
    assert sv.startswith("⚠ 12 dec.")
    assert render.warnings(translator("en"), group, date(2026, 12, 13)) == []
    assert render.warnings(translator("en"), None, date(2026, 12, 12)) == []
