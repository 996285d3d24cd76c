"""Provides the events bot's word parsers: dates, times, zones, durations, IDs, RSVPs and slots.

Every parser takes any string and returns a value or raises ``ValueError`` whose message says
what was wrong and shows a correct example; nothing else escapes (property-tested).
``check_text`` refuses empty or overlong free text (titles, places) with a ``Refusal``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bots.events.lang import Invalid, Message, Phrase, Refusal, span
from messenger.i18n import N_
from messenger.protocol.events import Rsvp

MAX_DURATION_MIN = 14 * 24 * 60
MAX_OFFSET_MIN = 60 * 24 * 60
RSVP_WORDS: dict[str, Rsvp] = {
    "yes": "yes",
    "no": "no",
    "maybe": "maybe",
    "✅": "yes",
    "❌": "no",
    "❔": "maybe",
    "❓": "maybe",
}
REACTIONS: dict[str, Rsvp] = {"✅": "yes", "✔": "yes", "❌": "no", "❔": "maybe", "❓": "maybe"}
_SPAN = re.compile(r"(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m(?:in)?)?")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")
_ID = re.compile(r"#?([EP])(\d{1,6})", re.IGNORECASE)

Example = Callable[[str, str, str], str]
"""(date, time, zone) → a corrected command line to copy, for hints."""


@dataclass(frozen=True)
class DateWord:
    """A date as written: a calendar date, or ``days`` after today in the event's zone."""

    day: date | None = None
    days: int = 0

    def resolve(self, today: date) -> date:
        """The calendar date, given today's date where the event happens."""
        return self.day if self.day is not None else today + timedelta(days=self.days)


class NonexistentTime(Invalid):
    """A local time the clocks skip on a DST night; ``suggestion`` is the time after the gap."""

    def __init__(self, suggestion: time, **fields: str) -> None:
        super().__init__(
            N_(
                "{at} does not exist on {day} in {zone}: the clocks jump forward that night. "
                "Did you mean {later}?"
            ),
            **fields,
        )
        self.suggestion = suggestion


