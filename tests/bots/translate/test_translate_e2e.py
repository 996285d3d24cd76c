"""The translate bot on the real Synapse, seen (decrypted) by members' own clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import bots.translate.bot as translate_bot
from tests.bots.translate.fake_libretranslate import FakeLibreTranslate
from tests.support import Member, OrgEnv

DANISH = "Sommerfuglepartiet vil have mere demokrati i kommunerne, og vi skal tale om det på mødet."
SWEDISH = "Jag tycker att vi ska flytta mötet till nästa vecka eftersom många är sjuka."
ENGLISH = "Could someone send us the minutes from the board meeting before Friday?"
KEY = "org.samverkan.translation"


def in_thread(root: str, reply_to: str | None = None) -> dict[str, Any]:
    """A thread reply as Element sends it (falling back to the latest event)."""
    return {
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": reply_to or root},
        }
    }


def reply(to: str) -> dict[str, Any]:
    return {"m.relates_to": {"m.in_reply_to": {"event_id": to}}}


@pytest.fixture
async def libre() -> AsyncIterator[FakeLibreTranslate]:
    """Stands in for the organisation's self-hosted LibreTranslate (see fake_libretranslate.py)."""
    server = FakeLibreTranslate()
    await server.start()
    yield server
    await server.stop()


def with_mt(env: OrgEnv, url: str) -> None:
    original = env.bots_table
    env.bots_table = lambda enabled=None: (  # type: ignore[method-assign]
        original(enabled) + f'machine_translation_url = "{url}"\n'
    )


async def bot_reply(m: Member, event_id: str, bot: str, count: int = 1) -> dict[str, Any]:
    return (await m.wait_reply(event_id, sender=bot, count=count))[-1]


