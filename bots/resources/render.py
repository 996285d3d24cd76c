"""Provides what the resources bot shows: request cards, lists, pools, and the report (HTML+CSV).

Every piece of user text, and every translated string, is escaped before it goes into HTML.
Text comes in the language of the ``Translator`` given; the CSV and structured copies never
are translated.
"""

from __future__ import annotations

import csv
import io
import json
from html import escape
from typing import Any

from bots.resources.model import Pool, Request, decimal_str, ms_text
from bots.resources.words import amount, day, kind, pool_label, status, when
from messenger.i18n import N_, Translator
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


POOL_COLUMNS = (N_("pool"), N_("total"), N_("granted"), N_("spent"), N_("remaining"))
REQUEST_COLUMNS = (
    N_("ID"), N_("who asked"), N_("what"), N_("asked"), N_("status"), N_("granted"),
    N_("decided by, when"),
)  # fmt: skip
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
        project=req.project,
    )


def _status_line(t: Translator, req: Request) -> str:
    if req.status == "open":
        return t.gettext("open — waiting for a coordinator")
    if req.status == "approved":
        granted = amount(t, req.granted, req.unit)
        if req.amount is not None and req.granted is not None and req.granted != req.amount:
            return t.gettext("approved {granted} (of {asked} asked) by {who} on {when}").format(
                granted=granted, asked=amount(t, req.amount, req.unit), who=req.decided_by,
                when=when(t, req.decided_at),
            )  # fmt: skip
        return t.gettext("approved {granted} by {who} on {when}").format(
            granted=granted, who=req.decided_by, when=when(t, req.decided_at)
        )
    if req.status == "denied":
        return t.gettext("denied by {who} on {when}: {reason}").format(
            who=req.decided_by, when=when(t, req.decided_at), reason=req.reason
        )
    if req.status == "fulfilled":
        return t.gettext(
            "fulfilled ({granted}) by {who} on {when}; approved by {approver}"
        ).format(
            granted=amount(t, req.granted, req.unit), who=req.fulfilled_by,
            when=when(t, req.fulfilled_at), approver=req.decided_by,
        )  # fmt: skip
    return t.gettext("withdrawn by {who} on {when}").format(
        who=req.requester, when=when(t, req.withdrawn_at)
    )


def card(t: Translator, req: Request, *, comments: bool = False) -> tuple[str, str]:
    """(plain text, HTML) of a request card in ``t``'s language."""
    icon = STATUS_ICON[req.status]
    what_kind, state = kind(t, req.kind), status(t, req.status)
    created = when(t, req.created_at)
    if req.amount is not None:
        asked = t.gettext("“{what}” — {amount} asked by {who} on {when}")
    else:
        asked = t.gettext("“{what}” — asked by {who} on {when}")
    fields = {"amount": amount(t, req.amount, req.unit), "who": req.requester, "when": created}
    lines = [f"{icon} {req.id} · {what_kind} · {state}", asked.format(what=req.what, **fields)]
    html = [
        f"<p>{icon} <b>{req.id}</b> · {escape(what_kind)} · <b>{escape(state)}</b><br/>",
        escape(asked).format(
            what=escape(req.what), **{k: escape(str(v)) for k, v in fields.items()}
        ),
    ]
    if req.purpose:
        line = t.gettext("For: {purpose}")
        lines.append(line.format(purpose=req.purpose))
        html.append("<br/>" + escape(line).format(purpose=escape(req.purpose)))
    if req.by:
        line = t.gettext("Needed by: {date}").format(date=day(t, req.by))
        lines.append(line)
        html.append(f"<br/>{escape(line)}")
    if req.project:
        line = t.gettext("For project {id} (its card counts what is granted and spent)").format(
            id=req.project
        )
        lines.append(line)
        html.append(f"<br/>{escape(line)}")
    line = t.gettext("Status: {status}").format(status=_status_line(t, req))
    lines.append(line)
    html.append(f"<br/>{escape(line)}</p>")
    n = len(req.comments)
    if comments and req.comments:
        lines.append(t.gettext("Comments ({n}):").format(n=n))
        items = []
        for c in req.comments:
            lines.append(f"  {c.sender} ({when(t, c.ts)}): {c.text}")
            items.append(f"<li>{escape(c.sender)} ({escape(when(t, c.ts))}): {escape(c.text)}</li>")
        label = escape(t.gettext("Comments:"))
        html.append(f"<p>{label}</p><ul>{''.join(items)}</ul>")
    elif req.comments:
        line = t.ngettext("{n} comment in the thread", "{n} comments in the thread", n).format(n=n)
        lines.append(line)
        html.append(f"<p>{escape(line)}</p>")
    return "\n".join(lines), "".join(html)


