"""Provides the ``!request`` commands: ask, list, show, approve (in part), deny, fulfil, withdraw.

Every handler validates before it writes; a ``CommandError`` undoes everything it wrote
(request, pool, ledger entry, queued replies), so bad input leaves state unchanged.
Approvals read and update the pool inside the command's store transaction, and the store
runs one transaction at a time: two coordinators approving at the same moment are served
one after the other, and the second sees what the first took.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bots.resources import store
from bots.resources.model import KINDS, Request, check_unit_amount, decimal_str, ms_date, unit_for
from bots.resources.parse import (
    parse_amount,
    parse_date,
    parse_filter,
    parse_request_id,
    parse_request_kind,
    parse_unit,
)
from bots.resources.projects import check_project, parse_project, publish
from bots.resources.render import card, card_data, fitted_list
from bots.resources.words import amount as show
from bots.resources.words import pool_label, status
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL
from messenger.i18n import N_

if TYPE_CHECKING:
    from bots.resources.bot import ResourcesBot  # noqa: F401 (named by the Commands base)

MAX_WHAT_CHARS = 500
LIST_TITLES = {
    "open": N_("Open requests"),
    "mine": N_("Your requests"),
    "all": N_("All requests"),
}
ID_HELP = N_("the request ID, e.g. R12")


def card_key(rid: str) -> str:
    """Outbox key of a request's card (edited in place)."""
    return f"card:{rid}"


def _amount_of(minor: int | None, unit: str) -> int | None:
    if minor is not None:
        try:
            check_unit_amount(minor, unit)
        except ValueError as e:
            raise CommandError(
                N_("amount {amount}: {reason}"), amount=decimal_str(minor), reason=str(e)
            ) from None
    return minor


def checked_unit(kind: str, unit: str | None) -> str:
    """The unit a kind is counted in, or a CommandError naming the units it allows."""
    try:
        return unit_for(kind, unit)
    except ValueError:
        allowed = KINDS[kind]
        raise CommandError(
            N_("{kind} is counted in {units}, not {unit} (e.g. --unit {example})"),
            kind=kind, units="/".join(allowed), unit=unit, example=allowed[-1],
        ) from None  # fmt: skip


async def load_here(ctx: Context, rid: str) -> Request:
    """A request of this room, or a CommandError naming the ID."""
    req = await store.load_request(ctx.tx, rid)
    if req is None or req.room_id != ctx.room_id:
        raise CommandError(
            N_("there is no request {id} in this room; see {hint}"),
            id=rid, hint="!request list all",
        )  # fmt: skip
    return req


async def refresh_card(ctx: Context, req: Request) -> None:
    """Edit the request's card in place to show its new status, in the room's language (the
    card is the room's, whoever acted on it)."""
    text, html_body = card(ctx.room_t, req)
    await ctx.edit(req.room_id, card_key(req.id), text, html_body=html_body, data=card_data(req))
    await publish(ctx, req)  # a project's granted/spent follow every status change


