"""The TUI completes exactly the commands the bots declare (no hand-kept list to drift)."""

from __future__ import annotations

from bots.runtime import BOT_MODULES, bot_class, command_names
from messenger.botkit.commands import declared_commands
from tui.app import SamverkanApp


def test_completion_offers_every_declared_command() -> None:
    names = command_names()
    for name in BOT_MODULES:
        cls = bot_class(name)
        bot = cls.__new__(cls)  # type: ignore[operator]
        for group in cls.GROUPS:  # type: ignore[attr-defined]
            for command in declared_commands(group(bot)):
                assert f"!{command.name}" in names
    assert "!request withdraw" in names  # missing from the list the TUI used to keep
    app = SamverkanApp(commands=names)
    assert app.command_names() == names
