"""Provides ``TranslateBot``: working languages, translation prompts, volunteers, glossary, MT."""

from __future__ import annotations

import logging
import re
from typing import Any

from bots.translate import parse, render, state
from bots.translate.admin import TranslateSettings
from bots.translate.detect import Detection, clean, is_short, same_language
from bots.translate.providers import ProviderError, configured
from bots.translate.render import PromptView, named
from bots.translate.state import Term
from messenger.botkit.commands import Arg, CommandError, command
from messenger.botkit.context import Context
from messenger.config import language_codes
from messenger.errors import MessengerError
from messenger.protocol import Notice
from messenger.protocol.translation import GlossaryHit, Translation

log = logging.getLogger(__name__)


LANG_PREFIX = re.compile(r"^([A-Za-z]{2})\s*:\s*(.*)$", re.S)


def _hits(terms: list[Term]) -> list[GlossaryHit]:
    return [GlossaryHit(term=t.term, translations=t.translations) for t in terms]


class TranslateBot(TranslateSettings):
    """Detects messages outside a room's working languages and finds them a translator."""

    name = "translate"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._warm = False

    async def on_tick(self, now_ms: int) -> None:
        """Build the detector once, off the event loop, before the first message needs it."""
        if self._warm:
            return
        self._warm = True
        async with self.store.transaction() as tx:
            codes = await self.known_languages(tx)
        if len(codes) > 1:
            await self.detector.get(codes)

    # -- `!tr` keeps its text verbatim (apostrophes, quotes) ------------------------------

    # -- detection ------------------------------------------------------------------------

    async def on_message(self, ctx: Context) -> None:
        """Prompt translators for a message outside the room's working languages."""
        if ctx.sender in self.org.bot_user_ids().values():
            return
        text = clean(ctx.event.body)
        if is_short(text) or await state.prompt(ctx.tx, ctx.event.event_id):
            return
        working = await self.working_languages(ctx)
        found = await self.detect(ctx.tx, text)
        if found is None or not found.confident:
            return
        if any(same_language(found.language, w) for w in working):
            return
        targets = [w for w in working if not same_language(w, found.language)]
        await self.ask(ctx, ctx.event.event_id, ctx.event.body, found, targets, requested_by=None)

    async def ask(
        self,
        ctx: Context,
        source_event: str,
        text: str,
        found: Detection,
        targets: list[str],
        *,
        requested_by: str | None,
    ) -> None:
        """Answer from memory, by machine (opted-in rooms), or with one prompt to volunteers."""
        src = found.language
        terms = state.find_terms(await state.glossary(ctx.tx), text)
        record: dict[str, Any] = {
            "room_id": ctx.room_id,
            "thread_root": ctx.event.thread_root or ctx.event.event_id,
            "text": text,
            "source": src,
            "confidence": found.confidence,
            "targets": targets,
            "translated": {},
            "requested_by": requested_by,
            "prompt_key": None,
        }
        old = await state.prompt(ctx.tx, source_event)
        if old:  # asked again (e.g. answered from memory before): keep its thread and history
            keep = ("thread_root", "prompt_key", "volunteers", "present", "requested_by")
            record.update({k: old[k] for k in keep if k in old})
            record["translated"] = dict(old.get("translated", {}))
            record["targets"] = list(dict.fromkeys([*old.get("targets", []), *targets]))
        base: dict[str, Any] = {
            "source_event_id": source_event,
            "source_language": src,
            "target_languages": targets,
            "requested_by": requested_by,
            "confidence": found.confidence,
            "glossary_hits": _hits(terms),
        }
        mt_on = await self._mt_on(ctx)
        remembered = {}
        for t in targets:
            mem = await state.recall(ctx.tx, text, src, t)
            if mem and (mt_on or not mem.get("machine")):
                remembered[t] = mem
        for target, mem in remembered.items():
            record["translated"][target] = mem.get("by") or "memory"
            body, body_html = render.translation(
                mem["text"], target, translator=None, reused_from=mem.get("by")
            )
            data = Translation(
                kind="translation", status="translated", target_language=target,
                translated_languages=list(remembered), translator=mem.get("by"),
                machine=bool(mem.get("machine")), provider=mem.get("provider"),
                reused=True, **base,
            )  # fmt: skip
            await ctx.reply(body, html_body=body_html, data=data)
        if remembered:
            await state.save_prompt(ctx.tx, source_event, record)
            return
        if requested_by and mt_on:
            if await self._machine_answer(ctx, source_event, record, base, targets[0]):
                return
        await self._prompt(ctx, source_event, record, base, terms)

    async def _mt_on(self, ctx: Context) -> bool:
        return (await state.room(ctx.tx, ctx.room_id)).mt and configured(
            self.org.bots.machine_translation_url, self.org.bots.argos_models_path
        )

    async def _machine_answer(
        self, ctx: Context, source_event: str, record: dict[str, Any], base: dict[str, Any],
        target: str,
    ) -> bool:  # fmt: skip
        try:
            result, missing, provider = await self.machine(
                ctx.tx, record["text"], record["source"], target
            )
        except ProviderError as e:
            record.setdefault("notes", []).append(f"machine translation failed: {e}")
            return False
        record["translated"][target] = f"machine:{provider}"
        body, body_html = render.translation(
            result, target, translator=None, machine=provider, kept_missing=missing
        )
        data = Translation(
            kind="translation", status="translated", target_language=target,
            translated_languages=[target], translator=f"machine:{provider}", machine=True,
            provider=provider, **base,
        )  # fmt: skip
        await ctx.reply(body, html_body=body_html, data=data)
        await state.remember(
            ctx.tx, record["text"], record["source"], target, result,
            by=f"machine:{provider}", machine=True, provider=provider, source_event=source_event,
        )  # fmt: skip
        await state.save_prompt(ctx.tx, source_event, record)
        return True

    async def _prompt(
        self, ctx: Context, source_event: str, record: dict[str, Any], base: dict[str, Any],
        terms: list[Term],
    ) -> None:  # fmt: skip
        src, targets = record["source"], record["targets"]
        table = await state.volunteers(ctx.tx)
        vols = state.volunteers_for(table, src, targets)
        present = await self.present(ctx.room_id) if vols else set()
        drafts: dict[str, str] = {}
        provider = None
        if record["requested_by"] is None and await self._mt_on(ctx):
            for target in targets[:2]:
                try:
                    drafts[target], _missing, provider = await self.machine(
                        ctx.tx, record["text"], src, target
                    )
                except ProviderError as e:
                    record.setdefault("notes", []).append(f"machine translation failed: {e}")
                    break
        record.update(volunteers=vols, present=sorted(present), drafts=drafts, provider=provider)
        record["prompt_key"] = f"tr-prompt:{source_event}"
        body, body_html, data = self._render_prompt(source_event, record, base, terms)
        mentions = [u for u in vols if u in present]
        await ctx.reply(
            body, html_body=body_html, data=data, key=record["prompt_key"], mentions=mentions
        )
        await state.save_prompt(ctx.tx, source_event, record)

    def _render_prompt(
        self, source_event: str, record: dict[str, Any], base: dict[str, Any], terms: list[Term]
    ) -> tuple[str, str, Translation]:
        view = PromptView(
            source=record["source"], targets=record["targets"],
            volunteers=record.get("volunteers", []), present=set(record.get("present", [])),
            hits=terms, requested_by=record["requested_by"], drafts=record.get("drafts", {}),
            provider=record.get("provider"), notes=record.get("notes", []),
            translated=record["translated"],
        )  # fmt: skip
        body, body_html = render.prompt(view)
        done = [t for t in record["targets"] if t in record["translated"]]
        data = Translation(
            kind="prompt", status="translated" if done else "prompted",
            volunteers=view.volunteers, translated_languages=done,
            **{**base, "target_languages": record["targets"]},
        )  # fmt: skip
        return body, body_html, data

    async def _refresh_prompt(
        self, ctx: Context, source_event: str, record: dict[str, Any]
    ) -> None:
        if not record.get("prompt_key"):
            return
        terms = state.find_terms(await state.glossary(ctx.tx), record["text"])
        base: dict[str, Any] = {
            "source_event_id": source_event, "source_language": record["source"],
            "requested_by": record["requested_by"], "confidence": record.get("confidence"),
            "glossary_hits": _hits(terms),
        }  # fmt: skip
        body, body_html, data = self._render_prompt(source_event, record, base, terms)
        await ctx.edit(
            record["room_id"], record["prompt_key"], body, html_body=body_html, data=data
        )

    # -- commands -------------------------------------------------------------------------

    @command(
        "tr",
        Arg("text", rest=True, help="your translation; start with e.g. 'sv:' to name its language"),
        summary="answer a translation prompt (in its thread)",
        example="!tr sv: Vi ses på mötet i morgon.",
        raw=True,
    )
    async def tr(self, ctx: Context, *, text: str) -> None:
        """Post a volunteer's translation, attributed, and remember it."""

        thread = ctx.event.thread_root
        listed = await state.prompts_in_thread(ctx.tx, thread) if thread else []
        if not listed:
            raise CommandError(
                "!tr answers a translation prompt: send it in the thread of the prompt "
                "(ask for one by replying to a message with !translate)"
            )
        reply_to = ctx.event.reply_to
        records = {s: await state.prompt(ctx.tx, s) for s in listed}
        if reply_to in records and not ctx.event.relates_to.get("is_falling_back"):
            source_event = reply_to
        else:
            waiting = [s for s, r in records.items() if r and not r["translated"]]
            source_event = (waiting or listed)[-1]
        record = records[source_event]
        assert record is not None
        target, text = await self._target_of(ctx, record, text)
        if not text:
            raise CommandError("write the translation after !tr, e.g. !tr sv: Vi ses i morgon.")
        body, body_html = render.translation(text, target, translator=ctx.sender)
        record["translated"][target] = ctx.sender
        terms = state.find_terms(await state.glossary(ctx.tx), record["text"])
        data = Translation(
            kind="translation", status="translated", source_event_id=source_event,
            source_language=record["source"], target_languages=record["targets"],
            translated_languages=[t for t in record["targets"] if t in record["translated"]],
            target_language=target, volunteers=record.get("volunteers", []),
            translator=ctx.sender, requested_by=record["requested_by"],
            glossary_hits=_hits(terms),
        )  # fmt: skip
        await ctx.reply(body, html_body=body_html, data=data)
        await state.remember(
            ctx.tx, record["text"], record["source"], target, text,
            by=ctx.sender, machine=False, source_event=source_event,
        )  # fmt: skip
        await state.save_prompt(ctx.tx, source_event, record)
        await self._refresh_prompt(ctx, source_event, record)

    async def _target_of(self, ctx: Context, record: dict[str, Any], text: str) -> tuple[str, str]:
        """The language a `!tr` answer is in: an explicit ``xx:`` prefix, the pair, or detection."""
        targets: list[str] = record["targets"]
        m = LANG_PREFIX.match(text)
        if m and m.group(1).lower() in language_codes():
            code = m.group(1).lower()
            if same_language(code, record["source"]):
                raise CommandError(
                    f"the message is already {named(code)}; translate it into " + ", ".join(targets)
                )
            return code, m.group(2).strip()
        if len(targets) == 1:
            return targets[0], text
        pairs = (await state.volunteers(ctx.tx)).get(ctx.sender, [])
        mine = [t for t in targets if any(same_language(a, record["source"]) and b == t
                                          for a, b in pairs)]  # fmt: skip
        if len(mine) == 1:
            return mine[0], text
        found = await self.detector.detect(clean(text), frozenset(targets))
        return (found.language if found and found.language in targets else targets[0]), text

    @command(
        "translate",
        Arg("language", optional=True, parse=parse.language, help="ISO 639-1 code, e.g. en"),
        summary="as a reply to a message: ask for it in a language",
        example="!translate en",
    )
    async def translate(self, ctx: Context, *, language: str | None) -> None:
        """Ask for one message in one language (volunteers, memory, or machine if opted in)."""
        target_id = ctx.event.reply_to
        if target_id is None or ctx.event.relates_to.get("is_falling_back"):
            raise CommandError(
                "send !translate as a reply to the message you want translated "
                "(in Element: hover the message, Reply, then !translate en)"
            )
        try:
            source = await self.session.fetch_event(ctx.room_id, target_id)
        except MessengerError as e:
            raise CommandError(f"cannot read the message you replied to: {e}") from None
        if source.decrypt_error or not source.body.strip():
            raise CommandError("the message you replied to has no text I can read (yet)")
        working = await self.working_languages(ctx)
        text = clean(source.body) or source.body
        found = await self.detect(ctx.tx, text, {language} if language else None)
        if found is None:
            raise CommandError("cannot tell which language that message is in")
        if language is None:
            language = next((w for w in working if not same_language(w, found.language)), None)
            if language is None:
                raise CommandError("name the language you want, e.g. !translate en")
        if same_language(language, found.language):
            raise CommandError(f"that message already looks {named(found.language)}")
        existing = await state.prompt(ctx.tx, target_id)
        if existing and existing.get("prompt_key") and language not in existing["translated"]:
            if language not in existing["targets"]:
                existing["targets"].append(language)
                await state.save_prompt(ctx.tx, target_id, existing)
                await self._refresh_prompt(ctx, target_id, existing)
            await ctx.reply(
                f"That message already has a translation prompt; it now asks for {named(language)} "
                "too. Volunteers answer in its thread.",
                data=Notice(kind="info", bot=self.name, command="translate"),
            )
            return
        await self.ask(ctx, target_id, source.body, found, [language], requested_by=ctx.sender)
