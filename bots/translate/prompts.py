"""Provides how a message finds its translation: memory, machine, or a prompt to volunteers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bots.translate import render, store
from bots.translate.detect import Detection
from bots.translate.model import Memory, Prompt, Term, find_terms, glossary_hits, volunteers_for
from bots.translate.providers import ProviderError
from messenger.botkit.context import Context
from messenger.i18n import N_
from messenger.protocol.translation import Translation

if TYPE_CHECKING:
    from bots.translate.bot import TranslateBot

MT_FAILED = N_("machine translation failed: {error}")
"""A note on the card (kept in the record in the room's language: cards are the room's)."""


def payload(source_event: str, record: Prompt, terms: list[Term], **fields: Any) -> Translation:
    """The ``org.samverkan.translation`` content about ``record``; ``fields`` add or override."""
    common: dict[str, Any] = {
        "source_event_id": source_event,
        "source_language": record.source,
        "target_languages": record.targets,
        "requested_by": record.requested_by,
        "confidence": record.confidence,
        "glossary_hits": glossary_hits(terms),
    }
    return Translation(**{**common, **fields})


async def ask(
    bot: TranslateBot,
    ctx: Context,
    source_event: str,
    text: str,
    found: Detection,
    targets: list[str],
    *,
    requested_by: str | None,
) -> None:
    """Answer from memory, by machine (opted-in rooms), or with one prompt to volunteers.

    Asked again, the record keeps its first asker; the answers' payloads name this one.
    """
    src = found.language
    terms = find_terms(await store.load_glossary(ctx.tx), text)
    record = Prompt(
        room_id=ctx.room_id,
        thread_root=ctx.event.thread_root or ctx.event.event_id,
        text=text,
        source=src,
        confidence=found.confidence,
        targets=targets,
        requested_by=requested_by,
    )
    old = await store.load_prompt(ctx.tx, source_event)
    if old:
        record.carry_over(old)
    mt_on = await bot.mt_on(ctx)
    remembered: dict[str, Memory] = {}
    for t in targets:
        mem = await store.recall(ctx.tx, text, src, t)
        if mem and (mt_on or not mem.machine):
            remembered[t] = mem
    for target, mem in remembered.items():
        record.translated[target] = mem.by or "memory"
        body, body_html = render.translation(
            mem.text, target, ctx.room_t, translator=None, reused_from=mem.by
        )
        data = payload(
            source_event, record, terms, kind="translation", status="translated",
            requested_by=requested_by, target_languages=targets, target_language=target,
            translated_languages=list(remembered), translator=mem.by, machine=mem.machine,
            provider=mem.provider, reused=True,
        )  # fmt: skip
        await ctx.reply(body, html_body=body_html, data=data)
    if remembered:
        await store.save_prompt(ctx.tx, source_event, record)
        return
    if requested_by and mt_on:
        if await _machine_answer(bot, ctx, source_event, record, terms, targets, requested_by):
            return
    await _prompt(bot, ctx, source_event, record, terms, requested_by)


async def _machine_answer(
    bot: TranslateBot, ctx: Context, source_event: str, record: Prompt, terms: list[Term],
    targets: list[str], requested_by: str,
) -> bool:  # fmt: skip
    target = targets[0]
    try:
        result, missing, provider = await bot.machine(ctx.tx, record.text, record.source, target)
    except ProviderError as e:
        record.notes.append(ctx.room_t.gettext(MT_FAILED).format(error=e))
        return False
    record.translated[target] = f"machine:{provider}"
    body, body_html = render.translation(
        result, target, ctx.room_t, translator=None, machine=provider, kept_missing=missing
    )
    data = payload(
        source_event, record, terms, kind="translation", status="translated",
        requested_by=requested_by, target_languages=targets, target_language=target,
        translated_languages=[target],
        translator=f"machine:{provider}", machine=True, provider=provider,
    )  # fmt: skip
    await ctx.reply(body, html_body=body_html, data=data)
    memory = Memory(
        result, by=f"machine:{provider}", machine=True, provider=provider,
        source_event=source_event,
    )  # fmt: skip
    await store.remember(ctx.tx, record.text, record.source, target, memory)
    await store.save_prompt(ctx.tx, source_event, record)
    return True


async def _prompt(
    bot: TranslateBot, ctx: Context, source_event: str, record: Prompt, terms: list[Term],
    requested_by: str | None,
) -> None:  # fmt: skip
    """One threaded prompt naming the volunteers (mentioning those in the room)."""
    vols = volunteers_for(await store.load_volunteers(ctx.tx), record.source, record.targets)
    present = await bot.present(ctx.room_id) if vols else set()
    if record.requested_by is None and await bot.mt_on(ctx):
        for target in record.targets[:2]:
            try:
                record.drafts[target], _missing, record.provider = await bot.machine(
                    ctx.tx, record.text, record.source, target
                )
            except ProviderError as e:
                record.notes.append(ctx.room_t.gettext(MT_FAILED).format(error=e))
                break
    record.volunteers, record.present = vols, sorted(present)
    record.prompt_key = f"tr-prompt:{source_event}"
    body, body_html = render.prompt(record, terms, ctx.room_t)
    data = _prompt_payload(source_event, record, terms, requested_by=requested_by)
    mentions = [u for u in vols if u in present]
    await ctx.reply(body, html_body=body_html, data=data, key=record.prompt_key, mentions=mentions)
    await store.save_prompt(ctx.tx, source_event, record)


def _prompt_payload(
    source_event: str, record: Prompt, terms: list[Term], **fields: Any
) -> Translation:
    done = record.done()
    return payload(
        source_event, record, terms, kind="prompt",
        status="translated" if done else "prompted", volunteers=record.volunteers,
        translated_languages=done, **fields,
    )  # fmt: skip


async def refresh_prompt(ctx: Context, source_event: str, record: Prompt) -> None:
    """Edit the prompt (if one was sent) to show what is translated and asked for now."""
    if not record.prompt_key:
        return
    terms = find_terms(await store.load_glossary(ctx.tx), record.text)
    body, body_html = render.prompt(record, terms, ctx.room_t)
    data = _prompt_payload(source_event, record, terms)
    await ctx.edit(record.room_id, record.prompt_key, body, html_body=body_html, data=data)
