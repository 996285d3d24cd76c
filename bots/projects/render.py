"""Provides the text and HTML of project cards, lists, updates, reminders and flags, in the
language of a ``Translator`` (the room's for cards, reminders and flags; the asker's for
replies). User text and translated text are escaped in HTML; dates and money go through Babel.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import escape

from bots.projects.model import Metric, Milestone, Project, Update
from bots.resources.model import ms_date
from bots.resources.words import amount, day
from messenger.i18n import N_, Translator
from messenger.protocol.projects import MilestoneState, ProjectStatus

STATUS_ICON: dict[ProjectStatus, str] = {
    "new": "🆕",
    "on-track": "🟢",
    "at-risk": "🟡",
    "off-track": "🔴",
    "closed": "🏁",
}
STATUS_LABEL: dict[ProjectStatus, str] = {
    "new": N_("new, no update yet"),
    "on-track": N_("on track"),
    "at-risk": N_("at risk"),
    "off-track": N_("off track"),
    "closed": N_("closed"),
}
MILESTONE_MARK: dict[MilestoneState, str] = {
    "open": "⬜",
    "overdue": "⚠",
    "done-on-time": "✅",
    "done-late": "☑",
}
MILESTONE_LABEL: dict[MilestoneState, str] = {
    "open": N_("open"),
    "overdue": N_("overdue"),
    "done-on-time": N_("done on time"),
    "done-late": N_("done late"),
}
GANTT_WIDTH = 32


def html_fill(t: Translator, template: str, **fields: str) -> str:
    """``template`` translated and escaped, filled with HTML fields (escaped by the caller)."""
    return escape(t.gettext(template), quote=False).format(**fields)


def pill(user: str) -> str:
    """A mention pill."""
    return f'<a href="https://matrix.to/#/{escape(user)}">{escape(user)}</a>'


def status_text(t: Translator, status: ProjectStatus) -> str:
    """A status in words, with its icon."""
    return f"{STATUS_ICON[status]} {t.gettext(STATUS_LABEL[status])}"


def number(t: Translator, value: str) -> str:
    """A decimal string in the language's format."""
    return t.number(Decimal(value))


def metric_line(t: Translator, m: Metric) -> str:
    """``participants: 27 / 40 people (67 %)``."""
    value = number(t, m.value) if m.value is not None else "—"
    unit = f" {m.unit}" if m.unit else ""
    pct = m.percent()
    tail = f" ({pct} %)" if pct is not None else ""
    return f"{m.name}: {value} / {number(t, m.target)}{unit}{tail}"


def milestone_line(t: Translator, m: Milestone, today: str) -> str:
    """``✅ M1 Training in Skopje — 1 Mar 2027 · @x · done on time``."""
    state = m.state(today)
    return (
        f"{MILESTONE_MARK[state]} {m.id} {m.title} — {day(t, m.due)} · {m.owner} · "
        f"{t.gettext(MILESTONE_LABEL[state])}"
    )


