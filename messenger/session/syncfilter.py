"""Provides ``SyncFilter``: what a session asks /sync for, uploaded once to the homeserver."""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from messenger.errors import MessengerError

log = logging.getLogger(__name__)

SYNC_FILTER: dict[str, Any] = {
    "room": {
        "timeline": {"limit": 100},
        "state": {"lazy_load_members": True},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
}
"""What a session reads from /sync: timelines, the state they need (members lazily), to-device
and device lists; never typing, receipts, presence or account data."""

Api = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class SyncFilter:
    """A session's filter: ``SYNC_FILTER`` and, for a bot, the senders it never reads.

    Every /sync names the filter by the ID the homeserver gave it (uploaded on first use and
    again after a change), so the homeserver neither parses nor checks it per request.
    """

    def __init__(self) -> None:
        self.spec: dict[str, Any] = copy.deepcopy(SYNC_FILTER)
        self.filter_id: str | None = None

    def ignore_senders(self, user_ids: set[str]) -> None:
        """Leave these accounts' timeline events out (the homeserver then does not wake the
        session for them)."""
        timeline = self.spec["room"]["timeline"]
        if user_ids:
            timeline["not_senders"] = sorted(user_ids)
        else:
            timeline.pop("not_senders", None)
        self.filter_id = None

    async def current(self, api: Api, user_id: str) -> str | dict[str, Any]:
        """The filter's ID, uploading it if needed; the filter itself while an upload fails
        (tried again on the next sync)."""
        if self.filter_id is None:
            try:
                resp = await api("POST", f"/user/{quote(user_id)}/filter", self.spec)
                found = resp.get("filter_id")
                self.filter_id = found if isinstance(found, str) and found else None
            except MessengerError as e:
                log.warning("%s: uploading the sync filter failed (%s)", user_id, e)
        return self.filter_id or self.spec
