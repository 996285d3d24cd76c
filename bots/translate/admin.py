"""Provides the translate bot's settings: working languages, MT opt-in, volunteers, glossary."""

from __future__ import annotations

import logging
from typing import Any

from bots.translate import parse, render, state
from bots.translate.detect import Detection, Detector
from bots.translate.providers import (
    Provider,
    ProviderUnavailable,
    configured,
    make_provider,
    translate_keeping_terms,
)
from bots.translate.render import named
from messenger.botkit.bot import Bot
from messenger.botkit.commands import Arg, CommandError, command, tokenize
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL, language_codes
from messenger.errors import MessengerError
from messenger.protocol import Notice
from messenger.protocol.translation import TranslationSettings

log = logging.getLogger(__name__)

MAX_PAIRS = 10  # per volunteer: each new language is one more set of models in memory


def _on_off(word: str) -> bool:
    w = word.lower()
    if w not in {"on", "off"}:
        raise ValueError("write on or off, e.g. !mt on")
    return w == "on"


class TranslateSettings(Bot):
    """Room settings, volunteers and glossary; the shared helpers of the translate bot."""

    name = "translate"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.detector = Detector()
        self.provider: Provider | None = None  # built only when an opted-in room needs it

    # -- helpers --------------------------------------------------------------------------

    async def working_languages(self, ctx: Context) -> list[str]:
        """The room's working languages: set with !lang, else the organisation file's."""
        settings = await state.room(ctx.tx, ctx.room_id)
        if settings.languages:
            return settings.languages
        return self.org.group_languages(ctx.group) if ctx.group else self.org.organisation.languages

    async def known_languages(self, tx: Any) -> frozenset[str]:
        """The languages detected: the organisation file's (``[organisation]`` and every group),
        every room's ``!lang``, and both sides of every volunteer's ``!translator add`` pair."""
        codes = set(self.org.organisation.languages)
        for g in self.org.groups:
            codes.update(g.languages)
        for _room, raw in await tx.items(state.ROOMS):
            codes.update(raw.get("languages") or [])
        for pairs in (await state.volunteers(tx)).values():
            for a, b in pairs:
                codes.update((a, b))
        return frozenset(codes & language_codes())

    async def detect(self, tx: Any, text: str, extra: set[str] | None = None) -> Detection | None:
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

    def mt_provider(self) -> Provider:
        """The self-hosted provider, constructed on first need (never for MT-off rooms)."""
        if self.provider is None:
            self.provider = make_provider(
                self.org.bots.machine_translation_url, self.org.bots.argos_models_path
            )
        return self.provider

    async def machine(
        self, tx: Any, text: str, source: str, target: str
    ) -> tuple[str, list[str], str]:
        """Machine-translate with glossary terms kept; (translation, dropped terms, provider)."""
        provider = self.mt_provider()
        terms = state.find_terms(await state.glossary(tx), text)
        pairs = [(t.forms(), t.rendering(target)) for t in terms]
        result, missing = await translate_keeping_terms(provider, text, source, target, pairs)
        return result, missing, provider.name

    async def close(self) -> None:
        """Stop background detector builds; close the machine-translation provider, if built."""
        await self.detector.close()
        if self.provider is not None:
            await self.provider.close()
            self.provider = None

    @command(
        "lang",
        Arg("languages", optional=True, parse=parse.languages, help="codes, e.g. sv,en"),
        summary="show or set (coordinators) the room's working languages",
        example="!lang sv,en",
    )
    async def lang(self, ctx: Context, *, languages: list[str] | None) -> None:
        """Show or set the working languages."""
        settings = await state.room(ctx.tx, ctx.room_id)
        if languages is not None:
            if ctx.power() < COORDINATOR_LEVEL:
                raise CommandError(
                    f"setting working languages needs power level {COORDINATOR_LEVEL} "
                    f"(coordinators); yours is {ctx.power()}. !lang alone shows them."
                )
            settings.languages = languages
            await state.save_room(ctx.tx, ctx.room_id, settings)
            self.detector.prepare(await self.known_languages(ctx.tx))
        current = await self.working_languages(ctx)
        origin = "set with !lang" if settings.languages else "from the organisation file"
        text = f"Working languages: {', '.join(named(c) for c in current)} ({origin})."
        await ctx.reply(
            text, data=TranslationSettings(languages=current, machine_translation=settings.mt)
        )

    @command(
        "mt",
        Arg("switch", optional=True, parse=_on_off, help="on or off"),
        summary="show or switch (coordinators) self-hosted machine translation for this room",
        example="!mt on",
    )
    async def mt(self, ctx: Context, *, switch: bool | None) -> None:
        """Opt the room in or out of machine translation."""
        settings = await state.room(ctx.tx, ctx.room_id)
        bots = self.org.bots
        if switch is not None:
            if ctx.power() < COORDINATOR_LEVEL:
                raise CommandError(
                    f"switching machine translation needs power level {COORDINATOR_LEVEL} "
                    f"(coordinators); yours is {ctx.power()}"
                )
            if switch:
                try:
                    await self.mt_provider().check()
                except ProviderUnavailable as e:
                    raise CommandError(f"machine translation stays off: {e}") from None
            settings.mt = switch
            await state.save_room(ctx.tx, ctx.room_id, settings)
        provider = None
        if configured(bots.machine_translation_url, bots.argos_models_path):
            provider = "libretranslate" if bots.machine_translation_url else "argos"
        if settings.mt:
            text = (
                f"Machine translation is ON in this room ({provider}, self-hosted by the "
                "organisation); every machine translation says so."
            )
        else:
            text = "Machine translation is OFF in this room: no text leaves this bot."
            if provider is None:
                text += " (None is configured in the organisation file.)"
        await ctx.reply(
            text,
            data=TranslationSettings(
                languages=await self.working_languages(ctx),
                machine_translation=settings.mt,
                provider=provider,
            ),
        )

    @command(
        "translator add",
        Arg("pairs", rest=True, parse=parse.pairs, help="source>target pairs, e.g. da>sv,en>sw"),
        summary="declare that you translate these language pairs",
        example="!translator add da>sv,en>sw",
    )
    async def translator_add(self, ctx: Context, *, pairs: list[tuple[str, str]]) -> None:
        """Add pairs to the sender's declaration."""
        mine = (await state.volunteers(ctx.tx)).get(ctx.sender, [])
        merged = list(dict.fromkeys([*mine, *pairs]))
        if len(merged) > MAX_PAIRS:
            raise CommandError(
                f"a volunteer declares at most {MAX_PAIRS} pairs; you have {len(mine)} "
                f"({parse.format_pairs(mine) or 'none'}). Remove some first, e.g. "
                "!translator remove da>sv"
            )
        await state.set_pairs(ctx.tx, ctx.sender, merged)
        # Their source (and target) languages are detected from now on: load them now.
        self.detector.prepare(await self.known_languages(ctx.tx))
        await ctx.reply(
            f"{ctx.sender} translates {parse.format_pairs(merged)}. Prompts for these pairs "
            "will name you.",
            data=Notice(kind="info", bot=self.name, command="translator add"),
        )

    @command("translator list", summary="list volunteer translators and their pairs")
    async def translator_list(self, ctx: Context) -> None:
        """Every volunteer and pair."""
        table = await state.volunteers(ctx.tx)
        rows = [f"{u}: {parse.format_pairs(ps)}" for u, ps in sorted(table.items())]
        body, body_html = render.listing(
            "Volunteer translators", rows, "Nobody yet: !translator add da>sv"
        )
        await ctx.reply(
            body, html_body=body_html,
            data=Notice(kind="info", bot=self.name, command="translator list"),
        )  # fmt: skip

    @command(
        "translator remove",
        Arg("pairs", rest=True, optional=True, parse=parse.pairs, help="pairs; none: all yours"),
        summary="stop translating these pairs (or all)",
        example="!translator remove da>sv",
    )
    async def translator_remove(self, ctx: Context, *, pairs: list[tuple[str, str]] | None) -> None:
        """Remove pairs from the sender's declaration."""
        mine = (await state.volunteers(ctx.tx)).get(ctx.sender, [])
        if not mine:
            raise CommandError("you have not declared any pair; e.g. !translator add da>sv")
        unknown = [p for p in pairs or [] if p not in mine]
        if unknown:
            raise CommandError(
                f"you did not declare {parse.format_pairs(unknown)}; yours: "
                f"{parse.format_pairs(mine)}"
            )
        left = [p for p in mine if pairs is not None and p not in pairs]
        await state.set_pairs(ctx.tx, ctx.sender, left)
        text = f"{ctx.sender} now translates {parse.format_pairs(left)}." if left else (
            f"{ctx.sender} is no longer a volunteer translator."
        )  # fmt: skip
        await ctx.reply(text, data=Notice(kind="info", bot=self.name, command="translator remove"))

    @command(
        "glossary add",
        Arg("term", help="the party's term, quoted"),
        Arg("renderings", rest=True, help='lang="rendering" …'),
        summary="fix how a term is translated (coordinators)",
        example='!glossary add "Fjärilspartiet" en="Butterfly Party" da="Sommerfuglepartiet"',
        power=COORDINATOR_LEVEL,
    )
    async def glossary_add(self, ctx: Context, *, term: str, renderings: str) -> None:
        """Add or extend a glossary entry (re-read from the words so renderings keep spaces)."""
        try:
            term, translations = parse.glossary_args(tokenize(ctx.event.body)[2:])
        except ValueError as e:
            raise CommandError(str(e)) from None
        entry = await state.add_term(ctx.tx, term, translations, ctx.sender)
        shown = ", ".join(f'{k}="{v}"' for k, v in entry.translations.items())
        await ctx.reply(
            f"Glossary: {entry.term} → {shown}",
            data=Notice(kind="info", bot=self.name, command="glossary add"),
        )

    @command("glossary list", summary="list the glossary")
    async def glossary_list(self, ctx: Context) -> None:
        """Every term and its renderings."""
        terms = await state.glossary(ctx.tx)
        rows = render.glossary_lines(terms, [])
        body, body_html = render.listing(
            "Glossary", rows, 'Empty: !glossary add "Term" en="Rendering"'
        )
        await ctx.reply(
            body, html_body=body_html,
            data=Notice(kind="info", bot=self.name, command="glossary list"),
        )  # fmt: skip

    @command(
        "glossary remove",
        Arg("term", help="the term (or any rendering), quoted"),
        summary="remove a glossary term (coordinators)",
        example='!glossary remove "Fjärilspartiet"',
        power=COORDINATOR_LEVEL,
    )
    async def glossary_remove(self, ctx: Context, *, term: str) -> None:
        """Remove a term."""
        if not await state.remove_term(ctx.tx, term):
            raise CommandError(f"{term!r} is not in the glossary; !glossary list shows it")
        await ctx.reply(
            f"Removed {term} from the glossary.",
            data=Notice(kind="info", bot=self.name, command="glossary remove"),
        )
