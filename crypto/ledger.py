"""Provides the Ed25519-signed, SHA-256 hash-chained transparency ``Ledger``.

An entry is the JSON object::

    {"action": str, "actor": str, "data": {...}, "index": int, "prev_hash": hex,
     "signature": unpadded base64, "timestamp_ms": int}

* The **signature** (Ed25519) covers ``SIGNATURE_CONTEXT`` followed by the canonical JSON
  of every field except ``signature``. The context prefix keeps a ledger signature from
  ever being mistaken for a Matrix signed-JSON signature made with the same key.
* The **hash** of an entry is SHA-256 over the canonical JSON of all fields *including*
  the signature — which is exactly the entry's line in a JSON Lines export. Each entry's
  ``prev_hash`` is the previous entry's hash; the first entry's is ``GENESIS_HASH``.
* Indices start at 0 and go up by one. Timestamps are recorded, not checked for order
  (clocks jump); ordering is what the chain proves.

``Ledger`` holds only the head (hash and next index): ``append`` returns the new signed
entry and the caller persists it. ``verify_chain`` checks signatures, links and indices,
and raises ``LedgerError`` naming the first broken entry and what broke.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from crypto.canonical import canonical_json
from crypto.errors import CryptoError, InvalidSignature, LedgerError
from crypto.keys import (
    SIGNATURE_SIZE,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    b64decode_strict,
    b64encode_unpadded,
)

GENESIS_HASH: Final = "0" * 64
SIGNATURE_CONTEXT: Final = b"org.samverkan.ledger.v1\n"
_FIELDS: Final = frozenset(
    {"index", "prev_hash", "timestamp_ms", "actor", "action", "data", "signature"}
)
_HEX: Final = frozenset("0123456789abcdef")


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


@dataclass(frozen=True)
class LedgerEntry:
    """One signed ledger entry. Treat ``data`` as read-only."""

    index: int
    prev_hash: str
    timestamp_ms: int
    actor: str
    action: str
    data: dict[str, Any]
    signature: bytes = field(repr=False)

    def body(self) -> dict[str, Any]:
        """Every field but the signature: what the signature covers."""
        return {
            "index": self.index,
            "prev_hash": self.prev_hash,
            "timestamp_ms": self.timestamp_ms,
            "actor": self.actor,
            "action": self.action,
            "data": self.data,
        }

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON object (the signature as unpadded base64)."""
        return {**self.body(), "signature": b64encode_unpadded(self.signature)}

    def encode(self) -> tuple[bytes, bytes]:
        """``(signed bytes, canonical JSON line)`` computed with one canonical encoding.

        Keys sort as action, actor, data, index, prev_hash, signature, timestamp_ms, and the
        body ends with ``,"timestamp_ms":<int>}``; the line is the body with the signature
        member inserted before that tail.
        """
        body = canonical_json(self.body())
        tail = b',"timestamp_ms":%d}' % self.timestamp_ms
        if not body.endswith(tail):
            raise CryptoError("ledger entry timestamp_ms is not a plain integer")
        signature = b',"signature":"' + b64encode_unpadded(self.signature).encode("ascii") + b'"'
        line = body[: -len(tail)] + signature + tail
        return SIGNATURE_CONTEXT + body, line

    def to_json_line(self) -> str:
        """The canonical JSON line of this entry (no trailing newline)."""
        return self.encode()[1].decode("utf-8")

    @property
    def entry_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the whole entry, signature included."""
        return hashlib.sha256(self.encode()[1]).hexdigest()

    def signed_bytes(self) -> bytes:
        """The exact bytes the signature is over."""
        return self.encode()[0]

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> LedgerEntry:
        """Parse and type-check a JSON object; ``CryptoError`` says which field is wrong."""
        if not isinstance(obj, Mapping):
            raise CryptoError("entry is not a JSON object")
        keys = set(obj)
        if keys != _FIELDS:
            missing, extra = sorted(_FIELDS - keys), sorted(keys - _FIELDS)
            raise CryptoError(f"entry fields wrong (missing {missing}, unexpected {extra})")
        index, ts = obj["index"], obj["timestamp_ms"]
        if type(index) is not int or index < 0:
            raise CryptoError(f"entry index {index!r} is not a non-negative integer")
        if type(ts) is not int or ts < 0:
            raise CryptoError(f"timestamp_ms {ts!r} is not a non-negative integer")
        if not _is_hash(obj["prev_hash"]):
            raise CryptoError("prev_hash is not 64 lowercase hex digits")
        for name in ("actor", "action"):
            if not isinstance(obj[name], str) or not obj[name]:
                raise CryptoError(f"{name} is not a non-empty string")
        if not isinstance(obj["data"], dict):
            raise CryptoError("data is not a JSON object")
        if not isinstance(obj["signature"], str):
            raise CryptoError("signature is not a string")
        signature = b64decode_strict(obj["signature"])
        if len(signature) != SIGNATURE_SIZE:
            raise CryptoError(f"signature is {len(signature)} bytes, expected {SIGNATURE_SIZE}")
        return cls(index, obj["prev_hash"], ts, obj["actor"], obj["action"], obj["data"], signature)


def _coerce(item: LedgerEntry | Mapping[str, Any], index: int) -> LedgerEntry:
    if isinstance(item, LedgerEntry):
        return item
    try:
        return LedgerEntry.from_dict(item)
    except CryptoError as exc:
        raise LedgerError(f"ledger entry {index} is malformed: {exc}", index=index) from exc


def verify_chain(
    entries: Iterable[LedgerEntry | Mapping[str, Any]],
    public_key: Ed25519PublicKey,
    *,
    prev_hash: str = GENESIS_HASH,
    first_index: int = 0,
) -> str:
    """Check every entry in order and return the head hash.

    ``prev_hash``/``first_index`` let a caller verify only entries appended after a head
    it already trusts. Raises ``LedgerError`` whose ``index`` is the ledger index the
    first broken entry should have had.
    """
    head = prev_hash
    for expected, item in enumerate(entries, start=first_index):
        entry = _coerce(item, expected)
        if entry.index != expected:
            raise LedgerError(
                f"ledger entry {expected}: its index is {entry.index}, expected {expected} "
                "(an entry was removed, duplicated or reordered)",
                index=expected,
            )
        if entry.prev_hash != head:
            raise LedgerError(
                f"ledger entry {expected}: prev_hash does not match the hash of the entry "
                "before it (an earlier entry was altered, removed or reordered)",
                index=expected,
            )
        try:
            signed, line = entry.encode()
            public_key.verify(signed, entry.signature)
        except (InvalidSignature, CryptoError) as exc:
            raise LedgerError(
                f"ledger entry {expected}: bad signature ({entry.action} by {entry.actor}); "
                f"the entry was altered or not signed by key {public_key.fingerprint}…",
                index=expected,
            ) from exc
        head = hashlib.sha256(line).hexdigest()
    return head


class Ledger:
    """The head of a chain: appends signed entries after it."""

    __slots__ = ("_head_hash", "_next_index")

    def __init__(self, *, head_hash: str = GENESIS_HASH, next_index: int = 0) -> None:
        if not _is_hash(head_hash) or next_index < 0:
            raise CryptoError("a ledger head needs a 64-hex-digit hash and an index >= 0")
        self._head_hash = head_hash
        self._next_index = next_index

    def __repr__(self) -> str:
        return f"<Ledger next_index={self._next_index} head={self._head_hash[:12]}…>"

    @classmethod
    def from_entries(
        cls, entries: Iterable[LedgerEntry | Mapping[str, Any]], public_key: Ed25519PublicKey
    ) -> Ledger:
        """Verify a whole chain and resume after its last entry."""
        count = 0

        def counted() -> Iterable[LedgerEntry | Mapping[str, Any]]:
            nonlocal count
            for item in entries:
                count += 1
                yield item

        head = verify_chain(counted(), public_key)
        return cls(head_hash=head, next_index=count)

    @property
    def head_hash(self) -> str:
        """Hash of the last entry (``GENESIS_HASH`` for an empty chain)."""
        return self._head_hash

    @property
    def next_index(self) -> int:
        """Index the next appended entry will get."""
        return self._next_index

    def append(
        self,
        signing_key: Ed25519PrivateKey,
        actor: str,
        action: str,
        data: Mapping[str, Any],
        timestamp_ms: int,
    ) -> LedgerEntry:
        """Sign a new entry after the head, advance the head and return the entry."""
        if not isinstance(actor, str) or not actor or not isinstance(action, str) or not action:
            raise CryptoError("ledger entries need a non-empty actor and action")
        if type(timestamp_ms) is not int or timestamp_ms < 0:
            raise CryptoError(f"timestamp_ms must be a non-negative int, got {timestamp_ms!r}")
        if not isinstance(data, Mapping):
            raise CryptoError("ledger data must be a JSON object")
        detached: dict[str, Any] = json.loads(canonical_json(data))  # checks and copies
        unsigned = LedgerEntry(
            self._next_index, self._head_hash, timestamp_ms, actor, action, detached, b""
        )
        signature = signing_key.sign(unsigned.signed_bytes())
        entry = LedgerEntry(
            unsigned.index, unsigned.prev_hash, timestamp_ms, actor, action, detached, signature
        )
        self._head_hash = entry.entry_hash
        self._next_index += 1
        return entry


def dump_jsonl(entries: Iterable[LedgerEntry]) -> str:
    """Entries as JSON Lines: one canonical JSON object per line, newline-terminated."""
    return "".join(entry.to_json_line() + "\n" for entry in entries)


def load_jsonl(text: str | bytes) -> list[LedgerEntry]:
    """Parse a ``dump_jsonl`` export strictly: every line must be canonical JSON.

    Raises ``LedgerError`` with ``line`` (1-based) and ``index`` (line - 1) for the first
    malformed line. Does not verify signatures or links: call ``verify_chain`` for that.
    """
    lines: list[str | bytes] = list(
        text.split("\n") if isinstance(text, str) else text.split(b"\n")
    )
    if lines and not lines[-1]:
        lines.pop()
    entries = []
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw if isinstance(raw, str) else raw.decode("utf-8")
            if not line:
                raise CryptoError("empty line")
            entry = LedgerEntry.from_dict(json.loads(line))
            if entry.encode()[1] != line.encode("utf-8"):
                raise CryptoError("not in canonical form (altered after export?)")
        except (CryptoError, ValueError, RecursionError) as exc:
            raise LedgerError(
                f"ledger file line {number} is malformed: {exc}", index=number - 1, line=number
            ) from exc
        entries.append(entry)
    return entries
