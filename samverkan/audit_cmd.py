"""Provides ``samverkan audit``: the security audit, ``--fix``, its signed log and recovery keys.

``samverkan audit [--json] [--fix]`` exits 0 when nothing above ``info`` was found, 1 with
findings, 2 when it could not run. ``audit history`` lists the runs in the signed audit log
and verifies the chain offline (``--export FILE`` for ``samverkan ledger verify``).
``audit recovery-stored BOT`` records that the bot's current recovery key is kept offline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bots.secaudit.auditlog import LOG_META_NS, LOG_NS, record_run
from bots.secaudit.words import SEVERITY_WORDS, describe, who_acts
from messenger.deploy.audit.auditor import AuditReport
from messenger.deploy.audit.people import BotHealth
from messenger.i18n import translator
from messenger.protocol.audit import SEVERITIES
from samverkan.context import UsageProblem, settings_for

if TYPE_CHECKING:
    from messenger.config import Settings
    from messenger.deploy.deployment import Deployment

JSON_VERSION = 1
EN = translator("en")


def health_from_heartbeat(home: Path) -> dict[str, BotHealth] | None:
    """The bots' key health from the running ``up``'s heartbeat (None: bots not running)."""
    from samverkan.running import HEARTBEAT_FILE
    from samverkan.status import STALE_S, heartbeat

    beats = heartbeat(home, HEARTBEAT_FILE)
    fresh = {
        name: b
        for name, b in beats.items()
        if time.time() - float(b.get("at", 0)) < STALE_S  # type: ignore[arg-type]
    }
    if not fresh:
        return None
    return {
        name: BotHealth(
            name,
            str(b.get("user_id", "")),
            str(b.get("device_id", "")),
            str(b["backup_version"]) if b.get("backup_version") else None,
            int(b.get("backed_up", 0)),  # type: ignore[call-overload]
        )
        for name, b in fresh.items()
    }


def finding_json(report: AuditReport) -> list[dict[str, Any]]:
    """The findings as the stable JSON rows (private fields included: this is the operator's)."""
    rows = []
    for f in report.findings:
        what, fix = describe(EN, f)
        row = f.model_dump(mode="json")
        row.update(message=what, fix=fix, who=f.who, private=f.private)
        rows.append(row)
    return rows


def print_table(report: AuditReport) -> None:
    """Findings grouped by severity, each with its fix and who must act."""
    for severity in SEVERITIES:
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        print(f"{EN.gettext(SEVERITY_WORDS[severity]).upper()} ({len(group)})")
        for f in group:
            what, fix = describe(EN, f)
            print(f"  [{f.code}] {what}")
            print(f"      fix: {fix}  (who: {who_acts(EN, f)})")
            seen = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in f.private.items() if v)
            if seen:
                print(f"      {seen}")
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    if report.clean:
        print(f"no problems found ({counts or 'nothing to note'})")
    else:
        print(f"{len(report.findings)} findings: {counts}")


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Deployment]:
    """The deployment, if its homeserver answers (an audit never starts one: it would audit
    a server nobody uses)."""
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.homeserver import wait_ready
    from messenger.errors import HomeserverError

    deployment = await Deployment.open(settings)
    try:
        try:
            await wait_ready(deployment.url, 2)
        except HomeserverError:
            raise HomeserverError(
                f"cannot audit: the homeserver at {deployment.url} does not answer; start it "
                "(samverkan up) and run the audit again"
            ) from None
        yield deployment
    finally:
        await deployment.store.close()


async def cmd_audit(args: argparse.Namespace) -> int:
    """``samverkan audit [--json] [--fix]``."""
    from messenger.deploy.audit.auditor import Auditor, admin_for, deployed_facts

    settings = settings_for(args)
    async with running(settings) as deployment:
        service = await deployment.service_session()
        admin = admin_for(deployment, service)
        try:
            facts = await deployed_facts(deployment, health_from_heartbeat(settings.home))

            async def run() -> AuditReport:
                auditor = Auditor(service, settings.org, admin, int(time.time() * 1000))
                return await auditor.run(None, facts)

            fixed: list[str] | None = None
            failed: list[str] = []
            if args.fix:
                for bot_id in settings.org.bot_user_ids().values():
                    await deployment.ensure_account(bot_id)
                applied = await Auditor(service, settings.org, admin, 0).fix()
                fixed, failed = applied.applied, applied.failed
            report = await run()
        finally:
            await admin.close()
            await service.close()
        entry = await record_run(
            deployment.store, "operator", report, "fix" if args.fix else "cli", report.run_at, fixed
        )
    if args.json:
        out = {
            "version": JSON_VERSION,
            "run_at": report.run_at,
            "clean": report.clean,
            "counts": report.counts(),
            "findings": finding_json(report),
            "log": {"index": entry.index, "hash": entry.entry_hash},
        }
        if fixed is not None:
            out["fixed"] = fixed
            out["could_not_fix"] = failed
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for line in fixed or []:
            print(f"fixed: {line}")
        for line in failed:
            print(f"could not fix: {line}")
        if fixed is not None and (report.findings or failed):
            print("left for people to act on (see who):")
        print_table(report)
        print(f"logged as audit log entry {entry.index}")
    return 0 if report.clean and not failed else 1


