"""Provides what the resources bot shows: request cards, lists, pools, and the report (HTML+CSV).

Every piece of user text is escaped before it goes into HTML.
"""

from __future__ import annotations

import csv
import io
import json
from html import escape
from typing import Any

from bots.resources.model import Pool, Request, decimal_str, ms_text, show_amount
from messenger.protocol.resources import PoolInfo, RequestCard, RequestList, ResourceReport

STATUS_ICON = {
    "open": "🟡",
    "approved": "🟢",
    "denied": "🔴",
    "fulfilled": "✅",
    "withdrawn": "⚪",
}
CSV_FIELDS = [
    "record", "id", "room_id", "kind", "unit", "what", "purpose", "requester", "created_at",
    "requested", "granted", "status", "decided_by", "decided_at", "reason", "fulfilled_at",
    "pool", "total", "spent", "remaining",
]  # fmt: skip


MAX_CONTENT_BYTES = 30_000  # of plaintext JSON; Megolm and base64 grow it to well under 64 KiB
ROW_STEPS = (25, 12, 6, 3, 1)


def fits(*parts: Any) -> bool:
    """Whether text, HTML and structured data together stay well inside an event's size."""
    size = sum(
        len(json.dumps(p.model_dump(mode="json") if hasattr(p, "model_dump") else p)) for p in parts
    )
    return size <= MAX_CONTENT_BYTES


def card_data(req: Request) -> RequestCard:
    """The structured copy of a request."""
    return RequestCard(
        id=req.id,
        room_id=req.room_id,
        kind=req.kind,
        unit=req.unit,
        what=req.what,
        purpose=req.purpose,
        requester=req.requester,
        created_at=req.created_at,
        amount=None if req.amount is None else decimal_str(req.amount),
        granted=None if req.granted is None else decimal_str(req.granted),
        by=req.by,
        status=req.status,
        pool=req.pool,
        decided_by=req.decided_by,
        decided_at=req.decided_at,
        reason=req.reason,
        fulfilled_by=req.fulfilled_by,
        fulfilled_at=req.fulfilled_at,
        comments=len(req.comments),
    )


def _status_line(req: Request) -> str:
    if req.status == "open":
        return "open — waiting for a coordinator"
    if req.status == "approved":
        part = (
            f" (of {show_amount(req.amount, req.unit)} asked)"
            if req.amount is not None and req.granted != req.amount
            else ""
        )
        return (
            f"approved {show_amount(req.granted, req.unit)}{part} by {req.decided_by} "
            f"on {ms_text(req.decided_at)}"
        )
    if req.status == "denied":
        return f"denied by {req.decided_by} on {ms_text(req.decided_at)}: {req.reason}"
    if req.status == "fulfilled":
        return (
            f"fulfilled ({show_amount(req.granted, req.unit)}) by {req.fulfilled_by} "
            f"on {ms_text(req.fulfilled_at)}; approved by {req.decided_by}"
        )
    return f"withdrawn by {req.requester} on {ms_text(req.withdrawn_at)}"


def card(req: Request, *, comments: bool = False) -> tuple[str, str]:
    """(plain text, HTML) of a request card."""
    icon = STATUS_ICON[req.status]
    asked = f"{show_amount(req.amount, req.unit)} " if req.amount is not None else ""
    lines = [
        f"{icon} {req.id} · {req.kind} · {req.status}",
        f"“{req.what}” — {asked}asked by {req.requester} on {ms_text(req.created_at)}",
    ]
    html = [
        f"<p>{icon} <b>{req.id}</b> · {req.kind} · <b>{req.status}</b><br/>",
        f"“{escape(req.what)}” — {escape(asked)}asked by {escape(req.requester)} "
        f"on {ms_text(req.created_at)}",
    ]
    if req.purpose:
        lines.append(f"For: {req.purpose}")
        html.append(f"<br/>For: {escape(req.purpose)}")
    if req.by:
        lines.append(f"Needed by: {req.by}")
        html.append(f"<br/>Needed by: {req.by}")
    status = _status_line(req)
    lines.append(f"Status: {status}")
    html.append(f"<br/>Status: {escape(status)}</p>")
    if comments and req.comments:
        lines.append(f"Comments ({len(req.comments)}):")
        items = []
        for c in req.comments:
            lines.append(f"  {c.sender} ({ms_text(c.ts)}): {c.text}")
            items.append(f"<li>{escape(c.sender)} ({ms_text(c.ts)}): {escape(c.text)}</li>")
        html.append(f"<p>Comments:</p><ul>{''.join(items)}</ul>")
    elif req.comments:
        lines.append(f"{len(req.comments)} comment(s) in the thread")
        html.append(f"<p>{len(req.comments)} comment(s) in the thread</p>")
    return "\n".join(lines), "".join(html)


