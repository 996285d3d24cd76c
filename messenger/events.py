"""Provides the decrypted, authenticated view of incoming events that bots and the TUI use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Incoming:
    """One timeline event as Samverkan sees it, after decryption.

    ``sender_device`` is the device whose Olm-authenticated key sent the Megolm session,
    not a field the sender could write; it is None when the event was not encrypted or the
    device is unknown. ``device_deleted`` is set when that device has been signed out since
    its room key arrived (the key is still authenticated against the device as it was then).
    ``decrypt_error`` is set when the event could not be decrypted.
    """

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    ts: int
    encrypted: bool = False
    sender_device: str | None = None
    device_verified: bool = False
    device_deleted: bool = False
    decrypt_error: str | None = None
    state_key: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def body(self) -> str:
        """The message text, or ''."""
        body = self.content.get("body")
        return body if isinstance(body, str) else ""

    @property
    def relates_to(self) -> dict[str, Any]:
        """The ``m.relates_to`` block, or {}."""
        rel = self.content.get("m.relates_to")
        return rel if isinstance(rel, dict) else {}

    @property
    def thread_root(self) -> str | None:
        """The thread this event is in, if any."""
        rel = self.relates_to
        root = rel.get("event_id") if rel.get("rel_type") == "m.thread" else None
        return root if isinstance(root, str) else None

    @property
    def reply_to(self) -> str | None:
        """The event this one replies to, if any."""
        reply = self.relates_to.get("m.in_reply_to")
        target = reply.get("event_id") if isinstance(reply, dict) else None
        return target if isinstance(target, str) else None

    @property
    def is_message(self) -> bool:
        """A text or notice message (not an edit)."""
        return self.type == "m.room.message" and self.relates_to.get("rel_type") != "m.replace"


@dataclass(frozen=True)
class Invite:
    """An invitation of this account to a room."""

    room_id: str
    inviter: str | None


@dataclass
class SyncBatch:
    """What one /sync brought, decrypted, in timeline order per room."""

    events: list[Incoming] = field(default_factory=list)
    invites: list[Invite] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    to_device: list[dict[str, Any]] = field(default_factory=list)
    initial: bool = False
