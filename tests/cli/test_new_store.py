"""A new encrypted store is never made from one unconfirmed passphrase typed at a prompt."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

from crypto import Vault
from messenger.deploy.homeserver import free_port
from tests.cli.test_cli import ROOT, org_file


def in_terminal(
    args: list[str], home: Path, answers: dict[str, str], until: str, timeout: float = 60
) -> tuple[int | None, str]:
    """Run ``samverkan ARGS`` on a pseudo-terminal (its controlling terminal, as getpass wants),
    answering each prompt in ``answers`` once; stop it when ``until`` appears or it exits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env.update(SAMVERKAN_HOME=str(home), SAMVERKAN_FAST_KDF="1", PYTHONPATH=str(ROOT))
    env["TERM"] = "xterm"
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes samverkan
        os.chdir(home.parent)
        os.execve(sys.executable, [sys.executable, "-m", "samverkan", *args], env)
    out = ""
    pending = dict(answers)
    deadline = time.monotonic() + timeout
    code: int | None = None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    out += os.read(fd, 65536).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    break
            for prompt in list(pending):
                if prompt in out:
                    os.write(fd, (pending.pop(prompt) + "\n").encode())
            if until in out:
                break
    finally:
        for _ in range(25):  # an exiting child: give it a moment
            done, status = os.waitpid(pid, os.WNOHANG)
            if done or until in out:
                break
            time.sleep(0.2)
        if not done:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        elif os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
        os.close(fd)
    return code, out


def test_a_mistyped_confirmation_creates_nothing_and_a_confirmed_one_says_where(
    tmp_path: Path,
) -> None:
    config = str(org_file(tmp_path, free_port()))
    home = tmp_path / "new-home"
    code, out = in_terminal(
        ["tui", "--config", config],
        home,
        {
            "passphrase for the new store:": "correct horse battery",
            "the same passphrase again:": "correct horse batery",
        },
        until="(runs until it exits)",
    )
    assert code == 2, out
    assert "there is no encrypted store at" in out
    assert "the two passphrases differ; nothing was created" in out, out
    assert not (home / "vault.json").exists()
    assert "Traceback" not in out

    _, out = in_terminal(
        ["tui", "--config", config],
        home,
        {
            "passphrase for the new store:": "correct horse battery",
            "the same passphrase again:": "correct horse battery",
        },
        until="created a new encrypted store",
    )
    assert f"created a new encrypted store at {home}" in out, out
    vault = Vault.unlock(home / "vault.json", "correct horse battery")
    assert vault.open(vault.seal(b"x", context=b"t"), context=b"t") == b"x"

    # An existing store is opened with one prompt, never asked twice.
    _, out = in_terminal(
        ["tui", "--config", config],
        home,
        {"Samverkan passphrase:": "correct horse battery"},
        until="Samverkan passphrase:",
        timeout=30,
    )
    assert "the same passphrase again" not in out
    assert "passphrase for the new store" not in out
