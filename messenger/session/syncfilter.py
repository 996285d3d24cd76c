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

READ_ELSEWHERE_TYPES = [
    "m.room.encrypted",
    "m.room.message",
    "m.reaction",
    "m.room.redaction",
    "m.sticker",
    "m.poll.*",
    "org.matrix.msc3381.*",
    "m.call.*",
]
"""The message-like events a bot leaves out of its own sync while another session of its
process reads them for it (``messenger/botkit/reading.py``); state events still come, so
the bot's view of members and power levels stays its own."""

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

    def read_elsewhere(self, on: bool) -> None:
        """Leave the rooms' messages out (another session reads them for this one), or not."""
        timeline = self.spec["room"]["timeline"]
        if on == ("not_types" in timeline):
            return
        if on:
            timeline["not_types"] = list(READ_ELSEWHERE_TYPES)
        else:
            timeline.pop("not_types", None)
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
