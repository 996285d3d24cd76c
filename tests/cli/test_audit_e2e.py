"""``samverkan audit`` and ``!audit`` against the real Synapse, on one provisioned organisation.

The module shares one organisation (a working group with a coordinator and a member, bots
running) and walks it through hand-made damage, the audit naming it, ``--fix`` repairing it,
the coordinators' command, the signed audit log verified offline, and the schedule posting
once per period across a restart.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pytest

from bots.runtime import Runtime, make_runtime
from bots.secaudit.auditlog import LOG_NS
from messenger.config import Settings
from messenger.deploy.audit.admin import SynapseAdmin
from messenger.deploy.audit.auditor import Auditor, admin_for, probe_registration
from messenger.deploy.homeserver import EmbeddedSynapse, free_port, register_user
from messenger.errors import AuthError
from messenger.ledgerbook import stored_entries
from samverkan.cli import main
from samverkan.context import create_store
from tests.support import Member, OrgEnv, client_api

PASSPHRASE = "test passphrase"
ROOT = Path(__file__).resolve().parents[2]
DAY_MS = 86_400_000


@dataclass
class Org:
    env: OrgEnv
    settings: Settings
    config: Path
    room_id: str
    anna: Member
    bjorn: Member
    runtime: Runtime | None = None


async def new_user(synapse: EmbeddedSynapse, prefix: str) -> tuple[str, str]:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    uid = await register_user(
        synapse.url, synapse.shared_secret, name, f"pw-{name}", server_name="localhost"
    )
    return uid, f"pw-{name}"


def body(anna: str, bjorn: str, extra: str = "") -> str:
    return f"""
        [[working_group]]
        name = "Nordic policy"
        coordinators = ["{anna}"]
        members = ["{bjorn}"]
        {extra}
    """


@pytest.fixture(scope="module")
async def org(
    synapse: EmbeddedSynapse, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Org]:
    base = tmp_path_factory.mktemp("audit")
    env = OrgEnv(synapse, base / "home", uuid.uuid4().hex[:8], None)
    (anna, anna_pw), (bjorn, bjorn_pw) = [await new_user(synapse, p) for p in ("anna", "bjorn")]
    settings = env.write_org(body(anna, bjorn))
    config = base / "org.toml"
    config.write_text(env.org_text)
    report = await env.apply(settings)
    assert not report.failed, report.failed
    room_id = await env.room_id("nordic-policy")
    # The CLI audits the data directory whose homeserver runs: the shared test Synapse's.
    (env.home / "synapse").symlink_to(synapse.data_dir)
    members = [
        await Member.login(synapse.url, u, pw, base / f"m-{i}")
        for i, (u, pw) in enumerate([(anna, anna_pw), (bjorn, bjorn_pw)])
    ]
    for m in members:
        await m.wait_joined(room_id)
    o = Org(env, settings, config, room_id, *members)
    yield o
    for m in members:
        await m.close()
    await asyncio.wait_for(env.close(), 60)


@pytest.fixture
def cli_env(org: Org, monkeypatch: pytest.MonkeyPatch) -> Org:
    monkeypatch.setenv("SAMVERKAN_HOME", str(org.env.home))
    monkeypatch.setenv("SAMVERKAN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SAMVERKAN_FAST_KDF", "1")
    return org


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``samverkan …`` as its own process, as an operator runs it (nio's store is not safe
    to open from a second thread of the test's process); (exit code, what it printed)."""
    run = "import sys; from samverkan.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", run, *argv, stdout=PIPE, stderr=PIPE, cwd=ROOT
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode in (0, 1), err.decode()
    return proc.returncode, out.decode()


