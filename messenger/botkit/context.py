"""Provides ``Context`` (what a command handler gets) and the content builders every bot
uses: threaded notices, edits, transaction IDs fixed by their cause, outbox references."""

from __future__ import annotations

import hashlib
import html
from typing import TYPE_CHECKING, Any

from messenger.events import Incoming
from messenger.i18n import Translator, translator
from messenger.protocol import Notice, Structured
from messenger.session.outbox import OUTBOX_REF
from messenger.store import Tx

if TYPE_CHECKING:
    from messenger.botkit.bot import Bot
    from messenger.botkit.commands import Command
    from messenger.config import Group


def txn_for(*parts: str) -> str:
    """A transaction ID fixed by what caused the message, so re-handling never duplicates."""
    return "sv" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:30]


def outbox_ref(key: str) -> str:
    """A placeholder event ID for a message still in the outbox, resolved when sent."""
    return OUTBOX_REF + key


class Context:
    """What a command handler gets: the event, the open transaction, and ways to answer."""

    def __init__(self, bot: Bot, event: Incoming, tx: Tx, group: Group | None) -> None:
        self.bot = bot
        self.event = event
        self.tx = tx
        self.group = group
        self._n = 0
        self._t: Translator | None = None

    @property
    def room_id(self) -> str:
        """The room the event came from."""
        return self.event.room_id

    @property
    def sender(self) -> str:
        """The (Olm-authenticated where encrypted) sender."""
        return self.event.sender

    @property
    def t(self) -> Translator:
        """The asker's language (``!locale``, else the room's first working language)."""
        if self._t is None:
            self._t = translator(self.bot.locale_for(self.sender, self.room_id, self.group))
        return self._t

    @property
    def room_t(self) -> Translator:
        """The room's language, for what the room shares (cards edited in place)."""
        return translator(self.bot.room_locale(self.room_id, self.group))

    def _(self, message: str) -> str:
        """``message`` in the asker's language (extracted by ``pybabel`` as ``_``)."""
        return self.t.gettext(message)

    def power(self, user_id: str | None = None) -> int:
        """Power level of ``user_id`` (default: the sender) in this room."""
        return self.bot.rooms.power_level(self.room_id, user_id or self.sender)

    def next_txn(self) -> str:
        """The next transaction ID for a message caused by this event."""
        self._n += 1
        return txn_for(self.bot.user_id, self.event.event_id, str(self._n))

    async def reply(
        self,
        text: str,
        *,
        html_body: str | None = None,
        data: Structured | None = None,
        key: str | None = None,
        mentions: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Queue a threaded ``m.notice`` answering the event; return its outbox key."""
        content = notice_content(text, html_body, data, mentions)
        content["m.relates_to"] = thread_relation(self.event)
        content.update(extra or {})
        key = key or f"reply:{self.event.event_id}:{self._n + 1}"
        await self.tx.enqueue(self.room_id, content, txn_id=self.next_txn(), key=key)
        return key

    async def send(
        self,
        room_id: str,
        content: dict[str, Any],
        *,
        key: str | None = None,
        event_type: str = "m.room.message",
    ) -> str:
        """Queue any event; return its outbox key."""
        key = key or f"send:{self.event.event_id}:{self._n + 1}"
        await self.tx.enqueue(
            room_id, content, txn_id=self.next_txn(), key=key, event_type=event_type
        )
        return key

    async def edit(
        self,
        room_id: str,
        original_key: str,
        text: str,
        *,
        html_body: str | None = None,
        data: Structured | None = None,
    ) -> None:
        """Queue an ``m.replace`` edit of a message this bot queued under ``original_key``."""
        await self.send(room_id, edit_content(outbox_ref(original_key), text, html_body, data))

    async def fail(self, message: str, command: Command | None = None) -> None:
        """Answer with what was wrong and, for a command, its usage."""
        usage = command.usage() if command else None
        text = f"⚠ {message}"
        body_html = f"⚠ {html.escape(message)}"
        if command:
            label = self._("Usage:")
            text += f"\n{label} {usage}"
            body_html += f"<br/>{html.escape(label)} <code>{html.escape(usage or '')}</code>"
            if command.example:
                label, example = self._("Example:"), command.example
                text += f"\n{label} {example}"
                body_html += f"<br/>{html.escape(label)} <code>{html.escape(example)}</code>"
        data = Notice(
            kind="error", bot=self.bot.name, command=command.name if command else None, usage=usage
        )
        await self.reply(text, html_body=body_html, data=data)


def notice_content(
    text: str, html_body: str | None, data: Structured | None, mentions: list[str] | None
) -> dict[str, Any]:
    """An ``m.notice`` with an HTML body and optional structured payload and mentions."""
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": text,
        "format": "org.matrix.custom.html",
        "formatted_body": html_body
        if html_body is not None
        else html.escape(text).replace("\n", "<br/>"),
        "m.mentions": {"user_ids": mentions or []},
    }
    return data.attach(content) if data is not None else content


def thread_relation(event: Incoming | str) -> dict[str, Any]:
    """Relation placing a reply in the event's thread (starting one on the event if needed);
    given an event ID (a bot's own card or poll), in the thread that event roots."""
    if isinstance(event, str):
        root = target = event
    else:
        root, target = event.thread_root or event.event_id, event.event_id
    return {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": target},
    }


def edit_content(
    target: str, text: str, html_body: str | None = None, data: Structured | None = None
) -> dict[str, Any]:
    """An ``m.replace`` edit of ``target`` (an event ID or an ``outbox_ref``): what
    ``Context.edit`` queues, and what a timer queues with ``Bot.queue`` when no event caused it."""
    content = {
        **notice_content("* " + text, None, None, None),
        "m.new_content": notice_content(text, html_body, data, None),
        "m.relates_to": {"rel_type": "m.replace", "event_id": target},
    }
    return data.attach(content) if data is not None else content
