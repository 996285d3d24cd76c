"""Provides the ``samverkan`` command line: up, demo, tui, org, account, status, rekey."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crypto import CryptoError
from messenger.calls import backoff_delays
from messenger.config import OrgFile, Settings, load_org
from messenger.errors import MessengerError, RateLimited, TransientError
from samverkan.paths import example_file

if TYPE_CHECKING:
    from messenger.deployment import Deployment
    from messenger.homeserver import EmbeddedSynapse

log = logging.getLogger("samverkan")

DEFAULT_CONFIG = Path("org.toml")
EXAMPLE_CONFIG = example_file("org.toml")
FEDERATION_CONFIG = example_file("federation-org.toml")
DEMO_PASSPHRASE = "samverkan-demo-passphrase"
HEARTBEAT_FILE = "runtime-status.json"


class UsageProblem(Exception):
    """A CLI argument or environment problem, reported without a traceback."""


def passphrase(prompt: bool = True, new_store: Path | None = None) -> str:
    """The passphrase from $SAMVERKAN_PASSPHRASE or a prompt; asked twice when it will create
    the store ``new_store`` (a typo would otherwise lock the new store with it)."""
    value = os.environ.get("SAMVERKAN_PASSPHRASE")
    if value:
        return value
    if prompt and sys.stdin.isatty():
        if new_store is None or new_store.exists():
            return getpass.getpass("Samverkan passphrase: ")
        print(f"there is no encrypted store at {new_store.parent} yet; a new one will be made")
        first = getpass.getpass("passphrase for the new store: ")
        if getpass.getpass("the same passphrase again: ") != first:
            raise UsageProblem(
                "the two passphrases differ; nothing was created. Run the command again "
                "(or set SAMVERKAN_HOME if you meant an existing data directory)"
            )
        return first
    raise UsageProblem(
        "no passphrase: set SAMVERKAN_PASSPHRASE or run in a terminal to be asked for it"
    )


# Commands that only read a data directory: they never create one.
READ_ONLY = {"status", "ledger"}
# Commands that may run against a homeserver whose data directory is another one.
ANY_HOMESERVER = {"tui", "up", "demo"}


def settings_for(args: argparse.Namespace, org: OrgFile | None = None) -> Settings:
    """Settings from the CLI arguments and environment — or, with neither an organisation
    file nor $SAMVERKAN_HOME, from the demo in the current directory (.samverkan-demo)."""
    from pydantic import SecretStr

    from samverkan.discover import find_demo, other_homeserver

    fast = os.environ.get("SAMVERKAN_FAST_KDF") == "1"
    command = getattr(args, "command", "")
    demo = None if org else find_demo(getattr(args, "config", None), DEFAULT_CONFIG)
    if demo is not None:
        note = f"using the demo: data in {demo.home}, organisation file {demo.config}"
        print(note, file=sys.stderr)
        org, home = load_org(demo.config), demo.home
    else:
        org = org or load_org(getattr(args, "config", None) or DEFAULT_CONFIG)
        home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan")).resolve()
    if command not in ANY_HOMESERVER:
        problem = other_homeserver(org, home)
        if problem:
            raise UsageProblem(problem)
    vault = home / "vault.json"
    if command in READ_ONLY and not vault.exists():
        raise UsageProblem(
            f"no Samverkan data in {home} (no vault.json): set SAMVERKAN_HOME to the data "
            "directory of `samverkan up`, or run the command where `make demo` ran"
        )
    if demo is not None:
        secret = os.environ.get("SAMVERKAN_PASSPHRASE") or DEMO_PASSPHRASE
    else:
        secret = passphrase(new_store=vault)
        if not vault.exists():
            create_store(home, secret, fast)
    return Settings(home=home, passphrase=SecretStr(secret), org=org, fast_kdf=fast)


def create_store(home: Path, secret: str, fast: bool) -> None:
    """Create the data directory's vault now, and say so."""
    import nacl.pwhash

    from crypto import Vault

    limits: dict[str, int] = {}
    if fast:
        limits = {
            "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
            "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
        }
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    Vault.open_or_create(home / "vault.json", secret, **limits)
    print(
        f"created a new encrypted store at {home} (it opens only with this passphrase)",
        file=sys.stderr,
        flush=True,
    )


