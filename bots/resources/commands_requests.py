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
from bots.resources.model import (
    KINDS,
    Request,
    check_unit_amount,
    decimal_str,
    ms_date,
    show_amount,
    unit_for,
)
from bots.resources.parse import (
    parse_amount,
    parse_date,
    parse_filter,
    parse_request_id,
    parse_request_kind,
    parse_unit,
)
from bots.resources.render import card, card_data, fitted_list
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL

if TYPE_CHECKING:
    from bots.resources.bot import ResourcesBot  # noqa: F401 (named by the Commands base)

MAX_WHAT_CHARS = 500


def card_key(rid: str) -> str:
    """Outbox key of a request's card (edited in place)."""
    return f"card:{rid}"


def _amount_of(minor: int | None, unit: str) -> int | None:
    if minor is not None:
        try:
            check_unit_amount(minor, unit)
        except ValueError as e:
            raise CommandError(f"amount {decimal_str(minor)}: {e}") from None
    return minor


async def load_here(ctx: Context, rid: str) -> Request:
    """A request of this room, or a CommandError naming the ID."""
    req = await store.load_request(ctx.tx, rid)
    if req is None or req.room_id != ctx.room_id:
        raise CommandError(f"there is no request {rid} in this room; see !request list all")
    return req


async def refresh_card(ctx: Context, req: Request) -> None:
    """Edit the request's card in place to show its new status."""
    text, html_body = card(req)
    await ctx.edit(req.room_id, card_key(req.id), text, html_body=html_body, data=card_data(req))


