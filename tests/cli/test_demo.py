"""``samverkan demo`` as a new user meets it: the printed command lines reach the running demo,
the Swahili message goes to the Kenya partnership, and a second demo does not repeat itself."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from messenger.deploy.homeserver import free_port
from tests.cli.test_cli import ROOT

READY_S = 300.0


def plain_env(**extra: str) -> dict[str, str]:
    """The environment of a user who set nothing Samverkan-specific."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env.update(PYTHONPATH=str(ROOT), SAMVERKAN_FAST_KDF="1", **extra)
    return env


def cli(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samverkan", *args],
        cwd=cwd,
        env=plain_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


async def demo(cwd: Path, log: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "samverkan",
        "demo",
        *args,
        cwd=cwd,
        env=plain_env(),
        stdout=open(log, "ab"),  # noqa: ASYNC230, SIM115 -- the child's log
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


async def wait_logged(proc: asyncio.subprocess.Process, log: Path, marker: str) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_S
    while marker not in (text := await asyncio.to_thread(log.read_text)):
        assert proc.returncode is None, f"demo exited {proc.returncode}:\n{text[-4000:]}"
        assert loop.time() < deadline, f"no {marker!r}:\n{text[-4000:]}"
        await asyncio.sleep(0.5)
    return text


@pytest.mark.synapse  # starts its own homeserver
async def test_demo_is_reachable_from_the_cli_and_runs_its_showcase_once(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    proc = await demo(tmp_path, log, "--no-tui", "--port", str(port))
    try:
        out = await wait_logged(proc, log, "running; press Ctrl-C")
        demo_home = tmp_path / ".samverkan-demo"

        # The Swahili request goes to the partnership that works in Swahili.
        kenya = out.index("showcase in 'Kenya local democracy'")
        swahili = out.index("> Tunahitaji kuamua")
        assert out.index("showcase in 'Nordic policy'") < kenya < swahili
        assert "Tunahitaji" not in out[:kenya]
        asked = out.index("> !translate en", swahili)
        assert out[asked:].split("\n")[1].startswith("  < @translate:localhost [decrypted]:"), out
        # Every bot at work: the projects and library bots, the Kenya room's holidays.
        for typed, bot in (
            ("> !project create", "@projects"),
            ("> !kb add", "@library"),
            ("> !kb search volunteer", "@library"),
            ("> !holidays", "@events"),
        ):
            answer = out[out.index(typed) :].split("\n")[1]
            assert answer.startswith(f"  < {bot}:localhost [decrypted]:"), (typed, out)

        # The demo prints the command lines that reach it.
        assert f"in {tmp_path} (the demo's data is in {demo_home})" in out
        assert "samverkan status" in out
        assert f"SAMVERKAN_HOME={demo_home} SAMVERKAN_PASSPHRASE=samverkan-demo-passphrase" in out

        # ... and they work: no org.toml, no $SAMVERKAN_HOME, no passphrase in the environment.
        status = await asyncio.to_thread(cli, tmp_path, "status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"reachable at http://127.0.0.1:{port}" in status.stdout
        assert "syncing" in status.stdout
        assert f"using the demo: data in {demo_home}" in status.stderr

        # The example file on the demo's port, but another data directory: named, not "not running".
        other = tmp_path / "org.toml"
        other.write_text(
            (ROOT / "examples" / "org.toml").read_text().replace("port = 8008", f"port = {port}")
        )
        elsewhere = tmp_path / "elsewhere"
        for args in (["status"], ["ledger", "export", str(tmp_path / "l.jsonl")], ["org", "check"]):
            got = await asyncio.to_thread(
                cli, elsewhere.parent, *args, SAMVERKAN_HOME=str(elsewhere),
                SAMVERKAN_PASSPHRASE="another passphrase",
            )  # fmt: skip
            assert got.returncode == 2, (args, got.stdout + got.stderr)
            assert "not running" not in got.stdout + got.stderr
            assert f"is running, but from the data directory {demo_home}" in got.stderr
            assert f"SAMVERKAN_HOME={demo_home}" in got.stderr
        assert not elsewhere.exists(), "a store was created for a command that failed"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 90)
    assert code == 0, log.read_text()[-4000:]
    first = log.read_text()

    # A second demo on the same data does not post the showcase again.
    proc = await demo(tmp_path, log, "--showcase-only", "--port", str(port))
    code = await asyncio.wait_for(proc.wait(), READY_S)
    second = log.read_text()[len(first) :]
    assert code == 0, second[-4000:]
    assert "the showcase already ran in this data directory" in second
    assert "> !event create" not in second
    assert "> !pool add" not in second
    assert "samverkan status" in second  # the command lines are printed every time