def request_list(
    t: Translator, reqs: list[Request], title: str, limit: int = 25
) -> tuple[str, str]:
    """(text, HTML) of a list of requests, newest last, at most ``limit`` shown; ``title`` is
    already in ``t``'s language."""
    if not reqs:
        text = t.gettext("{title}: none").format(title=title)
        return text, f"<p>{escape(text)}</p>"
    shown = reqs[-limit:]
    heading = f"{title} ({len(reqs)}):"
    lines = [heading]
    items = []
    for r in shown:
        shown_amount = amount(t, r.granted if r.granted is not None else r.amount, r.unit)
        what_kind, state = kind(t, r.kind), status(t, r.status)
        lines.append(
            f"{STATUS_ICON[r.status]} {r.id} {what_kind} “{r.what}” {shown_amount} — "
            f"{state}, {r.requester}"
        )
        items.append(
            f"<li>{STATUS_ICON[r.status]} <b>{r.id}</b> {escape(what_kind)} “{escape(r.what)}” "
            f"{escape(shown_amount)} — {escape(state)}, {escape(r.requester)}</li>"
        )
    if len(reqs) > limit:
        more = t.gettext("… and {n} earlier").format(n=len(reqs) - limit)
        lines.append(more)
        items.append(f"<li>{escape(more)}</li>")
    return "\n".join(lines), f"<p>{escape(heading)}</p><ul>{''.join(items)}</ul>"


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


