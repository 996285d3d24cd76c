"""Provides the deployment checks: the vault's Argon2id cost, who may read the data directory,
the recovery keys' offline copies, and Synapse settings that weaken privacy."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

from nacl.pwhash import argon2id

from messenger.config import OrgFile
from messenger.protocol.audit import Finding

MAX_DEPTH = 4
SKIP_DIRS = {"media_store", "__pycache__"}


def check_vault(home: Path) -> list[Finding]:
    """The vault header's Argon2id limits against libsodium's ``MODERATE`` (the default)."""
    try:
        header = json.loads((home / "vault.json").read_text(encoding="utf-8"))
        ops, mem = int(header["opslimit"]), int(header["memlimit"])
    except (OSError, ValueError, KeyError, TypeError):
        return [Finding(severity="high", code="vault.unreadable", subject="vault.json")]
    if ops >= argon2id.OPSLIMIT_MODERATE and mem >= argon2id.MEMLIMIT_MODERATE:
        return []
    return [
        Finding(
            severity="medium",
            code="vault.weak-kdf",
            subject="vault.json",
            setting="Argon2id opslimit/memlimit",
            value=f"{ops}/{mem // 2**20} MiB",
            expected=f"{argon2id.OPSLIMIT_MODERATE}/{argon2id.MEMLIMIT_MODERATE // 2**20} MiB",
        )
    ]


def check_permissions(home: Path) -> list[Finding]:
    """Entries of the data directory that other local users could reach (group/other bits on a
    path whose every directory they may enter)."""
    out: list[Finding] = []

    def visit(path: Path, reachable: bool, depth: int) -> None:
        try:
            st = path.lstat()
        except OSError:
            return
        mode = stat.S_IMODE(st.st_mode)
        is_dir = stat.S_ISDIR(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            return
        opens = mode & (0o077 if path == home else 0o044)
        if reachable and opens:
            out.append(
                Finding(
                    severity="high",
                    code="files.permissions",
                    subject=str(path),
                    setting="mode",
                    value=oct(mode),
                    expected="0o700" if is_dir else "0o600",
                )
            )
            return  # one finding per exposed subtree
        if is_dir and depth < MAX_DEPTH and path.name not in SKIP_DIRS:
            inner = reachable and bool(mode & 0o011)
            try:
                children = sorted(path.iterdir())
            except OSError:
                return
            for child in children:
                visit(child, inner, depth + 1)

    visit(home, True, 0)
    return out


def recovery_fingerprint(key: str) -> str:
    """What the deployment keeps to know a confirmed recovery key (never the key)."""
    return hashlib.sha256(key.strip().encode()).hexdigest()


def check_recovery(
    kept: dict[str, Any], confirmed: dict[str, Any], bots: dict[str, str]
) -> list[Finding]:
    """Bots (name → account localpart, the stores' key) whose current recovery key the
    operator has not confirmed as stored offline."""
    out = []
    for name, account in bots.items():
        key = (kept.get(account) or {}).get("recovery_key")
        if not key:
            continue
        if (confirmed.get(account) or {}).get("sha256") != recovery_fingerprint(key):
            out.append(Finding(severity="medium", code="bot.recovery-unconfirmed", subject=name))
    return out


def check_synapse_config(config: dict[str, Any], org: OrgFile) -> list[Finding]:
    """Settings of the embedded Synapse that weaken privacy."""
    out = []

    def flag(severity: str, code: str, setting: str, value: Any, expected: str) -> None:
        out.append(
            Finding(
                severity=severity,  # type: ignore[arg-type]
                code=code,
                subject="homeserver",
                setting=setting,
                value=json.dumps(value),
                expected=expected,
            )
        )

    if config.get("enable_registration"):
        flag("critical", "synapse.registration-open", "enable_registration", True, "false")
    if config.get("allow_guest_access"):
        flag("high", "synapse.guest-access", "allow_guest_access", True, "false")
    if config.get("url_preview_enabled"):
        flag("medium", "synapse.url-previews", "url_preview_enabled", True, "false")
    presence = config.get("presence", {})
    if not isinstance(presence, dict) or presence.get("enabled", True):
        flag("low", "synapse.presence", "presence.enabled", True, "false")
    if config.get("report_stats"):
        flag("medium", "synapse.report-stats", "report_stats", True, "false")
    if config.get("enable_metrics"):
        flag("low", "synapse.metrics", "enable_metrics", True, "false")
    partners = org.homeserver.partners
    whitelist = config.get("federation_domain_whitelist")
    if partners and whitelist is None:
        flag(
            "high",
            "synapse.federation-open",
            "federation_domain_whitelist",
            None,
            json.dumps(sorted({org.homeserver.server_name, *partners})),
        )
    elif isinstance(whitelist, list) and partners:
        extra = sorted(set(whitelist) - {org.homeserver.server_name, *partners})
        if extra:
            flag(
                "medium",
                "synapse.federation-extra",
                "federation_domain_whitelist",
                extra,
                json.dumps(sorted({org.homeserver.server_name, *partners})),
            )
    return out


def read_synapse_config(path: Path) -> dict[str, Any] | None:
    """The embedded Synapse's config (JSON, which is YAML), or None when there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
