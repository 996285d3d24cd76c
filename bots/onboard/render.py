"""Provides the text and HTML of welcomes, checklists, skill lists, ``!who`` answers, holiday
lists and decision norms, each in the language of a ``Translator`` (the member's for a welcome
and replies, the room's for what the room shares). User and organisation text is escaped."""

from __future__ import annotations

from datetime import date
from html import escape

from babel.dates import format_skeleton
from babel.lists import format_list

from bots.onboard.holidays import Holiday, countries_of, country_name, on_day, short_day
from bots.onboard.model import ITEMS, Checklist, Item
from messenger.config import Group, OrgFile
from messenger.i18n import N_, Translator

NORMS = {
    "consensus": N_(
        "Decisions here are by consensus: a poll settles on a time every voter chose, so tick "
        "every slot you can make."
    ),
    "majority": N_("Decisions here are by majority: the slot with the most votes wins a poll."),
    "coordinator": N_(
        "Decisions here are a coordinator's: after a poll, a coordinator picks the slot."
    ),
}
"""What each decision norm means, said to the room (welcomes, poll tallies)."""

TODO = {
    "devices": N_(
        "Verify your sessions, so the bots and the others can trust your messages: in Element, "
        "Settings → Sessions → Verify session (or confirm on a session you already trust)."
    ),
    "tz": N_("Set your timezone, so times are shown in yours: {example}"),
    "locale": N_("Choose the language the bots answer you in: {example}"),
    "skills": N_("Tell others what you know, so they can find you with !who: {example}"),
}
DONE = {
    "devices": N_("Your sessions are verified (cross-signed)."),
    "tz": N_("Timezone set: {value}"),
    "locale": N_("Language chosen: {value}"),
    "skills": N_("Skills listed: {value}"),
}
SHORT = {
    "devices": N_("verify sessions"),
    "tz": N_("timezone"),
    "locale": N_("language"),
    "skills": N_("skills"),
}
EXAMPLES = {
    "tz": "!tz Europe/Stockholm",
    "locale": "!locale sv",
    "skills": '!skills add "lokaldemokrati" "kampanjplanering"',
}
MARK = {True: "✅", False: "⬜", None: "❔"}


def norm(t: Translator, group: Group | None) -> str:
    """The room's decision norm in a sentence."""
    return t.gettext(NORMS[group.decisions if group is not None else "majority"])


def todo(t: Translator, item: Item) -> str:
    """What to do for one checklist item, with the command to send."""
    return t.gettext(TODO[item]).format(example=EXAMPLES.get(item, ""))


def welcome_lines(
    t: Translator, org: OrgFile, group: Group, user: str, bots: list[str]
) -> list[str]:
    """The welcome: the organisation's (or group's) text, the room's norm, the checklist."""
    head = t.gettext("👋 Welcome to {room}, {user}!").format(room=group.name, user=user)
    lines = [head]
    text = group.welcome if group.welcome is not None else org.onboarding.welcome
    if text.strip():
        lines.append(text.strip())
    lines.append(norm(t, group))
    lines.append(t.gettext("To get started:"))
    check = t.gettext(
        "Check the bots ({bots}): in Element, Room info → People → a bot → its session shows "
        "as verified by its owner. A coordinator verifies each bot once with emoji (→ Verify)."
    )
    lines.append("⬜ " + check.format(bots=", ".join(bots)))
    lines += ["⬜ " + todo(t, item) for item in ITEMS]
    lines.append("⬜ " + translator_hint(t))
    lines.append(t.gettext("Send !onboard to see what you have done so far."))
    return lines


def translator_hint(t: Translator) -> str:
    """The translation volunteers' item (the translation bot keeps that list)."""
    return t.gettext("If you translate, say which languages: {example}").format(
        example="!translator add da>sv"
    )


def lines_html(lines: list[str]) -> str:
    """Lines as HTML paragraphs (every line escaped)."""
    return "".join(f"<p>{escape(line)}</p>" for line in lines)