class RequestCommands(Commands["ResourcesBot"]):
    """The request lifecycle: open → approved/denied → fulfilled, or withdrawn."""

    @command(
        "request",
        Arg(
            "kind",
            N_("what kind of resource: funding, hours, materials, venue, translation"),
            parse=parse_request_kind,
        ),
        Arg("what", N_("what you need (quote text with spaces)"), rest=True),
        Opt("amount", N_("how much (at most 2 decimals)"), parse=parse_amount, metavar="N"),
        Opt("by", N_("needed by this date"), parse=parse_date, metavar="DATE"),
        Opt("for", N_("the purpose"), metavar='"purpose"'),
        Opt(
            "unit",
            N_("SEK or EUR for funding (default: the unit of this room's or the org's pool)"),
            parse=parse_unit,
            metavar="SEK|EUR|hours|items",
        ),
        Opt("project", N_("the project it is for, e.g. P1"), parse=parse_project, metavar="P"),
        summary=N_("ask for a resource (funding, hours, materials, venue, translation)"),
        example='!request funding "Flyers for the summit" --amount 1500 --by {date+30}',
    )
    async def request(
        self,
        ctx: Context,
        *,
        kind: str,
        what: str,
        amount: int | None,
        by: str | None,
        unit: str | None,
        project: str | None,
        **extra: Any,
    ) -> None:
        """Open a request and post its card."""
        purpose: str | None = extra.get("for")
        if project is not None:
            await check_project(ctx, project)
        what = what.strip()
        if not what or len(what) > MAX_WHAT_CHARS:
            raise CommandError(N_("say what you need in 1 to {max} characters"), max=MAX_WHAT_CHARS)
        if purpose is not None and (not purpose.strip() or len(purpose) > MAX_WHAT_CHARS):
            raise CommandError(
                N_("--for needs a purpose of 1 to {max} characters"), max=MAX_WHAT_CHARS
            )
        if unit is None:
            unit = await store.default_unit(ctx.tx, kind, ctx.room_id)
        unit = checked_unit(kind, unit)
        amount = _amount_of(amount, unit)
        now = self.bot.now_ms()
        if by is not None and by < ms_date(now):
            raise CommandError(
                N_("--by {date} is in the past; give a date from {today} on"),
                date=by, today=ms_date(now),
            )  # fmt: skip
        assert ctx.group is not None
        rid = await store.next_request_id(ctx.tx)
        root = ctx.event.thread_root or ctx.event.event_id
        req = Request(
            id=rid,
            room_id=ctx.room_id,
            group=ctx.group.slug,
            kind=kind,
            unit=unit,
            what=what,
            purpose=purpose.strip() if purpose else None,
            requester=ctx.sender,
            created_at=now,
            amount=amount,
            by=by,
            thread_root=root,
            project=project,
        )
        await store.save_request(ctx.tx, req)
        await publish(ctx, req)
        if ctx.event.thread_root is None:
            await store.link_thread(ctx.tx, root, rid)
        await store.schedule_reminder(ctx.tx, req, now)
        await self.bot.record(
            ctx,
            "request.create",
            {
                "id": rid,
                "room_id": req.room_id,
                "kind": kind,
                "unit": unit,
                "what": what,
                "purpose": req.purpose,
                "amount": amount,
                "by": by,
                **({"project": project} if project else {}),
            },
        )
        text, html_body = card(ctx.room_t, req)  # the room's card, edited in place later
        await ctx.reply(text, html_body=html_body, data=card_data(req), key=card_key(rid))

    @command(
        "request list",
        Arg("which", N_("open (undecided or not yet fulfilled), mine or all"),
            parse=parse_filter, optional=True),
        summary=N_("list this room's requests"),
        example="!request list mine",
    )  # fmt: skip
    async def request_list(self, ctx: Context, *, which: str | None) -> None:
        """Answer with the room's requests."""
        which = which or "open"
        reqs = [r for r in await store.all_requests(ctx.tx) if r.room_id == ctx.room_id]
        if which == "open":
            reqs = [r for r in reqs if r.status in {"open", "approved"}]
        elif which == "mine":
            reqs = [r for r in reqs if r.requester == ctx.sender]
        title = ctx._(LIST_TITLES[which])
        text, html_body, data = fitted_list(ctx.t, reqs, title, which)
        await ctx.reply(text, html_body=html_body, data=data)

    @command(
        "request show",
        Arg("id", ID_HELP, parse=parse_request_id),
        summary=N_("show a request with its comments"),
        example="!request show R12",
    )
    async def request_show(self, ctx: Context, *, id: str) -> None:
        """Answer with the card and the thread's comments."""
        req = await load_here(ctx, id)
        text, html_body = card(ctx.t, req, comments=True)
        await ctx.reply(text, html_body=html_body, data=card_data(req))

    @command(
        "request approve",
        Arg("id", ID_HELP, parse=parse_request_id),
        Opt("amount", N_("approve only part of it"), parse=parse_amount, metavar="N"),
        summary=N_("approve a request, all or part of it, from the room's (or the org's) pool"),
        example="!request approve R12 --amount 1000",
        power=COORDINATOR_LEVEL,
    )
    async def request_approve(self, ctx: Context, *, id: str, amount: int | None) -> None:
        """Grant from the pool in one transaction; refuse anything that would overdraw it."""
        req = await load_here(ctx, id)
        if req.status != "open":
            raise CommandError(
                N_("{id} is already {status}; only open requests can be approved"),
                id=id, status=status(ctx.t, req.status),
            )  # fmt: skip
        if ctx.sender == req.requester and self.bot.org.bots.four_eyes:
            raise CommandError(
                N_(
                    "{id} is your own request: another coordinator of this room must approve "
                    "it (four eyes). A group with one coordinator can allow approving one's "
                    "own requests with {setting} in the organisation file"
                ),
                id=id, setting="[bots] four_eyes = false",
            )  # fmt: skip
        granted = _amount_of(amount if amount is not None else req.amount, req.unit)
        if granted is not None and req.amount is not None and granted > req.amount:
            raise CommandError(
                N_("{id} asks for {amount}; approve at most that (or part of it with {option})"),
                id=id, amount=show(ctx.t, req.amount, req.unit), option="--amount N",
            )  # fmt: skip
        pool = None
        if granted is not None:
            pool = await store.pool_for(ctx.tx, req)
            if pool is None:
                raise CommandError(
                    N_(
                        "there is no {kind} pool in {unit} for this room or the organisation; "
                        "add one first: {hint}"
                    ),
                    kind=req.kind, unit=req.unit,
                    hint=f"!pool add {req.kind} N --unit {req.unit}",
                )  # fmt: skip
            if granted > pool.remaining:
                raise CommandError(
                    N_(
                        "the {pool} pool has {left} left, {id} needs {amount}; approve less "
                        "with {option} or add to the pool with {hint}"
                    ),
                    pool=pool_label(ctx.t, pool), left=show(ctx.t, pool.remaining, pool.unit),
                    id=id, amount=show(ctx.t, granted, req.unit), option="--amount N",
                    hint=f"!pool add {req.kind} N",
                )  # fmt: skip
            pool.granted += granted
            await store.save_pool(ctx.tx, pool)
        req.status, req.granted = "approved", granted
        req.pool = pool.id if pool else None
        req.decided_by, req.decided_at = ctx.sender, self.bot.now_ms()
        await store.save_request(ctx.tx, req)
        await self.bot.record(
            ctx,
            "request.approve",
            {
                "id": id,
                "amount": granted,
                "requested": req.amount,
                "pool": req.pool,
                "pool_remaining": pool.remaining if pool else None,
            },
        )
        t = ctx.t
        if granted is None:
            text = t.gettext("{id} approved for {who}.")
        elif req.amount is not None and granted < req.amount:
            text = t.gettext("{id} approved: {amount} (of {asked} asked) for {who}.")
        else:
            text = t.gettext("{id} approved: {amount} for {who}.")
        text = "🟢 " + text.format(
            id=id, amount=show(t, granted, req.unit), asked=show(t, req.amount, req.unit),
            who=req.requester,
        )  # fmt: skip
        if pool:
            text += " " + t.gettext("{pool} has {left} left.").format(
                pool=pool_label(t, pool), left=show(t, pool.remaining, pool.unit)
            )
        await ctx.reply(text, data=card_data(req), mentions=[req.requester])
        await refresh_card(ctx, req)

    @command(
        "request deny",
        Arg("id", ID_HELP, parse=parse_request_id),
        Arg("reason", N_("why (the requester sees it)"), rest=True),
        summary=N_("deny an open request, saying why"),
        example='!request deny R12 "No budget left this quarter"',
        power=COORDINATOR_LEVEL,
    )
    async def request_deny(self, ctx: Context, *, id: str, reason: str) -> None:
        """Close an open request with a reason."""
        req = await load_here(ctx, id)
        if req.status != "open":
            raise CommandError(
                N_("{id} is already {status}; only open requests can be denied"),
                id=id, status=status(ctx.t, req.status),
            )  # fmt: skip
        reason = reason.strip()
        if not reason or len(reason) > MAX_WHAT_CHARS:
            raise CommandError(N_("give a reason of 1 to {max} characters"), max=MAX_WHAT_CHARS)
        req.status, req.reason = "denied", reason
        req.decided_by, req.decided_at = ctx.sender, self.bot.now_ms()
        await store.save_request(ctx.tx, req)
        await self.bot.record(ctx, "request.deny", {"id": id, "reason": reason})
        text = "🔴 " + ctx._("{id} denied: {reason}").format(id=id, reason=reason)
        await ctx.reply(text, data=card_data(req), mentions=[req.requester])
        await refresh_card(ctx, req)

    @command(
        "request fulfil",
        Arg("id", ID_HELP, parse=parse_request_id),
        summary=N_("mark an approved request as delivered (its grant counts as spent)"),
        example="!request fulfil R12",
        power=COORDINATOR_LEVEL,
        aliases=("request fulfill",),
    )
    async def request_fulfil(self, ctx: Context, *, id: str) -> None:
        """Approved → fulfilled; the granted amount counts as spent from its pool."""
        req = await load_here(ctx, id)
        if req.status != "approved":
            raise CommandError(
                N_("{id} is {status}; only approved requests can be fulfilled"),
                id=id, status=status(ctx.t, req.status),
            )  # fmt: skip
        if req.pool and req.granted:
            pool = await store.load_pool(ctx.tx, req.pool)
            if pool is not None:
                pool.spent += req.granted
                await store.save_pool(ctx.tx, pool)
        req.status, req.fulfilled_by, req.fulfilled_at = "fulfilled", ctx.sender, self.bot.now_ms()
        await store.save_request(ctx.tx, req)
        await self.bot.record(
            ctx, "request.fulfil", {"id": id, "amount": req.granted, "pool": req.pool}
        )
        text = "✅ " + ctx._("{id} fulfilled.").format(id=id)
        await ctx.reply(text, data=card_data(req), mentions=[req.requester])
        await refresh_card(ctx, req)

    @command(
        "request withdraw",
        Arg("id", ID_HELP, parse=parse_request_id),
        summary=N_("withdraw your own request (an approved grant goes back to the pool)"),
        example="!request withdraw R12",
    )
    async def request_withdraw(self, ctx: Context, *, id: str) -> None:
        """Only the requester withdraws; open or approved (not yet fulfilled) requests only."""
        req = await load_here(ctx, id)
        if ctx.sender != req.requester:
            raise CommandError(
                N_("only {who}, who made {id}, can withdraw it"), who=req.requester, id=id
            )
        if req.status not in {"open", "approved"}:
            raise CommandError(
                N_("{id} is already {status}; it cannot be withdrawn"),
                id=id, status=status(ctx.t, req.status),
            )  # fmt: skip
        released = None
        if req.status == "approved" and req.pool and req.granted:
            pool = await store.load_pool(ctx.tx, req.pool)
            if pool is not None:
                pool.granted -= req.granted
                released = req.granted
                await store.save_pool(ctx.tx, pool)
        req.status, req.withdrawn_at = "withdrawn", self.bot.now_ms()
        await store.save_request(ctx.tx, req)
        await self.bot.record(ctx, "request.withdraw", {"id": id, "released": released})
        text = "⚪ " + ctx._("{id} withdrawn.").format(id=id)
        if released:
            text += " " + ctx._("{amount} went back to the pool.").format(
                amount=show(ctx.t, released, req.unit)
            )
        await ctx.reply(text, data=card_data(req))
        await refresh_card(ctx, req)
