"""Provides the transparency report's figures, computed from the signed resources ledger.

Everything counted comes from the ledger's entries in the period (so anyone holding an
exported ledger and the key can recount it): resources pooled, granted, spent and released
per group and kind; decisions, the median time to a decision, and denials by the category
their reason states (``#budget`` …). Impact figures come from the projects bot's index and
lesson titles from the library's public entries, when those bots have written any.

No user ID, room ID or request text reaches the report: groups are named from the
organisation file, and any ID-looking text in a title is blanked.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from messenger.config import OrgFile
from messenger.i18n import N_

DENIAL_CATEGORIES = ("budget", "scope", "timing", "incomplete", "duplicate", "policy")
"""What a deny reason may state with a tag (``!request deny R3 "#budget none left"``)."""
UNCATEGORISED = "other"
CATEGORY_LABELS = {
    "budget": N_("budget"),
    "scope": N_("scope"),
    "timing": N_("timing"),
    "incomplete": N_("incomplete"),
    "duplicate": N_("duplicate"),
    "policy": N_("policy"),
    UNCATEGORISED: N_("other"),
}
"""The categories as the report shows them (translated where the report is rendered)."""
ORG_WIDE = N_("organisation-wide")
UNLISTED = N_("a room not in the organisation file")
PLACES = (ORG_WIDE, UNLISTED)
"""Group names that are the report's words, not the organisation file's (translated)."""
_ID = re.compile(r"[@!#$+][^\s:]+:[A-Za-z0-9.\-\[\]]+(?::\d+)?")
_PERIOD = re.compile(r"(\d{4})(?:-(?:Q([1-4])|(\d{2})))?")


def parse_period(text: str) -> tuple[date, date, str]:
    """``2026-Q4``, ``2026-11`` or ``2026`` as (first day, day after the last, label)."""
    m = _PERIOD.fullmatch(text.strip().upper())
    if m is None or (m.group(3) and not 1 <= int(m.group(3)) <= 12):
        raise ValueError(
            f"{text!r} is not a period; write a quarter (2026-Q4), a month (2026-11) or a year"
        )
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        start, months = date(year, 3 * q - 2, 1), 3
    elif m.group(3):
        start, months = date(year, int(m.group(3)), 1), 1
    else:
        start, months = date(year, 1, 1), 12
    end_month = start.month - 1 + months
    end = date(year + end_month // 12, end_month % 12 + 1, 1)
    return start, end, text.strip().upper()


def scrub(text: str) -> str:
    """Blank Matrix IDs (users, rooms, aliases) in free text."""
    return _ID.sub("[…]", text)


def reason_category(reason: str) -> str:
    """The category a deny reason states (``#budget``), else ``other``."""
    for tag in re.findall(r"#([a-z]+)", reason.lower()):
        if tag in DENIAL_CATEGORIES:
            return str(tag)
    return UNCATEGORISED


@dataclass
class Flow:
    """Amounts of one kind and unit in one group (integer hundredths)."""

    pooled: int = 0
    granted: int = 0
    spent: int = 0
    released: int = 0


@dataclass
class Figures:
    """Everything the report says."""

    period: str
    start: date
    end: date
    organisation: str
    flows: dict[tuple[str, str, str], Flow] = field(default_factory=dict)
    decisions: Counter[str] = field(default_factory=Counter)
    median_hours: float | None = None
    denials: Counter[str] = field(default_factory=Counter)
    projects: list[dict[str, Any]] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)
    head: str = ""
    key: str = ""
    entries: int = 0


def _group_names(org: OrgFile, markers: dict[str, str]) -> dict[str, str]:
    """Room ID → group name (from room markers' slugs and the file)."""
    by_slug = {g.slug: g.name for g in org.groups}
    return {room: by_slug.get(slug, UNLISTED) for room, slug in markers.items()}


def compute(
    org: OrgFile,
    period: str,
    entries: list[dict[str, Any]],
    markers: dict[str, str],
    projects: list[dict[str, Any]],
    public_library: list[dict[str, Any]],
) -> Figures:
    """The figures of ``period`` from ledger entries (dicts) and the shared indexes."""
    start, end, label = parse_period(period)
    lo = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
    hi = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp() * 1000)
    fig = Figures(label, start, end, org.organisation.name)
    names = _group_names(org, markers)
    requests: dict[str, dict[str, Any]] = {}
    flows: dict[tuple[str, str, str], Flow] = defaultdict(Flow)
    waits: list[float] = []
    for e in entries:
        action, data, ts = e.get("action"), e.get("data") or {}, int(e.get("timestamp_ms", 0))
        if action == "request.create":
            requests[str(data.get("id"))] = {**data, "ts": ts}
        inside = lo <= ts < hi
        if not inside:
            continue
        if action == "pool.add":
            pool = str(data.get("pool", ""))
            room = pool[len("room:") :].rsplit(":", 2)[0] if pool.startswith("room:") else None
            group = ORG_WIDE if room is None else names.get(room, UNLISTED)
            flow = flows[(group, str(data.get("kind")), str(data.get("unit")))]
            flow.pooled += int(data.get("amount") or 0)
            continue
        req = requests.get(str(data.get("id")))
        if req is None:
            continue
        key = (names.get(str(req.get("room_id")), UNLISTED), str(req["kind"]), str(req["unit"]))
        if action == "request.create":
            fig.decisions["requested"] += 1
        elif action in ("request.approve", "request.deny"):
            fig.decisions["approved" if action == "request.approve" else "denied"] += 1
            waits.append((ts - int(req["ts"])) / 3_600_000)
            if action == "request.approve":
                flows[key].granted += int(data.get("amount") or 0)
            else:
                fig.denials[reason_category(str(data.get("reason", "")))] += 1
        elif action == "request.fulfil":
            fig.decisions["fulfilled"] += 1
            flows[key].spent += int(data.get("amount") or 0)
        elif action == "request.withdraw":
            fig.decisions["withdrawn"] += 1
            flows[key].released += int(data.get("released") or 0)
    fig.flows = dict(sorted(flows.items()))
    fig.median_hours = statistics.median(waits) if waits else None
    fig.projects = [_project(p) for p in projects if _active_since(p, start)]
    fig.lessons = sorted(
        scrub(str(x.get("title", "")))
        for x in public_library
        if x.get("type") == "lesson" and lo <= int(x.get("created_ms") or 0) < hi
    )
    return fig


def _active_since(project: dict[str, Any], start: date) -> bool:
    """Whether a project still ran on or after ``start`` (its ``until`` date; open ones do)."""
    try:
        return date.fromisoformat(str(project.get("until"))) >= start
    except ValueError:
        return not project.get("closed")


METRIC_FIELDS = ("name", "unit", "target", "value")


def _project(p: dict[str, Any]) -> dict[str, Any]:
    metrics = [
        {k: scrub(str(m.get(k) if m.get(k) is not None else "")) for k in METRIC_FIELDS}
        for m in p.get("metrics") or []
        if isinstance(m, dict)
    ]
    return {
        "title": scrub(str(p.get("title", ""))),
        "status": scrub(str(p.get("status", ""))),
        "sdg": [int(s) for s in p.get("sdg") or [] if isinstance(s, int)],
        "closed": bool(p.get("closed")),
        "metrics": metrics,
    }
