"""Provides the events bot: event cards, RSVPs, reminders, calendar files and scheduling polls."""

from bots.events.bot import EventsBot

__all__ = ["EventsBot"]
