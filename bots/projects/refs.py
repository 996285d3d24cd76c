"""Provides where a project's card is: its outbox key, and the relation that places a
message in the card's thread (resolved to the card's event ID when the outbox sends it)."""

from __future__ import annotations

from typing import Any

from messenger.botkit.context import outbox_ref


def card_key(pid: str) -> str:
    """The outbox key of a project's card."""
    return f"card:{pid}"


def on_card(pid: str) -> dict[str, Any]:
    """A relation placing a message in the thread of a project's card."""
    ref = outbox_ref(card_key(pid))
    return {
        "rel_type": "m.thread",
        "event_id": ref,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": ref},
    }
