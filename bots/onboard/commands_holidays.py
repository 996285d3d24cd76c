"""Provides ``!holidays [--month YYYY-MM]``: the public holidays of the room's countries (the
``countries`` of its group in the organisation file), in a month or the coming weeks."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from bots.onboard import holidays, parse, render
from bots.onboard.commands_onboard import OnboardGroup, group_here
from messenger.botkit.commands import CommandError, Opt, command
from messenger.botkit.context import Context
from messenger.i18n import N_

AHEAD_DAYS = 90


class HolidayCommands(OnboardGroup):
    """``!holidays``."""

    def today(self) -> date:
        """The bot's clock's date (UTC)."""
        return datetime.fromtimestamp(self.bot.now_ms() / 1000, UTC).date()

    @command(
        "holidays",
        Opt(
            "month",
            N_("a month, e.g. 2026-12 (default: the next 90 days)"),
            parse=parse.month,
            metavar="YYYY-MM",
        ),
        summary=N_("Public holidays in this room's partner countries, to plan around them."),
        example="!holidays --month 2026-12",
    )
    async def list_holidays(self, ctx: Context, *, month: date | None) -> None:
        countries = holidays.countries_of(group_here(ctx))
        if not countries:
            raise CommandError(
                N_(
                    "this room lists no countries; a coordinator adds them to its group in "
                    "the organisation file, e.g. {example}, and runs samverkan org apply"
                ),
                example='countries = ["KE"]',
            )
        if month is None:
            first, last = self.today(), self.today() + timedelta(days=AHEAD_DAYS)
            period = ctx._("the next {days} days").format(days=AHEAD_DAYS)
        else:
            first = month
            last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
            period = render.month_name(ctx.t, month)
        found = holidays.between(countries, first, last, ctx.t.lang)
        await self.reply(ctx, render.holiday_lines(ctx.t, countries, period, found))
