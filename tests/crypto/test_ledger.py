"""Tests for the signed, hash-chained ledger and its JSON Lines export."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    GENESIS_HASH,
    CryptoError,
    Ed25519PrivateKey,
    Ledger,
    LedgerEntry,
    LedgerError,
    dump_jsonl,
    load_jsonl,
    verify_chain,
)
from crypto.canonical import canonical_json

KEY = Ed25519PrivateKey.from_seed(bytes(range(32)))
PUBLIC = KEY.public_key
T0 = 1_767_225_600_000


def make_chain(n: int) -> list[LedgerEntry]:
    ledger = Ledger()
    entries = []
    for i in range(n):
        data: dict[str, Any] = {"request": f"R{i}", "amount": 100 * i, "note": "Åre ✓", "tags": [i]}
        entries.append(ledger.append(KEY, "@anna:localhost", "request.approve", data, T0 + i))
    return entries


CHAIN = make_chain(6)
LINES = [line.encode("utf-8") for line in dump_jsonl(CHAIN).splitlines()]


def test_chain_verifies_and_head_matches() -> None:
    ledger = Ledger()
    entries = [ledger.append(KEY, "@a:hs", "pool.add", {"n": i}, T0) for i in range(10)]
    assert verify_chain(entries, PUBLIC) == ledger.head_hash == entries[-1].entry_hash
    assert ledger.next_index == 10
    assert [e.index for e in entries] == list(range(10))
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    assert verify_chain([], PUBLIC) == GENESIS_HASH


def test_hash_is_sha256_of_the_jsonl_line_and_line_is_canonical() -> None:
    for entry, line in zip(CHAIN, LINES, strict=True):
        assert entry.entry_hash == hashlib.sha256(line).hexdigest()
        assert canonical_json(entry.to_dict()) == line
        assert canonical_json(json.loads(line)) == line


def test_jsonl_round_trip_and_dicts_verify() -> None:
    text = dump_jsonl(CHAIN)
    assert text.endswith("\n")
    assert text.count("\n") == len(CHAIN)
    loaded = load_jsonl(text)
    assert loaded == CHAIN
    assert load_jsonl(text.encode()) == CHAIN
    assert verify_chain([json.loads(line) for line in LINES], PUBLIC) == CHAIN[-1].entry_hash
    assert load_jsonl("") == []


def test_resume_and_verify_a_tail() -> None:
    ledger = Ledger.from_entries(CHAIN[:4], PUBLIC)
    assert (ledger.next_index, ledger.head_hash) == (4, CHAIN[3].entry_hash)
    tail = [ledger.append(KEY, "@a:hs", "x", {}, T0) for _ in range(2)]
    assert verify_chain(CHAIN[:4] + tail, PUBLIC) == ledger.head_hash
    assert (
        verify_chain(tail, PUBLIC, prev_hash=CHAIN[3].entry_hash, first_index=4) == ledger.head_hash
    )
    with pytest.raises(LedgerError) as info:
        verify_chain(tail, PUBLIC)
    assert info.value.index == 0


def test_wrong_public_key() -> None:
    with pytest.raises(LedgerError, match="bad signature") as info:
        verify_chain(CHAIN, Ed25519PrivateKey.generate().public_key)
    assert info.value.index == 0


def test_index_gap() -> None:
    with pytest.raises(LedgerError, match="index is 3, expected 2") as info:
        verify_chain(CHAIN[:2] + CHAIN[3:], PUBLIC)
    assert info.value.index == 2


def test_reorder() -> None:
    swapped = [CHAIN[0], CHAIN[2], CHAIN[1], *CHAIN[3:]]
    with pytest.raises(LedgerError) as info:
        verify_chain(swapped, PUBLIC)
    assert info.value.index == 1


def test_altered_entry_breaks_itself_not_its_successor() -> None:
    forged = CHAIN[2].to_dict()
    forged["data"] = {**forged["data"], "amount": 999_999}
    with pytest.raises(LedgerError, match="bad signature") as info:
        verify_chain([*CHAIN[:2], forged, *CHAIN[3:]], PUBLIC)
    assert info.value.index == 2


def test_re_signed_forgery_breaks_the_link() -> None:
    # An insider with the key rewrites entry 2 and re-signs it: entry 3's prev_hash exposes it.
    forger = Ledger(head_hash=CHAIN[1].entry_hash, next_index=2)
    forged = forger.append(KEY, "@anna:localhost", "request.approve", {"amount": 1}, T0)
    with pytest.raises(LedgerError, match="prev_hash") as info:
        verify_chain([*CHAIN[:2], forged, *CHAIN[3:]], PUBLIC)
    assert info.value.index == 3


def test_malformed_dict_entries() -> None:
    entry = CHAIN[0].to_dict()
    for bad in (
        {**entry, "extra": 1},
        {k: v for k, v in entry.items() if k != "actor"},
        {**entry, "index": "0"},
        {**entry, "prev_hash": "A" * 64},
        {**entry, "signature": entry["signature"][:-2]},
        {**entry, "data": []},
    ):
        with pytest.raises(LedgerError, match="malformed") as info:
            verify_chain([bad], PUBLIC)
        assert info.value.index == 0


def test_append_checks_and_detaches_data() -> None:
    ledger = Ledger()
    data: dict[str, Any] = {"items": [1, 2]}
    entry = ledger.append(KEY, "@a:hs", "x", data, T0)
    data["items"].append(3)
    assert entry.data == {"items": [1, 2]}
    verify_chain([entry], PUBLIC)
    for bad_data, bad_ts in (({"amount": 1.5}, T0), ({}, -1), ({}, 1.0)):
        with pytest.raises(CryptoError):
            ledger.append(KEY, "@a:hs", "x", bad_data, bad_ts)  # type: ignore[arg-type]
    with pytest.raises(CryptoError):
        ledger.append(KEY, "", "x", {}, T0)
    assert ledger.next_index == 1  # failed appends leave the head alone


def test_load_jsonl_names_the_line() -> None:
    lines = dump_jsonl(CHAIN).splitlines()
    lines[3] = lines[3].replace('"amount":300', '"amount": 300')
    with pytest.raises(LedgerError, match="line 4") as info:
        load_jsonl("\n".join(lines) + "\n")
    assert (info.value.line, info.value.index) == (4, 3)
    with pytest.raises(LedgerError, match="line 2"):
        load_jsonl(LINES[0].decode() + "\n\n" + LINES[1].decode())
    with pytest.raises(LedgerError, match="line 1"):
        load_jsonl(b"\xff\n")


@settings(max_examples=1000, deadline=None)
@given(
    line=st.integers(min_value=0, max_value=len(LINES) - 1),
    position=st.integers(min_value=0),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flipping_any_byte_fails_at_that_entry(line: int, position: int, mask: int) -> None:
    damaged = bytearray(LINES[line])
    damaged[position % len(damaged)] ^= mask
    data = b"".join((bytes(damaged) if i == line else raw) + b"\n" for i, raw in enumerate(LINES))
    with pytest.raises(LedgerError) as info:
        verify_chain(load_jsonl(data), PUBLIC)
    assert info.value.index == line
    assert info.value.line in (None, line + 1)  # load_jsonl reports the line; verify_chain not