def parse_date(word: str) -> DateWord:
    """``2026-12-03``, ``today`` or ``tomorrow``."""
    w = word.strip().lower()
    if w in {"today", "idag"}:
        return DateWord(days=0)
    if w in {"tomorrow", "imorgon"}:
        return DateWord(days=1)
    m = _DATE.fullmatch(w)
    if m:
        try:
            return DateWord(day=date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            raise Invalid(
                N_("there is no such day; write a real date, e.g. {example}"),
                example=example_date(),
            ) from None
    raise Invalid(
        N_("not a date; write YYYY-MM-DD, 'today' or 'tomorrow', e.g. {example}"),
        example=example_date(),
    )


def parse_time(word: str) -> time:
    """``14:00`` (24-hour clock; ``14.00`` also works)."""
    m = _TIME.fullmatch(word.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise Invalid(N_("not a time; write HH:MM on the 24-hour clock, e.g. 14:00 or 09:30"))
    return time(int(m[1]), int(m[2]))


@cache
def _zones() -> dict[str, str]:
    zones = {z.lower(): z for z in available_timezones()}
    zones["utc"] = "UTC"
    return zones


def parse_zone(word: str) -> str:
    """An IANA timezone name such as ``Europe/Stockholm`` (case does not matter)."""
    key = word.strip().lower()
    zones = _zones()
    if key in zones:
        return zones[key]
    close = difflib.get_close_matches(key, list(zones), n=1, cutoff=0.75)
    if close:
        raise Invalid(
            N_(
                "unknown timezone — did you mean {zone}?; use an IANA name, "
                "e.g. Europe/Stockholm, Africa/Nairobi or UTC"
            ),
            zone=zones[close[0]],
        )
    raise Invalid(
        N_("unknown timezone; use an IANA name, e.g. Europe/Stockholm, Africa/Nairobi or UTC")
    )


def _span(word: str, messages: tuple[str, str, str], example: str, maximum: int) -> int:
    w = word.strip().lower()
    m = _SPAN.fullmatch(w)
    not_one, zero, too_long = messages
    if not w or not m or not any(m.groups()):
        raise Invalid(not_one, example=example)
    d, h, mi = (int(g) if g else 0 for g in m.groups())
    minutes = d * 1440 + h * 60 + mi
    if minutes <= 0:
        raise Invalid(zero, example=example)
    if minutes > maximum:
        raise Invalid(too_long, most=span(maximum), example=example)
    return minutes


DURATION = (
    N_("not a duration; write it like {example}"),
    N_("a duration must be longer than zero, e.g. {example}"),
    N_("a duration of at most {most}, e.g. {example}"),
)
OFFSET = (
    N_("not a time before the event; write it like {example}"),
    N_("a time before the event must be longer than zero, e.g. {example}"),
    N_("a time before the event of at most {most}, e.g. {example}"),
)


def parse_duration(word: str) -> int:
    """A duration in minutes from ``90m``, ``2h``, ``1h30m`` or ``1d``."""
    return _span(word, DURATION, "90m, 2h or 1h30m", MAX_DURATION_MIN)


def parse_offset(word: str) -> int:
    """A reminder offset in minutes from ``1h``, ``24h``, ``2d`` or ``30m``."""
    return _span(word, OFFSET, "1h, 24h, 2d or 30m", MAX_OFFSET_MIN)


format_span = span
"""``24h``, ``2d``, ``1h30m``, ``45m``: the inverse of ``parse_offset``."""


def parse_event_id(word: str) -> str:
    """An event ID such as ``E7`` (``e7`` and ``#E7`` work too)."""
    m = _ID.fullmatch(word.strip())
    if not m or m[1].upper() != "E":
        raise Invalid(N_("not an event ID; IDs look like E7 (see !event list)"))
    return f"E{int(m[2])}"


def parse_poll_id(word: str) -> str:
    """A poll ID such as ``P3``."""
    m = _ID.fullmatch(word.strip())
    if not m or m[1].upper() != "P":
        raise Invalid(N_("not a poll ID; poll IDs look like P3"))
    return f"P{int(m[2])}"


def parse_rsvp(word: str) -> Rsvp:
    """``yes``, ``no`` or ``maybe`` (or ✅ ❌ ❔)."""
    answer = RSVP_WORDS.get(word.strip().lower().replace("\ufe0f", ""))
    if answer is None:
        raise Invalid(N_("answer yes, no or maybe, e.g. !event rsvp E7 yes"))
    return answer


def reaction_answer(key: str) -> Rsvp | None:
    """The RSVP a reaction key stands for, if any (✅ yes, ❌ no, ❔ maybe)."""
    return REACTIONS.get(key.replace("\ufe0f", "").strip())


def parse_slots(text: str) -> list[tuple[DateWord, time]]:
    """Poll slots: ``2026-12-03T14:00`` or ``2026-12-03 14:00``, separated by spaces."""
    words = text.replace(",", " ").split()
    slots: list[tuple[DateWord, time]] = []
    i = 0
    while i < len(words):
        word = words[i]
        head, sep, tail = _split_slot(word)
        if sep:
            slots.append((parse_date(head), parse_time(tail)))
            i += 1
        elif i + 1 < len(words):
            slots.append((parse_date(word), parse_time(words[i + 1])))
            i += 2
        else:
            raise Invalid(
                N_("the slot {slot} has no time; write slots like 2026-12-03T14:00"),
                slot=repr(word),
            )
    if not 2 <= len(slots) <= 20:
        raise Invalid(N_("give between 2 and 20 slots, e.g. 2026-12-03T14:00 2026-12-04T09:00"))
    return slots


def _split_slot(word: str) -> tuple[str, str, str]:
    m = re.fullmatch(r"(.+?)([T@])(\d{1,2}[:.]\d{2})", word, flags=re.IGNORECASE)
    return (m[1], m[2], m[3]) if m else (word, "", "")


def example_date() -> str:
    """A plausible future date for examples."""
    return (date.today() + timedelta(days=10)).isoformat()


def parse_slot_number(word: str) -> int:
    """A slot number such as ``2``."""
    if not word.strip().isdigit():
        raise Invalid(N_("not a slot number; write the slot's number, e.g. 2"))
    return int(word)


def resolve_local(day: date, at: time, zone: str) -> tuple[datetime, Message | None]:
    """The aware start for a wall-clock time in ``zone``, DST-checked.

    A time the clocks skip raises ``NonexistentTime`` suggesting the time an hour later; a
    time that happens twice takes the first occurrence and returns a note saying so.
    """
    tz = ZoneInfo(zone)
    first = datetime.combine(day, at, tzinfo=tz)
    second = first.replace(fold=1)
    round_trip = first.astimezone(ZoneInfo("UTC")).astimezone(tz)
    if round_trip.replace(tzinfo=None) != first.replace(tzinfo=None):
        gap = (second.utcoffset() or timedelta()) - (first.utcoffset() or timedelta())
        later = (datetime.combine(day, at) + abs(gap or timedelta(hours=1))).time()
        raise NonexistentTime(
            later, at=f"{at:%H:%M}", day=day.isoformat(), zone=zone, later=f"{later:%H:%M}"
        )
    if first.utcoffset() != second.utcoffset():
        other = second.astimezone(ZoneInfo("UTC"))
        note = Message(
            N_(
                "{at} happens twice on {day} in {zone} (the clocks go back); I chose the "
                "first, {first} (UTC{first_offset}). For the second ({second}, "
                "UTC{second_offset}) write {other} UTC."
            ),
            at=f"{at:%H:%M}",
            day=day.isoformat(),
            zone=zone,
            first=first.tzname(),
            first_offset=_offset(first),
            second=second.tzname(),
            second_offset=_offset(second),
            other=f"{other:%H:%M}",
        )
        return first, note
    return first, None


def _offset(dt: datetime) -> str:
    off = dt.utcoffset() or timedelta()
    sign = "+" if off >= timedelta() else "-"
    h, rem = divmod(abs(int(off.total_seconds())) // 60, 60)
    return f"{sign}{h:02d}:{rem:02d}"


TITLE = Phrase(N_("the title"))
PLACE = Phrase(N_("the place"))
DESCRIPTION = Phrase(N_("the description"))
AGENDA_ITEM = Phrase(N_("the agenda item"))


def check_text(text: str, what: Phrase, limit: int, empty: bool = False) -> None:
    """Refuse an empty (unless allowed) or overlong text with a Refusal."""
    if not text.strip() and not empty:
        raise Refusal(N_('{what} is empty; put it in quotes, e.g. "Board meeting"'), what=what)
    if len(text) > limit:
        raise Refusal(
            N_("{what} is too long ({length} characters; at most {most})"),
            what=what,
            length=len(text),
            most=limit,
        )
