"""Provides ``Timeline``: one room's messages with edits, reactions, threads and replies applied.

Pure data (no network, no UI): events go in as ``Incoming`` in timeline order (live) or as
an older block (back-pagination); the main timeline, each thread, and every message's
aggregated reactions and latest edit come out. Relations whose target is not loaded yet
wait until it arrives, so the order events reach us in does not matter.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from messenger.events import Incoming
from messenger.session.decryption import KEY_MISSING

STRUCTURED_PREFIX = "org.samverkan."
SHOWN_STATE = {"m.room.member", "m.room.name", "m.room.topic", "m.room.encryption"}
_REPLY_FALLBACK = re.compile(r"^(> .*\n)+\n?", re.MULTILINE)
_MX_REPLY = re.compile(r"<mx-reply>.*?</mx-reply>", re.DOTALL)


def strip_reply_fallback(body: str, html: str | None) -> tuple[str, str | None]:
    """Remove the quoted ``> <@user> …`` fallback a reply carries for old clients."""
    if body.startswith("> "):
        body = _REPLY_FALLBACK.sub("", body, count=1)
    if html:
        html = _MX_REPLY.sub("", html, count=1)
    return body, html


@dataclass
class Message:
    """One timeline entry as a person sees it (edits applied, reactions counted)."""

    event_id: str
    sender: str
    ts: int
    type: str
    content: dict[str, Any]
    encrypted: bool = False
    verified: bool = False
    device_deleted: bool = False
    decrypt_error: str | None = None
    thread_root: str | None = None
    reply_to: str | None = None
    edited: bool = False
    redacted: bool = False
    pending: bool = False
    failed: str | None = None
    txn_id: str | None = None
    state_key: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    thread: list[str] = field(default_factory=list)
    structured: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0
    _edit_ts: int = 0
    _reaction_ids: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    @property
    def msgtype(self) -> str:
        """``m.text``, ``m.notice``, ``m.emote`` … or ''."""
        value = self.content.get("msgtype")
        return value if isinstance(value, str) else ""

    @property
    def body(self) -> str:
        """The text to show, without a reply fallback."""
        body = self.content.get("body")
        text = body if isinstance(body, str) else ""
        return strip_reply_fallback(text, None)[0] if self.reply_to else text

    @property
    def html(self) -> str | None:
        """The HTML body, if any, without a reply fallback."""
        if self.content.get("format") != "org.matrix.custom.html":
            return None
        value = self.content.get("formatted_body")
        if not isinstance(value, str):
            return None
        return strip_reply_fallback("", value)[1] if self.reply_to else value

    @property
    def mentions(self) -> list[str]:
        """User IDs the sender mentioned explicitly (``m.mentions``)."""
        block = self.content.get("m.mentions")
        ids = block.get("user_ids") if isinstance(block, dict) else None
        return [u for u in ids if isinstance(u, str)] if isinstance(ids, list) else []

    @property
    def is_state(self) -> bool:
        """A membership, name, topic or encryption change."""
        return self.state_key is not None

    def touch(self) -> None:
        """Mark as changed (renderers cache by ``(event_id, version)``)."""
        self.version += 1


def structured_of(content: dict[str, Any], sender: str, trusted: set[str]) -> dict[str, Any]:
    """Every ``org.samverkan.*`` payload of ``content`` if a trusted bot sent it."""
    if sender not in trusted:
        return {}
    new = content.get("m.new_content")
    source = new if isinstance(new, dict) else content
    return {
        k: v for k, v in source.items() if k.startswith(STRUCTURED_PREFIX) and isinstance(v, dict)
    }


class Timeline:
    """One room's messages: ``main()`` in order, ``thread(root)`` per thread.

    ``version`` increases on every change; ``at_start`` is True once back-pagination has
    reached the room's creation; ``prev_token`` is where the next page starts.
    """

    def __init__(self, room_id: str, me: str, trusted: set[str] | None = None) -> None:
        self.room_id = room_id
        self.me = me
        self.trusted = trusted or set()
        self.messages: dict[str, Message] = {}
        self.order: list[str] = []
        self.version = 0
        self.at_start = False
        self.prev_token: str | None = None
        self._waiting: dict[str, list[Incoming]] = {}
        self._by_txn: dict[str, str] = {}
        self._relation_ids: set[str] = set()

    def __len__(self) -> int:
        return len(self.order)

    def main(self) -> list[Message]:
        """Messages of the main timeline (thread replies are under their root)."""
        return [self.messages[e] for e in self.order]

    def thread(self, root: str) -> list[Message]:
        """The root and every reply of a thread, oldest first."""
        first = self.messages.get(root)
        replies = [self.messages[e] for e in first.thread] if first else []
        return ([first] if first else []) + replies

    def get(self, event_id: str | None) -> Message | None:
        """A loaded message by event ID."""
        return self.messages.get(event_id) if event_id else None

    def knows(self, event_id: str) -> bool:
        """Whether the event (message or relation) was already applied."""
        return event_id in self.messages or event_id in self._relation_ids

    # -- input ----------------------------------------------------------------------------

    def add_live(self, events: list[Incoming]) -> set[str]:
        """Append new events; return the IDs of messages that changed or appeared."""
        changed: set[str] = set()
        for inc in events:
            changed |= self._add(inc, backfill=False, block=None)
        return changed

    def add_history(self, events: list[Incoming]) -> set[str]:
        """Prepend an older block (given oldest first); return changed/new message IDs."""
        block: list[str] = []
        changed: set[str] = set()
        for inc in events:
            changed |= self._add(inc, backfill=True, block=block)
        if block:
            oldest = self.messages[self.order[0]].ts if self.order else None
            older = [e for e in block if oldest is None or self.messages[e].ts <= oldest]
            for e in block:  # a page overlapping the live end: put newer events in time order
                if e not in older:
                    keys = [self.messages[o].ts for o in self.order]
                    self.order.insert(bisect.bisect_right(keys, self.messages[e].ts), e)
            self.order[:0] = older
            self.version += 1
        return changed

    def local_echo(self, txn_id: str, sender: str, content: dict[str, Any], ts: int) -> Message:
        """Show a message we are sending before the homeserver confirms it."""
        inc = Incoming(self.room_id, txn_id, sender, "m.room.message", content, ts, encrypted=True)
        self._add(inc, backfill=False, block=None)
        msg = self.messages[txn_id]
        msg.pending, msg.txn_id = True, txn_id
        self._by_txn[txn_id] = txn_id
        return msg

    def confirm(self, txn_id: str, event_id: str) -> None:
        """The homeserver accepted a local echo: give it its event ID."""
        old = self._by_txn.pop(txn_id, None)
        msg = self.messages.pop(old, None) if old else None
        if msg is None or event_id in self.messages:
            if msg is not None:
                self._drop(old or "", msg)
            return
        msg.event_id, msg.pending, msg.failed = event_id, False, None
        msg.touch()
        self.messages[event_id] = msg
        self._replace_id(old or "", event_id, msg)
        self.version += 1

    def fail(self, txn_id: str, reason: str) -> None:
        """Sending a local echo failed; it stays visible, marked, and can be retried."""
        msg = self.messages.get(self._by_txn.get(txn_id, ""))
        if msg:
            msg.failed = reason
            msg.touch()
            self.version += 1

    # -- internals ------------------------------------------------------------------------

    def _replace_id(self, old: str, new: str, msg: Message) -> None:
        if msg.thread_root and msg.thread_root in self.messages:
            lst = self.messages[msg.thread_root].thread
            lst[:] = [new if e == old else e for e in lst]
        else:
            self.order[:] = [new if e == old else e for e in self.order]

    def _drop(self, event_id: str, msg: Message) -> None:
        root = self.messages.get(msg.thread_root or "")
        if root and event_id in root.thread:
            root.thread.remove(event_id)
            root.touch()
        elif event_id in self.order:
            self.order.remove(event_id)
        self.version += 1

    def _add(self, inc: Incoming, backfill: bool, block: list[str] | None) -> set[str]:
        old = self.messages.get(inc.event_id)
        if old is not None and old.decrypt_error and not inc.decrypt_error:
            return self._late_key(old, inc)
        if (
            old is not None
            and old.decrypt_error
            and inc.decrypt_error
            not in {
                None,
                KEY_MISSING,  # says less than any other reason: never replaces one
                old.decrypt_error,
            }
        ):
            old.decrypt_error = inc.decrypt_error  # a later attempt knows better why
            old.touch()
            self.version += 1
            return {old.event_id}
        if self.knows(inc.event_id):
            return set()
        txn = inc.raw.get("unsigned", {}).get("transaction_id") if inc.raw else None
        if isinstance(txn, str) and txn in self._by_txn and inc.sender == self.me:
            self.confirm(txn, inc.event_id)
            return {inc.event_id}
        rel = inc.relates_to
        rel_type = rel.get("rel_type")
        target = rel.get("event_id") if isinstance(rel.get("event_id"), str) else None
        if inc.type == "m.reaction" or (inc.type == "m.room.message" and rel_type == "m.replace"):
            return self._relate(inc, target)
        if inc.type == "m.room.redaction":
            return self._relate(inc, inc.raw.get("redacts") or inc.content.get("redacts"))
        shown = inc.type in {"m.room.message", "m.sticker", "m.poll.start", "m.room.encrypted"}
        if not shown and not (inc.type in SHOWN_STATE and inc.state_key is not None):
            return set()
        msg = Message(
            event_id=inc.event_id,
            sender=inc.sender,
            ts=inc.ts,
            type=inc.type,
            content=inc.content,
            encrypted=inc.encrypted or inc.type == "m.room.encrypted",
            verified=inc.device_verified,
            device_deleted=inc.device_deleted,
            decrypt_error=inc.decrypt_error,
            thread_root=inc.thread_root,
            reply_to=inc.reply_to,
            state_key=inc.state_key if inc.type in SHOWN_STATE else None,
            structured=structured_of(inc.content, inc.sender, self.trusted),
        )
        self.messages[inc.event_id] = msg
        root = self.messages.get(msg.thread_root or "")
        if msg.thread_root and root is None:
            self._waiting.setdefault(msg.thread_root, []).append(inc)
            del self.messages[inc.event_id]
            return set()
        if root is not None:
            keys = [self.messages[e].ts for e in root.thread]
            root.thread.insert(bisect.bisect_right(keys, msg.ts), msg.event_id)
            root.touch()
            changed = {root.event_id, msg.event_id}
        else:
            if block is not None:
                block.append(msg.event_id)
            else:
                self.order.append(msg.event_id)
            changed = {msg.event_id}
        self.version += 1
        for waiting in self._waiting.pop(msg.event_id, []):
            changed |= self._add(waiting, backfill, block)
        return changed

    def _late_key(self, old: Message, inc: Incoming) -> set[str]:
        """A key arrived for a message shown as undecryptable: show it in its place."""
        rel_type = inc.relates_to.get("rel_type")
        if inc.type != "m.room.message" or rel_type in {"m.replace", "m.thread"}:
            del self.messages[old.event_id]
            self._drop(old.event_id, old)
            return {old.event_id} | self._add(inc, backfill=False, block=None)
        old.type, old.content, old.decrypt_error = inc.type, inc.content, None
        old.verified, old.reply_to = inc.device_verified, inc.reply_to
        old.device_deleted, old.encrypted = inc.device_deleted, inc.encrypted
        old.structured = structured_of(inc.content, inc.sender, self.trusted)
        old.touch()
        self.version += 1
        return {old.event_id}

    def _relate(self, inc: Incoming, target: str | None) -> set[str]:
        if not target:
            return set()
        msg = self.messages.get(target)
        if msg is None:
            owner = self._reaction_owner(target)
            if inc.type == "m.room.redaction" and owner is not None:
                return self._unreact(owner, target)
            self._waiting.setdefault(target, []).append(inc)
            return set()
        self._relation_ids.add(inc.event_id)
        if inc.type == "m.reaction":
            key = inc.relates_to.get("key")
            if isinstance(key, str) and inc.sender not in msg.reactions.get(key, []):
                msg.reactions.setdefault(key, []).append(inc.sender)
                msg._reaction_ids[inc.event_id] = (key, inc.sender)
        elif inc.type == "m.room.redaction":
            msg.redacted = True
            msg.content = {}
            msg.structured = {}
        else:
            new = inc.content.get("m.new_content")
            if inc.sender != msg.sender or not isinstance(new, dict) or inc.ts < msg._edit_ts:
                return set()
            keep = {k: v for k, v in msg.content.items() if k == "m.relates_to"}
            msg.content = {**new, **keep}
            msg.edited, msg._edit_ts = True, inc.ts
            msg.structured = structured_of(inc.content, inc.sender, self.trusted)
        msg.touch()
        self.version += 1
        return {msg.event_id}

    def _reaction_owner(self, reaction_id: str) -> Message | None:
        for msg in self.messages.values():
            if reaction_id in msg._reaction_ids:
                return msg
        return None

    def _unreact(self, msg: Message, reaction_id: str) -> set[str]:
        key, sender = msg._reaction_ids.pop(reaction_id)
        senders = msg.reactions.get(key, [])
        if sender in senders:
            senders.remove(sender)
        if not senders:
            msg.reactions.pop(key, None)
        msg.touch()
        self.version += 1
        return {msg.event_id}
