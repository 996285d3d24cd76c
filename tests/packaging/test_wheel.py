"""The wheel as a user installs it (not the editable checkout): its files, its commands, the TUI.

The wheel is built from the working tree's files, installed with ``--no-deps`` into a fresh
venv, and the dependencies come from the project venv's site-packages through a plain path in
a .pth file — the editable install's import hook there is never run, so ``samverkan``,
``messenger``, ``bots``, ``tui`` and ``crypto`` can only come from the wheel.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import sysconfig
import threading
import zipfile
from pathlib import Path

import pytest

from messenger.deploy.homeserver import free_port

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["samverkan", "messenger", "bots", "tui", "crypto"]


class Installed:
    """A venv with only the wheel installed (plus the project venv's dependencies)."""

    def __init__(self, tmp: Path, wheel: Path) -> None:
        self.tmp, self.wheel = tmp, wheel
        self.venv = tmp / "venv"
        self.bin = self.venv / "bin"
        self.work = tmp / "work"  # the current directory: no checkout to import from

    def site_packages(self) -> Path:
        return next(self.venv.glob("lib/python*/site-packages"))

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.update(
            PATH=f"{self.bin}:{env.get('PATH', '')}",
            SAMVERKAN_HOME=str(self.tmp / "home"),
            SAMVERKAN_PASSPHRASE="wheel test passphrase",
            SAMVERKAN_FAST_KDF="1",
        )
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=self.work,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def build_wheel(out: Path) -> Path:
    """Build from a copy of the tree's files (tracked and new, not ignored): no build/ here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    src = out / "src"
    for name in filter(None, listed):
        path = ROOT / name.decode()
        if path.is_file():
            (src / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name.decode())
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(out / "dist"), str(src)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return next((out / "dist").glob("samverkan-*.whl"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    inst = Installed(tmp, build_wheel(tmp))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(inst.venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(inst.bin / "python"), "install", "-q"]
        + ["--no-deps", "--no-index", str(inst.wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # A plain path, not site.addsitedir: the .pth files there (the editable hook) stay unread.
    deps = sysconfig.get_paths()["purelib"]
    (inst.site_packages() / "zz_project_dependencies.pth").write_text(deps + "\n")
    inst.work.mkdir()
    return inst


def test_the_wheel_holds_every_non_python_file_of_the_packages(installed: Installed) -> None:
    listed = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    needed = {n for n in listed if not n.endswith(".py")}
    assert needed, "expected package data such as tui/app.tcss"
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert needed <= names, f"missing from the wheel: {sorted(needed - names)}"
    examples = {n.rsplit("/", 1)[1] for n in names if "/share/samverkan/examples/" in n}
    assert {"org.toml", "federation-org.toml"} <= examples


def test_the_packages_come_from_the_wheel_only(installed: Installed) -> None:
    names = ", ".join(PACKAGES)
    code = f"import json, {names}; print(json.dumps([m.__file__ for m in [{names}]]))"
    out = installed.run(str(installed.bin / "python"), "-c", code)
    assert out.returncode == 0, out.stderr
    site = str(installed.site_packages())
    for path in json.loads(out.stdout):
        assert path.startswith(site), f"{path} is not from the installed wheel"
    code = "from samverkan.paths import example_file as e; print(e('org.toml'))"
    out = installed.run(str(installed.bin / "python"), "-c", code)
    assert out.stdout.strip() == str(installed.venv / "share/samverkan/examples/org.toml")


def test_the_installed_catalogues_translate(installed: Installed) -> None:
    """The .po catalogues are package data: an installed Samverkan speaks Swedish."""
    code = (
        "from messenger.i18n import available, translator\n"
        "print(sorted(available()), translator('sv').gettext('Usage:'))"
    )
    out = installed.run(str(installed.bin / "python"), "-c", code)
    assert out.returncode == 0, out.stderr
    assert "'sv'" in out.stdout
    assert "Användning:" in out.stdout


PDF_REPORT = """
import sys
from datetime import date
from pathlib import Path
from messenger.i18n import translator
from samverkan.transparency import Figures
from samverkan.transparency_doc import FONT, markdown, pdf_bytes

fig = Figures("2026-Q4", date(2026, 10, 1), date(2027, 1, 1), "Fjärilspartiet Æbleø")
t = translator(sys.argv[2])
Path(sys.argv[1]).write_bytes(pdf_bytes(fig, markdown(fig, t), t))
print(FONT)
"""


@pytest.mark.parametrize("lang", ["sv", "nb"])
def test_the_installed_pdf_report_renders_the_nordic_letters(
    installed: Installed, lang: str
) -> None:
    """The PDF's Unicode font is package data: a report from an installed Samverkan keeps
    å ä ö ø æ (the core PDF fonts would not render every character Babel and the catalogues
    produce), whatever fonts the machine has."""
    from pypdf import PdfReader

    out_file = installed.work / f"report-{lang}.pdf"
    out = installed.run(str(installed.bin / "python"), "-c", PDF_REPORT, str(out_file), lang)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(installed.site_packages() / "samverkan/fonts/DejaVuSans.ttf")
    text = " ".join(page.extract_text() for page in PdfReader(str(out_file)).pages)
    assert "Fjärilspartiet Æbleø" in text
    assert ("Transparensrapport" if lang == "sv" else "Åpenhetsrapport") in text
    assert ("Lärdomar" if lang == "sv" else "Lærdommer") in text


def test_every_subcommand_answers_help(installed: Installed) -> None:
    top = installed.run(str(installed.bin / "samverkan"), "--help")
    assert top.returncode == 0, top.stderr
    commands = [
        ["up"], ["demo"], ["tui"], ["org", "apply"], ["org", "check"], ["account", "add"],
        ["account", "restore"], ["status"], ["rekey"], ["ledger", "export"], ["ledger", "verify"],
    ]  # fmt: skip
    code = (
        "import sys\nfrom samverkan.cli import main\n"
        f"for args in {commands!r}:\n"
        "    try:\n        main([*args, '--help'])\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (args, e.code)\n"
        "    print('== ok', *args, flush=True)\n"
    )
    out = installed.run(str(installed.bin / "python"), "-c", code)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    assert out.stdout.count("== ok") == len(commands)


def test_ledger_verify_of_a_bad_file_is_a_clear_error(installed: Installed) -> None:
    bad = installed.work / "bad.jsonl"
    bad.write_text("this is not a ledger\n")
    key = "A" * 43 + "="
    samverkan = str(installed.bin / "samverkan")
    out = installed.run(samverkan, "ledger", "verify", str(bad), "--key", key)
    assert out.returncode != 0
    assert "Traceback" not in out.stdout + out.stderr
    assert (out.stdout + out.stderr).strip()


@pytest.mark.synapse  # starts its own homeserver
def test_org_check_on_the_shipped_example_runs_the_installed_homeserver(
    installed: Installed,
) -> None:
    example = next(installed.venv.glob("share/samverkan/examples/org.toml"))
    config = installed.work / "org.toml"
    config.write_text(example.read_text().replace("port = 8008", f"port = {free_port()}"))
    out = installed.run(str(installed.bin / "samverkan"), "org", "check", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "would create space" in out.stdout or "change(s)" in out.stdout, out.stdout


TUI_LOGIN = """
import asyncio, sys
from pathlib import Path
import nacl.pwhash
from pydantic import SecretStr
from crypto import Vault
from messenger.config import Settings, load_org
from tui.factory import make_app
from tui.screens.login import LoginScreen

async def main() -> None:
    home = Path(sys.argv[1]) / "tui-home"
    home.mkdir(parents=True)
    limits = dict(opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
                  memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN)
    vault = Vault.create(home / "vault.json", "wheel test passphrase", **limits)
    org = load_org(Path(sys.argv[2]))
    settings = Settings(home=home, passphrase=SecretStr("wheel test passphrase"), org=org)
    app = make_app(settings, vault, "http://127.0.0.1:9")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen), app.screen
        print("login screen shown; stylesheet from", app.css_path)

