"""Provides translations and locale-aware formatting: one ``Translator`` per language, read
from the ``.po`` catalogues shipped in ``messenger/locales`` (no compile step, so a wheel has
them as package data), chosen per reply — never ``locale.setlocale``, which is process-wide.

``en`` is the source language (msgids are English). ``en-XA`` is a pseudo-locale: every
catalogue string comes back accented and bracketed, so a test can prove that everything a
user reads went through a catalogue. Dates, numbers, currencies and plurals go through Babel.
"""

from __future__ import annotations

import gettext
import io
import re
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime as babel_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency as babel_currency
from babel.numbers import format_decimal as babel_decimal

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "samverkan"
SOURCE = "en"
PSEUDO = "en-XA"
_FIELD = re.compile(r"(\{[^{}]*\}|%\([^)]*\)[sd]|<[^>]*>|&\w+;)")
_ACCENTED = str.maketrans(
    "aeiouyAEIOUYcnsz", "àéîöûýÀÉÎÖÛÝçñšž"
)  # keeps every placeholder and tag intact


class Translator:
    """The messages of one language: ``gettext``, ``ngettext`` and Babel formatting."""

    def __init__(self, lang: str, catalogue: gettext.NullTranslations) -> None:
        self.lang = lang
        self._catalogue = catalogue
        self.locale = babel_locale(lang)

    def gettext(self, message: str) -> str:
        """``message`` in this language (the English msgid when it has no translation)."""
        if self.lang == PSEUDO:
            return pseudo(message)
        return self._catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``singular``/``plural`` for ``n`` by the language's plural rule."""
        if self.lang == PSEUDO:
            return pseudo(singular if n == 1 else plural)
        return self._catalogue.ngettext(singular, plural, n)

    # -- formatting ---------------------------------------------------------------------

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        """``tors 3 dec. 2026 14:00`` (sv), ``Thu, Dec 3, 2026, 2:00 PM`` (en) …"""
        return str(babel_datetime(value, format=fmt, tzinfo=value.tzinfo, locale=self.locale))

    def number(self, value: int | float | Decimal) -> str:
        """``1 234,5`` (sv), ``1,234.5`` (en)."""
        return str(babel_decimal(value, locale=self.locale))

    def money(self, value: int | float | Decimal, currency: str) -> str:
        """``1 234,50 kr`` (sv), ``SEK 1,234.50`` (en); units that are not ISO currencies
        (hours, seats) are a number and the unit."""
        if len(currency) == 3 and currency.isupper():
            return str(babel_currency(value, currency, locale=self.locale))
        return f"{self.number(value)} {currency}"


def babel_locale(lang: str) -> Locale:
    """Babel's locale for a language code (``nb``, ``sv``, ``en-XA`` → English rules)."""
    try:
        return Locale.parse(SOURCE if lang == PSEUDO else lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(SOURCE)


def pseudo(message: str) -> str:
    """The pseudo-locale's version: letters accented, placeholders and tags kept, bracketed."""
    parts = _FIELD.split(message)
    return "⟦" + "".join(p if _FIELD.fullmatch(p) else p.translate(_ACCENTED) for p in parts) + "⟧"


def available() -> list[str]:
    """The languages a member can choose: English and every shipped catalogue."""
    found = {SOURCE}
    if LOCALES_DIR.is_dir():
        found |= {p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/*.po")}
    return sorted(found)


def normalise(lang: str) -> str | None:
    """A language code as catalogues name it (``SV`` → ``sv``, ``nb_NO`` → ``nb``), or None
    when no catalogue (or the pseudo-locale) serves it."""
    code = lang.strip().replace("_", "-")
    if code.lower() == PSEUDO.lower():
        return PSEUDO
    base = code.split("-")[0].lower()
    if base == "no":
        base = "nb"
    return base if base in available() else None


@cache
def translator(lang: str) -> Translator:
    """The translator of ``lang`` (read once per process); unknown languages get English.

    A language's catalogue is every ``.po`` file in its ``LC_MESSAGES`` (one per part of the
    system: ``core``, ``events``, ``resources``, ``translate``, ``tui``), merged."""
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    files = sorted(folder.glob("*.po")) if lang not in (PSEUDO, SOURCE) else []
    if not files:
        return Translator(lang if lang == PSEUDO else SOURCE, gettext.NullTranslations())
    merged = Catalog(locale=lang, domain=DOMAIN)
    for path in files:
        with path.open("rb") as f:
            part = read_po(f, locale=lang)
        for msg in part:
            if msg.id and not msg.fuzzy and msg.string:
                merged[msg.id] = msg
    buf = io.BytesIO()
    write_mo(buf, merged)  # compiled in memory: gettext's own plural rules apply
    buf.seek(0)
    return Translator(lang, gettext.GNUTranslations(buf))


def gettext_noop(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


N_ = gettext_noop
