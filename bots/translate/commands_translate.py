"""Provides the translate bot's translation commands: ``!tr`` answers, ``!translate`` requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.translate import parse, prompts, render, store
from bots.translate.detect import clean, same_language
from bots.translate.model import Memory, Prompt, find_terms
from bots.translate.render import named
from messenger.botkit.commands import Arg, CommandError, Commands, command
from messenger.botkit.context import Context
from messenger.errors import MessengerError
from messenger.i18n import N_
from messenger.protocol import Notice

if TYPE_CHECKING:
    from bots.translate.bot import TranslateBot  # noqa: F401 (named in Commands["TranslateBot"])


class TranslateCommands(Commands["TranslateBot"]):
    """Volunteers answer prompts; members ask for one message in one language."""

    @command(
        "tr",
        Arg(
            "text",
            rest=True,
            help=N_("your translation; start with e.g. 'sv:' to name its language"),
        ),
        summary=N_("answer a translation prompt (in its thread)"),
        example="!tr sv: Vi ses på mötet i morgon.",
        raw=True,
    )
    async def tr(self, ctx: Context, *, text: str) -> None:
        """Post a volunteer's translation, attributed, and remember it (kept verbatim: `raw`)."""
        thread = ctx.event.thread_root
        listed = await store.prompts_in_thread(ctx.tx, thread) if thread else []
        records = {s: await store.load_prompt(ctx.tx, s) for s in listed}
        waiting = {s: r for s, r in records.items() if r is not None}
        if not waiting:
            raise CommandError(
                N_(
                    "!tr answers a translation prompt: send it in the thread of the prompt "
                    "(ask for one by replying to a message with !translate)"
                )
            )
        reply_to = ctx.event.reply_to
        if reply_to in waiting and not ctx.event.relates_to.get("is_falling_back"):
            source_event = reply_to
        else:
            open_ = [s for s, r in waiting.items() if not r.translated]
            source_event = (open_ or list(waiting))[-1]
        record = waiting[source_event]
        target, text = await self._target_of(ctx, record, text)
        if not text:
            raise CommandError(N_("write the translation after !tr, e.g. !tr sv: Vi ses i morgon."))
        body, body_html = render.translation(text, target, ctx.room_t, translator=ctx.sender)
        record.translated[target] = ctx.sender
        terms = find_terms(await store.load_glossary(ctx.tx), record.text)
        data = prompts.payload(
            source_event, record, terms, kind="translation", status="translated",
            translated_languages=record.done(), target_language=target,
            volunteers=record.volunteers, translator=ctx.sender,
            confidence=None,  # a volunteer's answer: no detector confidence
        )  # fmt: skip
        await ctx.reply(body, html_body=body_html, data=data)
        memory = Memory(text, by=ctx.sender, machine=False, source_event=source_event)
        await store.remember(ctx.tx, record.text, record.source, target, memory)
        await store.save_prompt(ctx.tx, source_event, record)
        await prompts.refresh_prompt(ctx, source_event, record)

    async def _target_of(self, ctx: Context, record: Prompt, text: str) -> tuple[str, str]:
        """The language a `!tr` answer is in: an explicit ``xx:`` prefix, the pair, or detection."""
        targets = record.targets
        prefixed = parse.language_prefix(text)
        if prefixed:
            code, rest = prefixed
            if same_language(code, record.source):
                raise CommandError(
                    N_("the message is already {language}; translate it into {targets}"),
                    language=named(code, ctx.t),
                    targets=", ".join(targets),
                )
            return code, rest
        if len(targets) == 1:
            return targets[0], text
        pairs = (await store.load_volunteers(ctx.tx)).get(ctx.sender, [])
        mine = [t for t in targets if any(same_language(a, record.source) and b == t
                                          for a, b in pairs)]  # fmt: skip
        if len(mine) == 1:
            return mine[0], text
        found = await self.bot.detector.detect(clean(text), frozenset(targets))
        return (found.language if found and found.language in targets else targets[0]), text

    @command(
        "translate",
        Arg("language", optional=True, parse=parse.language, help=N_("ISO 639-1 code, e.g. en")),
        summary=N_("as a reply to a message: ask for it in a language"),
        example="!translate en",
    )
    async def translate(self, ctx: Context, *, language: str | None) -> None:
        """Ask for one message in one language (volunteers, memory, or machine if opted in)."""
        target_id = ctx.event.reply_to
        if target_id is None or ctx.event.relates_to.get("is_falling_back"):
            raise CommandError(
                N_(
                    "send !translate as a reply to the message you want translated "
                    "(in Element: hover the message, Reply, then !translate en)"
                )
            )
        try:
            source = await self.bot.session.fetch_event(ctx.room_id, target_id)
        except MessengerError as e:
            raise CommandError(
                N_("cannot read the message you replied to: {error}"), error=str(e)
            ) from None
        if source.decrypt_error or not source.body.strip():
            raise CommandError(N_("the message you replied to has no text I can read (yet)"))
        working = await self.bot.working_languages(ctx)
        text = clean(source.body) or source.body
        found = await self.bot.detect(ctx.tx, text, {language} if language else None)
        if found is None:
            raise CommandError(N_("cannot tell which language that message is in"))
        if language is None:
            language = next((w for w in working if not same_language(w, found.language)), None)
            if language is None:
                raise CommandError(N_("name the language you want, e.g. !translate en"))
        if same_language(language, found.language):
            raise CommandError(
                N_("that message already looks {language}"), language=named(found.language, ctx.t)
            )
        existing = await store.load_prompt(ctx.tx, target_id)
        if existing and existing.prompt_key and language not in existing.translated:
            if language not in existing.targets:
                existing.targets.append(language)
                await store.save_prompt(ctx.tx, target_id, existing)
                await prompts.refresh_prompt(ctx, target_id, existing)
            await ctx.reply(
                ctx._(
                    "That message already has a translation prompt; it now asks for {language} "
                    "too. Volunteers answer in its thread."
                ).format(language=named(language, ctx.t)),
                data=Notice(kind="info", bot=self.bot.name, command="translate"),
            )
            return
        await prompts.ask(
            self.bot, ctx, target_id, source.body, found, [language], requested_by=ctx.sender
        )
