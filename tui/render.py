"""Provides ``MessageRenderer``: one timeline message as wrapped, styled lines (Strips)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from messenger.client.timeline import Message
from messenger.i18n import N_, SOURCE, Translator, translator
from tui.cards import card_for
from tui.htmltext import html_to_text
from tui.lang import clock

NAME_COLOURS = ["#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#d19a66"]
CARD_KEYS = {"org.samverkan.event", "org.samverkan.request", "org.samverkan.poll"}
GUTTER = 7
MENTION_BG = Style(bgcolor="#3b2f00")
DIM = Style(dim=True)
ITALIC = Style(italic=True)
UTC_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}) UTC\b")
"""How the bots write a moment in their text (``2026-12-03 14:05 UTC``)."""
MEMBERSHIP = {
    "join": N_("{who} joined"),
    "invite": N_("{who} was invited"),
    "leave": N_("{who} left"),
    "ban": N_("{who} was banned"),
}


def local_stamps(text: str, tz: tzinfo | None) -> str:
    """The bots' UTC moments in ``text`` in the viewer's timezone (``2026-12-03 15:05 CET``)."""
    if tz is None:
        return text

    def local(m: re.Match[str]) -> str:
        try:
            at = datetime.fromisoformat(f"{m[1]}T{m[2]}:{m[3]}:00").replace(tzinfo=UTC)
        except ValueError:
            return m[0]
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    return UTC_STAMP.sub(local, text)


def name_colour(user_id: str) -> str:
    """A stable colour per sender."""
    return NAME_COLOURS[zlib.crc32(user_id.encode()) % len(NAME_COLOURS)]


def excerpt(text: str, width: int = 60) -> str:
    """The first line of ``text``, shortened."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= width else first[: width - 1] + "…"


