"""Provides the structured content of the resources bot: request cards, pools, reports, ledger.

Amounts travel as decimal strings with two places (``"1500.00"``) next to their ``unit``,
so no client ever meets float drift; the bot itself counts in integer hundredths.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel

from messenger.protocol.base import Structured

RequestStatus = Literal["open", "approved", "denied", "fulfilled", "withdrawn"]


class RequestCard(Structured):
    """One resource request as its card shows it (edited in place as its status moves)."""

    KEY: ClassVar[str] = "org.samverkan.request"
    id: str
    room_id: str
    kind: str
    unit: str
    what: str
    purpose: str | None = None
    requester: str
    created_at: int
    amount: str | None = None  # requested
    granted: str | None = None  # approved (partial approval: less than requested)
    by: str | None = None  # ISO date the resource is needed by
    status: RequestStatus = "open"
    pool: str | None = None  # pool the grant was drawn from
    decided_by: str | None = None
    decided_at: int | None = None
    reason: str | None = None  # why it was denied
    fulfilled_by: str | None = None
    fulfilled_at: int | None = None
    comments: int = 0
    project: str | None = None  # the project (of the projects bot) it is for, e.g. "P1"


class RequestList(Structured):
    """The answer to ``!request list``."""

    KEY: ClassVar[str] = "org.samverkan.requests"
    filter: str
    requests: list[RequestCard]
    total: int


class PoolInfo(BaseModel):
    """One pool's figures: what was added, granted (approved), spent (fulfilled), remaining."""

    id: str
    scope: Literal["room", "org"]
    room_id: str | None = None
    kind: str
    unit: str
    total: str
    granted: str
    spent: str
    remaining: str


class PoolList(Structured):
    """The answer to ``!pool show`` and ``!pool add``."""

    KEY: ClassVar[str] = "org.samverkan.pools"
    pools: list[PoolInfo]


class ResourceReport(Structured):
    """A transparency report; the CSV attachment carries every row."""

    KEY: ClassVar[str] = "org.samverkan.report"
    since: str | None = None
    rooms: list[str]
    pools: list[PoolInfo]
    requests: list[RequestCard]
    ledger_head: str
    ledger_entries: int
    ledger_key: str


class LedgerStatus(Structured):
    """The answer to ``!ledger verify``."""

    KEY: ClassVar[str] = "org.samverkan.ledger"
    ok: bool
    entries: int
    head: str
    key: str
    broken_index: int | None = None
    problem: str | None = None
