"""``samverkan ledger verify``: an empty file is an error; a file cut short is caught by ``--head``
only, and without ``--head`` the OK line says so and where the head comes from."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bots.resources.book import LedgerBook
from crypto.keys import Ed25519PrivateKey
from crypto.ledger import Ledger, dump_jsonl
from messenger.config import Settings, parse_org
from messenger.deploy.deployment import unlock_vault
from messenger.store import StateStore
from samverkan.cli import main
from samverkan.ledger_cmd import verify_text
from tests.cli.test_ledger_cli import ORG, PASSPHRASE, home

__all__ = ["home"]  # the fixture: SAMVERKAN_HOME, passphrase and org.toml in tmp_path

KEY = Ed25519PrivateKey.from_seed(bytes(range(1, 33)))
PUB = KEY.public_key.to_base64()


def ledger_file(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    """A signed export of ``n`` entries and the head hash after each entry."""
    ledger = Ledger()
    entries = [
        ledger.append(KEY, "@anna:x", "request.create", {"id": f"R{i}"}, 1000 + i) for i in range(n)
    ]
    out = tmp_path / "ledger.jsonl"
    out.write_text(dump_jsonl(entries), encoding="utf-8")
    return out, [e.entry_hash for e in entries]


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


@pytest.mark.parametrize("content", [b"", b"\n", b"  \n\n"])
async def test_an_empty_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(content)
    assert await cli("ledger", "verify", str(empty), "--key", PUB) == 2
    captured = capsys.readouterr()
    assert "OK" not in captured.out
    assert "is empty" in captured.err
    assert "no ledger entries" in captured.err
    assert "samverkan ledger export FILE" in captured.err
    assert not verify_text(b"", KEY.public_key).ok  # the library says so too


async def test_without_head_a_cut_file_verifies_but_the_ok_line_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, heads = ledger_file(tmp_path, 6)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:4]))  # the two newest entries removed
    assert await cli("ledger", "verify", str(out), "--key", PUB) == 0
    printed = capsys.readouterr().out
    assert "OK: 4 entries" in printed
    assert "without --head, removing the newest entries cannot be detected" in printed
    assert "!report" in printed
    assert "!ledger verify" in printed
    assert f"--key {PUB} --head HASH" in printed

    # with the head from a report made before the cut, the cut is caught
    assert await cli("ledger", "verify", str(out), "--key", PUB, "--head", heads[-1]) == 1
    assert "is not the hash of any entry" in capsys.readouterr().out


async def test_with_head_the_ok_line_says_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, heads = ledger_file(tmp_path, 5)
    assert await cli("ledger", "verify", str(out), "--key", PUB, "--head", heads[-1]) == 0
    printed = capsys.readouterr().out
    assert "the expected head is entry 4 (the newest)" in printed
    assert "cannot be detected" not in printed
    assert await cli("ledger", "verify", str(out), "--key", PUB, "--head", heads[2]) == 0
    assert "entry 2 (2 newer entries follow it)" in capsys.readouterr().out


async def test_export_of_a_ledger_without_entries_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bot makes its signing key before any entry: exporting then would write an empty
    file, which verify refuses; export says there is nothing yet instead."""
    settings = Settings(home=home, passphrase=PASSPHRASE, org=parse_org(ORG), fast_kdf=True)  # type: ignore[arg-type]
    store = await StateStore.open(
        home / "accounts" / "res-bot" / "state.db", await unlock_vault(settings)
    )
    try:
        async with store.transaction() as tx:
            await LedgerBook().meta(tx)
    finally:
        await store.close()
    out = tmp_path / "none.jsonl"
    assert await cli("ledger", "export", str(out), "--config", str(tmp_path / "org.toml")) == 2
    assert "nothing to export" in capsys.readouterr().err
    assert not out.exists()
