"""The ``samverkan`` command line as an administrator uses it: real processes, real Synapse."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from messenger.deploy.homeserver import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SAMVERKAN_HOME": str(home),
        "SAMVERKAN_PASSPHRASE": "cli test passphrase",
        "SAMVERKAN_FAST_KDF": "1",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def run(args: list[str], home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samverkan", *args],
        env=env_for(home, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def org_file(tmp: Path, port: int, body: str = "") -> Path:
    path = tmp / "org.toml"
    path.write_text(
        textwrap.dedent(f"""
        [organisation]
        name = "CLI test org"
        [homeserver]
        port = {port}
        [[working_group]]
        name = "Nordic policy"
        members = ["@bjorn:localhost"]
    """)
        + body
    )
    return path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.synapse  # starts its own homeserver
async def test_up_runs_reports_status_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = org_file(tmp_path, port)
    home = tmp_path / "home"
    log = open(tmp_path / "up.log", "wb")  # noqa: ASYNC230, SIM115
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "samverkan",
        "up",
        "--config",
        str(config),
        env=env_for(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", 90)
        for _ in range(300):
            if b"bots running" in (tmp_path / "up.log").read_bytes():
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # a heartbeat
        status = await asyncio.to_thread(run, ["status", "--config", str(config)], home)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "syncing" in status.stdout
        assert not re.search(r"\bNOT\b", status.stdout), status.stdout  # (not a device ID's)
        assert "encryption" in status.stdout
        assert "on in every room" in status.stdout
        assert "cross-signing set up, device signed, key backup version" in status.stdout
        check = await asyncio.to_thread(run, ["org", "check", "--config", str(config)], home)
        assert "no changes" in check.stdout, check.stdout + check.stderr
        synapse_pid = int((home / "synapse" / "samverkan-synapse.pid").read_text())
        assert alive(synapse_pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 60)
    output = (tmp_path / "up.log").read_text()
    assert code == 0, output
    assert "stopped cleanly" in output
    assert "Traceback" not in output
    assert not alive(synapse_pid), "Synapse outlived samverkan up"


def test_malformed_organisation_file_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[organisation]\nname = ""\n[[working_group]]\nname = "X"\nmembers = ["bob"]\n')
    result = run(["org", "check", "--config", str(bad)], tmp_path / "home")
    assert result.returncode == 2
    assert "organisation.name:" in result.stderr
    assert "working_group.0.members:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_and_bad_arguments_are_explained(tmp_path: Path) -> None:
    result = run(["up", "--config", str(tmp_path / "nope.toml")], tmp_path / "home")
    assert result.returncode == 2
    assert "no such organisation file" in result.stderr
    result = run(
        [
            "account",
            "add",
            "x",
            "--password",
            "short",
            "--config",
            str(org_file(tmp_path, free_port())),
        ],
        tmp_path / "home",
    )
    assert result.returncode == 2
    assert "too short" in result.stderr
    result = run(["frobnicate"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    config = str(org_file(tmp_path, free_port()))
    result = run(["account", "restore", "eventz", "--config", config], tmp_path / "home")
    assert result.returncode == 2
    assert "no bot named 'eventz'; bots: events, resources, translate" in result.stderr
    result = run(["account", "restore", "events", "--config", config], tmp_path / "home")
    assert result.returncode == 2
    assert "no recovery key: pass --recovery-key KEY, or --new-identity" in result.stderr


@pytest.mark.parametrize("new", ["a much better passphrase"])
def test_rekey_then_old_passphrase_fails_clearly(tmp_path: Path, new: str) -> None:
    from crypto import Vault

    home = tmp_path / "home"
    home.mkdir()
    import nacl.pwhash

    vault = Vault.create(
        home / "vault.json",
        "cli test passphrase",
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    )
    token = vault.seal(b"minutes of the leadership meeting", context=b"t")
    result = run(["rekey"], home, SAMVERKAN_NEW_PASSPHRASE=new)
    assert result.returncode == 0, result.stderr
    again = run(["rekey"], home, SAMVERKAN_NEW_PASSPHRASE="yet another passphrase")
    assert again.returncode == 2
    assert "passphrase" in again.stderr
    assert "Traceback" not in again.stderr
    reopened = Vault.unlock(home / "vault.json", new)
    assert reopened.open(token, context=b"t") == b"minutes of the leadership meeting"
