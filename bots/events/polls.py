"""Provides native Matrix scheduling polls (MSC3381): start/end content, response parsing, tally."""

from __future__ import annotations

from html import escape
from typing import Any

from bots.events.model import PollRecord
from messenger.botkit.context import notice_content, outbox_ref

START_TYPE = "org.matrix.msc3381.poll.start"
RESPONSE_TYPES = {"org.matrix.msc3381.poll.response", "m.poll.response"}
END_TYPE = "org.matrix.msc3381.poll.end"
TEXT = "org.matrix.msc1767.text"


def poll_key(poll_id: str) -> str:
    """The outbox key of a poll's start event."""
    return f"poll:{poll_id}"


def fallback_text(rec: PollRecord) -> str:
    """What clients without polls show."""
    lines = [f"📊 {rec.title} ({rec.id}): when suits you?"]
    lines += [f"{i}. {s.label}" for i, s in enumerate(rec.slots, 1)]
    return "\n".join(lines)


def start_content(rec: PollRecord) -> dict[str, Any]:
    """A poll start as Element sends it (unstable keys), with the stable shape alongside."""
    question = f"{rec.title} ({rec.id}): when suits you?"
    text = fallback_text(rec)
    content: dict[str, Any] = {
        START_TYPE: {
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "question": {TEXT: question, "body": question},
            "answers": [{"id": s.answer, TEXT: s.label} for s in rec.slots],
        },
        TEXT: text,
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": 1,
            "question": {"m.text": [{"body": question}]},
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


def record_vote(rec: PollRecord, user: str, answers: list[str], ts: int) -> bool:
    """Apply one response (the latest per user wins; unknown answers are dropped).

    Returns whether the tally changed. An empty or all-invalid selection withdraws the vote.
    """
    if rec.status != "open" or ts < rec.vote_ts.get(user, -1):
        return False
    valid = {s.answer for s in rec.slots}
    chosen = [a for a in answers if a in valid][:1]
    rec.vote_ts[user] = ts
    before = rec.votes.get(user)
    if chosen:
        rec.votes[user] = chosen
    else:
        rec.votes.pop(user, None)
    return before != rec.votes.get(user)


def tally_text(rec: PollRecord) -> str:
    """The closing summary: votes per slot, the winner and how to create the event."""
    counts = rec.tally()
    lines = [f"📊 Poll {rec.id} “{rec.title}” is closed."]
    for i, s in enumerate(rec.slots, 1):
        n = len(counts[s.answer])
        star = " ⭐" if s.answer == rec.winner else ""
        lines.append(f"{i}. {s.label}: {n} vote{'s' if n != 1 else ''}{star}")
    winner = next((s for s in rec.slots if s.answer == rec.winner), None)
    if winner is None:
        lines.append("Nobody voted, so there is no winner.")
    else:
        lines.append(f"Winner: {winner.label}. Create the event: !event poll accept {rec.id}")
    return "\n".join(lines)


def tally_html(rec: PollRecord) -> str:
    """The closing summary as HTML."""
    counts = rec.tally()
    items = "".join(
        f"<li>{escape(s.label)}: {len(counts[s.answer])}"
        f"{' ⭐' if s.answer == rec.winner else ''}</li>"
        for s in rec.slots
    )
    winner = next((s for s in rec.slots if s.answer == rec.winner), None)
    tail = (
        "Nobody voted, so there is no winner."
        if winner is None
        else f"Winner: <b>{escape(winner.label)}</b>. Create the event: "
        f"<code>!event poll accept {rec.id}</code>"
    )
    return f"<p>📊 Poll {rec.id} “{escape(rec.title)}” is closed.</p><ol>{items}</ol><p>{tail}</p>"


def end_content(rec: PollRecord) -> dict[str, Any]:
    """The poll end event (references the start), with the result as its text fallback."""
    text = tally_text(rec)
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


def tally_notice(rec: PollRecord) -> dict[str, Any]:
    """The closing notice, threaded on the poll when its event ID is known."""
    content = notice_content(tally_text(rec), tally_html(rec), rec.card(), None)
    if rec.poll_event:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": rec.poll_event,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": rec.poll_event},
        }
    return content


def close(rec: PollRecord) -> None:
    """Close the poll and fix its winner."""
    rec.status = "closed"
    rec.winner = rec.leader()
