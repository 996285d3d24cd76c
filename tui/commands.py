"""Provides bot command names for completion (the bots' declarations, their ``!help``) and the
command palette."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from messenger.client.timeline import Message
from messenger.i18n import N_
from tui.lang import t_of

if TYPE_CHECKING:
    from tui.app import SamverkanApp

KINDS = {
    "working_group": N_("working group"),
    "partnership": N_("partnership"),
    "other": N_("other"),
}
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
        _ = t_of(self).gettext
        entries: list[tuple[str, Any, str]] = [
            (
                _("Dashboards: upcoming events, open requests, translations"),
                app.action_dashboards,
                _("Everything that needs a coordinator, across all rooms"),
            ),
            (
                _("Projects: every project's timeline"),
                app.action_projects,
                _("Milestones, overdue items and updates, across all rooms"),
            ),
            (
                _("Devices and trust"),
                app.action_devices,
                _("Members' devices; emoji verification"),
            ),
            (
                _("Library: search the knowledge base (F6)"),
                app.action_library,
                _("Entries of your rooms and those shared with everyone, searched as you type"),
            ),
            (
                _("Toggle light / dark theme"),
                app.action_toggle_theme,
                _("Switch the colour theme"),
            ),
            (_("Help: keys and commands"), app.action_help, _("Every key binding")),
        ]
        client = app.client
        if client is not None:
            for room in client.rooms():
                if room.kind != "space":
                    entries.append(
                        (
                            _("Go to room: {name}").format(name=room.name),
                            partial(app.open_room, room.room_id),
                            room.topic or _(KINDS.get(room.kind, room.kind.replace("_", " "))),
                        )
                    )
            for inv in client.invites.values():
                entries.append(
                    (
                        _("Invitation: {name}").format(name=inv.name),
                        partial(app.answer_invite, inv.room_id),
                        _("from {who}").format(who=inv.inviter),
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
