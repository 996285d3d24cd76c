"""!locale against the real Synapse: a member's reply language, shared by every bot, kept
across a restart, refused for unknown codes, and never in room state."""

from __future__ import annotations

import json
from typing import Any

from tests.support import Member, OrgEnv, client_api


def body(reply: dict[str, Any]) -> str:
    return str(reply["content"]["body"])


async def test_locale_is_personal_shared_by_the_bots_and_survives_a_restart(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room_id, (anna, bjorn), runtime = await org_env.room_with_bots(
        member_factory, members=2, bots=["events", "resources"]
    )
    events, resources = (b.user_id for b in runtime.bots)

    async def ask(m: Member, text: str, bot: str) -> str:
        return body((await m.wait_reply(await m.send(room_id, text), bot))[-1])

    refused = await ask(anna, "!locale xx", events)
    assert "there is no language xx" in refused
    assert "sv" in refused  # lists what there is
    assert "da" in refused
    assert "Jag svarar dig på sv" in await ask(anna, "!locale sv", events)
    assert await ask(anna, "!ping", resources) == "pong från resources"  # another bot too
    assert await ask(bjorn, "!ping", resources) == "pong from resources"  # only hers
    usage = await ask(anna, "!event create", events)
    assert "Användning: !event create" in usage  # Swedish labels, command words unchanged

    await org_env.stop_bots()
    await org_env.start_bots(settings, ["events", "resources"])
    assert await ask(anna, "!ping", events) == "pong från events"
    assert "ditt val" in await ask(anna, "!locale", events)

    status, state = await client_api(
        org_env.synapse.url,
        "GET",
        f"/_matrix/client/v3/rooms/{room_id}/state",
        anna.client.access_token,
    )
    assert status == 200
    assert "locale" not in json.dumps(state)