def request_list(reqs: list[Request], title: str, limit: int = 25) -> tuple[str, str]:
    """(text, HTML) of a list of requests, newest last, at most ``limit`` shown."""
    if not reqs:
        return f"{title}: none", f"<p>{escape(title)}: none</p>"
    shown = reqs[-limit:]
    lines = [f"{title} ({len(reqs)}):"]
    items = []
    for r in shown:
        amount = show_amount(r.granted if r.granted is not None else r.amount, r.unit)
        lines.append(
            f"{STATUS_ICON[r.status]} {r.id} {r.kind} “{r.what}” {amount} — "
            f"{r.status}, {r.requester}"
        )
        items.append(
            f"<li>{STATUS_ICON[r.status]} <b>{r.id}</b> {r.kind} “{escape(r.what)}” "
            f"{escape(amount)} — {r.status}, {escape(r.requester)}</li>"
        )
    if len(reqs) > limit:
        lines.append(f"… and {len(reqs) - limit} earlier")
        items.append(f"<li>… and {len(reqs) - limit} earlier</li>")
    return "\n".join(lines), f"<p>{escape(title)} ({len(reqs)}):</p><ul>{''.join(items)}</ul>"


def pool_info(pool: Pool) -> PoolInfo:
    """The structured copy of a pool."""
    return PoolInfo(
        id=pool.id,
        scope=pool.scope,
        room_id=pool.room_id,
        kind=pool.kind,
        unit=pool.unit,
        total=decimal_str(pool.total),
        granted=decimal_str(pool.granted),
        spent=decimal_str(pool.spent),
        remaining=decimal_str(pool.remaining),
    )


def pool_table(pools: list[Pool]) -> tuple[str, str]:
    """(text, HTML) of pools: total, granted, spent, remaining."""
    if not pools:
        text = "No pools yet. A coordinator adds one with !pool add funding 5000"
        return text, f"<p>{escape(text)}</p>"
    lines, rows = [], []
    for p in pools:
        u = p.unit
        lines.append(
            f"{p.label}: total {show_amount(p.total, u)}, granted {show_amount(p.granted, u)}, "
            f"spent {show_amount(p.spent, u)}, remaining {show_amount(p.remaining, u)}"
        )
        rows.append(
            f"<tr><td>{escape(p.label)}</td><td>{show_amount(p.total, u)}</td>"
            f"<td>{show_amount(p.granted, u)}</td><td>{show_amount(p.spent, u)}</td>"
            f"<td><b>{show_amount(p.remaining, u)}</b></td></tr>"
        )
    head = "<tr><th>pool</th><th>total</th><th>granted</th><th>spent</th><th>remaining</th></tr>"
    return "\n".join(lines), f"<table>{head}{''.join(rows)}</table>"


