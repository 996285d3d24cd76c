"""Provides the onboarding records (a member's skills, a room's switch, a welcome sent, a
checklist) and the pure rules over them (adding and matching skills, what is left to do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, Field

from bots.onboard.parse import MAX_SKILLS

Item = Literal["tz", "locale", "devices", "skills"]
ITEMS: tuple[Item, ...] = ("devices", "tz", "locale", "skills")
"""The checklist's items in the order the welcome lists them."""


class SkillSet(BaseModel):
    """What one member says they know (``!skills add``), kept sealed in the bot's store."""

    skills: list[str] = Field(default_factory=list)

    def add(self, words: list[str]) -> list[str]:
        """Add skills not yet listed; return those added. ValueError past ``MAX_SKILLS``."""
        new = [w for w in words if w not in self.skills]
        if len(self.skills) + len(new) > MAX_SKILLS:
            raise ValueError(len(self.skills))
        self.skills += new
        return new

    def remove(self, words: list[str]) -> list[str]:
        """Remove listed skills; return those removed."""
        gone = [w for w in words if w in self.skills]
        self.skills = [s for s in self.skills if s not in gone]
        return gone

    def matching(self, pattern: str) -> list[str]:
        """The skills matching a glob (already lower case): ``lokal*`` finds ``lokaldemokrati``."""
        return [s for s in self.skills if fnmatchcase(s, pattern)]


class RoomOnboarding(BaseModel):
    """A room's onboarding switch (``!onboard off`` by a coordinator)."""

    welcomes: bool = True
    by: str | None = None


class Welcomed(BaseModel):
    """A welcome queued for a member in a room: there is never a second one."""

    event_id: str
    ts: int


@dataclass
class Checklist:
    """What a member has done: each item True, False, or None when it could not be checked."""

    done: dict[Item, bool | None] = field(default_factory=dict)

    def missing(self) -> list[Item]:
        """The items known not to be done, in the welcome's order."""
        return [i for i in ITEMS if self.done.get(i) is False]

    @property
    def finished(self) -> bool:
        """Nothing known to be left (an item that could not be checked counts as done)."""
        return not self.missing()