async def audit_json(org: Org, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    code, out = await cli(capsys, "audit", "--json", "--config", str(org.config), *extra)
    data = json.loads(out)
    data["exit"] = code
    return data


def codes(data: Any, prefix: str = "") -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in data["findings"]:
        if f["code"].startswith(prefix):
            out.setdefault(f["code"], []).append(f)
    return out


async def service_token(org: Org) -> str:
    assert org.env.deployment
    service = await org.env.deployment.service_session()
    try:
        return str(service.client.access_token)
    finally:
        await service.close()


async def test_a_new_device_not_cross_signed_is_listed_by_user_and_device(
    cli_env: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    org = cli_env
    data = await audit_json(org, capsys)
    assert data["exit"] == 1
    # The JSON is a contract for scripts: these keys, in every finding too.
    assert set(data) == {"version", "run_at", "clean", "counts", "findings", "log", "exit"}
    assert data["version"] == 1
    assert not data["clean"]
    assert set(data["counts"]) == {"critical", "high", "medium", "low", "info"}
    assert {tuple(sorted(f)) for f in data["findings"]} == {
        ("code", "expected", "fix", "fixable", "message", "private", "room", "setting",
         "severity", "subject", "value", "who"),
    }  # fmt: skip
    assert not codes(data, "room."), codes(data, "room.")  # the rooms match the file
    devices = codes(data, "device.")
    listed = {(f["subject"], f["setting"]) for fs in devices.values() for f in fs}
    assert (org.bjorn.user_id, org.bjorn.client.device_id) in listed
    assert (org.anna.user_id, org.anna.client.device_id) in listed
    row = next(f for fs in devices.values() for f in fs if f["subject"] == org.bjorn.user_id)
    assert row["who"] == org.bjorn.user_id
    assert row["fix"]


async def test_hand_made_changes_are_named_and_fix_restores_the_room(
    cli_env: Org, capsys: pytest.CaptureFixture[str], synapse: EmbeddedSynapse
) -> None:
    org = cli_env
    token = await service_token(org)
    carol, _ = await new_user(synapse, "carol")
    state = f"/_matrix/client/v3/rooms/{org.room_id}/state"
    for etype, content in (
        ("m.room.guest_access", {"guest_access": "can_join"}),
        ("m.room.history_visibility", {"history_visibility": "shared"}),
    ):
        status, resp = await client_api(synapse.url, "PUT", f"{state}/{etype}", token, content)
        assert status == 200, resp
    status, power = await client_api(synapse.url, "GET", f"{state}/m.room.power_levels", token)
    power["users"][org.bjorn.user_id] = 50
    status, resp = await client_api(
        synapse.url, "PUT", f"{state}/m.room.power_levels", token, power
    )
    assert status == 200, resp
    invite = f"/_matrix/client/v3/rooms/{org.room_id}/invite"
    status, resp = await client_api(synapse.url, "POST", invite, token, {"user_id": carol})
    assert status == 200, resp

    data = await audit_json(org, capsys)
    rooms = codes(data, "room.")
    guest = rooms["room.guest-access"][0]
    assert guest["subject"] == "Nordic policy"
    assert "m.room.guest_access" in guest["setting"]
    assert guest["value"] == "can_join"
    assert guest["expected"] == "forbidden"
    assert "samverkan audit --fix" in guest["fix"]
    assert guest["fixable"]
    history = rooms["room.history-visibility"][0]
    assert history["value"] == "shared"
    assert history["expected"] == "joined"
    excess = rooms["room.power-excess"][0]
    assert org.bjorn.user_id in excess["setting"]
    assert excess["value"] == "50"
    assert rooms["room.unexpected-member"][0]["setting"] == carol

    # The human table names them too, grouped by severity.
    code, out = await cli(capsys, "audit", "--config", str(org.config))
    assert code == 1
    assert "HIGH" in out
    assert "guest access is can_join" in out
    assert carol in out

    fixed = await audit_json(org, capsys, "--fix")
    assert not codes(fixed, "room."), codes(fixed, "room.")
    assert any("guest_access" in line for line in fixed["fixed"]), fixed["fixed"]
    assert codes(fixed, "device.")  # a person's device: not for --fix, listed with who acts
    status, guest_now = await client_api(synapse.url, "GET", f"{state}/m.room.guest_access", token)
    assert guest_now["guest_access"] == "forbidden"


async def test_admin_api_through_the_error_boundary_stale_devices_and_no_admin(
    org: Org,
) -> None:
    """The admin API as a server admin: a device unseen for longer than stale_device_days is
    listed with where it was last seen (for the operator only); as someone who is not an
    admin: the refusal is typed (AuthError) and the audit says what it could not check."""
    assert org.env.deployment
    service = await org.env.deployment.service_session()
    later = int(time.time() * 1000) + 100 * DAY_MS
    nordic = org.settings.org.groups
    try:
        admin = admin_for(org.env.deployment, service)
        try:
            report = await Auditor(service, org.settings.org, admin, later).run(nordic)
        finally:
            await admin.close()
        stale = [f for f in report.findings if f.code == "device.stale"]
        assert (org.bjorn.user_id, org.bjorn.client.device_id) in {
            (f.subject, f.setting) for f in stale
        }
        assert all(f.private.get("last_seen_ip") for f in stale)
        assert "device.stale" not in {
            f.code for f in (await Auditor(service, org.settings.org, None, 0).run(nordic)).findings
        }
        assert await probe_registration(service) == []  # the test Synapse is closed
        not_admin = SynapseAdmin(service.client.homeserver, str(org.bjorn.client.access_token))
        try:
            with pytest.raises(AuthError):
                await not_admin.server_admins()
            report = await Auditor(service, org.settings.org, not_admin, later).run(nordic)
        finally:
            await not_admin.close()
    finally:
        await service.close()
    codes_found = {f.code for f in report.findings}
    assert "audit.no-admin" in codes_found
    assert "device.stale" not in codes_found


async def test_a_member_typing_audit_is_refused_and_a_coordinator_gets_the_report(
    org: Org,
) -> None:
    assert org.env.deployment
    org.runtime = await org.env.start_bots(org.settings)
    await org.runtime.wait_synced()
    resources = org.settings.org.bot_user_ids()["resources"]

    asked = await org.bjorn.send(org.room_id, "!audit")
    reply = (await org.bjorn.wait_reply(asked, resources))[0]["content"]
    assert "power level" in reply["body"]
    assert "org.samverkan.audit" not in reply

    asked = await org.anna.send(org.room_id, "!audit --room Nowhere")
    reply = (await org.anna.wait_reply(asked, resources))[0]["content"]
    assert "no group called 'Nowhere'" in reply["body"]
    assert "org.samverkan.audit" not in reply

    asked = await org.anna.send(org.room_id, "!audit")
    reply = (await org.anna.wait_reply(asked, resources, timeout=60))[0]["content"]
    summary = reply["org.samverkan.audit"]
    assert summary["scope"] == ["nordic-policy"]
    listed = {(f["subject"], f["setting"]) for f in summary["findings"]}
    assert (org.bjorn.user_id, org.bjorn.client.device_id) in listed
    assert org.bjorn.client.device_id in reply["body"]
    for text in (reply["body"], reply["formatted_body"], json.dumps(summary)):
        assert "127.0.0.1" not in text  # last-seen addresses never reach a room
        assert "last_seen" not in text
        assert "user_agent" not in text


async def test_the_audit_log_verifies_offline(
    cli_env: Org, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    org = cli_env
    export = tmp_path / "audit.jsonl"
    code, out = await cli(
        capsys, "audit", "history", "--config", str(org.config), "--export", str(export)
    )
    assert code == 0, out
    assert "OK:" in out
    assert " fix " in out
    assert " command " in out
    key = out.split("verification key (Ed25519): ")[1].split()[0]
    head = out.split("head: ")[1].split()[0]
    lines = export.read_text().splitlines()
    assert len(lines) >= 4  # two audits, one fix, one !audit
    code, out = await cli(capsys, "ledger", "verify", str(export), "--key", key, "--head", head)
    assert code == 0, out
    forged = json.loads(lines[0])
    forged["data"]["counts"]["critical"] += 1
    export.write_text("\n".join([json.dumps(forged), *lines[1:]]) + "\n")
    code, out = await cli(capsys, "ledger", "verify", str(export), "--key", key)
    assert code == 1
    assert "FAILED at entry 0" in out


def scheduled_posts(member: Member, room_id: str, sender: str) -> list[dict[str, Any]]:
    out = []
    for room, ev in member.events:
        src = getattr(ev, "source", {})
        data = src.get("content", {}).get("org.samverkan.audit")
        if room == room_id and src.get("sender") == sender and data:
            if data.get("trigger") == "schedule":
                out.append(data)
    return out


async def start_at(org: Org, settings: Settings, now_ms: int) -> Runtime:
    assert org.env.deployment
    org.env.deployment.settings = settings
    runtime = await make_runtime(org.env.deployment)
    for bot in runtime.bots:
        bot.clock = lambda: now_ms
    runtime.start()
    org.env.runtime = runtime
    return runtime


async def test_the_schedule_posts_once_per_period_across_a_restart(org: Org) -> None:
    await org.env.stop_bots()
    extra = '[security]\naudit_every = "1d"\naudit_room = "Nordic policy"'
    settings = org.env.write_org(body(org.anna.user_id, org.bjorn.user_id, extra))
    resources = settings.org.bot_user_ids()["resources"]
    day = 20_000 * DAY_MS  # a fixed day: the bots' clock is set, not the machine's

    await start_at(org, settings, day + 1000)

    async def posts(n: int) -> bool:
        return len(scheduled_posts(org.anna, org.room_id, resources)) >= n

    await org.anna.wait_until(lambda: posts(1), 90)
    await org.env.stop_bots()
    await start_at(org, settings, day + 5000)  # the same day, after a restart
    await asyncio.sleep(6)
    assert len(scheduled_posts(org.anna, org.room_id, resources)) == 1
    await org.env.stop_bots()
    await start_at(org, settings, day + DAY_MS + 1000)  # the next day
    await org.anna.wait_until(lambda: posts(2), 90)
    assert len(scheduled_posts(org.anna, org.room_id, resources)) == 2
    assert org.env.deployment
    logged = await stored_entries(org.env.deployment.store, LOG_NS)
    runs = [e for e in logged if e["data"]["trigger"] == "schedule"]
    assert [e["actor"] for e in runs] == [resources, resources]


async def test_an_audit_that_cannot_reach_its_homeserver_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SAMVERKAN_FAST_KDF", "1")
    config = tmp_path / "org.toml"
    config.write_text(f'[organisation]\nname = "Down"\n[homeserver]\nport = {free_port()}\n')
    create_store(tmp_path / "home", PASSPHRASE, fast=True)
    code = await asyncio.to_thread(main, ["audit", "--config", str(config)])
    assert code == 2
    assert "cannot audit: the homeserver at" in capsys.readouterr().err