class MessageRenderer:
    """Renders messages for one room's view; caches by (event, version, width, grouped)."""

    def __init__(
        self,
        console: Console,
        names: Callable[[str], str],
        lookup: Callable[[str], Message | None],
        me: str,
        tz: tzinfo | None,
        mention_names: list[str] | None = None,
        room_encrypted: Callable[[], bool] | None = None,
        t: Translator | None = None,
    ) -> None:
        self.console = console
        self.t = t or translator(SOURCE)
        self._ = self.t.gettext
        self.room_encrypted = room_encrypted or (lambda: True)
        self.names = names
        self.lookup = lookup
        self.me = me
        self.tz = tz
        self.mention_names = mention_names or []
        self._cache: dict[tuple[str, int, int, bool, bool, int], list[Strip]] = {}

    def time(self, ts: int) -> str:
        """Hours and minutes in the viewer's timezone, as the viewer's language writes them."""
        return clock(self.t, datetime.fromtimestamp(ts / 1000, self.tz).astimezone(self.tz))

    def lines(
        self, msg: Message, width: int, grouped: bool, in_thread: bool = False
    ) -> list[Strip]:
        """The message's lines at ``width`` (cached)."""
        latest = self.lookup(msg.thread[-1]) if msg.thread and not in_thread else None
        # The thread summary shows the latest reply: its edits change the root's lines too.
        key = (
            msg.event_id,
            msg.version,
            width,
            grouped,
            in_thread,
            latest.version if latest else -1,
        )
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._render(msg, width, grouped, in_thread)
        return hit

    def _plain(self, msg: Message, width: int, grouped: bool) -> list[Strip] | None:
        """Fast path for the common case (a plain text message): wrap words by cell width."""
        if (
            msg.is_state
            or msg.reply_to
            or msg.reactions
            or msg.thread
            or msg.structured
            or msg.decrypt_error
            or msg.device_deleted
            or msg.redacted
            or msg.pending
            or msg.failed
            or msg.edited
            or msg.html
            or msg.msgtype not in {"m.text", "m.notice"}
            or not msg.encrypted
            or (msg.sender != self.me and self._mentions_me(msg))
        ):
            return None
        strips: list[Strip] = []
        if not grouped:
            name = self.names(msg.sender)
            strips.append(
                Strip(
                    [
                        Segment(f"{self.time(msg.ts)}  ", DIM),
                        Segment(name, Style(bold=True, color=name_colour(msg.sender))),
                    ]
                    + ([Segment(" " + self._("bot"), DIM)] if msg.msgtype == "m.notice" else [])
                )
            )
        style = ITALIC if msg.msgtype == "m.notice" else Style()
        room = max(10, width - GUTTER)
        pad = Segment(" " * GUTTER)
        for para in msg.body.split("\n"):
            line, used = "", 0
            for word in para.split(" "):
                w = cell_len(word)
                if used and used + 1 + w > room:
                    strips.append(Strip([pad, Segment(line, style)]))
                    line, used = "", 0
                while w > room:  # a word longer than a line: hard-wrap it
                    strips.append(Strip([pad, Segment(word[:room], style)]))
                    word = word[room:]
                    w = cell_len(word)
                line, used = (f"{line} {word}", used + 1 + w) if used else (word, w)
            strips.append(Strip([pad, Segment(line, style)]))
        return strips

    def insecure(self, msg: Message) -> bool:
        """A plaintext message in an encrypted room: the server could have forged it."""
        return not msg.encrypted and not msg.is_state and self.room_encrypted()

    def _render(self, msg: Message, width: int, grouped: bool, in_thread: bool) -> list[Strip]:
        fast = self._plain(msg, width, grouped)
        if fast is not None:
            return fast
        insecure = self.insecure(msg)
        # The marks sit in the header: always show it for a message that carries one.
        grouped = grouped and not insecure and not msg.device_deleted
        parts: list[RenderableType] = []
        header = Text(no_wrap=True, overflow="ellipsis")
        if msg.is_state:
            header.append(f"{self.time(msg.ts)}  ", style="dim")
            header.append(f"→ {self._state_text(msg)}", style="dim italic")
            return self._strips([header], width, None)
        if not grouped:
            header.append(f"{self.time(msg.ts)}  ", style="dim")
            header.append(self.names(msg.sender), style=f"bold {name_colour(msg.sender)}")
            if msg.msgtype == "m.notice":
                header.append(" " + self._("bot"), style="dim")
            if insecure:
                header.append("  ⚠ " + self._("not encrypted"), style="bold red")
            if msg.device_deleted:
                header.append("  ⚠ " + self._("sent from a deleted device"), style="yellow")
            parts.append(header)
        body: list[RenderableType] = []
        if msg.reply_to and not (
            in_thread and msg.content.get("m.relates_to", {}).get("is_falling_back")
        ):
            target = self.lookup(msg.reply_to)
            quoted = (
                f"{self.names(target.sender)}: {excerpt(target.body, 50)}"
                if target
                else self._("an earlier message")
            )
            body.append(Text(f"↳ {quoted}", style="dim italic", no_wrap=True, overflow="ellipsis"))
        body.extend(self._body(msg))
        if msg.reactions:
            line = Text()
            for key, senders in msg.reactions.items():
                mine = self.me in senders
                line.append(f" {key} {len(senders)} ", style="reverse" if mine else "bold")
                line.append(" ")
            body.append(line)
        if msg.thread and not in_thread:
            body.extend(self._thread_summary(msg))
        parts.extend(Padding(b, (0, 0, 0, GUTTER)) for b in body)
        mention = msg.sender != self.me and self._mentions_me(msg)
        return self._strips(parts, width, MENTION_BG if mention else None)

    def _thread_summary(self, msg: Message) -> list[RenderableType]:
        """Element's thread summary: how many replies, and the latest one's first line."""
        n = len(msg.thread)
        out: list[RenderableType] = []
        latest = self.lookup(msg.thread[-1])
        if latest is not None:
            line = Text("🧵 ", style="cyan", no_wrap=True, overflow="ellipsis")
            line.append(self.names(latest.sender), style=f"bold {name_colour(latest.sender)}")
            line.append(f": {excerpt(self._text_of(latest), 200)}")
            out.append(line)
        count = self.t.ngettext("{n} reply — press t to open", "{n} replies — press t to open", n)
        out.append(Text(("   " if out else "🧵 ") + count.format(n=n), style="dim cyan"))
        return out

    def _text_of(self, msg: Message) -> str:
        """What a message says, in one plain string (for quotes and summaries)."""
        if msg.decrypt_error:
            return "🔒 " + self._("unable to decrypt")
        if msg.redacted:
            return "🗑 " + self._("message deleted")
        body = html_to_text(msg.html).plain if msg.html else msg.body
        return local_stamps(body, self.tz) if self._from_bot(msg) else body

    def _from_bot(self, msg: Message) -> bool:
        return bool(msg.structured) or msg.msgtype == "m.notice"

    def _body(self, msg: Message) -> list[RenderableType]:
        if msg.decrypt_error:
            return [
                Text(
                    "🔒 "
                    + self._("Unable to decrypt this message: {reason}").format(
                        reason=msg.decrypt_error
                    ),
                    style="italic red",
                )
            ]
        if msg.redacted:
            return [Text("🗑 " + self._("message deleted"), style="dim italic")]
        out: list[RenderableType] = []
        card = card_for(msg.structured, self.tz, self.names, self.t) if msg.structured else None
        if not (card is not None and CARD_KEYS & msg.structured.keys()):
            style = "italic" if msg.msgtype == "m.notice" else ""
            if msg.structured.get("org.samverkan.notice", {}).get("kind") == "error":
                style = "yellow"
            html = msg.html
            if html and self._from_bot(msg):
                html = local_stamps(html, self.tz)
            if html:
                t = html_to_text(html, style)
            else:
                t = Text(local_stamps(msg.body, self.tz) if self._from_bot(msg) else msg.body)
                t.stylize(style)
            if msg.msgtype == "m.emote":
                t = Text(f"* {self.names(msg.sender)} ", style=style) + t
            if msg.edited:
                t.append(" " + self._("(edited)"), style="dim")
            out.append(t)
        if card is not None:
            out.append(card)
        if msg.pending:
            out.append(Text("⏳ " + self._("sending…"), style="dim"))
        if msg.failed:
            failed = self._("not sent: {error} — press R to retry").format(error=msg.failed)
            out.append(Text("⚠ " + failed, style="bold red"))
        return out

    def _mentions_me(self, msg: Message) -> bool:
        if self.me in msg.mentions:
            return True
        body = msg.body.lower()
        return any(n and len(n) > 2 and n.lower() in body for n in self.mention_names)

    def _state_text(self, msg: Message) -> str:
        c = msg.content
        who = self.names(msg.state_key or msg.sender)
        by = self.names(msg.sender)
        if msg.type == "m.room.member":
            said = MEMBERSHIP.get(str(c.get("membership")), N_("{who} changed membership"))
            return self._(said).format(who=who)
        if msg.type == "m.room.name":
            return self._("{who} named the room “{name}”").format(who=by, name=c.get("name", ""))
        if msg.type == "m.room.topic":
            return self._("{who} set the topic: {topic}").format(who=by, topic=c.get("topic", ""))
        return self._("{who} turned on end-to-end encryption").format(who=by)

    def _strips(self, parts: list[RenderableType], width: int, bg: Style | None) -> list[Strip]:
        from rich.console import Group

        options = self.console.options.update_width(max(width, 20))
        lines = self.console.render_lines(Group(*parts), options, pad=False)
        strips = [Strip(line) for line in lines]
        if bg is not None:
            strips = [s.extend_cell_length(width).apply_style(bg) for s in strips]
        return strips
