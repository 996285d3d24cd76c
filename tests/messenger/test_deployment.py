"""The deployment's errors say which data directory is meant (no homeserver needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from messenger.config import Settings, parse_org
from messenger.deploy.deployment import Deployment
from messenger.errors import HomeserverError


async def test_a_data_directory_that_never_ran_its_homeserver_says_so(tmp_path: Path) -> None:
    org = parse_org('[organisation]\nname = "Org"\n[homeserver]\nport = 18499\n')
    settings = Settings(home=tmp_path / "home", passphrase=SecretStr("pw"), org=org, fast_kdf=True)
    dep = await Deployment.open(settings)
    try:
        with pytest.raises(HomeserverError, match="has never run its homeserver") as e:
            await dep.ensure_account("someone")
        assert str(tmp_path / "home") in str(e.value)
        assert "is not running" not in str(e.value)
    finally:
        await dep.close()
