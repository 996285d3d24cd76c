"""The projects bot."""

from bots.projects.bot import ProjectsBot

__all__ = ["ProjectsBot"]
