"""Provides the translate bot's settings commands: working languages, MT, volunteers, glossary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.translate import parse, render, store
from bots.translate.detect import detectable
from bots.translate.providers import ProviderUnavailable
from bots.translate.render import format_pairs, named_list
from messenger.botkit.commands import Arg, CommandError, Commands, command, tokenize
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL
from messenger.i18n import N_
from messenger.protocol import Notice
from messenger.protocol.translation import TranslationSettings

if TYPE_CHECKING:
    from bots.translate.bot import TranslateBot  # noqa: F401 (named in Commands["TranslateBot"])

MAX_PAIRS = 10  # per volunteer: each new language is one more set of models in memory


class SettingsCommands(Commands["TranslateBot"]):
    """A room's working languages and MT opt-in; the volunteers; the glossary."""

    async def _info(
        self, ctx: Context, command: str, text: str, html_body: str | None = None
    ) -> None:
        data = Notice(kind="info", bot=self.bot.name, command=command)
        await ctx.reply(text, html_body=html_body, data=data)

    @command(
        "lang",
        Arg("languages", optional=True, parse=parse.languages, help=N_("codes, e.g. sv,en")),
        summary=N_("show or set (coordinators) the room's working languages"),
        example="!lang sv,en",
    )
    async def lang(self, ctx: Context, *, languages: list[str] | None) -> None:
        """Show or set the working languages (any ISO 639-1 codes; the room's first one is
        the language of every bot's cards in it)."""
        settings = await store.load_room(ctx.tx, ctx.room_id)
        if languages is not None:
            if ctx.power() < COORDINATOR_LEVEL:
                raise CommandError(
                    N_(
                        "setting working languages needs power level {needed} (coordinators); "
                        "yours is {yours}. !lang alone shows them."
                    ),
                    needed=COORDINATOR_LEVEL,
                    yours=ctx.power(),
                )
            settings.languages = languages
            await store.save_room(ctx.tx, ctx.room_id, settings)
            await self.bot.prefs.set_room_languages(ctx.room_id, languages)
            self.bot.detector.prepare(await self.bot.known_languages(ctx.tx))
        current = await self.bot.working_languages(ctx)
        if settings.languages:
            text = ctx._("Working languages: {languages} (set with !lang).")
        else:
            text = ctx._("Working languages: {languages} (from the organisation file).")
        text = text.format(languages=named_list(current, ctx.t))
        undetected = [c for c in current if c not in detectable()]
        if undetected:
            text += " " + ctx._(
                "Not detected automatically: {languages}. Messages in them get no prompt; "
                "reply to one with !translate to ask for a translation."
            ).format(languages=named_list(undetected, ctx.t))
        await ctx.reply(
            text, data=TranslationSettings(languages=current, machine_translation=settings.mt)
        )

    @command(
        "mt",
        Arg("switch", optional=True, parse=parse.switch, help=N_("on or off")),
        summary=N_("show or switch (coordinators) self-hosted machine translation for this room"),
        example="!mt on",
    )
    async def mt(self, ctx: Context, *, switch: bool | None) -> None:
        """Opt the room in or out of machine translation."""
        settings = await store.load_room(ctx.tx, ctx.room_id)
        if switch is not None:
            if ctx.power() < COORDINATOR_LEVEL:
                raise CommandError(
                    N_(
                        "switching machine translation needs power level {needed} "
                        "(coordinators); yours is {yours}"
                    ),
                    needed=COORDINATOR_LEVEL,
                    yours=ctx.power(),
                )
            if switch:
                try:
                    await self.bot.mt_provider().check()
                except ProviderUnavailable as e:
                    raise CommandError(
                        N_("machine translation stays off: {error}"), error=str(e)
                    ) from None
            settings.mt = switch
            await store.save_room(ctx.tx, ctx.room_id, settings)
        provider = self.bot.provider_name()
        if settings.mt:
            text = ctx._(
                "Machine translation is ON in this room ({provider}, self-hosted by the "
                "organisation); every machine translation says so."
            ).format(provider=provider)
        else:
            text = ctx._("Machine translation is OFF in this room: no text leaves this bot.")
            if provider is None:
                text += " " + ctx._("(None is configured in the organisation file.)")
        data = TranslationSettings(
            languages=await self.bot.working_languages(ctx),
            machine_translation=settings.mt,
            provider=provider,
        )
        await ctx.reply(text, data=data)

    @command(
        "translator add",
        Arg(
            "pairs", rest=True, parse=parse.pairs, help=N_("source>target pairs, e.g. da>sv,en>sw")
        ),
        summary=N_("declare that you translate these language pairs"),
        example="!translator add da>sv,en>sw",
    )
    async def translator_add(self, ctx: Context, *, pairs: list[tuple[str, str]]) -> None:
        """Add pairs to the sender's declaration."""
        mine = (await store.load_volunteers(ctx.tx)).get(ctx.sender, [])
        merged = list(dict.fromkeys([*mine, *pairs]))
        if len(merged) > MAX_PAIRS:
            raise CommandError(
                N_(
                    "a volunteer declares at most {most} pairs; you have {count} ({pairs}). "
                    "Remove some first, e.g. !translator remove da>sv"
                ),
                most=MAX_PAIRS,
                count=len(mine),
                pairs=format_pairs(mine) or "–",
            )
        await store.save_pairs(ctx.tx, ctx.sender, merged)
        # Their source (and target) languages are detected from now on: load them now.
        self.bot.detector.prepare(await self.bot.known_languages(ctx.tx))
        text = ctx._("{user} translates {pairs}. Prompts for these pairs will name you.").format(
            user=ctx.sender, pairs=format_pairs(merged)
        )
        await self._info(ctx, "translator add", text)

    @command("translator list", summary=N_("list volunteer translators and their pairs"))
    async def translator_list(self, ctx: Context) -> None:
        """Every volunteer and pair."""
        table = await store.load_volunteers(ctx.tx)
        rows = [f"{u}: {format_pairs(ps)}" for u, ps in sorted(table.items())]
        body, body_html = render.listing(
            ctx._("Volunteer translators"), rows, ctx._("Nobody yet: !translator add da>sv")
        )
        await self._info(ctx, "translator list", body, body_html)

    @command(
        "translator remove",
        Arg(
            "pairs",
            rest=True,
            optional=True,
            parse=parse.pairs,
            help=N_("pairs; none: all yours"),
        ),
        summary=N_("stop translating these pairs (or all)"),
        example="!translator remove da>sv",
    )
    async def translator_remove(self, ctx: Context, *, pairs: list[tuple[str, str]] | None) -> None:
        """Remove pairs from the sender's declaration."""
        mine = (await store.load_volunteers(ctx.tx)).get(ctx.sender, [])
        if not mine:
            raise CommandError(N_("you have not declared any pair; e.g. !translator add da>sv"))
        unknown = [p for p in pairs or [] if p not in mine]
        if unknown:
            raise CommandError(
                N_("you did not declare {pairs}; yours: {yours}"),
                pairs=format_pairs(unknown),
                yours=format_pairs(mine),
            )
        left = [p for p in mine if pairs is not None and p not in pairs]
        await store.save_pairs(ctx.tx, ctx.sender, left)
        if left:
            text = ctx._("{user} now translates {pairs}.").format(
                user=ctx.sender, pairs=format_pairs(left)
            )
        else:
            text = ctx._("{user} is no longer a volunteer translator.").format(user=ctx.sender)
        await self._info(ctx, "translator remove", text)

    @command(
        "glossary add",
        Arg("term", help=N_("the party's term, quoted")),
        Arg("renderings", rest=True, help=N_('lang="rendering" …')),
        summary=N_("fix how a term is translated (coordinators)"),
        example='!glossary add "Fjärilspartiet" en="Butterfly Party" da="Sommerfuglepartiet"',
        power=COORDINATOR_LEVEL,
    )
    async def glossary_add(self, ctx: Context, *, term: str, renderings: str) -> None:
        """Add or extend a glossary entry (re-read from the words so renderings keep spaces)."""
        try:
            term, translations = parse.glossary_args(tokenize(ctx.event.body)[2:])
        except ValueError as e:
            raise CommandError(
                N_("cannot read the glossary entry: {reason}"), reason=str(e)
            ) from None
        entry = await store.add_term(ctx.tx, term, translations, ctx.sender)
        shown = ", ".join(f'{k}="{v}"' for k, v in entry.translations.items())
        text = ctx._("Glossary: {term} → {renderings}").format(term=entry.term, renderings=shown)
        await self._info(ctx, "glossary add", text)

    @command("glossary list", summary=N_("list the glossary"))
    async def glossary_list(self, ctx: Context) -> None:
        """Every term and its renderings."""
        rows = render.glossary_lines(await store.load_glossary(ctx.tx), [])
        body, body_html = render.listing(
            ctx._("Glossary"), rows, ctx._('Empty: !glossary add "Term" en="Rendering"')
        )
        await self._info(ctx, "glossary list", body, body_html)

    @command(
        "glossary remove",
        Arg("term", help=N_("the term (or any rendering), quoted")),
        summary=N_("remove a glossary term (coordinators)"),
        example='!glossary remove "Fjärilspartiet"',
        power=COORDINATOR_LEVEL,
    )
    async def glossary_remove(self, ctx: Context, *, term: str) -> None:
        """Remove a term."""
        if not await store.remove_term(ctx.tx, term):
            raise CommandError(
                N_("{term} is not in the glossary; !glossary list shows it"), term=repr(term)
            )
        text = ctx._("Removed {term} from the glossary.").format(term=term)
        await self._info(ctx, "glossary remove", text)
