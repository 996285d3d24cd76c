"""Provides the partners' public holidays (the ``holidays`` library): which fall on a day or in a
range for a room's countries, with holiday names in the reader's language where the library
has them and country names from Babel's CLDR data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from babel.dates import format_skeleton

from messenger.config import Group
from messenger.i18n import Translator

ALIASES = {"nb": "no", "nn": "no"}
"""Reader languages the library spells otherwise (it names Norwegian ``no``)."""


@dataclass(frozen=True, order=True)
class Holiday:
    """One public holiday of one country, its name in some language."""

    day: date
    country: str
    name: str


def countries_of(group: Group | None) -> list[str]:
    """The room's countries (ISO 3166-1 alpha-2) from the organisation file."""
    return list(group.countries) if group is not None else []


def _library() -> Any:
    import holidays  # ~0.2 s: imported on the first look at a calendar, not at every start

    return holidays


@cache
def _calendar(country: str, year: int, language: str | None) -> Any:
    return _library().country_holidays(country, years=year, language=language)


@cache
def name_language(country: str, lang: str) -> str | None:
    """The library's language for ``lang``'s readers of ``country``'s holidays: theirs if the
    library has it, else English, else the country's own."""
    cls = _library().country_holidays(country)
    supported: Sequence[str] = cls.supported_languages or ()
    base = lang.split("-")[0].lower()
    base = ALIASES.get(base, base)
    default = cls.default_language
    for want in (base, "en"):
        if default and default.split("_")[0] == want:
            return str(default)
        found = next((s for s in supported if s.split("_")[0] == want), None)
        if found is not None:
            return str(found)
    return str(default) if default else None


def on_day(countries: Sequence[str], day: date, lang: str) -> list[Holiday]:
    """The public holidays on ``day`` in any of ``countries`` (unknown codes are skipped)."""
    return between(countries, day, day, lang)


def between(countries: Sequence[str], first: date, last: date, lang: str) -> list[Holiday]:
    """The public holidays from ``first`` to ``last`` (inclusive) in ``countries``, by date."""
    found = []
    for country in countries:
        try:
            language = name_language(country, lang)
            for year in range(first.year, last.year + 1):
                for day, name in _calendar(country, year, language).items():
                    if first <= day <= last:
                        found += [Holiday(day, country, part) for part in str(name).split("; ")]
        except (NotImplementedError, KeyError, ValueError):
            continue  # validated in the organisation file; an old file's code is skipped
    return sorted(set(found))


def country_name(t: Translator, code: str) -> str:
    """``Kenya``, ``Sverige`` (sv) …: CLDR's name of a country in the reader's language."""
    return str(t.locale.territories.get(code, code))


def short_day(t: Translator, day: date) -> str:
    """``Dec 12`` (en), ``12 dec.`` (sv): a day without the year."""
    return str(format_skeleton("MMMd", day, locale=t.locale))
