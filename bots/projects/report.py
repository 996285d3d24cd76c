"""Provides the progress report: its summary notice (text, HTML) and its file (HTML or CSV).

Numbers per project: metrics against targets, milestones on time, late, overdue and open,
resources granted and spent; and the ledger (head, key, whether the chain verified, and the
project's own signed entries, each checkable offline with the key). The CSV is never
translated; the HTML file is in the asker's language, every piece of text escaped.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from html import escape
from typing import Any

from bots.projects.model import Project
from bots.projects.render import STATUS_LABEL, metric_line, milestone_line, status_text
from bots.resources.words import amount, day
from crypto.ledger import LedgerEntry
from messenger.i18n import N_, Translator
from messenger.protocol.projects import ProjectRow

CSV_FIELDS = [
    "record", "project", "id", "title", "status", "due", "done_on", "owner", "target", "value",
    "unit", "granted", "spent", "index", "hash", "signature", "detail",
]  # fmt: skip
COLUMNS = (
    N_("ID"), N_("project"), N_("status"), N_("metrics met"), N_("on time"), N_("late"),
    N_("overdue"), N_("open"), N_("granted"), N_("spent"),
)  # fmt: skip


class Ledger:
    """The ledger facts a report carries."""

    def __init__(self, head: str, key: str, count: int, verified: bool) -> None:
        self.head, self.key, self.count, self.verified = head, key, count, verified

    def line(self, t: Translator) -> str:
        """``Ledger: 12 entries, verified; head …; key …``."""
        state = t.gettext("verified") if self.verified else t.gettext("NOT verified")
        return t.ngettext(
            "Ledger: {count} entry, {state}; head {head}; verification key {key}",
            "Ledger: {count} entries, {state}; head {head}; verification key {key}",
            self.count,
        ).format(count=self.count, state=state, head=self.head, key=self.key)


def money(t: Translator, row: ProjectRow, field: str) -> str:
    """``12 000 kr`` per unit, joined; ``—`` without resources."""
    parts = [amount(t, int(Decimal(getattr(r, field)) * 100), r.unit) for r in row.resources]
    return ", ".join(parts) or "—"


def row_line(t: Translator, row: ProjectRow) -> str:
    """One project's numbers in a sentence."""
    return t.gettext(
        "{id} {title} ({status}): metrics {met}/{metrics} met; milestones {on_time} on time, "
        "{late} late, {overdue} overdue, {open} open; granted {granted}, spent {spent}"
    ).format(
        id=row.id, title=row.title, status=t.gettext(STATUS_LABEL[row.status]), met=row.metrics_met,
        metrics=row.metrics, on_time=row.on_time, late=row.late, overdue=row.overdue,
        open=row.open, granted=money(t, row, "granted"), spent=money(t, row, "spent"),
    )  # fmt: skip


def summary(t: Translator, rows: list[ProjectRow], shown: int, ledger: Ledger) -> tuple[str, str]:
    """(text, HTML) of the report notice: the first ``shown`` rows, the ledger, the file."""
    head = t.ngettext(
        "Progress report: {n} project", "Progress report: {n} projects", len(rows)
    ).format(n=len(rows))
    lines = [head, *(row_line(t, r) for r in rows[:shown])]
    if len(rows) > shown:
        lines.append(t.gettext("… and {n} more in the attached file").format(n=len(rows) - shown))
    lines += [ledger.line(t), t.gettext("Every number is in the attached file.")]
    html = f"<p><b>{escape(lines[0])}</b></p><ul>"
    html += "".join(f"<li>{escape(line)}</li>" for line in lines[1:-2]) + "</ul>"
    html += f"<p>{escape(lines[-2])}</p><p>{escape(lines[-1])}</p>"
    return "\n".join(lines), html


def report_csv(
    projects: list[Project], today: str, entries: list[dict[str, Any]], ledger: Ledger
) -> bytes:
    """The report as CSV: ``project``, ``metric``, ``milestone``, ``resource`` rows per project,
    one ``ledger-entry`` row per signed entry of these projects, and a final ``ledger`` row."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for p in projects:
        w.writerow({"record": "project", "project": p.id, "id": p.id, "title": p.title,
                    "status": p.status, "due": p.until, "owner": p.owner,
                    "detail": ",".join(f"sdg{n}" for n in p.sdg)})  # fmt: skip
        for m in p.metrics:
            w.writerow({"record": "metric", "project": p.id, "id": m.name, "title": m.name,
                        "status": "met" if m.met() else "not-met", "target": m.target,
                        "value": m.value or "", "unit": m.unit})  # fmt: skip
        for ms in sorted(p.milestones, key=lambda x: x.due):
            w.writerow({"record": "milestone", "project": p.id, "id": ms.id, "title": ms.title,
                        "status": ms.state(today), "due": ms.due, "done_on": ms.done_on or "",
                        "owner": ms.owner})  # fmt: skip
        for unit, v in sorted(p.resources.items()):
            w.writerow({"record": "resource", "project": p.id, "unit": unit,
                        "granted": f"{v['granted'] / 100:.2f}",
                        "spent": f"{v['spent'] / 100:.2f}"})  # fmt: skip
    for e in entries:
        w.writerow({"record": "ledger-entry", "project": e["data"].get("project", ""),
                    "index": e["index"], "hash": LedgerEntry.from_dict(e).entry_hash,
                    "signature": e["signature"],
                    "detail": json.dumps(e, sort_keys=True)})  # fmt: skip
    state = "verified" if ledger.verified else "broken"
    w.writerow({"record": "ledger", "hash": ledger.head, "detail": ledger.key,
                "index": ledger.count, "status": state})  # fmt: skip
    return out.getvalue().encode("utf-8")


def report_html(
    t: Translator,
    projects: list[Project],
    rows: list[ProjectRow],
    today: str,
    entries: list[dict[str, Any]],
    ledger: Ledger,
) -> bytes:
    """The report as a standalone HTML page in ``t``'s language."""
    title = t.gettext("Progress report, {date}").format(date=day(t, today))
    names = "".join(f"<th>{escape(t.gettext(c))}</th>" for c in COLUMNS)
    table = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(v))}</td>"
            for v in (
                r.id, r.title, t.gettext(STATUS_LABEL[r.status]), f"{r.metrics_met}/{r.metrics}",
                r.on_time, r.late, r.overdue, r.open, money(t, r, "granted"), money(t, r, "spent"),
            )
        )
        + "</tr>"
        for r in rows
    )  # fmt: skip
    parts = [
        f'<!doctype html><html lang="{escape(t.locale.language)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>",
        f"<table border='1'><tr>{names}</tr>{table}</table>",
    ]
    for p in projects:
        parts.append(f"<h2>{escape(p.title)} ({p.id}) · {escape(status_text(t, p.status))}</h2>")
        items = [metric_line(t, m) for m in p.metrics]
        items += [milestone_line(t, m, today) for m in sorted(p.milestones, key=lambda m: m.due)]
        parts.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
    heading = t.gettext("Ledger")
    parts.append(f"<h2>{escape(heading)}</h2><p>{escape(ledger.line(t))}</p><pre>")
    parts += [escape(json.dumps(e, sort_keys=True)) + "\n" for e in entries]
    parts.append("</pre></body></html>")
    return "".join(parts).encode("utf-8")
