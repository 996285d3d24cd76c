"""Provides the commands that change the library: ``!kb add``, ``edit``, ``remove``, ``share``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.library import parse, render, sources
from bots.library import store as s
from bots.library.model import Entry
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL
from messenger.i18n import N_
from messenger.protocol.library import EntryType

if TYPE_CHECKING:
    from bots.library.bot import LibraryBot  # noqa: F401 (named in Commands["LibraryBot"])

ID = Arg("id", N_("an entry ID, e.g. K3"), parse=parse.entry_id)
TYPE = Opt(
    "type", N_("guide, case, lesson, resource or minutes"), parse=parse.entry_type, metavar="TYPE"
)
TAGS = Opt("tags", N_("comma-separated words, e.g. kenya,youth"), parse=parse.tags, metavar="a,b")
LANG = Opt("lang", N_("the entry's language, e.g. da"), parse=parse.language, metavar="xx")


def _text(words: str | None) -> str:
    text = (words or "").strip()
    if len(text) > parse.MAX_TEXT:
        raise CommandError(N_("the text is too long (at most 200,000 characters)"))
    return text


class EntryCommands(Commands["LibraryBot"]):
    """Add entries (from a reply, a file or the words given), edit, remove and share them."""

    @command(
        "kb add",
        Arg("title", N_("the entry's title, in quotes"), parse=parse.title),
        Arg(
            "text", N_("the entry's text (or reply to a message or file)"), rest=True, optional=True
        ),
        TYPE,
        TAGS,
        LANG,
        summary=N_(
            "Add an entry: as a reply to a message or an encrypted file (text, Markdown, PDF, "
            "DOCX, ODT), or with its text after the options."
        ),
        example='!kb add "Frivilliges erfaringer fra valgkampen" --type lesson --tags kenya '
        "Start tidligt med lokale frivillige.",
    )
    async def add(
        self,
        ctx: Context,
        *,
        title: str,
        text: str | None,
        type: EntryType | None,
        tags: list[str] | None,
        lang: str | None,
    ) -> None:
        words = _text(text)
        reply_to = ctx.event.reply_to
        source = None
        if reply_to and not ctx.event.relates_to.get("is_falling_back"):
            source = await sources.read(self.bot, ctx.room_id, reply_to)
        if source is None and not words:
            raise CommandError(
                N_(
                    "an entry needs text: send !kb add as a reply to a message or file, or write "
                    "the text after the options"
                )
            )
        body = "\n\n".join(p for p in (words, source.text if source else "") if p)
        now = self.bot.now_ms()
        entry = Entry(
            id=await s.next_id(ctx.tx),
            room=ctx.room_id,
            title=title,
            type=type or "resource",
            tags=tags or [],
            lang=lang,
            text=body[: parse.MAX_TEXT],
            author=ctx.sender,
            created_ms=now,
            updated_ms=now,
            source_event=source.event_id if source else ctx.event.event_id,
            file=source.file if source else None,
        )
        await self.bot.save(ctx.tx, entry)
        if source and source.data is not None:
            await s.save_file(ctx.tx, entry.id, source.data)
        await self.bot.post_card(
            ctx.tx, entry, ctx.event.event_id, cause=f"add:{ctx.event.event_id}"
        )

    async def _changeable(self, ctx: Context, entry_id: str, action: str) -> Entry:
        entry = await self.bot.entry_here(ctx, entry_id)
        if not self.bot.may_change(ctx, entry):
            raise CommandError(action, id=entry.id, author=entry.author, level=COORDINATOR_LEVEL)
        return entry

    @command(
        "kb edit",
        ID,
        Arg("text", N_("new text, replacing the old"), rest=True, optional=True),
        Opt("title", N_("a new title, in quotes"), parse=parse.title, metavar='"TITLE"'),
        TAGS,
        TYPE,
        LANG,
        summary=N_(
            "Change an entry's title, tags, type, language or text (its author or a coordinator)."
        ),
        example='!kb edit K3 --title "Valgkampens frivillige" --tags kenya,youth',
    )
    async def edit(
        self,
        ctx: Context,
        *,
        id: str,
        text: str | None,
        title: str | None,
        tags: list[str] | None,
        type: EntryType | None,
        lang: str | None,
    ) -> None:
        entry = await self._changeable(
            ctx,
            id,
            N_("only {id}'s author ({author}) or a coordinator (power level {level}) can edit it"),
        )
        words = _text(text)
        if not (words or title or tags or type or lang):
            raise CommandError(
                N_("say what to change: --title, --tags, --type, --lang or new text")
            )
        entry.title = title or entry.title
        entry.tags = tags if tags is not None else entry.tags
        entry.type = type or entry.type
        entry.lang = lang or entry.lang
        entry.text = words or entry.text
        entry.updated_ms = self.bot.now_ms()
        entry.revision += 1
        await self.bot.save(ctx.tx, entry)
        await self.bot.edit_card(ctx.tx, entry)
        if entry.public:
            await self.bot.publish(ctx.tx, entry)
        text_, html_ = render.done(ctx._(N_("{id} is updated.")).format(id=entry.id))
        await ctx.reply(text_, html_body=html_, data=self.bot.info("kb edit"))

    @command(
        "kb remove",
        ID,
        summary=N_("Remove an entry from the library (its author or a coordinator)."),
        example="!kb remove K3",
    )
    async def remove(self, ctx: Context, *, id: str) -> None:
        entry = await self._changeable(
            ctx,
            id,
            N_(
                "only {id}'s author ({author}) or a coordinator (power level {level}) can remove it"
            ),
        )
        entry.removed = True
        entry.revision += 1
        entry.updated_ms = self.bot.now_ms()
        await self.bot.save(ctx.tx, entry)
        await s.delete_file(ctx.tx, entry.id)
        await self.bot.edit_card(ctx.tx, entry)
        if entry.public:
            await self.bot.publish(ctx.tx, entry)
        text_, html_ = render.done(
            ctx._(N_("{id} is removed from the library.")).format(id=entry.id)
        )
        await ctx.reply(text_, html_body=html_, data=self.bot.info("kb remove"))

    @command(
        "kb share",
        ID,
        Opt("org", N_("visible in every room of the organisation"), flag=True),
        Opt("partners", N_("a partnership's entry: partners see it too (with --org)"), flag=True),
        Opt("public", N_("list its title (only) in the public transparency report"), flag=True),
        Opt("room", N_("back to its own room only, and out of the public report"), flag=True),
        summary=N_("Share an entry beyond its room (coordinators of the entry's room)."),
        example="!kb share K3 --org",
    )
    async def share(
        self, ctx: Context, *, id: str, org: bool, partners: bool, public: bool, room: bool
    ) -> None:
        entry = await self.bot.entry_here(ctx, id)
        if not self.bot.is_coordinator(entry.room, ctx.sender):
            raise CommandError(
                N_("only a coordinator (power level {level}) of {id}'s room can share it"),
                id=entry.id,
                level=COORDINATOR_LEVEL,
            )
        if not (org or partners or public or room):
            raise CommandError(
                N_("say how to share it: --org, --org --partners, --public or --room")
            )
        if room and (org or partners or public):
            raise CommandError(N_("--room takes the sharing back; use it alone"))
        if partners:
            group = await self.bot.group_of(entry.room)
            if group is None or group.kind != "partnership":
                raise CommandError(
                    N_("--partners is for a partnership's entries; {id} is from a working group"),
                    id=entry.id,
                )
        if room:
            entry.scope, entry.public = "room", False
            said = N_("visible in its own room only again.")
        else:
            if partners:
                entry.scope = "partners"
            elif org:
                entry.scope = "org"
            entry.public = entry.public or public
            said = render.SCOPE_WORDS[entry.scope]
        entry.revision += 1
        await self.bot.save(ctx.tx, entry)
        await self.bot.edit_card(ctx.tx, entry)
        await self.bot.publish(ctx.tx, entry)
        words = [ctx._(said)]
        if entry.public:
            words.append(ctx._(N_("its title is listed in the public transparency report")))
        text_, html_ = render.done(f"{entry.id}: " + "; ".join(words))
        await ctx.reply(text_, html_body=html_, data=self.bot.info("kb share"))
