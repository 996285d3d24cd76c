"""Provides ``samverkan ledger export|verify`` (offline audit of the transparency ledger).

``export FILE`` reads the resources bot's sealed state store (it needs the passphrase) and
writes the ledger as JSON Lines. ``verify FILE --key PUBKEY`` needs nothing but the file and
the bot's public key (printed by ``!ledger verify`` and in every ``!report``): an auditor
checks every signature and hash link offline. Exit codes: 0 intact, 1 broken, 2 unusable input
(an empty file is unusable). Only ``--head`` (a head from a report or ``!ledger verify``) detects
a file whose newest entries were cut off; without it the OK line says so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crypto.errors import CryptoError, LedgerError
from crypto.keys import Ed25519PublicKey
from crypto.ledger import load_jsonl, verify_chain

if TYPE_CHECKING:
    from messenger.config import Settings


EMPTY = (
    "the file holds no ledger entries; an export always has at least one. Export it again "
    "where the bots run (samverkan ledger export FILE) and verify that file"
)
NO_HEAD_NOTE = (
    "note: without --head, removing the newest entries cannot be detected (a file cut short "
    "still verifies). Take the head from a transparency report (!report) or from !ledger verify "
    "in the room, and check it is in this file: samverkan ledger verify {file} --key {key} "
    "--head HASH"
)


@dataclass(frozen=True)
class Verdict:
    """What verifying a ledger file found."""

    ok: bool
    entries: int
    head: str | None = None
    broken_index: int | None = None
    problem: str | None = None
    head_index: int | None = None  # where an expected head (from a report) sits in the chain


def verify_text(
    text: str | bytes, key: Ed25519PublicKey, expect_head: str | None = None
) -> Verdict:
    """Check a JSON Lines export completely (pure: no I/O)."""
    try:
        entries = load_jsonl(text)
        head = verify_chain(entries, key)
    except LedgerError as e:
        return Verdict(False, 0, broken_index=e.index, problem=str(e))
    if not entries:
        return Verdict(False, 0, problem=EMPTY)
    if expect_head is None:
        return Verdict(True, len(entries), head)
    wanted = expect_head.strip().lower()
    for entry in entries:
        if entry.entry_hash == wanted:
            return Verdict(True, len(entries), head, head_index=entry.index)
    return Verdict(
        False,
        len(entries),
        head,
        problem=f"the head {wanted} (from a report?) is not the hash of any entry in this file",
    )


def parse_key(text: str) -> Ed25519PublicKey:
    """The ``--key`` value as an Ed25519 public key."""
    from samverkan.context import UsageProblem

    try:
        return Ed25519PublicKey.from_base64(text.strip())
    except CryptoError:
        raise UsageProblem(
            f"--key {text!r} is not an Ed25519 public key: give the 43-character base64 key "
            "that `!ledger verify` prints"
        ) from None


def bot_store_path(settings: Settings) -> Path:
    """Where the resources bot keeps its sealed state store."""
    return settings.home / "accounts" / settings.org.bots.resources / "state.db"


async def read_bot_ledger(
    settings: Settings, namespaces: tuple[str, ...] = ()
) -> tuple[Ed25519PublicKey | None, list[dict[str, Any]], dict[str, list[tuple[str, Any]]]]:
    """The resources bot's ledger key and entries, and the documents of ``namespaces`` of its
    store (read once, offline; needs the passphrase)."""
    from bots.resources.book import stored_entries, stored_public_key
    from messenger.deploy.deployment import unlock_vault
    from messenger.store import StateStore
    from samverkan.context import UsageProblem

    path = bot_store_path(settings)
    if not await asyncio.to_thread(path.is_file):
        raise UsageProblem(
            f"no resources bot data at {path}: run this where `samverkan up` keeps its data "
            "(set SAMVERKAN_HOME) and after the bot has run"
        )
    try:
        vault = await unlock_vault(settings)
        store = await StateStore.open(path, vault)
        try:
            key = await stored_public_key(store)
            objects = await stored_entries(store)
            docs = {ns: await store.items(ns) for ns in namespaces}
        finally:
            await store.close()
    except CryptoError as e:
        raise UsageProblem(f"cannot open the bot's store: {e}") from None
    return key, objects, docs


async def export_ledger(settings: Settings, out: Path) -> tuple[int, Verdict, str]:
    """Write the bot's ledger to ``out`` as JSON Lines; return (entries, verdict, key base64)."""
    from bots.resources.book import to_entries
    from crypto.ledger import dump_jsonl
    from samverkan.context import UsageProblem

    key, objects, _ = await read_bot_ledger(settings)
    if key is None or not objects:
        raise UsageProblem(
            "the resources bot has not signed any ledger entry yet: nothing to export "
            "(entries come with the first pool, request or comment)"
        )
    try:
        entries = to_entries(objects)
    except CryptoError as e:
        raise UsageProblem(f"a stored ledger entry is malformed: {e}") from None
    text = dump_jsonl(entries)
    await asyncio.to_thread(_write_atomically, out, text)
    return len(entries), verify_text(text, key), key.to_base64()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


