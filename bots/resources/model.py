"""Provides the resources bot's vocabulary: kinds, units, amounts, dates, IDs, pools, requests.

Amounts are counted in integer hundredths ("minor units") so sums never drift; they are
parsed from at most two decimal places and shown without needless decimals.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field

KINDS: dict[str, tuple[str, ...]] = {
    # kind → allowed units, the first is the default
    "funding": ("SEK", "EUR"),
    "hours": ("hours",),
    "materials": ("items",),
    "venue": ("items", "hours"),
    "translation": ("hours", "items"),
}
KIND_HELP = {
    "funding": "money",
    "hours": "expertise hours",
    "materials": "materials",
    "venue": "venues",
    "translation": "translation capacity",
}
UNITS = ("SEK", "EUR", "hours", "items")
SUBCOMMANDS = ("list", "show", "approve", "deny", "fulfil", "withdraw")
SCALE = 100
MAX_MINOR = 10**13  # 100 000 000 000.00: far beyond any real pool, far below 2**53
_AMOUNT = re.compile(r"^(\d+)(?:[.,](\d{1,2}))?$")
_REQUEST_ID = re.compile(r"^[Rr]?(\d{1,9})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Status = Literal["open", "approved", "denied", "fulfilled", "withdrawn"]
CLOSED: frozenset[str] = frozenset({"denied", "fulfilled", "withdrawn"})


def parse_kind(word: str) -> str:
    """A known kind of resource, or ValueError listing the valid ones."""
    kind = word.strip().lower()
    aliases = {
        "fund": "funding",
        "money": "funding",
        "hour": "hours",
        "expertise": "hours",
        "material": "materials",
        "venues": "venue",
        "translations": "translation",
    }
    kind = aliases.get(kind, kind)
    if kind not in KINDS:
        valid = ", ".join(KINDS)
        raise ValueError(
            f'unknown kind; use one of: {valid} (e.g. !request funding "Flyers" --amount 1500)'
        )
    return kind


def parse_unit(word: str) -> str:
    """One of SEK, EUR, hours, items (any case)."""
    for unit in UNITS:
        if word.strip().lower() == unit.lower():
            return unit
    raise ValueError(f"unknown unit; use one of: {', '.join(UNITS)}")


def unit_for(kind: str, unit: str | None) -> str:
    """The unit a kind is counted in: ``unit`` if the kind allows it, else its default."""
    allowed = KINDS[kind]
    if unit is None:
        return allowed[0]
    if unit not in allowed:
        raise ValueError(
            f"{kind} is counted in {' or '.join(allowed)}, not {unit} (e.g. --unit {allowed[-1]})"
        )
    return unit


def parse_amount(text: str) -> int:
    """A positive decimal with at most two places, as integer hundredths."""
    raw = text.strip().replace("_", "").replace("\u00a0", "").replace(" ", "")
    if raw.startswith("-"):
        raise ValueError("must not be negative; write a positive number such as 1500 or 12.50")
    raw = raw.removeprefix("+")
    m = _AMOUNT.match(raw)
    if not m:
        if re.match(r"^\d+[.,]\d{3,}$", raw):
            raise ValueError("has more than 2 decimal places; write e.g. 12.50")
        raise ValueError("not a number; write a positive number such as 1500 or 12.50")
    whole, frac = m.group(1), (m.group(2) or "").ljust(2, "0")
    minor = int(whole) * SCALE + int(frac or "0")
    if minor <= 0:
        raise ValueError("must be more than 0")
    if minor > MAX_MINOR:
        raise ValueError(f"is too large (at most {MAX_MINOR // SCALE})")
    return minor


def check_unit_amount(minor: int, unit: str) -> None:
    """Items are counted whole: refuse fractions of an item."""
    if unit == "items" and minor % SCALE:
        raise ValueError("items are counted whole; write e.g. 3, not 2.5")


def decimal_str(minor: int) -> str:
    """``150050`` → ``"1500.50"`` (always two places; for data and CSV)."""
    sign = "-" if minor < 0 else ""
    q, r = divmod(abs(minor), SCALE)
    return f"{sign}{q}.{r:02d}"


def show_amount(minor: int | None, unit: str) -> str:
    """``150000, "SEK"`` → ``"1 500 SEK"``; ``1250, "hours"`` → ``"12.50 hours"``."""
    if minor is None:
        return "—"
    sign = "-" if minor < 0 else ""
    q, r = divmod(abs(minor), SCALE)
    whole = f"{q:,}".replace(",", "\u202f")
    return f"{sign}{whole}{f'.{r:02d}' if r else ''} {unit}"


def parse_date(text: str) -> str:
    """An ISO date ``YYYY-MM-DD`` (returned normalised)."""
    raw = text.strip()
    if not _DATE.match(raw):
        raise ValueError("not a date; write it as YYYY-MM-DD, e.g. 2026-12-03")
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise ValueError("no such date; write it as YYYY-MM-DD, e.g. 2026-12-03") from None


def date_ms(iso: str) -> int:
    """Midnight UTC at the start of an ISO date, in ms."""
    d = date.fromisoformat(iso)
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def ms_date(ms: int) -> str:
    """The UTC date of a timestamp."""
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def ms_text(ms: int | None) -> str:
    """A timestamp as ``2026-12-03 14:05 UTC``."""
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def parse_request_id(text: str) -> str:
    """``R12``, ``r12`` or ``12`` → ``R12``."""
    m = _REQUEST_ID.match(text.strip())
    if not m:
        raise ValueError("not a request ID; IDs look like R12 (see !request list)")
    return f"R{int(m.group(1))}"


def parse_filter(word: str) -> str:
    """``open``, ``mine`` or ``all``."""
    value = word.strip().lower()
    if value not in {"open", "mine", "all"}:
        raise ValueError("use open, mine or all")
    return value


class Comment(BaseModel):
    """A message in a request's thread."""

    sender: str
    ts: int
    text: str


class Request(BaseModel):
    """A stored resource request (sealed in the state store)."""

    id: str
    room_id: str
    group: str
    kind: str
    unit: str
    what: str
    purpose: str | None = None
    requester: str
    created_at: int
    amount: int | None = None
    granted: int | None = None
    by: str | None = None
    status: Status = "open"
    pool: str | None = None
    decided_by: str | None = None
    decided_at: int | None = None
    reason: str | None = None
    fulfilled_by: str | None = None
    fulfilled_at: int | None = None
    withdrawn_at: int | None = None
    thread_root: str | None = None
    comments: list[Comment] = Field(default_factory=list)
    reminded: bool = False

    @property
    def closed(self) -> bool:
        """Denied, fulfilled or withdrawn: nothing more can happen to it."""
        return self.status in CLOSED


class Pool(BaseModel):
    """What a room (or the organisation) has of one kind in one unit, and where it went."""

    id: str
    scope: Literal["room", "org"]
    room_id: str | None = None
    kind: str
    unit: str
    total: int = 0
    granted: int = 0  # approved, including fulfilled
    spent: int = 0  # fulfilled

    @property
    def remaining(self) -> int:
        """What can still be granted."""
        return self.total - self.granted

    @property
    def label(self) -> str:
        """``funding (SEK, this room)``."""
        where = "organisation" if self.scope == "org" else "room"
        return f"{self.kind} ({self.unit}, {where})"


def pool_id(kind: str, unit: str, room_id: str | None) -> str:
    """Store key of a pool: identifiers only (room ID, kind, unit), never user text."""
    return f"org:{kind}:{unit}" if room_id is None else f"room:{room_id}:{kind}:{unit}"
