"""Provides native Matrix scheduling polls (MSC3381): start and end content, response parsing."""

from __future__ import annotations

from typing import Any

from bots.events.model import PollRecord
from bots.events.render import tally_text
from messenger.botkit.context import outbox_ref
from messenger.i18n import Translator

START_TYPE = "org.matrix.msc3381.poll.start"
RESPONSE_TYPES = {"org.matrix.msc3381.poll.response", "m.poll.response"}
END_TYPE = "org.matrix.msc3381.poll.end"
TEXT = "org.matrix.msc1767.text"


def poll_key(poll_id: str) -> str:
    """The outbox key of a poll's start event."""
    return f"poll:{poll_id}"


def question(t: Translator, rec: PollRecord) -> str:
    """``Partner call (P1): when suits you?`` in the room's language."""
    return t.gettext("{title} ({id}): when suits you?").format(title=rec.title, id=rec.id)


def fallback_text(t: Translator, rec: PollRecord) -> str:
    """What clients without polls show."""
    lines = [f"📊 {question(t, rec)}"]
    lines += [f"{i}. {s.label}" for i, s in enumerate(rec.slots, 1)]
    return "\n".join(lines)


def start_content(t: Translator, rec: PollRecord) -> dict[str, Any]:
    """A poll start as Element sends it (unstable keys), with the stable shape alongside; its
    words in ``t``'s language (the room's)."""
    asked = question(t, rec)
    text = fallback_text(t, rec)
    content: dict[str, Any] = {
        START_TYPE: {
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": rec.max_selections,
            "question": {TEXT: asked, "body": asked},
            "answers": [{"id": s.answer, TEXT: s.label} for s in rec.slots],
        },
        TEXT: text,
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": rec.max_selections,
            "question": {"m.text": [{"body": asked}]},
            "answers": [{"m.id": s.answer, "m.text": [{"body": s.label}]} for s in rec.slots],
        },
        "m.text": [{"body": text}],
        "body": text,
    }
    return rec.card().attach(content)


def response_answers(event_type: str, content: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(poll start event ID, chosen answer IDs) of a poll response, or None if it is not one."""
    if event_type not in RESPONSE_TYPES:
        return None
    rel = content.get("m.relates_to")
    target = rel.get("event_id") if isinstance(rel, dict) else None
    if not isinstance(target, str):
        return None
    block = content.get("org.matrix.msc3381.poll.response") or content.get("m.poll.response")
    raw: Any = None
    if isinstance(block, dict):
        raw = block.get("answers")
    if raw is None:
        raw = content.get("m.selections")
    if not isinstance(raw, list):
        return None
    return target, [a for a in raw if isinstance(a, str)]


def end_content(t: Translator, rec: PollRecord) -> dict[str, Any]:
    """The poll end event (references the start), with the result as its text fallback."""
    text = tally_text(t, rec)
    target = rec.poll_event or outbox_ref(poll_key(rec.id))
    content = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": target},
        "org.matrix.msc3381.poll.end": {},
        "m.poll.end": {},
        TEXT: text,
        "m.text": [{"body": text}],
        "body": text,
    }
    return rec.card().attach(content)