async def cmd_export(args: argparse.Namespace) -> int:
    """``samverkan ledger export FILE``."""
    from samverkan.context import settings_for

    count, verdict, key = await export_ledger(settings_for(args), args.file)
    print(f"wrote {count} ledger entries to {args.file}")
    print(f"verification key (Ed25519): {key}")
    if verdict.ok:
        print(f"head: {verdict.head}")
        print(
            f"check it offline: samverkan ledger verify {args.file} --key {key} "
            f"--head {verdict.head}"
        )
        print(
            "(take the head from a report or !ledger verify, not from this output, to catch "
            "a file cut short later)"
        )
        return 0
    print(f"WARNING: the ledger is broken at entry {verdict.broken_index}: {verdict.problem}")
    return 1


async def cmd_verify(args: argparse.Namespace) -> int:
    """``samverkan ledger verify FILE --key PUBKEY [--head HASH]``."""
    from samverkan.context import UsageProblem

    key = parse_key(args.key)
    try:
        data = await asyncio.to_thread(Path(args.file).read_bytes)
    except OSError as e:
        raise UsageProblem(f"cannot read {args.file}: {e.strerror or e}") from None
    if not data.strip():
        raise UsageProblem(f"{args.file} is empty: {EMPTY}")
    verdict = verify_text(data, key, args.head)
    if verdict.ok:
        print(f"OK: {verdict.entries} entries; every signature and hash link verifies")
        print(f"head: {verdict.head}")
        if verdict.head_index is not None:
            newer = verdict.entries - 1 - verdict.head_index
            print(
                f"the expected head is entry {verdict.head_index}"
                + (f" ({newer} newer entries follow it)" if newer else " (the newest)")
            )
        else:
            print(NO_HEAD_NOTE.format(file=args.file, key=args.key.strip()))
        return 0
    where = f" at entry {verdict.broken_index}" if verdict.broken_index is not None else ""
    print(f"FAILED{where}: {verdict.problem}")
    return 1


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``ledger`` subcommand."""
    p = sub.add_parser("ledger", help="export or verify the resources bot's transparency ledger")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    exp = actions.add_parser(
        "export", help="write the ledger as JSON Lines (needs the passphrase and the data dir)"
    )
    exp.add_argument("file", type=Path, help="where to write the .jsonl file")
    exp.add_argument(
        "--config", type=Path, default=Path("org.toml"), help="organisation file (default org.toml)"
    )
    exp.set_defaults(func=cmd_export)
    ver = actions.add_parser(
        "verify", help="check a ledger file offline against the bot's public key"
    )
    ver.add_argument("file", type=Path, help="a file written by `samverkan ledger export`")
    ver.add_argument("--key", required=True, help="the bot's Ed25519 public key (base64)")
    ver.add_argument("--head", help="a head hash from a report: check it is in the chain")
    ver.set_defaults(func=cmd_verify)
