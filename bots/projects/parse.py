"""Provides the projects bot's argument parsers: IDs, dates, statuses, numbers, goals, people.

Each parser returns the normalised value or raises ``ValueError`` whose message is one
catalogue msgid saying what is wrong and how to write it (the command framework translates
it and adds the usage line).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bots.projects.model import Remind
from bots.resources.parse import parse_date
from messenger.i18n import N_
from messenger.ids import is_user_id
from messenger.protocol.projects import ProjectStatus

__all__ = ["parse_date"]

_PROJECT = re.compile(r"#?[Pp](\d{1,6})")
_MILESTONE = re.compile(r"#?[Mm](\d{1,6})")
_NUMBER = re.compile(r"-?\d{1,12}(?:[.,]\d{1,4})?")
_NAME = re.compile(r"[\w][\w\-.]{0,39}")
STATUSES: tuple[ProjectStatus, ...] = ("on-track", "at-risk", "off-track")
REMINDS: tuple[Remind, ...] = ("weekly", "monthly", "never")
FORMATS = ("html", "csv")


def parse_project_id(word: str) -> str:
    """``P1`` (``p1`` and ``#P1`` work too)."""
    m = _PROJECT.fullmatch(word.strip())
    if not m:
        raise ValueError(N_("not a project ID; project IDs look like P1 (see !project list)"))
    return f"P{int(m[1])}"


def parse_milestone_id(word: str) -> str:
    """``M3`` (``m3`` and ``#M3`` work too)."""
    m = _MILESTONE.fullmatch(word.strip())
    if not m:
        raise ValueError(N_("not a milestone ID; milestone IDs look like M3 (see !project show)"))
    return f"M{int(m[1])}"


def parse_status(word: str) -> ProjectStatus:
    """``on-track``, ``at-risk`` or ``off-track`` (an underscore or no dash works too)."""
    w = word.strip().lower().replace("_", "-")
    w = {"ontrack": "on-track", "atrisk": "at-risk", "offtrack": "off-track"}.get(w, w)
    if w not in STATUSES:
        raise ValueError(N_("not a status; write on-track, at-risk or off-track"))
    return w


def parse_remind(word: str) -> Remind:
    """``weekly``, ``monthly`` or ``never``."""
    w = word.strip().lower()
    if w not in REMINDS:
        raise ValueError(N_("write weekly, monthly or never"))
    return w


def parse_number(word: str) -> str:
    """A number with at most 4 decimals (``27``, ``12.5``, ``12,5``), normalised."""
    raw = word.strip().replace("\u00a0", "").replace("_", "")
    if not _NUMBER.fullmatch(raw):
        raise ValueError(N_("not a number; write it like 40, 12.5 or 0.75"))
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise ValueError(N_("not a number; write it like 40, 12.5 or 0.75")) from None
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def parse_target(word: str) -> str:
    """A target: a number above zero."""
    value = parse_number(word)
    if Decimal(value) <= 0:
        raise ValueError(N_("a target must be more than 0, e.g. --target 40"))
    return value


def parse_metric_name(word: str) -> str:
    """A metric's name: one word of letters, digits, ``-``, ``_`` or ``.``, up to 40."""
    w = word.strip()
    if not _NAME.fullmatch(w):
        raise ValueError(
            N_("a metric's name is one word of up to 40 letters or digits, e.g. participants")
        )
    return w


def parse_sdg(word: str) -> list[int]:
    """UN sustainable development goals: ``5`` or ``5,10`` (1 to 17)."""
    out: list[int] = []
    for part in word.replace(" ", "").split(","):
        if not part.isdigit() or not 1 <= int(part) <= 17:
            raise ValueError(N_("the UN goals are numbered 1 to 17; write e.g. --sdg 5 or 5,10"))
        if int(part) not in out:
            out.append(int(part))
    return out


def parse_user(word: str) -> str:
    """A Matrix user ID such as ``@mette:example.org``."""
    w = word.strip()
    if not is_user_id(w):
        raise ValueError(N_("not a Matrix user ID; write it like @mette:example.org"))
    return w


def parse_format(word: str) -> str:
    """``html`` or ``csv``."""
    w = word.strip().lower()
    if w not in FORMATS:
        raise ValueError(N_("the report comes as html or csv"))
    return w
