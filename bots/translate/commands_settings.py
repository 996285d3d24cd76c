"""Provides the translate bot's settings commands: working languages, MT, volunteers, glossary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.translate import parse, render, store
from bots.translate.providers import ProviderUnavailable
from bots.translate.render import format_pairs, named
from messenger.botkit.commands import Arg, CommandError, Commands, command, tokenize
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL
from messenger.protocol import Notice
from messenger.protocol.translation import TranslationSettings

if TYPE_CHECKING:
    from bots.translate.bot import TranslateBot  # noqa: F401 (named in Commands["TranslateBot"])

MAX_PAIRS = 10  # per volunteer: each new language is one more set of models in memory


def _needs_coordinator(ctx: Context, doing: str, hint: str = "") -> None:
    """Refuse a change below coordinator power (showing the setting needs none)."""
    if ctx.power() < COORDINATOR_LEVEL:
        raise CommandError(
            f"{doing} needs power level {COORDINATOR_LEVEL} (coordinators); "
            f"yours is {ctx.power()}{hint}"
        )


class SettingsCommands(Commands["TranslateBot"]):
    """A room's working languages and MT opt-in; the volunteers; the glossary."""

    async def _info(
        self, ctx: Context, command: str, text: str, html_body: str | None = None
    ) -> None:
        data = Notice(kind="info", bot=self.bot.name, command=command)
        await ctx.reply(text, html_body=html_body, data=data)

    @command(
        "lang",
        Arg("languages", optional=True, parse=parse.languages, help="codes, e.g. sv,en"),
        summary="show or set (coordinators) the room's working languages",
        example="!lang sv,en",
    )
    async def lang(self, ctx: Context, *, languages: list[str] | None) -> None:
        """Show or set the working languages."""
        settings = await store.load_room(ctx.tx, ctx.room_id)
        if languages is not None:
            _needs_coordinator(ctx, "setting working languages", ". !lang alone shows them.")
            settings.languages = languages
            await store.save_room(ctx.tx, ctx.room_id, settings)
            self.bot.detector.prepare(await self.bot.known_languages(ctx.tx))
        current = await self.bot.working_languages(ctx)
        origin = "set with !lang" if settings.languages else "from the organisation file"
        text = f"Working languages: {', '.join(named(c) for c in current)} ({origin})."
        await ctx.reply(
            text, data=TranslationSettings(languages=current, machine_translation=settings.mt)
        )

    @command(
        "mt",
        Arg("switch", optional=True, parse=parse.switch, help="on or off"),
        summary="show or switch (coordinators) self-hosted machine translation for this room",
        example="!mt on",
    )
    async def mt(self, ctx: Context, *, switch: bool | None) -> None:
        """Opt the room in or out of machine translation."""
        settings = await store.load_room(ctx.tx, ctx.room_id)
        if switch is not None:
            _needs_coordinator(ctx, "switching machine translation")
            if switch:
                try:
                    await self.bot.mt_provider().check()
                except ProviderUnavailable as e:
                    raise CommandError(f"machine translation stays off: {e}") from None
            settings.mt = switch
            await store.save_room(ctx.tx, ctx.room_id, settings)
        provider = self.bot.provider_name()
        if settings.mt:
            text = (
                f"Machine translation is ON in this room ({provider}, self-hosted by the "
                "organisation); every machine translation says so."
            )
        else:
            text = "Machine translation is OFF in this room: no text leaves this bot."
            if provider is None:
                text += " (None is configured in the organisation file.)"
        data = TranslationSettings(
            languages=await self.bot.working_languages(ctx),
            machine_translation=settings.mt,
            provider=provider,
        )
        await ctx.reply(text, data=data)

    @command(
        "translator add",
        Arg("pairs", rest=True, parse=parse.pairs, help="source>target pairs, e.g. da>sv,en>sw"),
        summary="declare that you translate these language pairs",
        example="!translator add da>sv,en>sw",
    )
    async def translator_add(self, ctx: Context, *, pairs: list[tuple[str, str]]) -> None:
        """Add pairs to the sender's declaration."""
        mine = (await store.load_volunteers(ctx.tx)).get(ctx.sender, [])
        merged = list(dict.fromkeys([*mine, *pairs]))
        if len(merged) > MAX_PAIRS:
            raise CommandError(
                f"a volunteer declares at most {MAX_PAIRS} pairs; you have {len(mine)} "
                f"({format_pairs(mine) or 'none'}). Remove some first, e.g. "
                "!translator remove da>sv"
            )
        await store.save_pairs(ctx.tx, ctx.sender, merged)
        # Their source (and target) languages are detected from now on: load them now.
        self.bot.detector.prepare(await self.bot.known_languages(ctx.tx))
        text = f"{ctx.sender} translates {format_pairs(merged)}. Prompts for these pairs "
        text += "will name you."
        await self._info(ctx, "translator add", text)

    @command("translator list", summary="list volunteer translators and their pairs")
    async def translator_list(self, ctx: Context) -> None:
        """Every volunteer and pair."""
        table = await store.load_volunteers(ctx.tx)
        rows = [f"{u}: {format_pairs(ps)}" for u, ps in sorted(table.items())]
        body, body_html = render.listing(
            "Volunteer translators", rows, "Nobody yet: !translator add da>sv"
        )
        await self._info(ctx, "translator list", body, body_html)

    @command(
        "translator remove",
        Arg("pairs", rest=True, optional=True, parse=parse.pairs, help="pairs; none: all yours"),
        summary="stop translating these pairs (or all)",
        example="!translator remove da>sv",
    )
    async def translator_remove(self, ctx: Context, *, pairs: list[tuple[str, str]] | None) -> None:
        """Remove pairs from the sender's declaration."""
        mine = (await store.load_volunteers(ctx.tx)).get(ctx.sender, [])
        if not mine:
            raise CommandError("you have not declared any pair; e.g. !translator add da>sv")
        unknown = [p for p in pairs or [] if p not in mine]
        if unknown:
            raise CommandError(
                f"you did not declare {format_pairs(unknown)}; yours: {format_pairs(mine)}"
            )
        left = [p for p in mine if pairs is not None and p not in pairs]
        await store.save_pairs(ctx.tx, ctx.sender, left)
        text = f"{ctx.sender} now translates {format_pairs(left)}." if left else (
            f"{ctx.sender} is no longer a volunteer translator."
        )  # fmt: skip
        await self._info(ctx, "translator remove", text)

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
        entry = await store.add_term(ctx.tx, term, translations, ctx.sender)
        shown = ", ".join(f'{k}="{v}"' for k, v in entry.translations.items())
        await self._info(ctx, "glossary add", f"Glossary: {entry.term} → {shown}")

    @command("glossary list", summary="list the glossary")
    async def glossary_list(self, ctx: Context) -> None:
        """Every term and its renderings."""
        rows = render.glossary_lines(await store.load_glossary(ctx.tx), [])
        body, body_html = render.listing(
            "Glossary", rows, 'Empty: !glossary add "Term" en="Rendering"'
        )
        await self._info(ctx, "glossary list", body, body_html)

    @command(
        "glossary remove",
        Arg("term", help="the term (or any rendering), quoted"),
        summary="remove a glossary term (coordinators)",
        example='!glossary remove "Fjärilspartiet"',
        power=COORDINATOR_LEVEL,
    )
    async def glossary_remove(self, ctx: Context, *, term: str) -> None:
        """Remove a term."""
        if not await store.remove_term(ctx.tx, term):
            raise CommandError(f"{term!r} is not in the glossary; !glossary list shows it")
        await self._info(ctx, "glossary remove", f"Removed {term} from the glossary.")