async def test_prompt_volunteer_glossary_memory_and_no_mt_traffic(
    org_env: OrgEnv, member_factory: Any, libre: FakeLibreTranslate, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Any] = []
    real = translate_bot.make_provider
    monkeypatch.setattr(translate_bot, "make_provider", lambda *a: built.append(a) or real(*a))
    with_mt(org_env, libre.url)  # configured, but this room never opts in
    settings, room, (coord, mette, bjorn), rt = await org_env.room_with_bots(
        member_factory, members=2, coordinators=1, bots=["translate"]
    )
    bot = settings.org.bot_user_ids()["translate"]

    ev = await bjorn.send(room, "!lang")
    assert "English (en), Swedish (sv)" in (await bot_reply(bjorn, ev, bot))["content"]["body"]
    ev = await mette.send(room, "!translator add da>sv")
    assert "da>sv" in (await bot_reply(mette, ev, bot))["content"]["body"]
    ev = await coord.send(
        room, '!glossary add "Fjärilspartiet" en="Butterfly Party" da="Sommerfuglepartiet"'
    )
    assert "Butterfly Party" in (await bot_reply(coord, ev, bot))["content"]["body"]

    # A Danish message in a Swedish/English room: one threaded prompt naming the volunteer.
    source = await bjorn.send(room, DANISH)
    prompt = await bot_reply(bjorn, source, bot)
    c = prompt["content"]
    assert c["msgtype"] == "m.notice"
    assert c["m.relates_to"]["event_id"] == source
    assert mette.user_id in c["body"]
    assert "!tr" in c["body"]
    assert "Danish (da)" in c["body"]
    assert c["m.mentions"]["user_ids"] == [mette.user_id]
    assert "Fjärilspartiet → " in c["body"]
    assert "Butterfly Party" in c["body"]
    data = c[KEY]
    assert (data["kind"], data["status"], data["source_language"]) == ("prompt", "prompted", "da")
    assert data["source_event_id"] == source
    assert data["target_languages"] == ["en", "sv"]
    assert data["volunteers"] == [mette.user_id]
    assert data["glossary_hits"][0]["term"] == "Fjärilspartiet"

    # The volunteer answers in the thread; apostrophes and quotes survive verbatim.
    answer = (
        "Fjärilspartiet vill ha mer demokrati i kommunerna, och vi ska prata om det på "
        "mötet 'snart'."
    )
    tr = await mette.send(room, f"!tr {answer}", **in_thread(source, prompt["event_id"]))
    t = (await bot_reply(mette, tr, bot))["content"]
    assert answer in t["body"]
    assert f"by {mette.user_id}" in t["body"]
    assert t["m.relates_to"]["event_id"] == source  # in the prompt's thread
    assert (t[KEY]["status"], t[KEY]["translator"], t[KEY]["target_language"]) == (
        "translated", mette.user_id, "sv",
    )  # fmt: skip

    async def prompt_edited() -> bool:
        return any(
            getattr(e, "source", {}).get("content", {}).get("m.new_content", {}).get(KEY, {})
            .get("status") == "translated"
            for _r, e in coord.events
        )  # fmt: skip

    await coord.wait_until(prompt_edited)

    # No prompt for working languages, commands or short messages …
    quiet = [
        await bjorn.send(room, SWEDISH),
        await bjorn.send(room, ENGLISH),
        await bjorn.send(room, "Hej alle sammen!"),
    ]
    listing = await bjorn.send(room, "!translator list")
    assert mette.user_id in (await bot_reply(bjorn, listing, bot))["content"]["body"]
    # … and the same Danish text again reuses the approved translation from memory.
    again = await bjorn.send(room, "  " + DANISH)
    reused = (await bot_reply(bjorn, again, bot))["content"]
    assert answer in reused["body"]
    assert "translation memory" in reused["body"]
    assert reused[KEY]["reused"] is True
    assert reused[KEY]["translator"] == mette.user_id
    for ev in quiet:
        assert bjorn.replies_to(ev, sender=bot) == []
    # A Danish message inside a thread gets its prompt in that thread.
    threaded = await bjorn.send(
        room,
        "Jeg synes, vi skal rykke mødet til næste uge, fordi mange er syge.",
        **in_thread(quiet[0]),
    )
    tp = (await bot_reply(bjorn, threaded, bot))["content"]
    assert tp["m.relates_to"]["event_id"] == quiet[0]
    assert tp[KEY]["source_event_id"] == threaded
    assert len(bjorn.replies_to(listing, sender=bot)) == 1

    # Bad input: a clear answer each.
    bad = {
        "!translate en": "as a reply",
        "!tr Vi ses i morgon": "thread of the prompt",
        "!translator add da-sv": "pairs 'da-sv': not a language pair: write source>target",
        "!lang sv,xx": "not an ISO 639-1 language code: write two letters, e.g. sv",
    }
    for command, expected in bad.items():
        ev = await coord.send(room, command)
        body = (await bot_reply(coord, ev, bot))["content"]["body"]
        assert expected in body, body
        assert "Usage: " in body, body

    # Machine translation is configured but off here: no provider, not one request.
    assert built == []
    assert rt.bots[0].provider is None
    assert libre.requests == []
    assert not bjorn.undecryptable()