def gantt(start: str, end: str, today: str, marks: list[tuple[str, str]]) -> str:
    """A one-line timeline from ``start`` to ``end``: ``─`` for time, a mark per milestone,
    ``▼`` for today (when it falls inside)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    span = max((last - first).days, 1)

    def col(iso: str) -> int:
        days = (date.fromisoformat(iso) - first).days
        return min(max(round(days * (GANTT_WIDTH - 1) / span), 0), GANTT_WIDTH - 1)

    cells = ["─"] * GANTT_WIDTH
    for iso, mark in marks:
        cells[col(iso)] = mark
    if start <= today <= end:
        cells[col(today)] = "▼"
    return f"{start} {''.join(cells)} {end}"


def timeline(p: Project, today: str) -> str:
    """The project's text Gantt: its span, each milestone's mark, today."""
    glyph = {"open": "◆", "overdue": "!", "done-on-time": "✓", "done-late": "✓"}
    marks = [(m.due, glyph[m.state(today)]) for m in p.milestones]
    end = max([p.until, *(m.due for m in p.milestones)])
    start = min([p.start, *(m.due for m in p.milestones)])
    return gantt(start, end, today, marks)


def resource_lines(t: Translator, p: Project) -> list[str]:
    """``Resources: granted 12 000 kr, spent 5 000 kr`` per unit."""
    return [
        t.gettext("Resources: granted {granted}, spent {spent}").format(
            granted=amount(t, v["granted"], unit), spent=amount(t, v["spent"], unit)
        )
        for unit, v in sorted(p.resources.items())
    ]


def _head(t: Translator, p: Project) -> list[str]:
    lines = [f"📋 {p.title} ({p.id}) · {status_text(t, p.status)}"]
    if p.goal:
        lines.append("🎯 " + t.gettext("Goal: {goal}").format(goal=p.goal))
    if p.sdg:
        lines.append(
            "🌍 " + t.gettext("UN goals: {goals}").format(goals=", ".join(map(str, p.sdg)))
        )
    lines.append(
        "👤 "
        + t.gettext("Owner {owner} · from {start} until {until}").format(
            owner=p.owner, start=day(t, p.start), until=day(t, p.until)
        )
    )
    return lines


def card_text(t: Translator, p: Project, today: str, *, full: bool = False) -> str:
    """The plain-text card (``full``: every milestone and the latest updates, for ``show``)."""
    lines = _head(t, p)
    nxt = p.next_milestone()
    if nxt is not None and not full:
        lines.append(
            t.gettext("Next milestone: {milestone}").format(milestone=milestone_line(t, nxt, today))
        )
    overdue = [m for m in p.milestones if m.state(today) == "overdue"]
    if overdue and not full:
        lines.append(
            "⚠ "
            + t.ngettext(
                "{n} milestone overdue: {ids}", "{n} milestones overdue: {ids}", len(overdue)
            ).format(n=len(overdue), ids=", ".join(m.id for m in overdue))
        )
    if full:
        lines.append(t.gettext("Milestones:") if p.milestones else t.gettext("No milestones yet."))
        lines += [
            "  " + milestone_line(t, m, today) for m in sorted(p.milestones, key=lambda m: m.due)
        ]
    if p.metrics:
        lines.append(t.gettext("Metrics:"))
        lines += ["  " + metric_line(t, m) for m in p.metrics]
    lines += resource_lines(t, p)
    lines.append(t.gettext("Timeline:") + " " + timeline(p, today))
    if full and p.updates:
        lines.append(t.gettext("Latest updates:"))
        lines += [f"  {update_line(t, u)}" for u in p.updates[-5:]]
    if not p.closed and not full:
        lines.append(
            t.gettext("Post an update: {update} · add a milestone: {milestone}").format(
                update=f'!update {p.id} on-track "…"', milestone=f'!milestone add {p.id} "…" DATE'
            )
        )
    return "\n".join(lines)


def card_html(t: Translator, p: Project, today: str, *, full: bool = False) -> str:
    """The HTML card: the text card's lines, escaped, the title bold."""
    lines = card_text(t, p, today, full=full).split("\n")
    first = escape(lines[0]).replace(escape(p.title), f"<b>{escape(p.title)}</b>", 1)
    rest = "<br/>".join(escape(line) for line in lines[1:])
    return f"<p>{first}<br/>{rest}</p>"


def update_line(t: Translator, u: Update) -> str:
    """``🟡 at risk — text (@x, 3 Jan 2027)``."""
    return f"{status_text(t, u.status)} — {u.text} ({u.by}, {day(t, ms_date(u.ts))})"


def update_notice(t: Translator, p: Project, u: Update) -> str:
    """The update as posted in the card's thread."""
    return t.gettext("Update on {title} ({id}): {update}").format(
        title=p.title, id=p.id, update=update_line(t, u)
    )


def list_line(t: Translator, p: Project, today: str) -> str:
    """One line of ``!project list``."""
    nxt = p.next_milestone()
    tail = f" · {nxt.id} {day(t, nxt.due)}" if nxt else ""
    return f"{p.id} · {p.title} · {status_text(t, p.status)} · {day(t, p.until)}{tail}"


REMINDER = N_(
    "⏰ {owner}: {title} ({id}) has had no update for a while; post one with {example} "
    "(or change how often I ask: --remind weekly|monthly|never)"
)
OVERDUE = N_(
    "⚠ {owner}: milestone {mid} “{what}” of {title} ({id}) was due {due} and is not done ({done})"
)


def reminder(t: Translator, p: Project) -> tuple[str, str]:
    """(text, HTML) reminding the owner (mentioned) of a missed update."""
    example = f'!update {p.id} on-track "…"'
    text = t.gettext(REMINDER).format(owner=p.owner, title=p.title, id=p.id, example=example)
    html = html_fill(
        t, REMINDER, owner=pill(p.owner), title=f"<b>{escape(p.title)}</b>", id=p.id,
        example=f"<code>{escape(example)}</code>",
    )  # fmt: skip
    return text, html


def overdue(t: Translator, p: Project, m: Milestone) -> tuple[str, str]:
    """(text, HTML) flagging an overdue milestone to its owner (mentioned)."""
    done = f"!milestone done {m.id}"
    fields = {"mid": m.id, "id": p.id, "due": day(t, m.due)}
    text = t.gettext(OVERDUE).format(
        owner=m.owner, what=m.title, title=p.title, done=done, **fields
    )
    html = html_fill(
        t, OVERDUE, owner=pill(m.owner), what=escape(m.title), title=f"<b>{escape(p.title)}</b>",
        done=f"<code>{done}</code>", **{k: escape(v) for k, v in fields.items()},
    )  # fmt: skip
    return text, html
