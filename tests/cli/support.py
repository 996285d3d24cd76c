"""Helpers of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def offline_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, org: str, passphrase: str
) -> Path:
    """A data directory for CLI commands run in this process: ``$SAMVERKAN_HOME`` and the
    passphrase in the environment, a fast KDF, ``org`` as ``tmp_path/org.toml``."""
    home = tmp_path / "home"
    monkeypatch.setenv("SAMVERKAN_HOME", str(home))
    monkeypatch.setenv("SAMVERKAN_PASSPHRASE", passphrase)
    monkeypatch.setenv("SAMVERKAN_FAST_KDF", "1")
    (tmp_path / "org.toml").write_text(org)
    return home
