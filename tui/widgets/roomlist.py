"""Provides ``RoomList``: rooms grouped by the organisation's space, with counts and shields."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message as UIMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from messenger.client.chat import InviteInfo, RoomInfo
from messenger.i18n import N_
from tui.lang import t_of

SECTIONS = [
    ("working_group", N_("Working groups")),
    ("partnership", N_("Partnerships")),
    ("other", N_("Other rooms")),
]
LABEL_WIDTH = 30
"""Cells a room's line may use in the list (its width less padding and scrollbar)."""
SHIELDS = {
    "verified": ("🛡", "green", N_("encrypted; every device verified")),
    "unverified": ("⚠", "yellow", N_("encrypted; unverified devices present")),
    "plain": ("🔓", "red", N_("not encrypted")),
}


def room_label(room: RoomInfo, width: int = LABEL_WIDTH) -> Text:
    """``🛡 Nordic policy  @1  3 ``: one line; a long name ends in an ellipsis, badges stay."""
    icon, colour, _ = SHIELDS.get(room.shield, SHIELDS["unverified"])
    label = Text(f"{icon} ", style=colour, no_wrap=True, overflow="ellipsis")
    badges = Text()
    if room.mentions:
        badges.append(f" @{room.mentions} ", style="bold white on red")
    if room.unread:
        badges.append(f" {room.unread} ", style="bold black on cyan")
    name = Text(room.name, style="bold" if room.unread else "")
    room_for_name = width - label.cell_len - (badges.cell_len + 1 if badges else 0)
    name.truncate(max(4, room_for_name), overflow="ellipsis")
    label.append_text(name)
    if badges:
        label.append(" ")
        label.append_text(badges)
    return label


class RoomList(OptionList):
    """The left column; posts ``RoomChosen`` / ``InviteChosen``."""

    DEFAULT_CSS = "RoomList { width: 34; height: 1fr; border: none; }"

    class RoomChosen(UIMessage):
        """A room was picked."""

        def __init__(self, room_id: str) -> None:
            self.room_id = room_id
            super().__init__()

    class InviteChosen(UIMessage):
        """An invitation was picked."""

        def __init__(self, room_id: str) -> None:
            self.room_id = room_id
            super().__init__()

    def update_rooms(
        self, rooms: list[RoomInfo], invites: list[InviteInfo], current: str | None
    ) -> None:
        """Rebuild the options, keeping the highlighted room."""
        _ = t_of(self).gettext
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        options: list[Option | None] = []
        if invites:
            options.append(Option(Text(_("Invites"), style="bold magenta"), disabled=True))
            for inv in invites:
                who = " " + _("from {who}").format(who=inv.inviter) if inv.inviter else ""
                options.append(
                    Option(Text(f"✉ {inv.name}{who}", style="magenta"), id=f"invite:{inv.room_id}")
                )
        spaces = [r for r in rooms if r.kind == "space"]
        org = spaces[0].name if spaces else ""
        if org:
            options.append(Option(Text(f"◆ {org}", style="bold"), disabled=True))
        for kind, title in SECTIONS:
            members = [r for r in rooms if r.kind == kind]
            if not members:
                continue
            options.append(Option(Text(f" {_(title)}", style="bold dim"), disabled=True))
            options.extend(Option(room_label(r), id=f"room:{r.room_id}") for r in members)
        self.clear_options()
        self.add_options(options)
        target = f"room:{current}" if current and keep is None else keep
        if target:
            try:
                self.highlighted = self.get_option_index(target)
            except Exception:
                self.highlighted = None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        ident = event.option.id or ""
        kind, _, room_id = ident.partition(":")
        if kind == "room":
            self.post_message(self.RoomChosen(room_id))
        elif kind == "invite":
            self.post_message(self.InviteChosen(room_id))