async def test_translate_request_and_opt_in_machine_translation(
    org_env: OrgEnv, member_factory: Any, libre: FakeLibreTranslate
) -> None:
    with_mt(org_env, libre.url)
    settings, room, (coord, member), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["translate"]
    )
    bot = settings.org.bot_user_ids()["translate"]
    try:
        ev = await coord.send(room, '!glossary add "Fjärilspartiet" en="Butterfly Party"')
        await bot_reply(coord, ev, bot)
        source = await member.send(room, "Fjärilspartiet vill ha mer lokal demokrati i kommunerna.")

        # MT off: !translate prompts volunteers (none yet) and sends nothing anywhere.
        ask = await member.send(room, "!translate en", **reply(source))
        p = (await bot_reply(member, ask, bot))["content"]
        assert p[KEY]["kind"] == "prompt"
        assert p[KEY]["requested_by"] == member.user_id
        assert "!translator add sv>en" in p["body"]
        assert libre.requests == []

        ev = await member.send(room, "!mt on")
        assert "power level 50" in (await bot_reply(member, ev, bot))["content"]["body"]
        ev = await coord.send(room, "!mt on")
        on = (await bot_reply(coord, ev, bot))["content"]
        assert "ON" in on["body"]
        assert on["org.samverkan.translation_settings"]["provider"]

        other = await member.send(room, "Vi vill ha mer demokrati och mer lokal demokrati.")
        ask = await coord.send(room, "!translate en", **reply(other))
        m = (await bot_reply(coord, ask, bot))["content"]
        assert "machine translation (libretranslate, self-hosted" in m["body"]
        assert "democracy" in m["body"]
        assert m[KEY]["machine"] is True
        assert m[KEY]["provider"] == "libretranslate"

        ask = await coord.send(room, "!translate en", **reply(source))
        # Already prompted: the prompt stays the only one for that message.
        body = (await bot_reply(coord, ask, bot))["content"]["body"]
        assert "already has a translation prompt" in body

        third = await member.send(room, "Fjärilspartiet vill ha mer demokrati i kommunerna.")
        ask = await coord.send(room, "!translate en", **reply(third))
        g = (await bot_reply(coord, ask, bot))["content"]
        assert "Butterfly Party wants to have more democracy" in g["body"]  # glossary kept
        sent = [q["q"] for path, q in libre.requests if path == "/translate"]
        assert sent
        assert all("Fjärilspartiet" not in q for q in sent)
    finally:
        await rt.bots[0].close()  # type: ignore[attr-defined]


async def test_a_volunteers_source_language_is_detected_though_no_room_lists_it(
    org_env: OrgEnv, member_factory: Any
) -> None:
    """Issue 14.12: the organisation lists sv and en only; `!translator add da>sv` makes Danish
    a language the bot detects (its models loaded right away), so a Danish message gets a
    prompt naming the volunteer."""
    settings, room, (coord, mette, bjorn), rt = await org_env.room_with_bots(
        member_factory, members=2, coordinators=1, bots=["translate"]
    )
    bot = settings.org.bot_user_ids()["translate"]
    assert settings.org.organisation.languages == ["en", "sv"]
    assert all(not g.languages for g in settings.org.groups)
    translate: Any = rt.bots[0]
    with_danish = frozenset({"sv", "en", "da"})
    async with translate.store.transaction() as tx:
        assert await translate.known_languages(tx) == frozenset({"sv", "en"})

    ev = await mette.send(room, "!translator add da>sv")
    assert "da>sv" in (await bot_reply(mette, ev, bot))["content"]["body"]
    async with translate.store.transaction() as tx:
        assert await translate.known_languages(tx) == with_danish
    # Danish is prepared in the background as the pair is added, not when a message waits.
    for _ in range(300):
        if translate.detector.ready(with_danish):
            break
        await asyncio.sleep(0.1)
    assert translate.detector.ready(with_danish)

    source = await bjorn.send(
        room, "Jeg synes, vi skal rykke mødet til næste uge, fordi mange er syge."
    )
    c = (await bot_reply(bjorn, source, bot))["content"]
    assert c[KEY]["kind"] == "prompt"
    assert c[KEY]["source_language"] == "da"
    assert c[KEY]["target_languages"] == ["en", "sv"]
    assert c[KEY]["volunteers"] == [mette.user_id]
    assert mette.user_id in c["body"]
    assert "Danish (da)" in c["body"]
    assert c["m.mentions"]["user_ids"] == [mette.user_id]

    # Memory stays bounded: at most ten pairs a volunteer, refused with the way out.
    many = ",".join(f"{a}>en" for a in ["de", "fr", "es", "it", "nl", "pl", "fi", "et", "lv", "lt"])
    ev = await mette.send(room, f"!translator add {many}")
    body = (await bot_reply(mette, ev, bot))["content"]["body"]
    assert "at most 10 pairs; you have 1 (da>sv)" in body
    assert "!translator remove" in body
    ev = await bjorn.send(room, "!translator list")
    listing = (await bot_reply(bjorn, ev, bot))["content"]["body"]
    assert f"{mette.user_id}: da>sv" in listing
    async with translate.store.transaction() as tx:
        assert await translate.known_languages(tx) == with_danish
    assert not bjorn.undecryptable()
