"""Provides the resources bot's words and numbers in a member's language: amounts, dates, labels.

Money goes through Babel (``1 234,50 kr`` in Swedish); hours and items are a number in the
language's format and the unit word from the catalogue (``12,5 timmar``). Kinds and statuses
are shown translated; what members type (``funding``, ``open``) stays as declared.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from babel.dates import format_skeleton, format_time

from bots.resources.model import SCALE, Pool
from messenger.i18n import N_, Translator

KIND_LABELS = {
    "funding": N_("funding"),
    "hours": N_("hours"),
    "materials": N_("materials"),
    "venue": N_("venue"),
    "translation": N_("translation"),
}
UNIT_LABELS = {"hours": N_("hours"), "items": N_("items")}  # SEK, EUR are shown as they are
STATUS_LABELS = {
    "open": N_("open"),
    "approved": N_("approved"),
    "denied": N_("denied"),
    "fulfilled": N_("fulfilled"),
    "withdrawn": N_("withdrawn"),
}


def amount(t: Translator, minor: int | None, unit: str) -> str:
    """``150050, "SEK"`` → ``1 500,50 kr`` (sv); ``1250, "hours"`` → ``12,5 timmar``."""
    if minor is None:
        return "—"
    value = Decimal(minor) / SCALE
    if len(unit) == 3 and unit.isupper():
        return t.money(value, unit)
    # the plural form of a fraction is the "other" one in every language we ship
    n = minor // SCALE if minor % SCALE == 0 else 2
    number = t.number(value)
    if unit == "hours":
        return t.ngettext("{amount} hour", "{amount} hours", n).format(amount=number)
    if unit == "items":
        return t.ngettext("{amount} item", "{amount} items", n).format(amount=number)
    return f"{number} {unit}"


def when(t: Translator, ms: int | None) -> str:
    """A timestamp as ``tors 3 dec. 2026 14:05 UTC`` (sv), ``Thu, Dec 3, 2026 2:05 PM UTC``."""
    if ms is None:
        return "—"
    at = datetime.fromtimestamp(ms / 1000, UTC)
    day_text = format_skeleton("yMMMEd", at, locale=t.locale)
    return f"{day_text} {format_time(at, 'short', tzinfo=UTC, locale=t.locale)} UTC"


def day(t: Translator, iso: str | None) -> str:
    """An ISO date as ``tors 3 dec. 2026`` (sv), ``Thu, Dec 3, 2026`` (en)."""
    if iso is None:
        return "—"
    return str(format_skeleton("yMMMEd", date.fromisoformat(iso), locale=t.locale))


def kind(t: Translator, name: str) -> str:
    """A kind of resource in the language (``finansiering``)."""
    return t.gettext(KIND_LABELS.get(name, name))


def status(t: Translator, name: str) -> str:
    """A request's status in the language (``beviljad``)."""
    return t.gettext(STATUS_LABELS.get(name, name))


def pool_label(t: Translator, pool: Pool) -> str:
    """``funding (SEK, room)``, ``finansiering (SEK, organisationen)``."""
    where = t.gettext("organisation") if pool.scope == "org" else t.gettext("room")
    return t.gettext("{kind} ({unit}, {where})").format(
        kind=kind(t, pool.kind), unit=t.gettext(UNIT_LABELS.get(pool.unit, pool.unit)), where=where
    )
