"""Provides the commands that read the library: ``!kb search``, ``!kb show``, ``!kb list``."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from bots.library import parse, render
from bots.library import store as s
from bots.library.commands_entries import ID, TYPE
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context, thread_relation
from messenger.fulltext import MIN_TERM, query_terms, snippet
from messenger.i18n import N_
from messenger.protocol.library import EntryType, LibraryHit, LibrarySearch

if TYPE_CHECKING:
    from bots.library.bot import LibraryBot  # noqa: F401 (named in Commands["LibraryBot"])

TOP = 5
LIST_MAX = 30


class FindCommands(Commands["LibraryBot"]):
    """Search, read and list what the asker may see from the room they ask in."""

    @command(
        "kb search",
        Arg("words", N_("at least 3 letters a word; parts of words match too"), rest=True),
        summary=N_(
            "Find entries (the best 5) in the rooms you are in and those shared with everyone; "
            "words match inside compounds and without accents."
        ),
        example="!kb search valg frivillige",
    )
    async def search(self, ctx: Context, *, words: str) -> None:
        usable, short = query_terms(words)
        if not usable:
            raise CommandError(
                N_(
                    "search words need at least {n} letters ({words} is too short): shorter "
                    "ones would match almost every entry; e.g. !kb search valg"
                ),
                n=MIN_TERM,
                words=", ".join(short) or repr(words),
            )
        await self.bot.shelf.refresh(ctx.tx, settle=False)
        view = await self.bot.view(ctx)
        shelf = self.bot.shelf
        rank = shelf.index.rank(usable)
        shown_ids, withheld = [], 0
        for doc in rank:
            entry = shelf.entries.get(doc)
            if entry is None:
                continue
            if view.shows(entry):
                shown_ids.append(doc)
            elif view.asker_could(entry):
                withheld += 1
        shown = [shelf.entries[d] for d in heapq.nlargest(TOP, shown_ids, key=rank.__getitem__)]
        found = [(e, await self.bot.room_name(e.room), snippet(e.text, usable)) for e in shown]
        data = LibrarySearch(
            query=words,
            hits=[
                LibraryHit(id=e.id, title=e.title, type=e.type, room_id=e.room, snippet=text)
                for e, _room, text in found
            ],
            withheld=withheld,
        )
        text, html_body = render.hits(ctx.t, words, found, withheld)
        await ctx.reply(text, html_body=html_body, data=data)

    @command(
        "kb show",
        ID,
        summary=N_("Read a whole entry; the original file is sent again, encrypted."),
        example="!kb show K3",
    )
    async def show(self, ctx: Context, *, id: str) -> None:
        entry = await self.bot.entry_here(ctx, id)
        text, html_body = render.whole(ctx.t, entry, await self.bot.room_name(entry.room))
        await ctx.reply(text, html_body=html_body, data=self.bot.info("kb show"))
        if entry.file is None:
            return
        data = await s.load_file(ctx.tx, entry.id)
        if data is None:
            return
        file = await self.bot.session.upload_encrypted(data, entry.file.mimetype, entry.file.name)
        content = {
            "msgtype": "m.file",
            "body": entry.file.name,
            "filename": entry.file.name,
            "file": file,
            "info": {"mimetype": entry.file.mimetype, "size": len(data)},
            "m.relates_to": thread_relation(ctx.event),
        }
        await ctx.send(ctx.room_id, self.bot.info("kb show").attach(content))

    @command(
        "kb list",
        TYPE,
        Opt("tag", N_("one tag, e.g. kenya"), parse=parse.tag, metavar="TAG"),
        summary=N_("List the entries you can see here, newest first."),
        example="!kb list --type lesson",
    )
    async def list_entries(self, ctx: Context, *, type: EntryType | None, tag: str | None) -> None:
        await self.bot.shelf.refresh(ctx.tx, settle=False)
        view = await self.bot.view(ctx)
        entries = [
            e
            for e in self.bot.shelf.entries.values()
            if view.shows(e) and (type is None or e.type == type) and (tag is None or tag in e.tags)
        ]
        entries.sort(key=lambda e: (-e.created_ms, -int(e.id[1:])))
        found = [(e, await self.bot.room_name(e.room)) for e in entries[:LIST_MAX]]
        text, html_body = render.listing(ctx.t, found, len(entries))
        await ctx.reply(text, html_body=html_body, data=self.bot.info("kb list"))
