"""A partner's person on their own server verifies a bot by emoji across federation; in a
``trust = "verified"`` partnership the bot then accepts their commands."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from messenger.config import slugify
from messenger.deploy.deployment import unlock_vault
from messenger.deploy.federation import FederatedSynapse
from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from messenger.session.core import Session
from tests.bots.test_verified_rooms import Person
from tests.federation.support import PARTNERSHIP, new_user, org_text, settings_for
from tests.support import WAIT_S, OrgEnv


async def test_remote_person_verifies_a_bot_across_servers(
    home: FederatedSynapse, partner: FederatedSynapse, tmp_path: Path
) -> None:
    env = OrgEnv(home, tmp_path / "home", suffix=uuid.uuid4().hex[:8], make_user=None)
    person: Person | None = None
    try:
        user_id, password = await new_user(partner, "otieno")
        text = org_text(env, home, [user_id], [], bots=("translate",), trust="verified")
        settings = settings_for(env, text)
        assert not (await env.apply(settings)).failed
        room_id = await env.room_id(slugify(PARTNERSHIP))

        # The partner's own client (our Session), with cross-signing on the partner server.
        vault = await unlock_vault(settings.model_copy(update={"home": tmp_path / "partner"}))
        session = await Session.open(
            partner.url, user_id, tmp_path / "partner" / "otieno", vault, password=password
        )
        cs = CrossSigning(session)
        await cs.bootstrap(password)
        person = Person(session, VerificationManager(session, cs))

        runtime = await env.start_bots(settings)
        bot = runtime.bots[0]
        await runtime.wait_synced()
        async with asyncio.timeout(WAIT_S):
            while bot.user_id not in getattr(session.client.rooms.get(room_id), "users", {}):  # noqa: ASYNC110
                await asyncio.sleep(0.2)  # nio's room list offers nothing to wait on

        refused = await person.command(room_id, "!lang", bot.user_id)
        assert refused.encrypted
        assert "only from verified devices" in refused.body

        # Emoji verification: to-device messages between the two servers.
        await session.query_device_keys({bot.user_id})
        flow = await person.manager.request(bot.user_id, bot.session.device_id)
        assert await flow.wait_for("keys") == "keys"
        assert len(flow.emojis) == 7
        await flow.confirm()
        assert await flow.wait_for("done") == "done", flow.cancel_reason

        accepted = await person.command(room_id, "!lang", bot.user_id)
        assert "only from verified devices" not in accepted.body
        assert "English (en)" in accepted.body
        # The bot read the remote user's cross-signing keys over federation and trusts the
        # device as signed by its owner.
        assert await bot.cross_signing.device_trusted(user_id, session.device_id)
    finally:
        if person:
            await person.close()
        await env.close()
