"""Provides the TUI's language helpers: the app's Translator for a widget, Babel times."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from babel.dates import format_skeleton

from messenger.i18n import SOURCE, Translator, translator


def t_of(node: Any) -> Translator:
    """The Translator of the app a widget or screen belongs to (English outside an app)."""
    try:
        found = getattr(node.app, "t", None)
    except Exception:  # no active app (a widget built outside one)
        found = None
    return found if isinstance(found, Translator) else translator(SOURCE)


def clock(t: Translator, at: datetime) -> str:
    """``14:05`` (sv, en), ``14.05`` (da): hours and minutes as the language writes them."""
    return str(format_skeleton("Hm", at, tzinfo=at.tzinfo, locale=t.locale))


def day_and_time(t: Translator, at: datetime) -> str:
    """``Thu, Dec 3 14:00`` (en), ``tors 3 dec. 14:00`` (sv): weekday, day, month, time."""
    day = format_skeleton("MMMEd", at, tzinfo=at.tzinfo, locale=t.locale)
    return f"{day} {clock(t, at)}"


def moment(t: Translator, ms: int | None, tz: tzinfo | None) -> str:
    """A timestamp (ms) in the viewer's timezone, or ``—``."""
    if ms is None:
        return "—"
    return day_and_time(t, datetime.fromtimestamp(ms / 1000, tz).astimezone(tz))