def write_heartbeat(home: Path, runtime: Any) -> None:
    """Record each bot's last successful sync for ``status`` (no private data)."""
    data = {
        b.name: {
            "user_id": b.user_id,
            "device_id": b.session.device_id,
            "syncing": b.session.sync_ok,
            "at": time.time(),
            "cross_signing": b.trust_summary.get("cross_signing", False),
            "device_signed": b.trust_summary.get("device_signed", False),
            "backup_version": b.backup.version,
            "backed_up": b.backup.backed_up_count,
        }
        for b in runtime.bots
    }
    tmp = home / (HEARTBEAT_FILE + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(home / HEARTBEAT_FILE)


async def retry_transient(
    step: Callable[[], Awaitable[Any]], stop: asyncio.Event, action: str
) -> Any:
    """Run ``step`` until it gets past transient failures (homeserver restarting, connection
    reset), waiting with backoff; None if ``stop`` is set meanwhile. Every step is idempotent."""
    for delay in backoff_delays():
        try:
            return await step()
        except (TransientError, RateLimited) as e:
            print(f"{action}: {e}; retrying in {delay:.1f} s", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return None
    return None


class HomeserverWatch:
    """Notices when ``up``'s own homeserver child exits, and restarts it (a few times)."""

    RESTARTS = 3
    WINDOW_S = 300.0

    def __init__(self, synapse: EmbeddedSynapse | None) -> None:
        self.synapse = synapse
        self.exits: list[float] = []

    async def check(self, stop: asyncio.Event) -> None:
        """Restart an exited homeserver; MessengerError once it keeps exiting."""
        hs = self.synapse
        code = hs.exit_code if hs else None
        if hs is None or code is None:
            return
        now = time.monotonic()
        self.exits = [t for t in self.exits if now - t < self.WINDOW_S] + [now]
        logs = f"{hs.data_dir / 'homeserver.log'} and homeserver.stderr"
        if len(self.exits) > self.RESTARTS:
            raise MessengerError(
                f"the homeserver exited (code {code}) {len(self.exits)} times in "
                f"{self.WINDOW_S / 60:.0f} minutes; giving up: see {logs}"
            )
        print(f"the homeserver exited unexpectedly (code {code}); restarting it", flush=True)
        await retry_transient(hs.start, stop, "restarting the homeserver")
        if hs.pid:
            print(f"homeserver restarted at {hs.url} (pid {hs.pid})", flush=True)


async def run_until_signal(
    settings: Settings,
    on_ready: Callable[[Any], Awaitable[None]] | None = None,
    synapse: EmbeddedSynapse | None = None,
) -> None:
    """``up``: homeserver, provisioning, bots; until SIGINT/SIGTERM, then a clean shutdown.

    ``synapse`` is a homeserver the caller owns (started here if needed, never stopped)."""
    from bots.runtime import make_runtime
    from messenger.deployment import Deployment
    from messenger.provision import Provisioner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    deployment = await Deployment.open(settings, synapse)
    runtime = None

    async def start_bots() -> Any:
        for bot_id in settings.org.bot_user_ids().values():
            await deployment.ensure_account(bot_id)
        service = await deployment.service_session()
        try:
            report = await Provisioner(service, settings.org).apply()
        finally:
            await service.close()
        for line in report.applied:
            print(f"applied: {line}", flush=True)
        for line in report.failed:
            print(f"could not: {line}", flush=True)
        return await make_runtime(deployment)

    try:
        await retry_transient(deployment.start_homeserver, stop, "homeserver")
        if stop.is_set():
            return
        print(f"homeserver ready at {deployment.url}", flush=True)
        runtime = await retry_transient(start_bots, stop, "starting the bots")
        if runtime is None:
            return

        runtime.start()

        try:
            await asyncio.wait_for(runtime.wait_synced(), 120)
        except TimeoutError:
            print("warning: not every bot has synced after 120 s; still trying", flush=True)
        write_heartbeat(settings.home, runtime)
        print(f"bots running: {', '.join(b.user_id for b in runtime.bots)}", flush=True)

        if on_ready:
            await on_ready(deployment)
        watch = HomeserverWatch(deployment.synapse if deployment.owns_synapse else None)
        while not stop.is_set():
            write_heartbeat(settings.home, runtime)
            for _ in range(5):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1)
                if stop.is_set():
                    break
                await watch.check(stop)
            if runtime.failed.is_set():
                raise MessengerError("a bot task failed; see the log above")
        print("stopping…", flush=True)
    finally:
        if runtime:
            await runtime.stop()
        await deployment.close()
        with contextlib.suppress(FileNotFoundError):
            (settings.home / HEARTBEAT_FILE).unlink()
    print("stopped cleanly", flush=True)


async def cmd_up(args: argparse.Namespace) -> int:
    if args.federation_test:
        from samverkan.fedtest import run_federation_test

        return await run_federation_test(args)
    args.config = args.config or DEFAULT_CONFIG
    await run_until_signal(settings_for(args))
    return 0


async def cmd_org(args: argparse.Namespace) -> int:
    from messenger.deployment import Deployment
    from messenger.homeserver import wait_ready
    from messenger.provision import Provisioner

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
    from messenger.deployment import Deployment
    from messenger.homeserver import wait_ready

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


def crash_log(error: BaseException) -> Path:
    """Write ``error``'s traceback to a new file in the data directory (else the temp dir)."""
    import tempfile
    import traceback

    home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan"))
    folder = home if home.is_dir() and os.access(home, os.W_OK) else Path(tempfile.gettempdir())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = (folder / f"samverkan-crash-{stamp}-{os.getpid()}.log").absolute()
    text = "".join(traceback.format_exception(error))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"samverkan {' '.join(sys.argv[1:])}\n{text}")
    return path
