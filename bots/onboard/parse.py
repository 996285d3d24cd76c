"""Provides parsers of the onboarding commands' arguments: skills, skill patterns, months.

A parser's ``ValueError`` message is a catalogue msgid (translated where it is shown, as the
``reason`` of the command error that quotes the input); it names no input itself.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from datetime import date

from messenger.botkit.commands import SMART_QUOTES
from messenger.i18n import N_

MAX_SKILL = 60
MAX_SKILLS = 30
MAX_PATTERN = 60
_SKILL = re.compile(r"[\w][\w &+./'-]*", re.UNICODE)
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def skill(text: str) -> str:
    """One skill as stored: NFC, lower case, inner spaces collapsed (``Kampanj  Planering`` →
    ``kampanj planering``)."""
    word = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()
    if not word:
        raise ValueError(N_('a skill cannot be empty; e.g. !skills add "lokaldemokrati"'))
    if len(word) > MAX_SKILL:
        raise ValueError(N_("a skill has at most 60 characters; name it in a few words"))
    if not _SKILL.fullmatch(word):
        raise ValueError(
            N_(
                "a skill is letters, digits and spaces (and - & + . / '), "
                'e.g. "kampanjplanering" or "public speaking"'
            )
        )
    return word


def skills(text: str) -> list[str]:
    """``"lokaldemokrati" "kampanj planering"`` → each quoted (or single) word a skill."""
    try:
        words = shlex.split(text.translate(SMART_QUOTES))
    except ValueError:
        raise ValueError(
            N_('close every quote you open, e.g. !skills add "lokaldemokrati" "kampanjplanering"')
        ) from None
    if not words:
        raise ValueError(
            N_('name at least one skill, e.g. !skills add "lokaldemokrati" "kampanjplanering"')
        )
    if len(words) > MAX_SKILLS:
        raise ValueError(N_("at most 30 skills at a time"))
    return list(dict.fromkeys(skill(w) for w in words))


def pattern(text: str) -> str:
    """A skill pattern for ``!who``: a glob (``lokal*``, ``*plan*``), matched ignoring case."""
    word = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()
    if not word or word.strip("*?") == "" or len(word) > MAX_PATTERN:
        raise ValueError(
            N_("give a skill or the start of one with *, e.g. lokal* (at least one letter)")
        )
    return word


def month(text: str) -> date:
    """``2026-12`` → the first day of that month."""
    m = _MONTH.fullmatch(text.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise ValueError(N_("not a month: write YYYY-MM, e.g. 2026-12"))
    return date(int(m.group(1)), int(m.group(2)), 1)
