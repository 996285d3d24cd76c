"""``samverkan audit recovery-stored BOT``: the operator confirms a bot's recovery key is kept
offline; the deployment keeps the key's fingerprint only, and a new key needs a new one."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from messenger.config import Settings, parse_org
from messenger.deploy.audit.hosting import check_recovery, recovery_fingerprint
from messenger.deploy.deployment import RECOVERY_NS, RECOVERY_STORED_NS, unlock_vault
from messenger.store import StateStore
from samverkan.cli import main
from tests.cli.support import offline_home

PASSPHRASE = "recovery passphrase"
ORG = textwrap.dedent("""
    [organisation]
    name = "Recovery org"
    [bots]
    events = "ev-bot"
""")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return offline_home(tmp_path, monkeypatch, ORG, PASSPHRASE)


async def deployment_store(home: Path) -> StateStore:
    settings = Settings(home=home, passphrase=PASSPHRASE, org=parse_org(ORG), fast_kdf=True)  # type: ignore[arg-type]
    return await StateStore.open(home / "deployment.db", await unlock_vault(settings))


async def cli(tmp_path: Path, *argv: str) -> int:
    return await asyncio.to_thread(main, [*argv, "--config", str(tmp_path / "org.toml")])


async def test_confirming_a_recovery_key_clears_the_finding_until_the_key_changes(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = await deployment_store(home)
    await store.put(RECOVERY_NS, "ev-bot", {"recovery_key": "EsTa bcde"})
    await store.close()
    assert await cli(tmp_path, "audit", "recovery-stored", "events") == 0
    assert "stored offline" in capsys.readouterr().out

    store = await deployment_store(home)
    try:
        kept = dict(await store.items(RECOVERY_NS))
        confirmed = dict(await store.items(RECOVERY_STORED_NS))
        assert confirmed["ev-bot"]["sha256"] == recovery_fingerprint("EsTa bcde")
        assert "EsTa" not in repr(confirmed)
        assert check_recovery(kept, confirmed, {"events": "ev-bot"}) == []
        await store.put(RECOVERY_NS, "ev-bot", {"recovery_key": "EsTz yxwv"})
        kept = dict(await store.items(RECOVERY_NS))
        assert [f.code for f in check_recovery(kept, confirmed, {"events": "ev-bot"})] == [
            "bot.recovery-unconfirmed"
        ]
    finally:
        await store.close()


async def test_unknown_bot_or_no_key_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await (await deployment_store(home)).close()  # the data directory exists, no key in it
    assert await cli(tmp_path, "audit", "recovery-stored", "mailer") == 2
    assert "no bot named 'mailer'" in capsys.readouterr().err
    assert await cli(tmp_path, "audit", "recovery-stored", "events") == 2
    assert "has no recovery key here yet" in capsys.readouterr().err
