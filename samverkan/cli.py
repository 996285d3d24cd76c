"""Provides the ``samverkan`` command line: up, demo, tui, org, account, status, rekey."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from crypto import CryptoError
from messenger.config import Settings
from messenger.errors import MessengerError
from samverkan.context import DEFAULT_CONFIG, UsageProblem, passphrase, settings_for
from samverkan.running import HEARTBEAT_FILE, bots_option, run_until_signal
from samverkan.watch import crash_log

if TYPE_CHECKING:
    from messenger.deploy.deployment import Deployment

log = logging.getLogger("samverkan")


async def cmd_up(args: argparse.Namespace) -> int:
    if args.federation_test:
        from samverkan.fedtest import run_federation_test

        return await run_federation_test(args)
    args.config = args.config or DEFAULT_CONFIG
    settings = settings_for(args)
    await run_until_signal(settings, only=bots_option(args.bots, settings))
    return 0


async def cmd_org(args: argparse.Namespace) -> int:
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.homeserver import wait_ready
    from messenger.deploy.provision import Provisioner

    settings = settings_for(args)
    deployment = await Deployment.open(settings)
    started = False
    try:
        try:
            await wait_ready(deployment.url, 1)
        except MessengerError:
            if deployment.synapse is None:
                raise
            await deployment.start_homeserver()
            started = True
        if args.action == "apply":
            for bot_id in settings.org.bot_user_ids().values():
                await deployment.ensure_account(bot_id)
        service = await deployment.service_session()
        try:
            prov = Provisioner(service, settings.org)
            if args.action == "check":
                changes = await prov.plan()
                for c in changes:
                    print(f"would {c.description}")
                print(
                    "no changes: the homeserver matches the file"
                    if not changes
                    else f"{len(changes)} change(s); run `samverkan org apply` to make them"
                )
                return 0
            report = await prov.apply()
            for line in report.applied:
                print(f"applied: {line}")
            for line in report.failed:
                print(f"could not: {line}", file=sys.stderr)
            if not report.applied and not report.failed:
                print("no changes: the homeserver matches the file")
            return 1 if report.failed else 0
        finally:
            await service.close()
    finally:
        if started and deployment.synapse:
            await deployment.synapse.stop()
        await deployment.store.close()


async def cmd_account(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    pw = args.password
    if pw is None:
        if not sys.stdin.isatty():
            raise UsageProblem("no password: pass --password P or run in a terminal to be asked")
        pw = getpass.getpass(f"password for {args.user}: ")
    if len(pw) < 8:
        raise UsageProblem("the password is too short: use at least 8 characters")
    async with reachable(settings) as deployment:
        user_id, _ = await deployment.ensure_account(args.user, pw)
        print(f"account {user_id} is ready on {deployment.url}")
    return 0


async def cmd_account_restore(args: argparse.Namespace) -> int:
    from bots.runtime import restore_bot

    settings = settings_for(args)
    if args.bot not in settings.org.bot_user_ids():
        raise UsageProblem(
            f"no bot named {args.bot!r}; bots: {', '.join(settings.org.bot_user_ids())}"
        )
    key = args.recovery_key
    if key is None and not args.new_identity:
        if not sys.stdin.isatty():
            raise UsageProblem("no recovery key: pass --recovery-key KEY, or --new-identity")
        key = getpass.getpass(f"recovery key of the {args.bot} bot: ")
    async with reachable(settings) as deployment:
        ident = await restore_bot(deployment, args.bot, key, new_identity=args.new_identity)
    print(
        f"{args.bot}: identity {ident.outcome} (master key {ident.master_fingerprint}), "
        f"device {'signed' if ident.device_signed else 'NOT signed'}, "
        f"{ident.sessions_restored} room keys restored from the backup"
    )
    return 0


@contextlib.asynccontextmanager
async def reachable(settings: Settings) -> AsyncIterator[Deployment]:
    """The deployment with a homeserver that answers: the embedded one is started for this
    command (and stopped after) unless ``up`` already runs it."""
    from messenger.deploy.deployment import Deployment
    from messenger.deploy.homeserver import wait_ready

    deployment = await Deployment.open(settings)
    started = False
    try:
        try:
            await wait_ready(deployment.url, 1)
        except MessengerError:
            await deployment.start_homeserver()
            started = True
        yield deployment
    finally:
        if started and deployment.synapse:
            await deployment.synapse.stop()
        await deployment.store.close()


async def cmd_status(args: argparse.Namespace) -> int:
    from samverkan.status import status_table

    settings = settings_for(args)
    rows, ok = await status_table(settings, HEARTBEAT_FILE)
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0 if ok else 1


async def cmd_rekey(args: argparse.Namespace) -> int:
    from crypto import Vault

    home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan")).absolute()  # noqa: ASYNC240
    path = home / "vault.json"
    if not path.exists():
        raise UsageProblem(f"no vault at {path}: set SAMVERKAN_HOME to the data directory")
    old = passphrase()
    new = os.environ.get("SAMVERKAN_NEW_PASSPHRASE")
    if not new:
        if not sys.stdin.isatty():
            raise UsageProblem(
                "no new passphrase: set SAMVERKAN_NEW_PASSPHRASE or run in a terminal"
            )
        new = getpass.getpass("new passphrase: ")
        if getpass.getpass("new passphrase again: ") != new:
            raise UsageProblem("the two new passphrases differ; nothing was changed")
    if len(new) < 12:
        raise UsageProblem("the new passphrase is too short: use at least 12 characters")
    await asyncio.to_thread(Vault.rekey, path, old, new)
    print(f"the vault at {path} now opens with the new passphrase only")
    return 0


async def cmd_demo(args: argparse.Namespace) -> int:
    from samverkan.demo import run_demo

    return await run_demo(args)


async def cmd_tui(args: argparse.Namespace) -> int:
    from samverkan.tui_entry import run_tui

    return await run_tui(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its help is the CLI's reference)."""
    p = argparse.ArgumentParser(
        prog="samverkan", description="End-to-end encrypted coordination on Matrix."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument(
            "--config",
            type=Path,
            default=DEFAULT_CONFIG,
            help="organisation file (default org.toml)",
        )
        return sp

    up = with_config(
        sub.add_parser("up", help="start homeserver, apply the organisation file, run the bots")
    )
    up.add_argument(
        "--federation-test",
        action="store_true",
        help="run on two loopback Synapse that federate with each other only (development): "
        "our server and the file's partner server; default file examples/federation-org.toml",
    )
    up.add_argument(
        "--bots",
        metavar="NAMES",
        help="host only these bots, comma-separated (default: every enabled bot); run the "
        "others with their own `samverkan up --bots …` on the same data directory",
    )
    up.set_defaults(func=cmd_up, config=None)
    demo = sub.add_parser("demo", help="run everything with examples/org.toml and demo accounts")
    demo.add_argument("--no-tui", action="store_true", help="do not open the terminal client")
    demo.add_argument(
        "--showcase-only", action="store_true", help="run the scripted showcase and exit"
    )
    demo.add_argument(
        "--port", type=int, help="the demo homeserver's port (default 8008, else a free one)"
    )
    demo.set_defaults(func=cmd_demo)
    tui = with_config(sub.add_parser("tui", help="the coordinator's terminal client"))
    tui.add_argument("--user", help="Matrix user ID or localpart")
    tui.add_argument(
        "--tz",
        metavar="ZONE",
        help="show times in this IANA timezone, e.g. Europe/Stockholm "
        "(default: $SAMVERKAN_TZ, else the system's)",
    )
    tui.add_argument(
        "--lang",
        metavar="LANG",
        help="the language of the screens, e.g. sv, da, nb, en "
        "(default: $SAMVERKAN_LANG, else the system locale's, else English)",
    )
    tui.set_defaults(func=cmd_tui)
    org = sub.add_parser("org", help="reconcile the homeserver with the organisation file")
    org_sub = org.add_subparsers(dest="action", required=True, metavar="ACTION")
    with_config(org_sub.add_parser("apply", help="make the changes")).set_defaults(func=cmd_org)
    with_config(org_sub.add_parser("check", help="print what apply would change")).set_defaults(
        func=cmd_org
    )
    acc = sub.add_parser("account", help="manage accounts on the embedded homeserver")
    acc_sub = acc.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = with_config(acc_sub.add_parser("add", help="register an account"))
    add.add_argument("user", help="localpart or @user:server")
    add.add_argument("--password", help="prompted for when not given")
    add.set_defaults(func=cmd_account)
    rst = with_config(
        acc_sub.add_parser("restore", help="restore a bot's identity on a wiped disk")
    )
    rst.add_argument("bot", help="events, resources or translate")
    rst.add_argument(
        "--recovery-key", help="the key printed at the bot's first start (prompted for)"
    )
    rst.add_argument(
        "--new-identity",
        action="store_true",
        help="the key is lost: make a new identity (coordinators verify the bot again)",
    )
    rst.set_defaults(func=cmd_account_restore)

    with_config(
        sub.add_parser("status", help="homeserver, bots, encryption and keys as a table")
    ).set_defaults(func=cmd_status)
    sub.add_parser("rekey", help="re-encrypt the data at rest under a new passphrase").set_defaults(
        func=cmd_rekey
    )
    from samverkan import ledger_cmd

    ledger_cmd.add_parser(sub)
    from samverkan import audit_cmd, transparency_cmd

    audit_cmd.add_parser(sub)
    transparency_cmd.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``samverkan`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("nio", "peewee"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return int(asyncio.run(args.func(args)))
    except KeyboardInterrupt:
        return 130
    except (MessengerError, UsageProblem, CryptoError) as e:
        print(f"samverkan: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: one line here, the traceback in a file
        path = crash_log(e)
        summary = (str(e).strip().splitlines() or [""])[0][:200]
        print(
            f"samverkan {args.command}: crashed ({type(e).__name__}: {summary}); "
            f"the traceback is in {path}",
            file=sys.stderr,
        )
        return 70
