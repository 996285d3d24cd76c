"""Provides the parsers of the resources bot's command arguments: kinds, units, amounts, dates, IDs.

Each parser returns the normalised value or raises ``ValueError`` saying what is wrong and how
to write it; the command framework turns that into the error notice with the usage line.
"""

from __future__ import annotations

import re
from datetime import date

from bots.resources.model import KINDS, MAX_MINOR, SCALE, UNITS
from messenger.i18n import N_

SUBCOMMANDS = ("list", "show", "approve", "deny", "fulfil", "withdraw")
KIND_ALIASES = {
    "fund": "funding",
    "money": "funding",
    "hour": "hours",
    "expertise": "hours",
    "material": "materials",
    "venues": "venue",
    "translations": "translation",
}
_AMOUNT = re.compile(r"^(\d+)(?:[.,](\d{1,2}))?$")
_REQUEST_ID = re.compile(r"^[Rr]?(\d{1,9})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Parser messages are catalogue msgids: the command framework translates them (the reason
# field), so each is one literal string; the tests check the lists in them stay current.
UNKNOWN_KIND = N_(
    "unknown kind; use one of: funding, hours, materials, venue, translation (e.g. !request "
    'funding "Flyers" --amount 1500)'
)
UNKNOWN_KIND_OR_SUBCOMMAND = N_(
    "unknown kind; use one of: funding, hours, materials, venue, translation (e.g. !request "
    'funding "Flyers" --amount 1500); or a subcommand: list, show, approve, deny, fulfil, '
    "withdraw"
)
TOO_LARGE = N_("is too large (at most 100000000000)")


def parse_kind(word: str) -> str:
    """A known kind of resource, or ValueError listing the valid ones."""
    kind = word.strip().lower()
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ValueError(UNKNOWN_KIND)
    return kind


def parse_request_kind(word: str) -> str:
    """A kind, with a hint at the subcommands when the word is neither."""
    try:
        return parse_kind(word)
    except ValueError:
        raise ValueError(UNKNOWN_KIND_OR_SUBCOMMAND) from None


def parse_unit(word: str) -> str:
    """One of SEK, EUR, hours, items (any case)."""
    for unit in UNITS:
        if word.strip().lower() == unit.lower():
            return unit
    raise ValueError(N_("unknown unit; use one of: SEK, EUR, hours, items"))


def parse_amount(text: str) -> int:
    """A positive decimal with at most two places, as integer hundredths."""
    raw = text.strip().replace("_", "").replace("\u00a0", "").replace(" ", "")
    if raw.startswith("-"):
        raise ValueError(N_("must not be negative; write a positive number such as 1500 or 12.50"))
    raw = raw.removeprefix("+")
    m = _AMOUNT.match(raw)
    if not m:
        if re.match(r"^\d+[.,]\d{3,}$", raw):
            raise ValueError(N_("has more than 2 decimal places; write e.g. 12.50"))
        raise ValueError(N_("not a number; write a positive number such as 1500 or 12.50"))
    whole, frac = m.group(1), (m.group(2) or "").ljust(2, "0")
    minor = int(whole) * SCALE + int(frac or "0")
    if minor <= 0:
        raise ValueError(N_("must be more than 0"))
    if minor > MAX_MINOR:
        raise ValueError(TOO_LARGE)
    return minor


def parse_date(text: str) -> str:
    """An ISO date ``YYYY-MM-DD`` (returned normalised)."""
    raw = text.strip()
    if not _DATE.match(raw):
        raise ValueError(N_("not a date; write it as YYYY-MM-DD, e.g. 2026-12-03"))
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise ValueError(N_("no such date; write it as YYYY-MM-DD, e.g. 2026-12-03")) from None


def parse_request_id(text: str) -> str:
    """``R12``, ``r12`` or ``12`` → ``R12``."""
    m = _REQUEST_ID.match(text.strip())
    if not m:
        raise ValueError(N_("not a request ID; IDs look like R12 (see !request list)"))
    return f"R{int(m.group(1))}"


def parse_filter(word: str) -> str:
    """``open``, ``mine`` or ``all``."""
    value = word.strip().lower()
    if value not in {"open", "mine", "all"}:
        raise ValueError(N_("use open, mine or all"))
    return value
