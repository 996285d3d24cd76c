"""Server-side key backup: a new device reads history with the recovery key; a wrong key fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto import CryptoError
from messenger.e2ee.backup import KeyBackup
from messenger.e2ee.trust import CrossSigning
from messenger.events import SyncBatch
from messenger.session.core import Session
from messenger.session.rooms import Rooms
from tests.support import OrgEnv


async def noop(_batch: SyncBatch) -> None:
    return None


async def test_new_device_decrypts_history_after_restore(
    org_env: OrgEnv, member_factory, make_user, tmp_path: Path
) -> None:  # noqa: E501
    dep = await org_env.open(org_env.write_org(""))
    user_id, password = await dep.ensure_account("backed-" + org_env.suffix)
    first = await dep.session(user_id)
    cs = CrossSigning(first)
    await cs.bootstrap(password)
    backup = KeyBackup(first, cs)
    version = await backup.enable()
    recovery = await cs.recovery_key()
    assert recovery

    # A member writes in a room the first device is in.
    bob, bob_pw = await make_user("bob")
    room_id = await Rooms(first).create("Backup test", invite=[bob])
    member = await member_factory(bob, bob_pw)
    await member.wait_joined(room_id)
    await first.sync_once(noop, timeout_ms=0)
    await first.query_device_keys({bob})
    secret = "the budget line for the Nairobi workshop is 40 000 SEK"
    sent = await member.send(room_id, secret)
    for _ in range(20):
        await first.sync_once(noop, timeout_ms=500)
        if (await first.fetch_event(room_id, sent)).body == secret:
            break
    assert (await first.fetch_event(room_id, sent)).body == secret
    assert await backup.upload_new() >= 1
    status = await backup.status()
    assert status.version == version
    assert status.backed_up >= 1
    await first.close()

    # A new device (empty disk) cannot read it … until it restores the backup.
    second = await Session.open(dep.url, user_id, tmp_path / "second", dep.vault, password=password)
    try:
        await second.sync_once(noop, timeout_ms=0)
        before = await second.fetch_event(room_id, sent)
        assert before.decrypt_error is not None
        cs2 = CrossSigning(second)
        await cs2.restore(recovery)
        restored = KeyBackup(second, cs2)
        with pytest.raises(CryptoError):
            await restored.restore("EsTc LW2K PGiF wKEA 3As5 g5c4 BXwk qeeJ ZJV8 Q9fu gUMN UE4d")
        assert await restored.restore(recovery) >= 1
        after = await second.fetch_event(room_id, sent)
        assert after.body == secret
    finally:
        await second.close()
