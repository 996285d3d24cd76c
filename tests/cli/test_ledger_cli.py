"""``samverkan ledger export|verify``: export from the bot's sealed store, verify offline.

The store is the real one (vault-sealed StateStore) written through the bot's own
``LedgerBook``; verification runs in-process and once as a separate process with nothing but
the file and the key, as an auditor would.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.resources.book import LedgerBook
from crypto.keys import Ed25519PrivateKey
from crypto.ledger import Ledger, dump_jsonl
from messenger.config import Settings, parse_org
from messenger.deploy.deployment import unlock_vault
from messenger.store import StateStore
from samverkan.cli import main
from samverkan.ledger_cmd import verify_text
from tests.cli.support import offline_home

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "ledger cli passphrase"
ORG = textwrap.dedent("""
    [organisation]
    name = "Ledger CLI org"
    [bots]
    resources = "res-bot"
    [[working_group]]
    name = "Nordic policy"
""")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return offline_home(tmp_path, monkeypatch, ORG, PASSPHRASE)


async def write_ledger(home: Path, n: int) -> None:
    """What the running bot does: sealed entries and key in its state store."""
    settings = Settings(home=home, passphrase=PASSPHRASE, org=parse_org(ORG), fast_kdf=True)  # type: ignore[arg-type]
    vault = await unlock_vault(settings)
    store = await StateStore.open(home / "accounts" / "res-bot" / "state.db", vault)
    book = LedgerBook()
    try:
        async with store.transaction() as tx:
            for i in range(n):
                data = {"id": f"R{i + 1}", "what": f"Flyers “{i}”", "amount": 100 * i}
                await book.append(tx, "@anna:localhost", "request.create", data, 1_700_000_000 + i)
    finally:
        await store.close()


async def cli(*argv: str) -> int:
    """Run ``samverkan …`` in-process (its own event loop, in a thread)."""
    return await asyncio.to_thread(main, list(argv))


async def test_export_then_verify_offline(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_ledger(home, 12)
    out = tmp_path / "ledger.jsonl"
    assert await cli("ledger", "export", str(out), "--config", str(tmp_path / "org.toml")) == 0
    printed = capsys.readouterr().out
    assert "wrote 12 ledger entries" in printed
    key = printed.split("verification key (Ed25519): ")[1].split()[0]
    head = printed.split("head: ")[1].split()[0]
    assert len(out.read_text().splitlines()) == 12

    assert await cli("ledger", "verify", str(out), "--key", key, "--head", head) == 0
    assert "OK: 12 entries" in capsys.readouterr().out

    # an auditor's machine: a fresh process, no data directory, no passphrase
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "samverkan", "ledger", "verify", str(out), "--key", key],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"head: {head}" in proc.stdout

    lines = out.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace("Flyers", "Flyerz")
    out.write_text("".join(lines))
    assert await cli("ledger", "verify", str(out), "--key", key) == 1
    assert "FAILED at entry 5" in capsys.readouterr().out


async def test_bad_input_is_reported_without_tracebacks(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(tmp_path / "org.toml")
    assert await cli("ledger", "export", str(tmp_path / "x.jsonl"), "--config", config) == 2
    assert f"no Samverkan data in {home}" in capsys.readouterr().err
    assert not await asyncio.to_thread(home.exists), "a read-only command made a data dir"
    bare = Settings(home=home, passphrase=PASSPHRASE, org=parse_org(ORG), fast_kdf=True)  # type: ignore[arg-type]
    await unlock_vault(bare)  # a data directory without the resources bot's store
    assert await cli("ledger", "export", str(tmp_path / "x.jsonl"), "--config", config) == 2
    assert "no resources bot data" in capsys.readouterr().err
    await write_ledger(home, 3)
    out = tmp_path / "l.jsonl"
    assert await cli("ledger", "export", str(out), "--config", config) == 0
    capsys.readouterr()
    assert await cli("ledger", "verify", str(out), "--key", "not-a-key") == 2
    assert "not an Ed25519 public key" in capsys.readouterr().err
    assert await cli("ledger", "verify", str(tmp_path / "missing"), "--key", "A" * 43) == 2
    assert "cannot read" in capsys.readouterr().err
    other = Ed25519PrivateKey.generate().public_key.to_base64()
    assert await cli("ledger", "verify", str(out), "--key", other) == 1
    assert "FAILED at entry 0" in capsys.readouterr().out
    assert await cli("ledger", "verify", str(out), "--key", other, "--head", "0" * 64) == 1


KEY = Ed25519PrivateKey.from_seed(bytes(range(32)))


def exported(n: int) -> bytes:
    ledger = Ledger()
    entries = [
        ledger.append(KEY, "@a:x", "pool.add", {"amount": i, "note": "ö" * (i % 3)}, 1000 + i)
        for i in range(n)
    ]
    return dump_jsonl(entries).encode()


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 8), st.data())
def test_flipping_any_byte_of_any_entry_fails_at_that_entry(n: int, data: st.DataObject) -> None:
    text = exported(n)
    assert verify_text(text, KEY.public_key).ok
    lines = text.split(b"\n")[:-1]
    line = data.draw(st.integers(0, n - 1))
    start = sum(len(x) + 1 for x in lines[:line])
    pos = start + data.draw(st.integers(0, len(lines[line]) - 1))
    broken = bytearray(text)
    broken[pos] ^= data.draw(st.integers(1, 255))
    verdict = verify_text(bytes(broken), KEY.public_key)
    assert not verdict.ok
    assert verdict.broken_index == line
