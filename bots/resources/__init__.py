"""Provides ``ResourcesBot``: resource requests, pools, a signed transparency ledger, reports."""

from __future__ import annotations

from bots.resources.audit import AuditCommands
from bots.resources.requests import RequestCommands


class ResourcesBot(RequestCommands, AuditCommands):
    """The resources bot: ``!request``, ``!pool``, ``!ledger verify`` and ``!report``."""

    name = "resources"


__all__ = ["ResourcesBot"]
