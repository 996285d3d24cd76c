"""Provides the dashboards' rows: upcoming events, open and approved requests, translations.

Built from the payloads the organisation's bots posted (``ChatClient.board``), across
every room, parsed with the protocol models; anything malformed is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import ValidationError

from messenger.client.chat import BoardItem, ChatClient
from messenger.client.timeline import Message
from messenger.i18n import N_
from messenger.protocol import Notice, Structured
from messenger.protocol.events import EventCard
from messenger.protocol.projects import ProjectCard
from messenger.protocol.resources import RequestCard
from messenger.protocol.translation import Translation

M = TypeVar("M", bound=Structured)
REFUSED_SILENTLY = N_("the bot refused it")
"""What ``refusal_of`` says when the bot's error answer has no text (translated where shown)."""


@dataclass
class Row(Generic[M]):
    """One dashboard line: the payload, where its card is, and the thread to answer in."""

    item: BoardItem
    data: M
    thread_root: str

    @property
    def room_id(self) -> str:
        return self.item.room_id


def _rows(client: ChatClient, model: type[M]) -> list[Row[M]]:
    out: list[Row[M]] = []
    for item in client.board.get(model.KEY, {}).values():
        try:
            data = model.model_validate(item.data)
        except ValidationError:
            continue
        card = client.timeline(item.room_id).get(item.event_id)
        root = card.thread_root if card and card.thread_root else item.event_id
        out.append(Row(item, data, root))
    return out


def _start_ms(e: EventCard) -> float:
    try:
        return datetime.fromisoformat(e.start).timestamp() * 1000
    except ValueError:
        return 0.0


def upcoming_events(client: ChatClient, now_ms: float | None = None) -> list[Row[EventCard]]:
    """Scheduled events that have not ended, soonest first."""
    now = time.time() * 1000 if now_ms is None else now_ms
    rows = [r for r in _rows(client, EventCard) if r.data.status == "scheduled"]
    rows = [r for r in rows if _start_ms(r.data) + r.data.duration_minutes * 60_000 >= now]
    return sorted(rows, key=lambda r: _start_ms(r.data))


def open_requests(client: ChatClient) -> list[Row[RequestCard]]:
    """Requests waiting for a decision, oldest first."""
    rows = [r for r in _rows(client, RequestCard) if r.data.status == "open"]
    return sorted(rows, key=lambda r: r.data.created_at)


def approved_requests(client: ChatClient) -> list[Row[RequestCard]]:
    """Requests approved and waiting to be delivered (fulfilled), oldest decision first."""
    rows = [r for r in _rows(client, RequestCard) if r.data.status == "approved"]
    return sorted(rows, key=lambda r: (r.data.decided_at or 0, r.data.created_at))


def refusal_of(client: ChatClient, room_id: str, command: Message) -> str | None:
    """The first line of a bot's error answer to ``command`` (a threaded reply to it), if any."""
    if command.pending:
        return None
    tl = client.timeline(room_id)
    root = tl.get(command.thread_root) if command.thread_root else None
    candidates = [tl.get(e) for e in root.thread] if root else tl.main()
    for msg in candidates:
        notice = msg.structured.get(Notice.KEY, {}) if msg else {}
        if msg and msg.reply_to == command.event_id and notice.get("kind") == "error":
            lines = msg.body.strip().splitlines()
            return lines[0] if lines else REFUSED_SILENTLY
    return None


def project_rows(client: ChatClient) -> list[Row[ProjectCard]]:
    """Every project the projects bot posted a card for, by room, then ID."""
    rows = _rows(client, ProjectCard)
    return sorted(rows, key=lambda r: (r.room_id, len(r.data.id), r.data.id))


def needs_translation(client: ChatClient) -> list[Row[Translation]]:
    """Messages whose latest translation payload is still a prompt, newest first."""
    rows = [r for r in _rows(client, Translation) if r.data.status == "prompted"]
    return sorted(rows, key=lambda r: -r.item.ts)
