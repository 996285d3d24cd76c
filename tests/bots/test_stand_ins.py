"""A bot another process hosts, or one still starting, is stood in for by its name and its
declared commands (no homeserver needed)."""

from __future__ import annotations

import pytest

from bots.runtime import BOT_MODULES, RemotePeer, bot_class
from messenger.botkit.commands import command_names


@pytest.mark.parametrize("name", sorted(BOT_MODULES))
def test_a_stand_in_has_the_bots_name_and_commands(name: str) -> None:
    cls = bot_class(name)
    peer = RemotePeer(name, f"@{name}:example.org")
    assert peer.name == cls.name  # type: ignore[attr-defined]
    declared = set(command_names(cls, cls.GROUPS))  # type: ignore[arg-type,attr-defined]
    assert declared, name
    for words in declared:
        head = words.removeprefix("!").split()[0]
        assert head in peer.table.namespaces, (name, words)