class RequestCommands(Commands["ResourcesBot"]):
    """The request lifecycle: open → approved/denied → fulfilled, or withdrawn."""

    @command(
        "request",
        Arg("kind", "what kind of resource: " + ", ".join(KINDS), parse=parse_request_kind),
        Arg("what", "what you need (quote text with spaces)", rest=True),
        Opt("amount", "how much (at most 2 decimals)", parse=parse_amount, metavar="N"),
        Opt("by", "needed by this date", parse=parse_date, metavar="DATE"),
        Opt("for", "the purpose", metavar='"purpose"'),
        Opt(
            "unit",
            "SEK or EUR for funding (default: the unit of this room's or the org's pool)",
            parse=parse_unit,
            metavar="SEK|EUR|hours|items",
        ),
        summary="ask for a resource (funding, hours, materials, venue, translation)",
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
        **extra: Any,
    ) -> None:
        """Open a request and post its card."""
        purpose: str | None = extra.get("for")
        what = what.strip()
        if not what or len(what) > MAX_WHAT_CHARS:
            raise CommandError(f"say what you need in 1 to {MAX_WHAT_CHARS} characters")
        if purpose is not None and (not purpose.strip() or len(purpose) > MAX_WHAT_CHARS):
            raise CommandError(f"--for needs a purpose of 1 to {MAX_WHAT_CHARS} characters")
        if unit is None:
            unit = await store.default_unit(ctx.tx, kind, ctx.room_id)
        try:
            unit = unit_for(kind, unit)
        except ValueError as e:
            raise CommandError(str(e)) from None
        amount = _amount_of(amount, unit)
        now = self.bot.now_ms()
        if by is not None and by < ms_date(now):
            raise CommandError(f"--by {by} is in the past; give a date from {ms_date(now)} on")
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
        )
        await store.save_request(ctx.tx, req)
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
            },
        )
        text, html_body = card(req)
        await ctx.reply(text, html_body=html_body, data=card_data(req), key=card_key(rid))

    @command(
        "request list",
        Arg("which", "open (undecided or not yet fulfilled), mine or all", parse=parse_filter,
            optional=True),
        summary="list this room's requests",
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
        title = {"open": "Open requests", "mine": "Your requests", "all": "All requests"}[which]
        text, html_body, data = fitted_list(reqs, title, which)
        await ctx.reply(text, html_body=html_body, data=data)

    @command(
        "request show",
        Arg("id", "the request ID, e.g. R12", parse=parse_request_id),
        summary="show a request with its comments",
        example="!request show R12",
    )
    async def request_show(self, ctx: Context, *, id: str) -> None:
        """Answer with the card and the thread's comments."""
        req = await load_here(ctx, id)
        text, html_body = card(req, comments=True)
        await ctx.reply(text, html_body=html_body, data=card_data(req))

    @command(
        "request approve",
        Arg("id", "the request ID, e.g. R12", parse=parse_request_id),
        Opt("amount", "approve only part of it", parse=parse_amount, metavar="N"),
        summary="approve a request, all or part of it, from the room's (or the org's) pool",
        example="!request approve R12 --amount 1000",
        power=COORDINATOR_LEVEL,
    )
    async def request_approve(self, ctx: Context, *, id: str, amount: int | None) -> None:
        """Grant from the pool in one transaction; refuse anything that would overdraw it."""
        req = await load_here(ctx, id)
        if req.status != "open":
            raise CommandError(f"{id} is already {req.status}; only open requests can be approved")
        if ctx.sender == req.requester and self.bot.org.bots.four_eyes:
            raise CommandError(
                f"{id} is your own request: another coordinator of this room must approve it "
                "(four eyes). A group with one coordinator can allow approving one's own "
                "requests with [bots] four_eyes = false in the organisation file"
            )
        granted = _amount_of(amount if amount is not None else req.amount, req.unit)
        if granted is not None and req.amount is not None and granted > req.amount:
            raise CommandError(
                f"{id} asks for {show_amount(req.amount, req.unit)}; approve at most that "
                f"(or part of it with --amount N)"
            )
        pool = None
        if granted is not None:
            pool = await store.pool_for(ctx.tx, req)
            if pool is None:
                raise CommandError(
                    f"there is no {req.kind} pool in {req.unit} for this room or the "
                    f"organisation; add one first: !pool add {req.kind} N --unit {req.unit}"
                )
            if granted > pool.remaining:
                raise CommandError(
                    f"the {pool.label} pool has {show_amount(pool.remaining, pool.unit)} left, "
                    f"{id} needs {show_amount(granted, req.unit)}; approve less with --amount N "
                    f"or add to the pool with !pool add {req.kind} N"
                )
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
        left = f" {pool.label} has {show_amount(pool.remaining, pool.unit)} left." if pool else ""
        part = (
            f" (of {show_amount(req.amount, req.unit)} asked)"
            if granted is not None and req.amount is not None and granted < req.amount
            else ""
        )
        what = show_amount(granted, req.unit) if granted is not None else "it"
        text = f"🟢 {id} approved: {what}{part} for {req.requester}.{left}"
        await ctx.reply(text, data=card_data(req), mentions=[req.requester])
        await refresh_card(ctx, req)

    @command(
        "request deny",
        Arg("id", "the request ID, e.g. R12", parse=parse_request_id),
        Arg("reason", "why (the requester sees it)", rest=True),
        summary="deny an open request, saying why",
        example='!request deny R12 "No budget left this quarter"',
        power=COORDINATOR_LEVEL,
    )
    async def request_deny(self, ctx: Context, *, id: str, reason: str) -> None:
        """Close an open request with a reason."""
        req = await load_here(ctx, id)
        if req.status != "open":
            raise CommandError(f"{id} is already {req.status}; only open requests can be denied")
        reason = reason.strip()
        if not reason or len(reason) > MAX_WHAT_CHARS:
            raise CommandError(f"give a reason of 1 to {MAX_WHAT_CHARS} characters")
        req.status, req.reason = "denied", reason
        req.decided_by, req.decided_at = ctx.sender, self.bot.now_ms()
        await store.save_request(ctx.tx, req)
        await self.bot.record(ctx, "request.deny", {"id": id, "reason": reason})
        await ctx.reply(f"🔴 {id} denied: {reason}", data=card_data(req), mentions=[req.requester])
        await refresh_card(ctx, req)

    @command(
        "request fulfil",
        Arg("id", "the request ID, e.g. R12", parse=parse_request_id),
        summary="mark an approved request as delivered (its grant counts as spent)",
        example="!request fulfil R12",
        power=COORDINATOR_LEVEL,
        aliases=("request fulfill",),
    )
    async def request_fulfil(self, ctx: Context, *, id: str) -> None:
        """Approved → fulfilled; the granted amount counts as spent from its pool."""
        req = await load_here(ctx, id)
        if req.status != "approved":
            raise CommandError(f"{id} is {req.status}; only approved requests can be fulfilled")
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
        await ctx.reply(f"✅ {id} fulfilled.", data=card_data(req), mentions=[req.requester])
        await refresh_card(ctx, req)

    @command(
        "request withdraw",
        Arg("id", "the request ID, e.g. R12", parse=parse_request_id),
        summary="withdraw your own request (an approved grant goes back to the pool)",
        example="!request withdraw R12",
    )
    async def request_withdraw(self, ctx: Context, *, id: str) -> None:
        """Only the requester withdraws; open or approved (not yet fulfilled) requests only."""
        req = await load_here(ctx, id)
        if ctx.sender != req.requester:
            raise CommandError(f"only {req.requester}, who made {id}, can withdraw it")
        if req.status not in {"open", "approved"}:
            raise CommandError(f"{id} is already {req.status}; it cannot be withdrawn")
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
        back = f" {show_amount(released, req.unit)} went back to the pool." if released else ""
        await ctx.reply(f"⚪ {id} withdrawn.{back}", data=card_data(req))
        await refresh_card(ctx, req)