def checklist_lines(
    t: Translator, group: Group, checks: Checklist, values: dict[Item, str]
) -> list[str]:
    """``!onboard``: each item ticked, to do, or not checkable, with how to do it."""
    lines = [t.gettext("Your checklist in {room}:").format(room=group.name)]
    for item in ITEMS:
        done = checks.done.get(item)
        if done:
            text = t.gettext(DONE[item]).format(value=values.get(item, ""))
        elif done is None:
            text = t.gettext("Could not check now: {item}").format(item=t.gettext(SHORT[item]))
        else:
            text = todo(t, item)
        lines.append(f"{MARK[done]} {text}")
    lines.append(translator_hint(t))
    left = len(checks.missing())
    if left:
        lines.append(t.ngettext("{n} item left.", "{n} items left.", left).format(n=left))
    else:
        lines.append(t.gettext("All done, thank you!"))
    return lines


def status_lines(t: Translator, group: Group, unfinished: dict[str, Checklist]) -> list[str]:
    """``!onboard status``: who has not finished, and what is left for each."""
    if not unfinished:
        return [t.gettext("Everyone in {room} has finished the checklist.").format(room=group.name)]
    head = t.ngettext(
        "{n} member of {room} has not finished the checklist:",
        "{n} members of {room} have not finished the checklist:",
        len(unfinished),
    ).format(n=len(unfinished), room=group.name)
    lines = [head]
    for user, checks in sorted(unfinished.items()):
        left = [t.gettext(SHORT[i]) for i in checks.missing()]
        lines.append(f"• {user}: {', '.join(left)}")
    return lines


def skills_text(t: Translator, skills: list[str]) -> str:
    """``!skills``: the asker's skills, or how to add some."""
    if not skills:
        return t.gettext("You have listed no skills. Add some: {example}").format(
            example=EXAMPLES["skills"]
        )
    return t.gettext("Your skills: {skills}. Others find you with {who}.").format(
        skills=", ".join(skills), who="!who " + skills[0].split()[0][:5] + "*"
    )


def who_lines(
    t: Translator, pattern: str, found: dict[str, tuple[list[str], list[str]]]
) -> list[str]:
    """``!who``: members (sharing a room with the asker) whose skills match, and languages."""
    if not found:
        text = t.gettext("Nobody who shares a room with you lists a skill matching {pattern}.")
        hint = "" if "*" in pattern else " " + t.gettext("Try a start of it: {example}")
        return [(text + hint).format(pattern=pattern, example=f"!who {pattern[:5]}*")]
    head = t.gettext("Who shares a room with you and knows {pattern}:").format(pattern=pattern)
    lines = [head]
    for user, (skills, langs) in sorted(found.items()):
        spoken = t.gettext("languages: {langs}").format(langs=", ".join(langs) or "?")
        lines.append(f"• {user}: {', '.join(skills)} ({spoken})")
    return lines


def warning(t: Translator, holiday: Holiday) -> str:
    """``Dec 12 is Jamhuri Day in Kenya``: a holiday on an event's date."""
    return t.gettext("⚠ {day} is {holiday} in {country}.").format(
        day=short_day(t, holiday.day),
        holiday=holiday.name,
        country=country_name(t, holiday.country),
    )


def mark(t: Translator, found: list[Holiday]) -> str:
    """A poll slot's mark: `` ⚠ Jamhuri Day (Kenya)`` (empty when the day is no holiday)."""
    if not found:
        return ""
    names = "; ".join(f"{h.name} ({country_name(t, h.country)})" for h in found)
    return f" ⚠ {names}"


def month_name(t: Translator, first: date) -> str:
    """``December 2026`` (en), ``december 2026`` (sv)."""
    return str(format_skeleton("yMMMM", first, locale=t.locale))


def holiday_lines(
    t: Translator, countries: list[str], period: str, found: list[Holiday]
) -> list[str]:
    """``!holidays``: the room's countries' public holidays in a period, by date."""
    names = format_list([country_name(t, c) for c in countries], locale=t.locale)
    if not found:
        text = t.gettext("No public holidays in {countries} in {period}.")
        return [text.format(countries=names, period=period)]
    head = t.gettext("Public holidays in {countries}, {period}:")
    lines = [head.format(countries=names, period=period)]
    for h in found:
        when = str(format_skeleton("MMMEd", h.day, locale=t.locale))
        line = t.gettext("{day}: {holiday} ({country})")
        lines.append(
            "• " + line.format(day=when, holiday=h.name, country=country_name(t, h.country))
        )
    return lines


def warnings(t: Translator, group: Group | None, day: date) -> list[str]:
    """The warnings for an event on ``day`` in a room: one per public holiday of its countries."""
    return [warning(t, h) for h in on_day(countries_of(group), day, t.lang)]
