"""Provides the ``!pool``, ``!ledger verify`` and ``!report`` commands of the resources bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.resources import store
from bots.resources.book import stored_entries, verify_stored
from bots.resources.commands_requests import checked_unit
from bots.resources.model import Pool, check_unit_amount, date_ms, pool_id
from bots.resources.parse import parse_amount, parse_date, parse_kind, parse_unit
from bots.resources.render import fitted_report, pool_info, pool_table, report_csv
from bots.resources.words import amount as show
from bots.resources.words import day, pool_label
from crypto.errors import LedgerError
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context, thread_relation
from messenger.config import COORDINATOR_LEVEL, slugify
from messenger.i18n import N_
from messenger.protocol.resources import LedgerStatus, PoolList

if TYPE_CHECKING:
    from bots.resources.bot import ResourcesBot  # noqa: F401 (named by the Commands base)


HEAD_MISMATCH = N_("the chain's end does not match the stored head")


async def visible_pools(ctx: Context, room_ids: set[str]) -> list[Pool]:
    """Pools of these rooms, then the organisation's."""
    pools = await store.all_pools(ctx.tx)
    mine = [p for p in pools if p.scope == "room" and p.room_id in room_ids]
    org = [p for p in pools if p.scope == "org"]
    return sorted(mine, key=lambda p: (p.kind, p.unit)) + sorted(
        org, key=lambda p: (p.kind, p.unit)
    )


