"""Provides bot command names for completion (the bots' declarations, their ``!help``) and the
command palette."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from messenger.client.timeline import Message

if TYPE_CHECKING:
    from tui.app import SamverkanApp

_USAGE = re.compile(r"^\s*(![a-z][\w-]*(?: [a-z][\w-]*)*)", re.MULTILINE)


def commands_from_help(messages: Iterable[Message], declared: Iterable[str] = ()) -> list[str]:
    """Command names the bots declare (handed in by the composition root, which sees
    ``bots/``), plus any found in the bots' help answers (bots of other versions)."""
    found = set(declared)
    for msg in messages:
        notice = msg.structured.get("org.samverkan.notice", {})
        if notice.get("kind") == "help":
            found.update(m.group(1) for m in _USAGE.finditer(msg.body))
    return sorted(found)


class SamverkanCommands(Provider):
    """Palette entries: go to a room, dashboards, devices, invites, theme, help."""

    def _entries(self) -> list[tuple[str, Any, str]]:
        app: SamverkanApp = self.app  # type: ignore[assignment]
        entries: list[tuple[str, Any, str]] = [
            (
                "Dashboards: upcoming events, open requests, translations",
                app.action_dashboards,
                "Everything that needs a coordinator, across all rooms",
            ),
            ("Devices and trust", app.action_devices, "Members' devices; emoji verification"),
            ("Toggle light / dark theme", app.action_toggle_theme, "Switch the colour theme"),
            ("Help: keys and commands", app.action_help, "Every key binding"),
        ]
        client = app.client
        if client is not None:
            for room in client.rooms():
                if room.kind != "space":
                    entries.append(
                        (
                            f"Go to room: {room.name}",
                            partial(app.open_room, room.room_id),
                            room.topic or room.kind.replace("_", " "),
                        )
                    )
            for inv in client.invites.values():
                entries.append(
                    (
                        f"Invitation: {inv.name}",
                        partial(app.answer_invite, inv.room_id),
                        f"from {inv.inviter}",
                    )
                )
        return entries

    async def discover(self) -> Hits:
        for name, run, help_text in self._entries():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