def pool_table(t: Translator, pools: list[Pool]) -> tuple[str, str]:
    """(text, HTML) of pools: total, granted, spent, remaining."""
    if not pools:
        text = t.gettext("No pools yet. A coordinator adds one with {example}").format(
            example="!pool add funding 5000"
        )
        return text, f"<p>{escape(text)}</p>"
    lines, rows = [], []
    for p in pools:
        u, label = p.unit, pool_label(t, p)
        total, granted = amount(t, p.total, u), amount(t, p.granted, u)
        spent, left = amount(t, p.spent, u), amount(t, p.remaining, u)
        lines.append(
            t.gettext(
                "{pool}: total {total}, granted {granted}, spent {spent}, remaining {remaining}"
            ).format(pool=label, total=total, granted=granted, spent=spent, remaining=left)
        )
        rows.append(
            f"<tr><td>{escape(label)}</td><td>{escape(total)}</td><td>{escape(granted)}</td>"
            f"<td>{escape(spent)}</td><td><b>{escape(left)}</b></td></tr>"
        )
    names = [t.gettext(w) for w in POOL_COLUMNS]
    head = "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
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
    t: Translator,
    pools: list[Pool],
    reqs: list[Request],
    total: int,
    head: str,
    key: str,
    count: int,
    scope: str,
) -> tuple[str, str]:
    """(text, HTML) of the transparency report notice; ``reqs`` are the rows shown of ``total``;
    ``scope`` is already in ``t``'s language."""
    ptext, phtml = pool_table(t, pools)
    title = t.gettext("Transparency report — {scope}").format(scope=scope)
    if total > len(reqs):
        requests = t.gettext("Requests ({total}, the latest {shown} shown)").format(
            total=total, shown=len(reqs)
        )
    else:
        requests = t.gettext("Requests ({total})").format(total=total)
    lines = [title, "", t.gettext("Pools:"), ptext, "", requests + ":"]
    rows = []
    for r in reqs:
        decided = (
            t.gettext("{who} on {when}").format(who=r.decided_by, when=when(t, r.decided_at))
            if r.decided_by
            else "—"
        )
        granted = amount(t, r.granted, r.unit)
        asked = amount(t, r.amount, r.unit)
        what_kind, state = kind(t, r.kind), status(t, r.status)
        lines.append(
            t.gettext(
                "{id} {kind}: {who} asked for “{what}” ({asked}); {status}, granted {granted}; "
                "decided by {decided}"
            ).format(
                id=r.id,
                kind=what_kind,
                who=r.requester,
                what=r.what,
                asked=asked,
                status=state,
                granted=granted,
                decided=decided,
            )  # fmt: skip
        )
        rows.append(
            f"<tr><td>{r.id}</td><td>{escape(r.requester)}</td><td>{escape(r.what)}</td>"
            f"<td>{escape(asked)}</td><td>{escape(state)}</td>"
            f"<td>{escape(granted)}</td><td>{escape(decided)}</td></tr>"
        )
    ledger = t.ngettext(
        "Ledger: {count} entry, head {head}, verification key {key}",
        "Ledger: {count} entries, head {head}, verification key {key}",
        count,
    )
    pools_label, none = t.gettext("Pools"), t.gettext("none")
    every = t.gettext("Every row is in the attached CSV.")
    lines += ["", ledger.format(count=count, head=head, key=key), every]
    names = [t.gettext(w) for w in REQUEST_COLUMNS]
    rhead = "<tr>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    ledger_html = escape(ledger).format(
        count=count, head=f"<code>{head}</code>", key=f"<code>{escape(key)}</code>"
    )
    html = (
        f"<h4>{escape(title)}</h4><p><b>{escape(pools_label)}</b></p>{phtml}"
        f"<p><b>{escape(requests)}</b></p>"
        + (f"<table>{rhead}{''.join(rows)}</table>" if rows else f"<p>{escape(none)}</p>")
        + f"<p>{ledger_html}</p><p>{escape(every)}</p>"
    )
    return "\n".join(lines), html


def fitted_list(
    t: Translator, reqs: list[Request], title: str, which: str
) -> tuple[str, str, RequestList]:
    """A request list with as many of the latest rows as fit in one message."""
    for limit in ROW_STEPS:
        text, html_body = request_list(t, reqs, title, limit)
        shown = [card_data(r) for r in reqs[-limit:]]
        data = RequestList(filter=which, requests=shown, total=len(reqs))
        if fits(text, html_body, data):
            break
    return text, html_body, data


def fitted_report(
    t: Translator,
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
        text, html_body = report_html(t, pools, shown, len(reqs), head, key, count, scope)
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


def reminder(t: Translator, req: Request, coords: list[str]) -> tuple[str, str]:
    """(text, HTML) reminding the coordinators (mentioned) of an undecided request, in the
    room's language ``t``."""
    who = ", ".join(coords) or t.gettext("coordinators")
    who_html = ", ".join(
        f'<a href="https://matrix.to/#/{escape(c)}">{escape(c)}</a>' for c in coords
    ) or escape(t.gettext("coordinators"))
    by = day(t, req.by)
    text = "⏰ " + t.gettext(
        "{who}: {id} is needed by {date} and still waiting for a decision."
    ).format(who=who, id=req.id, date=by)
    html_body = "⏰ " + escape(
        t.gettext(
            "{who}: {id} “{what}” is needed by {date} and still waiting for a decision "
            "({approve} or {deny})."
        )
    ).format(
        who=who_html, id=f"<b>{req.id}</b>", what=escape(req.what), date=escape(by),
        approve=f"<code>!request approve {req.id}</code>",
        deny=f'<code>!request deny {req.id} "reason"</code>',
    )  # fmt: skip
    return text, html_body
