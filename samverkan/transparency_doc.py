"""Provides the transparency report as a document in one language: Markdown, an HTML page, a PDF.

Every heading, label and sentence is a catalogue msgid (part ``audit``); numbers, amounts,
dates and percentages go through Babel for the language (amounts as the resources bot shows
them: ``5 000,00 kr``, ``12,5 timmar``); kinds, project statuses and denial categories are
translated. What the organisation wrote (its name, groups, project titles, measures, lesson
titles) stays as written. The PDF embeds the bundled DejaVu Sans (package data, licence
beside it), so every language's letters render wherever Samverkan is installed.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_percent
from markdown_it import MarkdownIt

from bots.projects.render import STATUS_LABEL
from bots.resources import words
from bots.resources.model import SCALE
from messenger.i18n import N_, Translator
from samverkan.transparency import CATEGORY_LABELS, DENIAL_CATEGORIES, PLACES, Figures

FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]<>()#+-.!|"})
_ESCAPED = re.compile(r"\\(.)")


def md_text(text: str) -> str:
    """Text that Markdown shows as written."""
    return text.translate(MD_SPECIAL)


class Words:
    """The report's words and numbers in one language."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        self._ = t.gettext

    def period(self, fig: Figures) -> str:
        """``K4 2026`` (sv), ``Q4 2026`` (en); ``november 2026``; ``2026``."""
        skeleton = "yQQQ" if "Q" in fig.period else "yMMMM" if "-" in fig.period else "y"
        return str(format_skeleton(skeleton, fig.start, locale=self.t.locale))

    def span(self, fig: Figures) -> str:
        """``1 okt.–31 dec. 2026`` (sv), ``Oct 1 – Dec 31, 2026`` (en)."""
        last = fig.end - timedelta(days=1)
        return str(format_interval(fig.start, last, "yMMMd", locale=self.t.locale))

    def day(self, value: date) -> str:
        """``2 december 2026`` (sv), ``December 2, 2026`` (en)."""
        return str(format_date(value, "long", locale=self.t.locale))

    def count(self, n: int) -> str:
        """``1 234`` (sv), ``1,234`` (en)."""
        return self.t.number(n)

    def share(self, part: int | Decimal, whole: int | Decimal) -> str:
        """``67 %`` (sv), ``67%`` (en)."""
        return str(format_percent(Decimal(part) / Decimal(whole), locale=self.t.locale))

    def amount(self, minor: int, unit: str) -> str:
        """As the resources bot shows it: ``5 000,00 kr``, ``12,5 timmar``."""
        return words.amount(self.t, minor, unit)

    def hours(self, hours: float) -> str:
        """A duration in hours to one decimal: ``48 timmar``, ``1,5 timmar``."""
        return self.amount(round(hours * 10) * SCALE // 10, "hours")

    def group(self, name: str) -> str:
        """A group as the file names it; the report's own place names translated."""
        return self._(name) if name in PLACES else md_text(name)

    def kind(self, name: str) -> str:
        """A kind of resource in the language (``finansiering``)."""
        return md_text(words.kind(self.t, name))

    def category(self, name: str) -> str:
        """A denial's stated reason category in the language (``budget``)."""
        return self._(CATEGORY_LABELS.get(name, name))

    def status(self, project: dict[str, object]) -> str:
        """``avslutat``, ``enligt plan`` …; a status of an unknown kind as written."""
        if project["closed"]:
            return self._("closed")
        text = str(project["status"])
        label = STATUS_LABEL.get(text)  # type: ignore[call-overload]
        return self._(label) if label else md_text(text)

    def measure(self, text: str) -> str:
        """A project measure's number in the language; other text as written."""
        number = _decimal(text)
        return md_text(text) if number is None else self.t.number(number)


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


APPROVED = N_(
    "Approved: {approved}; denied: {denied}; fulfilled: {fulfilled}; withdrawn: {withdrawn}"
)


def table(header: list[str], rows: list[list[str]], right: int) -> list[str]:
    """A Markdown table whose columns from ``right`` on are numbers (right-aligned)."""
    rule = ["---" if i < right else "---:" for i in range(len(header))]
    return ["| " + " | ".join(row) + " |" for row in (header, rule, *rows)]


def markdown(fig: Figures, t: Translator, today: date | None = None) -> str:
    """The report as Markdown in ``t``'s language."""
    w, _ = Words(t), t.gettext
    title = _("Transparency report: {organisation}, {period}")
    intro = _(
        "Period {span} (UTC), generated {today}. Every figure is counted from the signed "
        "resources ledger; amounts are shown in their own unit or currency."
    )
    out = [
        "# " + title.format(organisation=md_text(fig.organisation), period=w.period(fig)),
        "",
        intro.format(span=w.span(fig), today=w.day(today or datetime.now(UTC).date())),
    ]
    for section in (_resources, _decisions, _impact, _lessons, _check):
        out += ["", *section(fig, w)]
    out.append("")
    return "\n".join(out)


def _resources(fig: Figures, w: Words) -> list[str]:
    _ = w._
    out = ["## " + _("Resources"), ""]
    if not fig.flows:
        return [*out, _("No resources were pooled, granted or spent in this period.")]
    header = [_("Group"), _("Kind"), _("Pooled"), _("Granted"), _("Spent"), _("Released")]
    rows = [
        [w.group(group), w.kind(kind)]
        + [w.amount(v, unit) for v in (f.pooled, f.granted, f.spent, f.released)]
        for (group, kind, unit), f in fig.flows.items()
    ]
    return out + table(header, rows, 2)


def _decisions(fig: Figures, w: Words) -> list[str]:
    _, d = w._, fig.decisions
    decided = d["approved"] + d["denied"]
    counts = {k: w.count(d[k]) for k in ("approved", "denied", "fulfilled", "withdrawn")}
    out = [
        "## " + _("Decisions"),
        "",
        "- " + _("Requests made: {count}").format(count=w.count(d["requested"])),
        "- " + _(APPROVED).format(**counts),
    ]
    if decided:
        share = _("Share of decisions that approved the request: {share}")
        out.append("- " + share.format(share=w.share(d["approved"], decided)))
    if fig.median_hours is not None:
        n = w.t.ngettext("{count} decision", "{count} decisions", decided)
        median = _("Median time from request to decision: {time} (over {decisions})")
        time = w.hours(fig.median_hours)
        out.append("- " + median.format(time=time, decisions=n.format(count=w.count(decided))))
    out += ["", "### " + _("Denials by stated reason"), ""]
    if not fig.denials:
        return [*out, _("No request was denied in this period.")]
    rows = [
        [w.category(c), w.count(fig.denials[c])]
        for c in (*DENIAL_CATEGORIES, "other")
        if fig.denials[c]
    ]
    return out + table([_("Reason"), _("Denials")], rows, 1)


def _impact(fig: Figures, w: Words) -> list[str]:
    _ = w._
    out = ["## " + _("Impact")]
    if not fig.projects:
        return [*out, "", _("No project figures have been recorded.")]
    header = [_("Measure"), _("Unit"), _("Target"), _("Reached"), _("Share of target")]
    for p in fig.projects:
        state = w.status(p)
        if p["sdg"]:
            goals = ", ".join(w.count(n) for n in p["sdg"])
            state = _("{status}; Sustainable Development Goals {goals}").format(
                status=state, goals=goals
            )
        out += ["", f"### {md_text(p['title'])} ({state})"]
        rows = []
        for m in p["metrics"]:
            target, value = _decimal(m["target"]), _decimal(m["value"])
            share = w.share(value, target) if target and value is not None else "—"
            cells = [w.measure(m[k]) if m[k] else "—" for k in ("target", "value")]
            rows.append([md_text(m["name"]), md_text(m["unit"]), *cells, share])
        if rows:
            out += ["", *table(header, rows, 2)]
    return out


def _lessons(fig: Figures, w: Words) -> list[str]:
    out = ["## " + w._("Lessons learned"), ""]
    lessons = [f"- {md_text(t)}" for t in fig.lessons]
    return out + (lessons or [w._("No lesson was published in this period.")])


def _check(fig: Figures, w: Words) -> list[str]:
    _ = w._
    out = ["## " + _("Check these figures"), ""]
    if not fig.head:
        return [*out, _("The resources ledger has no entries yet: there is nothing to check.")]
    holds = w.t.ngettext(
        "The resources ledger holds {count} signed entry; its head is {head} and its Ed25519 "
        "key {key}.",
        "The resources ledger holds {count} signed entries; its head is {head} and its Ed25519 "
        "key {key}.",
        fig.entries,
    )
    anyone = _(
        "Anyone given an export ({export}) can verify every signature and recount the figures: "
        "{verify}"
    )
    verify = f"`samverkan ledger verify FILE --key {fig.key} --head {fig.head}`"
    return out + [
        holds.format(count=w.count(fig.entries), head=f"`{fig.head}`", key=f"`{fig.key}`"),
        anyone.format(export="`samverkan ledger export FILE`", verify=verify),
    ]


def title(fig: Figures, t: Translator) -> str:
    """The document's title: ``Transparensrapport K4 2026``."""
    return t.gettext("Transparency report {period}").format(period=Words(t).period(fig))


def html_page(fig: Figures, md: str, t: Translator) -> str:
    """The report as one self-contained HTML page in the language (``<html lang="sv">``); raw
    HTML in the Markdown is not passed."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(md)
    return (
        f'<!doctype html>\n<html lang="{html.escape(t.lang)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title(fig, t))}</title><style>body{{font-family:sans-serif;"
        "max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid "
        "#999;padding:.2em .5em}code{word-break:break-all}</style></head><body>\n"
        f"{body}</body></html>\n"
    )


def plain(line: str) -> str:
    """A Markdown line's text as shown (escapes and code marks removed)."""
    return _ESCAPED.sub(r"\1", line.replace("`", ""))


def pdf_bytes(fig: Figures, md: str, t: Translator) -> bytes:
    """The report as PDF (fpdf2, the bundled DejaVu Sans; the document's language set)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF()
    pdf.set_lang(t.lang)
    pdf.set_title(title(fig, t))
    pdf.set_auto_page_break(True, 15)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_page()
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([plain(c.strip()) for c in _cells(lines[i])])
                i += 1
            align = ["RIGHT" if c.endswith(":") else "LEFT" for c in rows[1]]
            pdf.set_font("DejaVu", size=9)
            heading = FontFace(emphasis=None, fill_color=(225, 225, 225))
            with pdf.table(text_align=align, headings_style=heading) as grid:
                for cells in (rows[0], *rows[2:]):
                    grid.row(cells)
            continue
        size = 16 if line.startswith("# ") else 13 if line.startswith("## ") else 11
        text = plain(line.lstrip("#").strip())
        if line.startswith("- "):
            text, size = "• " + plain(line[2:]), 10
        elif not line.startswith("#"):
            size = 10
        pdf.set_font("DejaVu", size=size)
        pdf.multi_cell(0, 5.5 if size == 10 else 8, text or " ", new_x="LMARGIN", new_y="NEXT")
        i += 1
    return bytes(pdf.output())


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells (escaped pipes stay inside their cell)."""
    return re.split(r"(?<!\\)\|", row.strip()[1:-1])
