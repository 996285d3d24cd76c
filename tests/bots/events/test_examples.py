"""Help examples with dates are filled from today, parse as commands and never lie in the past."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bots.events.bot import EventsBot
from bots.events.commands_events import create_example
from bots.examples import DatedExamples, fill_dates, quoted
from bots.resources import ResourcesBot
from messenger.botkit.commands import Commands, CommandTable, declared_commands, tokenize

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def command_groups(cls: Any) -> list[type[Commands[Any]]]:
    """The command group classes (``Commands`` subclasses) defined in a bot's package."""
    module = sys.modules[cls.__module__]
    package = module if hasattr(module, "__path__") else sys.modules[module.__package__ or ""]
    found = []
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        mod = importlib.import_module(info.name)
        for _name, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, Commands) and obj is not Commands and obj.__module__ == mod.__name__:
                found.append(obj)
    return found


def table_of(cls: Any) -> CommandTable:
    """The command table a bot of ``cls`` would have: its own commands and its groups' (no
    session needed to read it)."""
    bot = cls.__new__(cls)
    found = declared_commands(bot)
    for group in command_groups(cls):
        found += declared_commands(group(bot))
    return CommandTable(found)


@pytest.mark.parametrize("cls", [EventsBot, ResourcesBot])
@pytest.mark.parametrize("today", [datetime.now(UTC).date(), date(2031, 12, 30)])
def test_examples_are_not_past_and_parse(cls: Any, today: date) -> None:
    table = table_of(cls)
    DatedExamples(table).refresh(today)
    dated = 0
    for cmd in table.commands:
        assert "{" not in cmd.example, cmd.example
        if not cmd.example or cmd.name in {"report"}:  # --since wants a past date
            continue
        for found in ISO.findall(cmd.example):
            dated += 1
            assert date.fromisoformat(found) > today, (cmd.name, cmd.example)
        words = tokenize(cmd.example)
        matched = table.match(words)
        assert matched is not None, cmd.example
        assert matched[0] is cmd
        matched[0].bind(matched[1])  # every argument of the example is valid
    assert dated >= (1 if cls is ResourcesBot else 2)


def test_refresh_follows_the_day() -> None:
    table = table_of(ResourcesBot)
    examples = DatedExamples(table)
    (request,) = [c for c in table.commands if c.name == "request"]
    examples.refresh(date(2027, 1, 10))
    assert "--by 2027-02-09" in request.example
    examples.refresh(date(2027, 3, 1))
    assert "--by 2027-03-31" in request.example


def test_fill_dates_and_quoting() -> None:
    assert fill_dates("{date+1} and {date+30}", date(2026, 12, 31)) == "2027-01-01 and 2027-01-30"
    line = create_example('The "big" {date} day')("2027-01-11", "14:00", "UTC")
    assert line == '!event create "The \\"big\\" {date} day" 2027-01-11 14:00 UTC'
    assert tokenize(line)[2] == 'The "big" {date} day'
    assert tokenize(quoted("a\\b"))[0] == "a\\b"
