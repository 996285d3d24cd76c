"""Provides the projects bot's records (projects, milestones, metrics, updates) and the pure
rules over them: milestone states, when an update is missed, metric progress, the card data.

Dates are ISO ``YYYY-MM-DD`` in UTC; metric numbers are ``Decimal`` kept as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from bots.resources.model import date_ms, decimal_str
from bots.resources.model import ms_date as ms_day
from messenger.protocol.projects import (
    MetricInfo,
    MilestoneInfo,
    MilestoneState,
    ProjectCard,
    ProjectRow,
    ProjectStatus,
    ResourceTotal,
)

DAY_MS = 86_400_000
Remind = Literal["weekly", "monthly", "never"]
PERIOD_MS: dict[str, int] = {"weekly": 7 * DAY_MS, "monthly": 30 * DAY_MS}
MAX_UPDATES = 100  # the newest kept with the project; the ledger keeps every one's hash


class Milestone(BaseModel):
    """A dated step of a project, with its own owner."""

    id: str
    title: str
    due: str
    owner: str
    done_on: str | None = None
    done_by: str | None = None
    flagged: str | None = None  # the due date it was flagged overdue for (once per date)

    def state(self, today: str) -> MilestoneState:
        """open, overdue (past its day, not done), done-on-time or done-late."""
        if self.done_on is not None:
            return "done-on-time" if self.done_on <= self.due else "done-late"
        return "overdue" if self.due < today else "open"


class MetricPoint(BaseModel):
    """One value a metric was set to."""

    value: str
    ts: int
    by: str


class Metric(BaseModel):
    """A shared measure with a target and its history."""

    name: str
    unit: str = ""
    target: str
    history: list[MetricPoint] = Field(default_factory=list)

    @property
    def value(self) -> str | None:
        """The latest value, if any."""
        return self.history[-1].value if self.history else None

    def met(self) -> bool:
        """Whether the latest value reaches the target."""
        return self.value is not None and Decimal(self.value) >= Decimal(self.target)

    def percent(self) -> int | None:
        """Latest value as a whole percentage of the target (None without a value or target)."""
        if self.value is None or Decimal(self.target) == 0:
            return None
        return int(Decimal(self.value) * 100 / Decimal(self.target))


class Update(BaseModel):
    """A status update."""

    status: ProjectStatus
    text: str
    by: str
    ts: int


class Project(BaseModel):
    """A project as the bot keeps it (sealed in the state store)."""

    id: str
    room: str
    title: str
    goal: str = ""
    sdg: list[int] = Field(default_factory=list)
    owner: str
    creator: str
    created_ms: int
    until: str
    status: ProjectStatus = "new"
    remind: Remind = "weekly"
    milestones: list[Milestone] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    updates: list[Update] = Field(default_factory=list)
    last_update_ms: int | None = None
    reminded_for: int | None = None  # the deadline (ms) whose missed update was reminded
    resources: dict[str, dict[str, int]] = Field(default_factory=dict)  # unit → granted/spent
    revision: int = 1

    @property
    def start(self) -> str:
        """The day it was created."""
        return ms_day(self.created_ms)

    @property
    def closed(self) -> bool:
        """Whether it has been closed."""
        return self.status == "closed"

    def milestone(self, mid: str) -> Milestone | None:
        """One of its milestones by ID."""
        return next((m for m in self.milestones if m.id == mid), None)

    def metric(self, name: str) -> Metric | None:
        """One of its metrics by name (case does not matter)."""
        return next((m for m in self.metrics if m.name.lower() == name.lower()), None)

    def next_milestone(self) -> Milestone | None:
        """The earliest milestone not done."""
        pending = sorted((m for m in self.milestones if m.done_on is None), key=lambda m: m.due)
        return pending[0] if pending else None

    def add_update(self, update: Update) -> None:
        """Record an update (its status becomes the project's)."""
        self.updates = [*self.updates, update][-MAX_UPDATES:]
        self.status = update.status
        self.last_update_ms = update.ts

    def reminder_due(self) -> int | None:
        """When the owner is next reminded of a missed update (None: never, or closed).

        One period after the latest update (or the creation); once reminded for a deadline,
        the next reminder is one period later, so a missed update reminds once per period.
        """
        period = PERIOD_MS.get(self.remind)
        if period is None or self.closed:
            return None
        due = (self.last_update_ms or self.created_ms) + period
        if self.reminded_for is not None and due <= self.reminded_for:
            due += ((self.reminded_for - due) // period + 1) * period
        return due

    def latest_deadline(self, now_ms: int) -> int | None:
        """The latest reminder deadline at or before ``now_ms`` (a bot down for three periods
        reminds once, for the latest one)."""
        due = self.reminder_due()
        if due is None or due > now_ms:
            return None
        period = PERIOD_MS[self.remind]
        return due + (now_ms - due) // period * period

    def overdue_unflagged(self, today: str) -> list[Milestone]:
        """Milestones past their day, not done, not yet flagged for that day."""
        return [m for m in self.milestones if m.state(today) == "overdue" and m.flagged != m.due]

    def next_timer(self, today: str) -> int | None:
        """When something of this project next falls due (a reminder, a milestone's day end)."""
        times = [date_ms(m.due) + DAY_MS for m in self.milestones if m.done_on is None]
        times = [t for t in times if ms_day(t - 1) >= today] if not self.closed else []
        due = self.reminder_due()
        if due is not None:
            times.append(due)
        return min(times) if times else None

    def card(self, today: str) -> ProjectCard:
        """The structured content of this project's card."""
        return ProjectCard(
            id=self.id,
            room=self.room,
            title=self.title,
            goal=self.goal,
            sdg=list(self.sdg),
            owner=self.owner,
            start=self.start,
            until=self.until,
            status=self.status,
            remind=self.remind,
            last_update=self.last_update_ms,
            milestones=[
                MilestoneInfo(
                    id=m.id,
                    title=m.title,
                    due=m.due,
                    owner=m.owner,
                    done_on=m.done_on,
                    state=m.state(today),
                )
                for m in sorted(self.milestones, key=lambda m: (m.due, int(m.id[1:])))
            ],
            metrics=[
                MetricInfo(name=m.name, unit=m.unit, target=m.target, value=m.value)
                for m in self.metrics
            ],
            resources=[
                ResourceTotal(
                    unit=u, granted=decimal_str(v["granted"]), spent=decimal_str(v["spent"])
                )
                for u, v in sorted(self.resources.items())
            ],
            revision=self.revision,
        )

    def shared(self) -> dict[str, object]:
        """What other bots read about it (``PROJECTS_NS``)."""
        return {
            "title": self.title,
            "status": self.status,
            "until": self.until,
            "sdg": list(self.sdg),
            "metrics": [
                {"name": m.name, "unit": m.unit, "target": m.target, "value": m.value}
                for m in self.metrics
            ],
            "closed": self.closed,
        }


def resource_totals(records: list[dict[str, object]]) -> dict[str, dict[str, int]]:
    """Unit → granted and spent (integer hundredths) over ``PROJECT_RESOURCES_NS`` records."""
    out: dict[str, dict[str, int]] = {}
    for rec in records:
        unit = str(rec.get("unit") or "")
        if not unit:
            continue
        sums = out.setdefault(unit, {"granted": 0, "spent": 0})
        for k in ("granted", "spent"):
            v = rec.get(k)
            if isinstance(v, int) and not isinstance(v, bool):
                sums[k] += v
    return out


def report_row(p: Project, today: str) -> ProjectRow:
    """A project's numbers: metrics met, milestones on time/late/overdue/open, resources."""
    states = [m.state(today) for m in p.milestones]
    card = p.card(today)
    return ProjectRow(
        id=p.id,
        title=p.title,
        status=p.status,
        metrics_met=sum(1 for m in p.metrics if m.met()),
        metrics=len(p.metrics),
        on_time=states.count("done-on-time"),
        late=states.count("done-late"),
        overdue=states.count("overdue"),
        open=states.count("open"),
        resources=card.resources,
    )
