"""Provides the resources bot: requests, pools, a signed transparency ledger and reports."""

from bots.resources.bot import ResourcesBot

__all__ = ["ResourcesBot"]
