"""Provides the events bot's language helpers: translatable refusals and Babel dates and times.

A parser refuses with ``Invalid(N_("… {field} …"), field=…)`` (a ``ValueError``, English in
``str()``); a handler with ``Refusal(N_("…"), …)``. Both are rendered in the reader's language:
fields that are ``Phrase``s (catalogue words such as "title"), parser reasons, spans of
minutes and datetimes are translated and formatted too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from babel.dates import format_datetime, format_skeleton

from messenger.botkit.commands import CommandError
from messenger.i18n import SOURCE, Translator, translator

T = TypeVar("T")
ARG_PROBLEM = "{name} {raw}: {reason}"  # the kit's msgid (core catalogue)


class Phrase(str):
    """A catalogue string used as a field of another message: translated where it is shown."""


class Span(int):
    """Minutes used as a field: shown as ``24h``, ``2d``, ``1h30m`` (the same in all languages)."""


def span(minutes: int) -> str:
    """``24h``, ``2d``, ``1h30m``, ``45m``: what ``parse_offset`` reads back."""
    if minutes % 1440 == 0 and minutes >= 2880:
        return f"{minutes // 1440}d"
    h, m = divmod(minutes, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m or not h else "")


def value(t: Translator, v: Any) -> Any:
    """A field's value for ``t``'s reader."""
    if isinstance(v, Phrase):
        return t.gettext(v)
    if isinstance(v, Message | Refusal):
        return v.render(t)
    if isinstance(v, Span):
        return span(int(v))
    if isinstance(v, datetime):
        return day_time(t, v)
    return v


def fill(t: Translator, template: str, fields: dict[str, Any]) -> str:
    """``template`` in ``t``'s language with its fields rendered for it."""
    text = t.gettext(template)
    if not fields:
        return text
    try:
        return text.format(**{k: value(t, v) for k, v in fields.items()})
    except (KeyError, IndexError, ValueError):  # a translation broke its fields
        return template.format(**{k: value(translator(SOURCE), v) for k, v in fields.items()})


class Message:
    """An English msgid and its fields, rendered per reader; ``str()`` is the English text."""

    def __init__(self, template: str, **fields: Any) -> None:
        self.template = template
        self.fields = fields

    def render(self, t: Translator) -> str:
        """The message in ``t``'s language."""
        return fill(t, self.template, self.fields)

    def __str__(self) -> str:
        return self.render(translator(SOURCE))


class Invalid(Message, ValueError):
    """A parser's refusal (a ``ValueError``): what was wrong and an example, per reader."""

    def __init__(self, template: str, **fields: Any) -> None:
        Message.__init__(self, template, **fields)
        ValueError.__init__(self, str(self))


class Refusal(CommandError):
    """A command refused: like ``CommandError``, with phrases, reasons and dates as fields."""

    def __init__(self, message: str, /, **fields: Any) -> None:
        # Not CommandError.__init__: its ``command`` parameter would take a field so named.
        Exception.__init__(self, fill(translator(SOURCE), message, fields))
        self.command = None  # the kit shows the usage of the command that was run
        self.template = message
        self.fields = fields

    def render(self, t: Translator) -> str:
        """The refusal in ``t``'s language."""
        return fill(t, self.template, self.fields)


def checked(name: str, parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse`` for the argument ``name``: its ``Invalid`` becomes a translatable refusal
    (``title 'x': not a date …``) instead of the kit's English-only ``ValueError`` text."""

    def run(word: str) -> T:
        try:
            return parse(word)
        except Invalid as e:
            raise Refusal(ARG_PROBLEM, name=name, raw=repr(word), reason=e) from None

    return run


# -- dates and times (Babel) ------------------------------------------------------------------


def day(t: Translator, dt: datetime) -> str:
    """``Thu 3 Dec 2026`` (en), ``tors 3 dec. 2026`` (sv), ``tor. 3. des. 2026`` (nb)."""
    if t.locale.language == "en":
        return str(format_datetime(dt, "EEE d MMM y", tzinfo=dt.tzinfo, locale=t.locale))
    return str(format_skeleton("yMMMEd", dt, tzinfo=dt.tzinfo, locale=t.locale))


def clock(dt: datetime) -> str:
    """``14:00``: the 24-hour clock every language of the organisation reads."""
    return f"{dt:%H:%M}"


def day_time(t: Translator, dt: datetime) -> str:
    """``Thu 3 Dec 2026, 14:00`` (en), ``tors 3 dec. 2026 14:00`` (sv)."""
    return t.gettext("{day}, {time}").format(day=day(t, dt), time=clock(dt))


def weekday(t: Translator, dt: datetime) -> str:
    """``Thu`` (en), ``tors`` (sv)."""
    return str(format_datetime(dt, "EEE", tzinfo=dt.tzinfo, locale=t.locale))
