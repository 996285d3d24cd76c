"""Provides dated help examples: ``{date+N}`` in a command's example becomes today + N days.

A fixed date in an example goes stale (copying it then fails with "in the past"), so the
examples are declared as templates and filled from the bot's clock whenever the day changes.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from messenger.botkit.commands import CommandTable

_DATE = re.compile(r"\{date\+(\d+)\}")


def fill_dates(template: str, today: date) -> str:
    """``template`` with every ``{date+N}`` replaced by the ISO date N days after ``today``."""
    return _DATE.sub(lambda m: (today + timedelta(days=int(m.group(1)))).isoformat(), template)


def quoted(text: str) -> str:
    """``text`` in double quotes as the command tokenizer reads it back."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DatedExamples:
    """The dated example templates of one bot's commands, refilled when the day changes."""

    def __init__(self, table: CommandTable) -> None:
        self.table = table
        self.templates = {id(c): c.example for c in table.commands if _DATE.search(c.example)}
        self.day: date | None = None

    def refresh(self, today: date) -> None:
        """Fill every dated example for ``today`` (a no-op if already filled for it)."""
        if today == self.day:
            return
        for cmd in self.table.commands:
            template = self.templates.get(id(cmd))
            if template is not None:
                cmd.example = fill_dates(template, today)
        self.day = today