def report_csv(pools: list[Pool], reqs: list[Request], head: str, key: str, count: int) -> bytes:
    """The report as CSV: one ``pool`` row per pool, one ``request`` row per request, and a
    final ``ledger`` row with the head hash (in ``id``) and the verification key (in ``what``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for p in pools:
        writer.writerow({
            "record": "pool", "id": p.id, "room_id": p.room_id or "", "kind": p.kind,
            "unit": p.unit, "granted": decimal_str(p.granted), "total": decimal_str(p.total),
            "spent": decimal_str(p.spent), "remaining": decimal_str(p.remaining),
        })  # fmt: skip
    for r in reqs:
        writer.writerow({
            "record": "request", "id": r.id, "room_id": r.room_id, "kind": r.kind,
            "unit": r.unit, "what": r.what, "purpose": r.purpose or "",
            "requester": r.requester, "created_at": ms_text(r.created_at),
            "requested": "" if r.amount is None else decimal_str(r.amount),
            "granted": "" if r.granted is None else decimal_str(r.granted),
            "status": r.status, "decided_by": r.decided_by or "",
            "decided_at": ms_text(r.decided_at) if r.decided_at else "",
            "reason": r.reason or "",
            "fulfilled_at": ms_text(r.fulfilled_at) if r.fulfilled_at else "",
            "pool": r.pool or "",
        })  # fmt: skip
    writer.writerow({"record": "ledger", "id": head, "what": key, "total": str(count)})
    return out.getvalue().encode("utf-8")


def report_html(
    pools: list[Pool],
    reqs: list[Request],
    total: int,
    head: str,
    key: str,
    count: int,
    scope: str,
) -> tuple[str, str]:
    """(text, HTML) of the transparency report notice; ``reqs`` are the rows shown of ``total``."""
    ptext, phtml = pool_table(pools)
    more = f", the latest {len(reqs)} shown" if total > len(reqs) else ""
    lines = [
        f"Transparency report — {scope}",
        "",
        "Pools:",
        ptext,
        "",
        f"Requests ({total}{more}):",
    ]
    rows = []
    for r in reqs:
        decided = f"{r.decided_by} on {ms_text(r.decided_at)}" if r.decided_by else "—"
        granted = show_amount(r.granted, r.unit) if r.granted is not None else "—"
        lines.append(
            f"{r.id} {r.kind}: {r.requester} asked for “{r.what}” "
            f"({show_amount(r.amount, r.unit)}); {r.status}, granted {granted}; "
            f"decided by {decided}"
        )
        rows.append(
            f"<tr><td>{r.id}</td><td>{escape(r.requester)}</td><td>{escape(r.what)}</td>"
            f"<td>{escape(show_amount(r.amount, r.unit))}</td><td>{r.status}</td>"
            f"<td>{escape(granted)}</td><td>{escape(decided)}</td></tr>"
        )
    ledger = f"Ledger: {count} entries, head {head}, verification key {key}"
    lines += ["", ledger, "Every row is in the attached CSV."]
    rhead = (
        "<tr><th>ID</th><th>who asked</th><th>what</th><th>asked</th><th>status</th>"
        "<th>granted</th><th>decided by, when</th></tr>"
    )
    html = (
        f"<h4>Transparency report — {escape(scope)}</h4><p><b>Pools</b></p>{phtml}"
        f"<p><b>Requests ({total}{more})</b></p>"
        + (f"<table>{rhead}{''.join(rows)}</table>" if rows else "<p>none</p>")
        + f"<p>Ledger: {count} entries, head <code>{head}</code>, "
        f"verification key <code>{escape(key)}</code></p>"
        "<p>Every row is in the attached CSV.</p>"
    )
    return "\n".join(lines), html


def fitted_list(reqs: list[Request], title: str, which: str) -> tuple[str, str, RequestList]:
    """A request list with as many of the latest rows as fit in one message."""
    for limit in ROW_STEPS:
        text, html_body = request_list(reqs, title, limit)
        shown = [card_data(r) for r in reqs[-limit:]]
        data = RequestList(filter=which, requests=shown, total=len(reqs))
        if fits(text, html_body, data):
            break
    return text, html_body, data


def fitted_report(
    pools: list[Pool],
    reqs: list[Request],
    head: str,
    key: str,
    count: int,
    scope: str,
    since: str | None,
    rooms: list[str],
) -> tuple[str, str, ResourceReport]:
    """The report notice with the latest request rows that fit (the CSV carries them all)."""
    for limit in ROW_STEPS:
        shown = reqs[-limit:]
        text, html_body = report_html(pools, shown, len(reqs), head, key, count, scope)
        data = ResourceReport(
            since=since,
            rooms=rooms,
            pools=[pool_info(p) for p in pools],
            requests=[card_data(r) for r in shown],
            ledger_head=head,
            ledger_entries=count,
            ledger_key=key,
        )
        if fits(text, html_body, data):
            break
    return text, html_body, data


def reminder(req: Request, coords: list[str]) -> tuple[str, str]:
    """(text, HTML) reminding the coordinators (mentioned) of an undecided request."""
    who = ", ".join(coords) or "coordinators"
    who_html = (
        ", ".join(f'<a href="https://matrix.to/#/{escape(c)}">{escape(c)}</a>' for c in coords)
        or "coordinators"
    )
    text = f"⏰ {who}: {req.id} is needed by {req.by} and still waiting for a decision."
    html_body = (
        f"⏰ {who_html}: <b>{req.id}</b> “{escape(req.what)}” is needed by {req.by} "
        "and still waiting for a decision (<code>!request approve "
        f'{req.id}</code> or <code>!request deny {req.id} "reason"</code>).'
    )
    return text, html_body
