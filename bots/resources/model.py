"""Provides the resources bot's records (requests, pools, comments) and pure logic on them.

Amounts are counted in integer hundredths ("minor units") so sums never drift; they are
parsed from at most two decimal places and shown without needless decimals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from messenger.i18n import N_

KINDS: dict[str, tuple[str, ...]] = {
    # kind → allowed units, the first is the default
    "funding": ("SEK", "EUR"),
    "hours": ("hours",),
    "materials": ("items",),
    "venue": ("items", "hours"),
    "translation": ("hours", "items"),
}
UNITS = ("SEK", "EUR", "hours", "items")
SCALE = 100
MAX_MINOR = 10**13  # 100 000 000 000.00: far beyond any real pool, far below 2**53
DAY_MS = 86_400_000
REMIND_BEFORE_MS = 3 * DAY_MS  # coordinators hear about an undecided request 3 days before
REMIND_SOON_MS = 3_600_000  # … or an hour after it was made, if that is later

Status = Literal["open", "approved", "denied", "fulfilled", "withdrawn"]
ITEMS_WHOLE = N_("items are counted whole; write e.g. 3, not 2.5")


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


def check_unit_amount(minor: int, unit: str) -> None:
    """Items are counted whole: refuse fractions of an item."""
    if unit == "items" and minor % SCALE:
        raise ValueError(ITEMS_WHOLE)


def decimal_str(minor: int) -> str:
    """``150050`` → ``"1500.50"`` (always two places; for data and CSV)."""
    sign = "-" if minor < 0 else ""
    q, r = divmod(abs(minor), SCALE)
    return f"{sign}{q}.{r:02d}"


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
    project: str | None = None  # a project of the projects bot in the same room (P1)

    @property
    def last_activity(self) -> int:
        """When it was last made, decided, fulfilled or withdrawn (ms)."""
        stamps = (self.created_at, self.decided_at, self.fulfilled_at, self.withdrawn_at)
        return max(t for t in stamps if t is not None)

    def reminder_at(self, now_ms: int) -> int | None:
        """When to remind coordinators of it (None without a ``--by`` date): three days
        before that date, but not sooner than an hour from ``now_ms``."""
        if self.by is None:
            return None
        return max(date_ms(self.by) - REMIND_BEFORE_MS, now_ms + REMIND_SOON_MS)


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


def pool_id(kind: str, unit: str, room_id: str | None) -> str:
    """Store key of a pool: identifiers only (room ID, kind, unit), never user text."""
    return f"org:{kind}:{unit}" if room_id is None else f"room:{room_id}:{kind}:{unit}"
