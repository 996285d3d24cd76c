"""Provides the commands and notices every bot has without declaring them: ``!help``,
``!locale``, and the notice that an unencrypted command was ignored."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from messenger.botkit.commands import is_command
from messenger.botkit.context import Context, notice_content
from messenger.i18n import available, normalise, translator
from messenger.poison import poison_log
from messenger.protocol import Notice

if TYPE_CHECKING:
    from messenger.botkit.bot import Bot

PLAINTEXT_NOTICE_NS = "plaintext-notice"


async def ignore_unauthenticated(bot: Bot, ctx: Context) -> None:
    """An event not end-to-end encrypted from an authenticated device, in an encrypted room:
    the homeserver (or anyone with a member's token) could have forged it, so nothing is
    done. Logged once per room and sender; one notice per room per hour at most."""
    event = ctx.event
    if event.type == "m.room.encrypted":
        return  # undecryptable: retried when its key arrives, reported by the UTD notice
    why = "unencrypted" if not event.encrypted else "from an unauthenticated device"
    poison_log.note(
        f"plaintext:{event.room_id}:{event.sender}",
        "%s: ignoring %s %s event %s from %s in %s",
        bot.user_id,
        why,
        event.type,
        event.event_id,
        event.sender,
        event.room_id,
    )
    if not bot.primary or not (event.is_message and is_command(event.body)):
        return
    hour = ctx.event.ts // 3_600_000
    key = f"{event.room_id}|{hour}"
    if await ctx.tx.get(PLAINTEXT_NOTICE_NS, key) is not None:
        return
    await ctx.tx.put(PLAINTEXT_NOTICE_NS, key, {"at": event.ts})
    text = ctx.room_t.gettext(
        "I ignored a command from {sender} that was not end-to-end encrypted "
        "(or not from a device of theirs I can authenticate). In this encrypted room only "
        "encrypted messages count as commands, because the server could forge anything "
        "else. Send it again from an app with encryption on (Element, the Samverkan TUI)."
    ).format(sender=event.sender)
    content = notice_content(text, None, Notice(kind="error", bot=bot.name), [event.sender])
    await bot.queue(ctx.tx, event.room_id, content, cause=f"plaintext:{key}")


async def locale_command(bot: Bot, ctx: Context, words: list[str]) -> None:
    """``!locale`` shows the asker's reply language; ``!locale sv`` sets it (for every bot
    of the runtime); an unknown code is refused with the available ones."""
    langs = ", ".join(available())
    if len(words) > 1:
        return await ctx.fail(
            ctx._("!locale takes one language code, e.g. !locale sv (available: {langs})").format(
                langs=langs
            )
        )
    if not words:
        current = bot.locale_for(ctx.sender, ctx.room_id, ctx.group)
        chosen = bot.prefs.member(ctx.sender, "locale")
        text = ctx._("Your replies are in {lang} ({how}). Available: {langs}.").format(
            lang=current,
            how=ctx._("your choice") if chosen else ctx._("the room's language"),
            langs=langs,
        )
        await ctx.reply(text, data=Notice(kind="info", bot=bot.name))
        return
    lang = normalise(words[0])
    if lang is None:
        return await ctx.fail(
            ctx._("there is no language {code}; available: {langs}. Example: !locale sv").format(
                code=words[0], langs=langs
            )
        )
    await bot.prefs.set_member(ctx.sender, "locale", lang)
    t = translator(lang)
    await ctx.reply(
        t.gettext("I will answer you in {lang} from now on.").format(lang=lang),
        data=Notice(kind="info", bot=bot.name),
    )


async def help_command(bot: Bot, ctx: Context, overview: bool) -> None:
    bots = bot.everyone if overview else [bot]
    lines, parts = [], []
    for b in bots:
        cmds = [c for c in b.table.commands]
        lines.append(f"{b.name} ({b.user_id}): !{b.name} help")
        lines += [f"  {c.usage()} — {ctx._(c.summary)}" for c in cmds]
        items = "".join(
            f"<li><code>{html.escape(c.usage())}</code> — {html.escape(ctx._(c.summary))}</li>"
            for c in cmds
        )
        parts.append(
            f"<p><b>{html.escape(b.name)}</b> ({html.escape(b.user_id)})</p><ul>{items}</ul>"
        )
    common = ctx._(
        "Every bot answers !ping. Put text with spaces in quotes. "
        "!locale sets the language of your replies."
    )
    await ctx.reply(
        "\n".join([*lines, common]),
        html_body="".join(parts) + f"<p>{common}</p>",
        data=Notice(kind="help", bot=bot.name),
    )
