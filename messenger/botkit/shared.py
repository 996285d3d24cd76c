"""The records bots hand each other, kept sealed in the deployment's state store.

Every bot of an organisation, in one process or several (``samverkan up --bots``), opens the
same deployment store; ``Bot.shared`` is it (a bot built outside the runtime falls back to
its own store). Each namespace has one writer; readers never write it. Keys and values:

- ``LIBRARY_INBOX_NS`` — written by any bot, drained by ``@library`` on its tick (the entry
  is stored and the inbox item deleted in one transaction): key a unique ID (the writer's
  event ID and a suffix), value ``{"room_id", "title", "type", "tags": [..], "lang",
  "text", "author", "source": "<bot>:<ref>"}`` — how a project's retrospective becomes
  ``lesson`` entries.
- ``LIBRARY_PUBLIC_NS`` — written by ``@library``: entries marked public, key
  ``"<room_id>/<K id>"``, value ``{"title", "type", "lang", "created_ms"}`` (titles only).
- ``PROJECTS_NS`` — written by ``@projects``: key ``"<room_id>/<P id>"``, value
  ``{"title", "status", "until", "sdg": [..], "metrics": [{"name", "unit", "target",
  "value"}], "closed": bool}`` — what ``!request --project`` checks and reports read.
- ``PROJECT_RESOURCES_NS`` — written by ``@resources``: key ``"<room_id>/<R id>"``, value
  ``{"project": "P1", "kind", "unit", "requested", "granted", "spent", "status"}`` for
  requests tied to a project (amounts in the ledger's integer units).
- ``AUDIT_LOG_NS`` / ``AUDIT_LOG_META_NS`` — the security audit's signed log (a
  ``messenger.ledgerbook.LedgerBook``): appended by ``samverkan audit`` and by ``@resources``
  (``!audit``, the schedule). Two writers, one chain: each append reads the head and writes
  inside one ``BEGIN IMMEDIATE`` transaction, which SQLite serialises across processes.
"""

from __future__ import annotations

LIBRARY_INBOX_NS = "library-inbox"
LIBRARY_PUBLIC_NS = "library-public"
PROJECTS_NS = "projects-index"
PROJECT_RESOURCES_NS = "project-resources"
AUDIT_LOG_NS = "audit-log"
AUDIT_LOG_META_NS = "audit-log-meta"


def shared_key(room_id: str, item_id: str) -> str:
    """The key of a room's item (``P1``, ``R3``, ``K2``) in a shared namespace."""
    return f"{room_id}/{item_id}"