class AuditCommands(Commands["ResourcesBot"]):
    """Pools, the ledger check, and the transparency report."""

    @command(
        "pool add",
        Arg("kind", N_("funding, hours, materials, venue or translation"), parse=parse_kind),
        Arg("amount", N_("how much to add (at most 2 decimals)"), parse=parse_amount),
        Opt("unit", N_("funding: SEK (default) or EUR"), parse=parse_unit,
            metavar="SEK|EUR|hours|items"),
        Opt("org", N_("add to the organisation-wide pool instead of this room's"), flag=True),
        summary=N_("add to this room's (or the organisation's) pool"),
        example="!pool add funding 5000 --unit SEK",
        power=COORDINATOR_LEVEL,
    )  # fmt: skip
    async def pool_add(
        self, ctx: Context, *, kind: str, amount: int, unit: str | None, org: bool
    ) -> None:
        """Grow a pool, creating it on first use."""
        unit = checked_unit(kind, unit)
        try:
            check_unit_amount(amount, unit)
        except ValueError as e:
            raise CommandError(str(e)) from None  # a catalogue msgid (model.ITEMS_WHOLE)
        room = None if org else ctx.room_id
        pid = pool_id(kind, unit, room)
        pool = await store.load_pool(ctx.tx, pid) or Pool(
            id=pid, scope="org" if org else "room", room_id=room, kind=kind, unit=unit
        )
        pool.total += amount
        await store.save_pool(ctx.tx, pool)
        await self.bot.record(
            ctx,
            "pool.add",
            {"pool": pid, "kind": kind, "unit": unit, "amount": amount, "total": pool.total},
        )
        t = ctx.t
        text = "➕ " + t.gettext("{amount} added to {pool}: total {total}, {left} left.").format(
            amount=show(t, amount, unit), pool=pool_label(t, pool),
            total=show(t, pool.total, unit), left=show(t, pool.remaining, unit),
        )  # fmt: skip
        await ctx.reply(text, data=PoolList(pools=[pool_info(pool)]))

    @command("pool show", summary=N_("show this room's and the organisation's pools"))
    async def pool_show(self, ctx: Context) -> None:
        """Answer with total, granted, spent and remaining per pool."""
        pools = await visible_pools(ctx, {ctx.room_id})
        text, html_body = pool_table(ctx.t, pools)
        await ctx.reply(
            text, html_body=html_body, data=PoolList(pools=[pool_info(p) for p in pools])
        )

    @command(
        "ledger verify", summary=N_("check every signature and link of the transparency ledger")
    )
    async def ledger_verify(self, ctx: Context) -> None:
        """Verify the whole chain; name the first broken entry if any."""
        key = await self.bot.book.public_key(ctx.tx)
        head, count = await self.bot.book.head(ctx.tx)
        entries = await stored_entries(ctx.tx)
        b64 = key.to_base64()
        try:
            verified = await verify_stored(entries, key)
            problem = None if verified == head else HEAD_MISMATCH
            broken = None if problem is None else len(entries)
        except LedgerError as e:
            problem, broken = str(e), e.index
        t = ctx.t
        key_line = t.gettext("Verification key (Ed25519): {key}").format(key=b64)
        if problem is None:
            intact = t.ngettext(
                "ledger intact: {n} entry, every signature and link checks out.",
                "ledger intact: {n} entries, every signature and link checks out.",
                len(entries),
            ).format(n=t.number(len(entries)))
            offline = t.gettext("Offline: {export}, then {verify}").format(
                export="samverkan ledger export FILE",
                verify=f"samverkan ledger verify FILE --key {b64} --head {head}",
            )
            head_line = t.gettext("Head: {head}").format(head=head)
            text = f"✅ {intact}\n{head_line}\n{key_line}\n{offline}"
        else:
            # the problem is the ledger checker's own (English) account, as the CLI prints it
            broken_text = t.gettext("ledger BROKEN at entry {index}: {problem}").format(
                index=broken, problem=t.gettext(problem)
            )
            text = f"❌ {broken_text}\n{key_line}"
        data = LedgerStatus(
            ok=problem is None, entries=count, head=head, key=b64, broken_index=broken,
            problem=problem,
        )  # fmt: skip
        await ctx.reply(text, data=data)

    @command(
        "report",
        Opt("since", N_("only requests with activity on or after this date"), parse=parse_date,
            metavar="DATE"),
        Opt("room", N_("another group's name, or 'all' (you must coordinate them)"),
            metavar="NAME|all"),
        summary=N_("post a transparency report (HTML and an encrypted CSV) with the ledger head"),
        example="!report --since 2026-01-01",
    )  # fmt: skip
    async def report(self, ctx: Context, *, since: str | None, room: str | None) -> None:
        """Per pool: granted, spent, remaining; per request: who asked, what, who decided."""
        rooms, scope = await self._report_rooms(ctx, room)
        pools = await visible_pools(ctx, rooms)
        reqs = [r for r in await store.all_requests(ctx.tx) if r.room_id in rooms]
        if since is not None:
            cut = date_ms(since)
            reqs = [r for r in reqs if r.last_activity >= cut]
            scope = ctx._("{scope}, since {date}").format(scope=scope, date=day(ctx.t, since))
        key = (await self.bot.book.public_key(ctx.tx)).to_base64()
        head, count = await self.bot.book.head(ctx.tx)
        text, html_body, data = fitted_report(
            ctx.t, pools, reqs, head, key, count, scope, since, sorted(rooms)
        )
        await ctx.reply(text, html_body=html_body, data=data)
        csv_bytes = report_csv(pools, reqs, head, key, count)
        name = f"transparency-report-{self.bot.today().isoformat()}.csv"
        file_block = await self.bot.session.upload_encrypted(csv_bytes, "text/csv", name)
        await ctx.send(
            ctx.room_id,
            {
                "msgtype": "m.file",
                "body": name,
                "filename": name,
                "file": file_block,
                "info": {"mimetype": "text/csv", "size": len(csv_bytes)},
                "m.relates_to": thread_relation(ctx.event),
            },
        )

    async def _report_rooms(self, ctx: Context, room: str | None) -> tuple[set[str], str]:
        """The rooms a report covers; other rooms only for their coordinators."""
        assert ctx.group is not None
        if room is None:
            return {ctx.room_id}, ctx.group.name
        wanted = slugify(room)
        groups = [g for g in self.bot.org.groups if room == "all" or g.slug == wanted]
        if not groups:
            names = ", ".join(g.name for g in self.bot.org.groups)
            raise CommandError(
                N_("no group called {name}; groups: {names}, or {all}"),
                name=repr(room), names=names, all="all",
            )  # fmt: skip
        refused = [g.name for g in groups if ctx.sender not in g.coordinators]
        if refused:
            raise CommandError(
                N_(
                    "a report on another group needs you to coordinate it; you do not "
                    "coordinate {groups}"
                ),
                groups=", ".join(refused),
            )
        slugs = {g.slug for g in groups}
        rooms = {ctx.room_id} if ctx.group.slug in slugs else set()
        rooms |= await store.marked_rooms(ctx.tx, slugs)
        for r in await store.all_requests(ctx.tx):
            if r.group in slugs:
                rooms.add(r.room_id)
        return rooms, ctx._("all groups") if room == "all" else groups[0].name