async def cmd_history(args: argparse.Namespace) -> int:
    """``samverkan audit history [--export FILE] [--json]``: the runs, verified offline."""
    from crypto.ledger import dump_jsonl
    from messenger.deploy.deployment import Deployment
    from messenger.ledgerbook import stored_entries, stored_public_key, to_entries
    from samverkan.ledger_cmd import verify_text

    settings = settings_for(args)
    deployment = await Deployment.open(settings)
    try:
        objects = await stored_entries(deployment.store, LOG_NS)
        key = await stored_public_key(deployment.store, LOG_META_NS)
    finally:
        await deployment.store.close()
    if key is None or not objects:
        print("the audit log is empty: no audit has run here yet (samverkan audit)")
        return 0
    entries = to_entries(objects)
    text = dump_jsonl(entries)
    verdict = verify_text(text, key)
    if args.export:
        await asyncio.to_thread(args.export.write_text, text, encoding="utf-8")
    if args.json:
        runs = [
            {"index": e.index, "at": e.timestamp_ms, "actor": e.actor, **e.data} for e in entries
        ]
        print(json.dumps({"ok": verdict.ok, "head": verdict.head, "key": key.to_base64(),
                          "problem": verdict.problem, "runs": runs}, indent=2))  # fmt: skip
        return 0 if verdict.ok else 1
    for e in entries:
        at = datetime.fromtimestamp(e.timestamp_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        counts = e.data.get("counts", {})
        found = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing"
        print(f"{e.index:>4}  {at}  {e.data.get('trigger', '?'):<8}  {e.actor}: {found}")
    b64 = key.to_base64()
    if verdict.ok:
        print(f"OK: {verdict.entries} runs; every signature and hash link verifies")
        print(f"head: {verdict.head}")
    else:
        print(f"FAILED at entry {verdict.broken_index}: {verdict.problem}")
    print(f"verification key (Ed25519): {b64}")
    if args.export:
        print(f"wrote {args.export}; check it anywhere: samverkan ledger verify {args.export} "
              f"--key {b64} --head {verdict.head}")  # fmt: skip
    return 0 if verdict.ok else 1


async def cmd_recovery_stored(args: argparse.Namespace) -> int:
    """``samverkan audit recovery-stored BOT``: the bot's current key is kept offline."""
    from messenger.deploy.audit.hosting import recovery_fingerprint
    from messenger.deploy.deployment import RECOVERY_NS, RECOVERY_STORED_NS, Deployment
    from messenger.ids import localpart

    settings = settings_for(args)
    bots = settings.org.bot_user_ids()
    if args.bot not in bots:
        raise UsageProblem(f"no bot named {args.bot!r}; bots: {', '.join(bots)}")
    account = localpart(bots[args.bot])
    deployment = await Deployment.open(settings)
    try:
        kept = await deployment.store.get(RECOVERY_NS, account)
        if not kept or not kept.get("recovery_key"):
            raise UsageProblem(
                f"the {args.bot} bot has no recovery key here yet: start the bots once "
                "(samverkan up); the key is printed at its first start"
            )
        await deployment.store.put(
            RECOVERY_STORED_NS,
            account,
            {"sha256": recovery_fingerprint(kept["recovery_key"]), "at": int(time.time() * 1000)},
        )
    finally:
        await deployment.store.close()
    print(f"noted: the {args.bot} bot's current recovery key is stored offline")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``audit`` and its actions."""
    config = {"type": Path, "default": Path("org.toml"), "help": "organisation file"}
    p = sub.add_parser("audit", help="security audit of rooms, people, devices, bots, deployment")
    p.add_argument("--config", **config)
    p.add_argument("--json", action="store_true", help="stable JSON for scripts")
    p.add_argument(
        "--fix", action="store_true", help="apply the organisation file (as org apply), then audit"
    )
    p.set_defaults(func=cmd_audit)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    hist = actions.add_parser("history", help="the signed log of audit runs, verified offline")
    hist.add_argument("--config", **config)
    hist.add_argument("--json", action="store_true", help="the runs as JSON")
    hist.add_argument("--export", type=Path, help="write the log as JSON Lines to this file")
    hist.set_defaults(func=cmd_history)
    rec = actions.add_parser(
        "recovery-stored", help="record that a bot's recovery key is stored offline"
    )
    rec.add_argument("bot", help="events, resources or translate")
    rec.add_argument("--config", **config)
    rec.set_defaults(func=cmd_recovery_stored)
