"""Provides the security audit's findings (``Finding``) and the structured copy of a room report.

A finding is data: how bad (``severity``), what (``code``, stable for scripts), about whom or
what (``subject``), which setting, its value and the value wanted, who must act. Its words
come from a catalogue by ``code``. ``private`` (IP addresses, user agents) is for the operator's
terminal only: it is never dumped, so it never reaches a room or the structured copy.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from messenger.protocol.base import Structured

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
"""Most severe first: the order of the report's sections."""
OPERATOR = "operator"
"""``Finding.who`` when the person running Samverkan must act."""


class Finding(BaseModel):
    """One thing the audit found."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: str
    subject: str
    setting: str = ""
    value: str = ""
    expected: str = ""
    room: str | None = None
    """The group's slug when about one room (a coordinator's report keeps only theirs)."""
    who: str = OPERATOR
    fixable: bool = False
    """Whether ``samverkan audit --fix`` (the reconcile of ``org apply``) fixes it."""
    private: dict[str, str] = Field(default_factory=dict, exclude=True)
    """IP addresses and user agents: shown to the operator in the terminal, never posted."""

    def sort_key(self) -> tuple[int, str, str, str]:
        """Severity first, then code, subject and setting."""
        return (SEVERITIES.index(self.severity), self.code, self.subject, self.setting)


class AuditSummary(Structured):
    """The structured copy of an audit report posted in a room."""

    KEY: ClassVar[str] = "org.samverkan.audit"
    run_at: int
    scope: list[str]
    """Slugs of the groups whose rooms and people were checked."""
    counts: dict[str, int]
    findings: list[Finding]
    trigger: Literal["command", "schedule"] = "command"
