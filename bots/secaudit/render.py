"""Provides the room report of an audit: findings grouped by severity, each with its fix.

Only a finding's public fields are shown (never ``private``: no IP address or user agent
reaches a room); the structured copy is ``AuditSummary``.
"""

from __future__ import annotations

from html import escape
from typing import Literal

from bots.secaudit.words import SEVERITY_WORDS, describe, who_acts
from messenger.deploy.audit.auditor import AuditReport
from messenger.i18n import Translator
from messenger.protocol.audit import SEVERITIES, AuditSummary

MAX_SHOWN = 60  # findings in one message; the rest are counted (a message has a size limit)
ICONS = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def room_report(
    t: Translator,
    report: AuditReport,
    scope: list[str],
    trigger: Literal["command", "schedule"] = "command",
) -> tuple[str, str, AuditSummary]:
    """(text, HTML, structured copy) of a report on the groups named in ``scope``."""
    rooms = ", ".join(scope)
    shown = report.findings[:MAX_SHOWN]
    if report.clean:
        head = "✅ " + t.gettext("Security audit of {rooms}: no problems found.").format(
            rooms=rooms
        )
    else:
        n = len(report.findings)
        head = "🛡 " + t.ngettext(
            "Security audit of {rooms}: {n} finding.",
            "Security audit of {rooms}: {n} findings.",
            n,
        ).format(rooms=rooms, n=t.number(n))
    lines, html = [head], [f"<p><strong>{escape(head)}</strong></p>"]
    for severity in SEVERITIES:
        group = [f for f in shown if f.severity == severity]
        if not group:
            continue
        label = f"{ICONS[severity]} {t.gettext(SEVERITY_WORDS[severity])} ({t.number(len(group))})"
        lines.append(label)
        items = []
        for f in group:
            what, fix = describe(t, f)
            who = who_acts(t, f)
            how = t.gettext("fix: {fix} — who: {who}").format(fix=fix, who=who)
            lines.append(f"• {what}\n  {how}")
            items.append(f"<li>{escape(what)}<br/><em>{escape(how)}</em></li>")
        html.append(f"<p><strong>{escape(label)}</strong></p><ul>{''.join(items)}</ul>")
    rest = len(report.findings) - len(shown)
    if rest > 0:
        more = t.ngettext(
            "… and {n} more finding (the operator sees all: samverkan audit).",
            "… and {n} more findings (the operator sees all: samverkan audit).",
            rest,
        ).format(n=t.number(rest))
        lines.append(more)
        html.append(f"<p>{escape(more)}</p>")
    data = AuditSummary(
        run_at=report.run_at,
        scope=report.scope,
        counts=report.counts(),
        findings=shown,
        trigger=trigger,
    )
    return "\n".join(lines), "".join(html), data
