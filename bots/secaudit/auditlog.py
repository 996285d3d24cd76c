"""Provides the audit log: every audit run appended to a signed, hash-chained ledger.

It is the resources bot's ledger book (``LedgerBook``: Ed25519 signatures, SHA-256 links) in
namespaces of its own in the deployment store, so the CLI and the bots append to one chain
and ``samverkan audit history`` verifies it offline. An entry records who ran the audit, how
(``cli``, ``command``, ``schedule``, ``fix``), on what, and what it found — never an IP address
or user agent.
"""

from __future__ import annotations

from typing import Any

from crypto.ledger import LedgerEntry
from messenger.botkit.shared import AUDIT_LOG_META_NS, AUDIT_LOG_NS
from messenger.deploy.audit.auditor import AuditReport
from messenger.ledgerbook import LedgerBook, Writer
from messenger.store import StateStore

LOG_NS = AUDIT_LOG_NS
LOG_META_NS = AUDIT_LOG_META_NS
ACTION = "audit.run"


def audit_book() -> LedgerBook:
    """The ledger book of the audit log."""
    return LedgerBook(LOG_NS, LOG_META_NS)


def run_record(report: AuditReport, trigger: str, fixed: list[str] | None = None) -> dict[str, Any]:
    """What the log keeps of one run."""
    data: dict[str, Any] = {
        "trigger": trigger,
        "scope": report.scope,
        "counts": report.counts(),
        "findings": [f.model_dump(mode="json") for f in report.findings],
    }
    if fixed is not None:
        data["fixed"] = fixed
    return data


async def record_run(
    store: StateStore,
    actor: str,
    report: AuditReport,
    trigger: str,
    ts: int,
    fixed: list[str] | None = None,
) -> LedgerEntry:
    """Append one run to the log (its own transaction)."""
    async with store.transaction() as tx:
        return await append(tx, actor, report, trigger, ts, fixed)


async def append(
    tx: Writer,
    actor: str,
    report: AuditReport,
    trigger: str,
    ts: int,
    fixed: list[str] | None = None,
) -> LedgerEntry:
    """Append one run inside the caller's transaction."""
    return await audit_book().append(tx, actor, ACTION, run_record(report, trigger, fixed), ts)
