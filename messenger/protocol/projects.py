"""Provides the structured content of the projects bot: project cards and progress reports.

Numbers (metric targets and values, amounts) travel as decimal strings, dates as ISO
``YYYY-MM-DD``; nothing here is translated. The TUI's Projects dashboard is built from these.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from messenger.protocol.base import Structured

ProjectStatus = Literal["new", "on-track", "at-risk", "off-track", "closed"]
MilestoneState = Literal["open", "overdue", "done-on-time", "done-late"]


class MilestoneInfo(BaseModel):
    """One milestone of a project as its card shows it."""

    id: str = Field(description="Short ID people type, e.g. 'M3'.")
    title: str
    due: str = Field(description="ISO date it is due.")
    owner: str
    done_on: str | None = Field(default=None, description="ISO date it was marked done.")
    state: MilestoneState = "open"


class MetricInfo(BaseModel):
    """A shared measure: its target and its latest value."""

    name: str
    unit: str = ""
    target: str
    value: str | None = None


class ResourceTotal(BaseModel):
    """What requests tied to the project were granted and spent, in one unit."""

    unit: str
    granted: str
    spent: str


class ProjectCard(Structured):
    """A project as its card shows it (``org.samverkan.project``); edits carry the new state."""

    KEY: ClassVar[str] = "org.samverkan.project"
    id: str = Field(description="Short ID people type, e.g. 'P1'.")
    room: str
    title: str
    goal: str = ""
    sdg: list[int] = Field(default_factory=list, description="UN sustainable development goals.")
    owner: str
    start: str = Field(description="ISO date the project was created.")
    until: str = Field(description="ISO date it is meant to end.")
    status: ProjectStatus = "new"
    remind: Literal["weekly", "monthly", "never"] = "weekly"
    last_update: int | None = Field(default=None, description="ms of the latest !update.")
    milestones: list[MilestoneInfo] = Field(default_factory=list)
    metrics: list[MetricInfo] = Field(default_factory=list)
    resources: list[ResourceTotal] = Field(default_factory=list)
    revision: int = Field(default=1, description="Grows with every change of the card.")


class ProjectRow(BaseModel):
    """One project's numbers in a progress report."""

    id: str
    title: str
    status: ProjectStatus
    metrics_met: int
    metrics: int
    on_time: int
    late: int
    overdue: int
    open: int
    resources: list[ResourceTotal] = Field(default_factory=list)


class ProjectReport(Structured):
    """A progress report's summary (``org.samverkan.project.report``); the file has it all."""

    KEY: ClassVar[str] = "org.samverkan.project.report"
    room: str
    projects: int
    rows: list[ProjectRow] = Field(default_factory=list, description="Those that fit.")
    ledger_head: str
    ledger_entries: int
    ledger_key: str
    verified: bool
