"""Provides ``Auditor``: one audit run over rooms, people, bots and the deployment, and ``--fix``.

It reads with the service account (the provisioner's view of the rooms; a server admin for
the admin API) and returns an ``AuditReport`` of findings; it changes nothing. ``fix`` is the
reconcile of ``org apply``, so the audit's idea of right is the organisation file's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from messenger.config import Group, OrgFile
from messenger.deploy.audit.admin import SynapseAdmin
from messenger.deploy.audit.hosting import (
    check_permissions,
    check_recovery,
    check_synapse_config,
    check_vault,
    read_synapse_config,
)
from messenger.deploy.audit.people import (
    BotHealth,
    check_admins,
    check_bot,
    check_devices,
    check_stale,
)
from messenger.deploy.audit.rooms import check_room
from messenger.deploy.deployment import RECOVERY_NS, RECOVERY_STORED_NS, Deployment
from messenger.deploy.provision import SPACE_SLUG, Provisioner, Report
from messenger.e2ee.trust import CrossSigning
from messenger.errors import AuthError, MatrixError
from messenger.ids import localpart, server_of
from messenger.protocol.audit import SEVERITIES, Finding
from messenger.session.core import Session


@dataclass
class Deployed:
    """What only the machine running Samverkan knows (None fields: not checked)."""

    home: Path | None = None
    synapse_config: Path | None = None
    bots: dict[str, BotHealth] | None = None
    recovery_kept: dict[str, Any] = field(default_factory=dict)
    recovery_confirmed: dict[str, Any] = field(default_factory=dict)


@dataclass
class AuditReport:
    """One run's findings, most severe first, and the rooms it saw (slug → room ID)."""

    run_at: int
    scope: list[str]
    findings: list[Finding]
    rooms: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Findings per severity (every severity present, zeros included)."""
        found = Counter(f.severity for f in self.findings)
        return {s: found.get(s, 0) for s in SEVERITIES}

    @property
    def clean(self) -> bool:
        """No finding above ``info``."""
        return all(f.severity == "info" for f in self.findings)


class Auditor:
    """Audits an organisation as the service account sees it."""

    def __init__(
        self, session: Session, org: OrgFile, admin: SynapseAdmin | None, now_ms: int
    ) -> None:
        self.session = session
        self.org = org
        self.admin = admin
        self.now_ms = now_ms
        self.prov = Provisioner(session, org)
        self.cs = CrossSigning(session)

    async def run(
        self, groups: list[Group] | None = None, deployed: Deployed | None = None
    ) -> AuditReport:
        """Audit ``groups`` (default: the whole organisation, with server-wide checks)."""
        whole = groups is None
        scope = self.org.groups if groups is None else groups
        existing = await self.prov.existing()
        space = existing.get(SPACE_SLUG)
        findings: list[Finding] = []
        if whole and space is None:
            findings.append(
                Finding(severity="high", code="room.missing", subject=self.org.organisation.name,
                        room=SPACE_SLUG, fixable=True, expected="space")
            )  # fmt: skip
        for g in scope:
            findings += check_room(self.prov, g, existing.get(g.slug), space)
        bots = self.org.bot_user_ids()
        service = self.org.service_user_id()
        people = sorted({u for g in scope for u in g.everyone} - set(bots.values()) - {service})
        for user in people:
            findings += await check_devices(self.cs, user)
        findings += await self._admin_checks(people, whole, service)
        health = deployed.bots if deployed else None
        for name, user_id in bots.items():
            findings += await check_bot(
                self.cs, name, user_id, None if health is None else health.get(name)
            )
        if deployed is not None:
            accounts = {name: localpart(user_id) for name, user_id in bots.items()}
            findings += self._deployment(deployed, accounts)
            if deployed.synapse_config is None:  # someone else's server: ask it
                findings += await probe_registration(self.session)
        rooms = {slug: st.room_id for slug, st in existing.items()}
        return AuditReport(
            self.now_ms, [g.slug for g in scope], sorted(findings, key=Finding.sort_key), rooms
        )

    async def _admin_checks(self, people: list[str], whole: bool, service: str) -> list[Finding]:
        if self.admin is None:
            return [Finding(severity="info", code="audit.no-admin", subject=service)]
        ours = self.org.homeserver.server_name
        stale = self.org.security.stale_device_days
        out: list[Finding] = []
        try:
            admins = await self.admin.server_admins()
            out += check_admins(admins, {service}, None if whole else set(people))
            for user in people:
                if server_of(user) == ours:
                    out += await check_stale(self.admin, user, stale, self.now_ms)
        except AuthError:
            out.append(Finding(severity="info", code="audit.no-admin", subject=service))
        return out

    def _deployment(self, deployed: Deployed, bots: dict[str, str]) -> list[Finding]:
        out = check_recovery(deployed.recovery_kept, deployed.recovery_confirmed, bots)
        if deployed.home is not None:
            out += check_vault(deployed.home) + check_permissions(deployed.home)
        if deployed.synapse_config is not None:
            config = read_synapse_config(deployed.synapse_config)
            if config is not None:
                out += check_synapse_config(config, self.org)
        return out

    async def fix(self) -> Report:
        """Apply the organisation file (``org apply``'s reconcile)."""
        return await self.prov.apply()


async def deployed_facts(deployment: Deployment, bots: dict[str, BotHealth] | None) -> Deployed:
    """What the deployment's machine knows: its data directory, the embedded homeserver's
    config, the recovery keys kept and confirmed, and the bots' health (None: not running)."""
    store = deployment.store
    return Deployed(
        home=deployment.settings.home,
        synapse_config=deployment.synapse.config_path if deployment.synapse else None,
        bots=bots,
        recovery_kept=dict(await store.items(RECOVERY_NS)),
        recovery_confirmed=dict(await store.items(RECOVERY_STORED_NS)),
    )


def admin_for(deployment: Deployment, service: Session) -> SynapseAdmin:
    """Admin API reads as the service account (a server admin on the embedded homeserver)."""
    return SynapseAdmin(deployment.url, str(service.client.access_token))


async def probe_registration(session: Session) -> list[Finding]:
    """Whether the homeserver lets anyone register (asked without credentials: an open server
    answers with the steps to take; a token-gated one is closed enough)."""
    try:
        data = await session.api("POST", "/register", {}, auth=False)
    except MatrixError:
        return []  # refused (403 M_FORBIDDEN): registration is closed
    flows = [f.get("stages", []) for f in data.get("flows", []) if isinstance(f, dict)]
    if not flows or all("m.login.registration_token" in stages for stages in flows):
        return []
    return [
        Finding(
            severity="critical",
            code="synapse.registration-open",
            subject="homeserver",
            setting="enable_registration",
            value="true",
            expected="false",
        )
    ]
