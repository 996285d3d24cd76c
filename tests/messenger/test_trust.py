"""Cross-signing against the real Synapse, checked with an independent implementation."""

from __future__ import annotations

import aiohttp
import signedjson.key
import signedjson.sign
import unpaddedbase64

from messenger.e2ee.trust import CrossSigning
from tests.support import OrgEnv


def verify_key(key_json: dict) -> signedjson.key.VerifyKey:  # type: ignore[type-arg]
    ((key_id, b64),) = key_json["keys"].items()
    vk = signedjson.key.decode_verify_key_bytes(key_id, unpaddedbase64.decode_base64(b64))
    return vk


async def test_bootstrap_publishes_keys_that_verify_with_signedjson(
    org_env: OrgEnv, member_factory, make_user
) -> None:
    settings = org_env.write_org("")
    dep = await org_env.open(settings)
    user_id, password = await dep.ensure_account("trusty-" + org_env.suffix)
    session = await dep.session(user_id)
    try:
        cs = CrossSigning(session)
        assert await cs.bootstrap(password) is True
        recovery = await cs.recovery_key()
        assert recovery
        assert recovery.count(" ") >= 10

        # A second client looks the keys up.
        other, other_pw = await make_user("observer")
        observer = await member_factory(other, other_pw)
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{org_env.synapse.url}/_matrix/client/v3/keys/query",
                json={"device_keys": {user_id: []}},
                headers={"Authorization": f"Bearer {observer.client.access_token}"},
            ) as r:
                data = await r.json()
        master = data["master_keys"][user_id]
        ssk = data["self_signing_keys"][user_id]
        device = data["device_keys"][user_id][session.device_id]
        master_vk = verify_key(master)
        signedjson.sign.verify_signed_json(ssk, user_id, master_vk)
        signedjson.sign.verify_signed_json(device, user_id, verify_key(ssk))

        # Restart: the same keys are reused, nothing new is created.
        assert await CrossSigning(session).bootstrap(password) is False
    finally:
        await session.close()


async def test_identity_restores_from_secret_storage_on_a_wiped_disk(
    org_env: OrgEnv, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings = org_env.write_org("")
    dep = await org_env.open(settings)
    user_id, password = await dep.ensure_account("restored-" + org_env.suffix)
    session = await dep.session(user_id)
    cs = CrossSigning(session)
    await cs.bootstrap(password)
    recovery = await cs.recovery_key()
    master_before = (await cs.status()).master_fingerprint
    await session.close()

    # A new device (fresh data dir) restores the identity with the recovery key only.
    from messenger.session.core import Session

    fresh = await Session.open(dep.url, user_id, tmp_path / "fresh", dep.vault, password=password)
    try:
        cs2 = CrossSigning(fresh)
        await cs2.restore(recovery or "")
        status = await cs2.status()
        assert status.master_fingerprint == master_before
        assert status.device_signed
    finally:
        await fresh.close()


async def test_a_wrong_password_never_replaces_an_identity(org_env: OrgEnv, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Replacing a published identity with a wrong password fails with AuthError before
    anything is saved or published: the old master key stays, secret storage is untouched."""
    import pytest

    from messenger.e2ee.trust import TRUST_NS
    from messenger.errors import AuthError
    from messenger.session.core import Session

    dep = await org_env.open(org_env.write_org(""))
    user_id, password = await dep.ensure_account("guarded-" + org_env.suffix)
    first = await dep.session(user_id)
    try:
        cs = CrossSigning(first)
        assert await cs.bootstrap(password) is True
        before = (await cs.query(user_id, fresh=True))["master"]
        default_key = await cs.account_data("m.secret_storage.default_key")
    finally:
        await first.close()
    other = await Session.open(
        org_env.synapse.url, user_id, tmp_path / "other", dep.vault, password=password
    )
    try:
        replacing = CrossSigning(other)
        with pytest.raises(AuthError, match="did not accept the password"):
            await replacing.bootstrap("not the password", new_identity=True)
        assert (await replacing.query(user_id, fresh=True))["master"] == before
        assert await replacing.account_data("m.secret_storage.default_key") == default_key
        assert await other.store.get(TRUST_NS, "cross_signing") is None
    finally:
        await other.close()
