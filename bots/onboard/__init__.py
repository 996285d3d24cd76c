"""Provides onboarding, hosted by a bot (the events bot): welcomes, the checklist, the skills
directory and the partners' public holidays, as command groups and an event hook.

It imports ``messenger`` only, never another bot's package; the hosting bot adds ``GROUPS``
to its own and calls ``on_member_event`` from its ``on_event``.
"""

from bots.onboard.commands_holidays import HolidayCommands
from bots.onboard.commands_onboard import OnboardCommands
from bots.onboard.commands_skills import SkillCommands
from bots.onboard.welcome import on_member_event

GROUPS = (OnboardCommands, SkillCommands, HolidayCommands)

__all__ = ["GROUPS", "HolidayCommands", "OnboardCommands", "SkillCommands", "on_member_event"]
