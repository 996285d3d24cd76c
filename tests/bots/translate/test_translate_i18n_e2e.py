"""The translate bot in the room's and the asker's language, and working languages the
detector does not know (issue 16), on the real Synapse, read by members' own clients."""

from __future__ import annotations

from typing import Any

from messenger.botkit.prefs import ROOM_NS, Preferences
from tests.bots.translate.test_translate_e2e import KEY, bot_reply, in_thread
from tests.support import Member, OrgEnv

DANISH = "Jeg synes, vi skal rykke mødet til næste uge, fordi mange er syge."
NBSP = str.maketrans({"\u00a0": " ", "\u202f": " "})


def body(reply: dict[str, Any]) -> str:
    return str(reply["content"]["body"]).translate(NBSP)


def edits_of(m: Member, sender: str) -> list[dict[str, Any]]:
    """The new content of every decrypted edit ``sender`` made."""
    out = []
    for _r, e in m.events:
        src = getattr(e, "source", {})
        new = src.get("content", {}).get("m.new_content")
        if src.get("sender") == sender and isinstance(new, dict):
            out.append(new)
    return out


async def test_nepali_is_a_working_language_noted_as_not_detected(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room, (coord, member), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["translate"]
    )
    bot = settings.org.bot_user_ids()["translate"]
    translate: Any = rt.bots[0]

    ev = await coord.send(room, "!lang ne,en")
    reply = (await bot_reply(coord, ev, bot))["content"]
    assert "Working languages: Nepali (ne), English (en) (set with !lang)." in reply["body"]
    assert "Not detected automatically: Nepali (ne)." in reply["body"]
    assert "⚠" not in reply["body"]
    assert reply["org.samverkan.translation_settings"]["languages"] == ["ne", "en"]
    # Recorded for every bot: the room's first working language with a catalogue is English.
    assert translate.prefs.room_languages(room) == ["ne", "en"]
    assert translate.room_locale(room, None) == "en"
    async with translate.store.transaction() as tx:
        assert "ne" not in await translate.known_languages(tx)

    # A room set with !lang before the shared preferences existed is copied on the first tick.
    await translate.store.delete(ROOM_NS, room)
    translate.prefs = Preferences(translate.store)
    await translate.prefs.load()
    assert translate.prefs.room_languages(room) is None
    translate._warm = False
    await translate.on_tick(0)
    reread = Preferences(translate.store)
    await reread.load()
    assert reread.room_languages(room) == ["ne", "en"]

    # Burmese too; and a member (not a coordinator) is still refused, nothing changed.
    ev = await member.send(room, "!lang my")
    refused = body(await bot_reply(member, ev, bot))
    assert "needs power level 50" in refused
    ev = await member.send(room, "!lang")
    assert "Nepali (ne), English (en)" in body(await bot_reply(member, ev, bot))
    assert not member.undecryptable()


async def test_swedish_room_gets_swedish_cards_and_errors_whoever_acts(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room, (coord, mette, bjorn), rt = await org_env.room_with_bots(
        member_factory, members=2, coordinators=1, bots=["translate"]
    )
    bot = settings.org.bot_user_ids()["translate"]

    # The coordinator (no !locale) sets Swedish first: the answer is already in Swedish.
    ev = await coord.send(room, "!lang sv,en")
    text = body(await bot_reply(coord, ev, bot))
    assert "Arbetsspråk: svenska (sv), engelska (en) (angivna med !lang)." in text
    # A Danish volunteer chooses Danish replies for herself.
    ev = await mette.send(room, "!locale da")
    await bot_reply(mette, ev, bot)
    ev = await mette.send(room, "!translator add da>sv")
    assert "oversætter da>sv" in body(await bot_reply(mette, ev, bot))

    # A malformed command: a Swedish error, the usage and example unchanged.
    ev = await bjorn.send(room, "!translator add da-sv")
    error = body(await bot_reply(bjorn, ev, bot))
    assert "inget språkpar: skriv källa>mål" in error, error
    assert "Användning: !translator add <pairs…>" in error, error
    assert "Exempel: !translator add da>sv,en>sw" in error, error
    ev = await mette.send(room, "!lang sv,xx")  # Danish asker: Danish error
    error = body(await bot_reply(mette, ev, bot))
    assert "ikke en ISO 639-1-sprogkode" in error, error
    assert "Eksempel: !lang sv,en" in error, error

    # A Danish message: the prompt card is Swedish, the room's language.
    source = await bjorn.send(room, DANISH)
    prompt = await bot_reply(bjorn, source, bot)
    card = body(prompt)
    assert "🌐 Översättning önskas: det här meddelandet ser ut att vara på danska (da)" in card
    assert "rummet arbetar på svenska (sv), engelska (en)." in card
    assert f"Volontärer för da>sv, da>en: {mette.user_id}" in card
    assert "Svara i den här tråden med !tr" in card
    assert "Translation wanted" not in card
    assert prompt["content"][KEY]["status"] == "prompted"  # the payload is not translated

    # The Danish-speaking volunteer answers: the notice and the edited card stay Swedish.
    answer = "Jag tycker att vi ska flytta mötet till nästa vecka, eftersom många är sjuka."
    tr = await mette.send(room, f"!tr sv: {answer}", **in_thread(source, prompt["event_id"]))
    notice = body(await bot_reply(mette, tr, bot))
    assert f"svenska (sv) översättning av {mette.user_id} (volontär):" in notice, notice

    async def card_edited() -> bool:
        return any(
            f"✅ Översatt: sv av {mette.user_id}." in e["body"] for e in edits_of(coord, bot)
        )

    await coord.wait_until(card_edited)
    assert all("Translated" not in e["body"] for e in edits_of(coord, bot))
    assert not bjorn.undecryptable()
