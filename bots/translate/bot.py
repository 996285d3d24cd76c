"""Provides ``TranslateBot``: working languages, translation prompts, volunteers, glossary, MT."""

from __future__ import annotations

import logging

from bots.translate import prompts, store
from bots.translate.commands_settings import SettingsCommands
from bots.translate.commands_translate import TranslateCommands
from bots.translate.detect import (
    Detection,
    Detector,
    clean,
    detectable,
    is_short,
    same_language,
)
from bots.translate.model import find_terms
from bots.translate.providers import Provider, make_provider, translate_keeping_terms
from messenger.botkit.bot import Bot
from messenger.botkit.context import Context
from messenger.config import OrgFile
from messenger.errors import MessengerError
from messenger.session.core import Session
from messenger.store import Tx

log = logging.getLogger(__name__)


class TranslateBot(Bot):
    """Detects messages outside a room's working languages and finds them a translator."""

    name = "translate"
    GROUPS = (
        TranslateCommands,
        SettingsCommands,
    )

    def __init__(self, session: Session, org: OrgFile) -> None:
        super().__init__(session, org)
        self.detector = Detector()
        self.provider: Provider | None = None  # built only when an opted-in room needs it
        self._warm = False

    # -- hooks ----------------------------------------------------------------------------

    async def on_tick(self, now_ms: int) -> None:
        """Build the detector once, off the event loop, before the first message needs it."""
        if self._warm:
            return
        self._warm = True
        async with self.store.transaction() as tx:
            codes = await self.known_languages(tx)
            rooms = await store.rooms_with_languages(tx)
        for room_id, langs in rooms.items():  # set with !lang before the shared preferences
            if self.prefs.room_languages(room_id) is None:
                await self.prefs.set_room_languages(room_id, langs)
        if len(codes) > 1:
            await self.detector.get(codes)

    async def on_message(self, ctx: Context) -> None:
        """Prompt translators for a message outside the room's working languages."""
        if ctx.sender in self.org.bot_user_ids().values():
            return
        text = clean(ctx.event.body)
        if is_short(text) or await store.load_prompt(ctx.tx, ctx.event.event_id):
            return
        working = await self.working_languages(ctx)
        found = await self.detect(ctx.tx, text)
        if found is None or not found.confident:
            return
        if any(same_language(found.language, w) for w in working):
            return
        targets = [w for w in working if not same_language(w, found.language)]
        await prompts.ask(
            self, ctx, ctx.event.event_id, ctx.event.body, found, targets, requested_by=None
        )

    async def close(self) -> None:
        """Stop background detector builds; close the machine-translation provider, if built."""
        await self.detector.close()
        if self.provider is not None:
            await self.provider.close()
            self.provider = None

    # -- what the command groups share ----------------------------------------------------

    async def working_languages(self, ctx: Context) -> list[str]:
        """The room's working languages: set with !lang, else the organisation file's."""
        settings = await store.load_room(ctx.tx, ctx.room_id)
        if settings.languages:
            return settings.languages
        return self.org.group_languages(ctx.group) if ctx.group else self.org.organisation.languages

    async def known_languages(self, tx: Tx) -> frozenset[str]:
        """The languages detected: the organisation file's (``[organisation]`` and every group),
        every room's ``!lang``, and both sides of every volunteer's ``!translator add`` pair —
        those lingua knows (a working language it does not know is listed, not detected)."""
        codes = set(self.org.organisation.languages)
        for g in self.org.groups:
            codes.update(g.languages)
        codes.update(await store.room_languages(tx))
        for pairs in (await store.load_volunteers(tx)).values():
            for a, b in pairs:
                codes.update((a, b))
        return frozenset(codes & detectable())

    async def detect(self, tx: Tx, text: str, extra: set[str] | None = None) -> Detection | None:
        """The language of ``text`` among the organisation's languages."""
        codes = await self.known_languages(tx) | frozenset(extra or ())
        return await self.detector.detect(text, codes)

    async def present(self, room_id: str) -> set[str]:
        """Users joined to the room (empty when the homeserver cannot say)."""
        try:
            return {u for u, m in (await self.rooms.members(room_id)).items() if m == "join"}
        except MessengerError as e:
            log.warning("cannot list members of %s: %s", room_id, e)
            return set()

    def provider_name(self) -> str | None:
        """The configured engine's name (the LibreTranslate URL wins); None when none is."""
        bots = self.org.bots
        if bots.machine_translation_url:
            return "libretranslate"
        return "argos" if bots.argos_models_path else None

    async def mt_on(self, ctx: Context) -> bool:
        """Whether the room opted in to machine translation and the organisation has one."""
        return (await store.load_room(ctx.tx, ctx.room_id)).mt and self.provider_name() is not None

    def mt_provider(self) -> Provider:
        """The self-hosted provider, constructed on first need (never for MT-off rooms)."""
        if self.provider is None:
            self.provider = make_provider(
                self.org.bots.machine_translation_url, self.org.bots.argos_models_path
            )
        return self.provider

    async def machine(
        self, tx: Tx, text: str, source: str, target: str
    ) -> tuple[str, list[str], str]:
        """Machine-translate with glossary terms kept; (translation, dropped terms, provider)."""
        provider = self.mt_provider()
        terms = find_terms(await store.load_glossary(tx), text)
        pairs = [(t.forms(), t.rendering(target)) for t in terms]
        result, missing = await translate_keeping_terms(provider, text, source, target, pairs)
        return result, missing, provider.name