asyncio.run(main())
"""


def test_the_tui_opens_headless_to_its_login_screen(installed: Installed) -> None:
    example = ROOT / "examples" / "org.toml"
    out = installed.run(
        str(installed.bin / "python"), "-c", TUI_LOGIN, str(installed.tmp), str(example)
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "login screen shown" in out.stdout
    assert str(installed.site_packages() / "tui" / "app.tcss") in out.stdout


def read_all(fd: int) -> None:
    """Keep reading the terminal's output so the TUI never blocks writing to it."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def test_a_crashing_tui_exits_non_zero_with_one_line_and_a_log(installed: Installed) -> None:
    """Without its stylesheet the TUI cannot start: exit 70, one line naming the log file."""
    css = installed.site_packages() / "tui" / "app.tcss"
    hidden = css.with_name("app.tcss.hidden")
    example = ROOT / "examples" / "org.toml"
    home = installed.tmp / "crash-home"
    home.mkdir()
    if css.exists():  # (without the package-data fix it is missing anyway)
        css.rename(hidden)
    primary, secondary = pty.openpty()
    drain = threading.Thread(target=read_all, args=(primary,), daemon=True)
    drain.start()
    try:
        proc = subprocess.run(
            [str(installed.bin / "samverkan"), "tui", "--config", str(example)],
            cwd=installed.work,
            env=installed.env(SAMVERKAN_HOME=str(home), TERM="xterm"),
            stdin=secondary,
            stdout=secondary,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        if hidden.exists():
            hidden.rename(css)
        os.close(primary)
        os.close(secondary)
    assert proc.returncode == 70, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("created a new encrypted store at"), proc.stderr
    assert len(lines) == 2, proc.stderr  # and one line for the crash
    assert "crashed (StylesheetError" in lines[1]
    assert "Traceback" not in proc.stderr
    log = Path(lines[1].rsplit("the traceback is in ", 1)[1])
    assert log.parent == home
    assert "Traceback" in log.read_text()
