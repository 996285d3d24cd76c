"""The account's identity was made by another client: the TUI offers the recovery key (with a
clear error and another try), emoji verification with that client, or a reset."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, Input, Static

from crypto import encode_recovery_key, generate_secret_storage_key
from tests.support import OrgEnv
from tests.tui.support import password_of, tui_for, until
from tests.tui.test_tui_verification import other_device
from tui.screens.identity import AskRecoveryKey, RecoveryKeyScreen, ResetIdentity
from tui.screens.verify import VerifyScreen


def problem_shown(app: Any) -> str:
    """The problem line of the recovery-key screen ("" while that screen is still mounting)."""
    found = app.screen.query("#ask-recovery-problem")
    return str(found.first(Static).render()) if found else ""


async def submit(app: Any, pilot: Any, selector: str, text: str) -> None:
    field = app.screen.query_one(selector, Input)
    field.value = text
    field.focus()
    await pilot.press("enter")


async def press(app: Any, pilot: Any, selector: str) -> None:
    app.screen.query_one(selector, Button).press()
    await pilot.pause()


async def test_recovery_key_in_element_format_after_wrong_ones(
    org_env: OrgEnv, make_user: Any, tmp_path: Any
) -> None:
    settings = org_env.write_org("")
    await org_env.open(settings)
    coord, _ = await make_user("coord")
    async with other_device(org_env, coord, tmp_path / "element") as (_other, manager):
        assert await manager.cs.bootstrap(password_of(coord))  # "Element" made the identity
        key = await manager.cs.recovery_key()
        assert key is not None
        assert key.startswith("Es")
        assert " " in key  # the Security Key's groups
        async with tui_for(org_env, settings, coord, dismiss_identity=False) as (app, pilot):
            await until(pilot, lambda: isinstance(app.screen, AskRecoveryKey), "the choices")
            text = " ".join(str(s.render()) for s in app.screen.query(Static))
            assert text.count("already has a cross-signing identity") == 1
            assert app.screen.query_one("#verify-other") is not None
            assert app.screen.query_one("#reset-identity") is not None

            await submit(app, pilot, "#recovery-input", "EsTc 1234 not a key")
            await until(pilot, lambda: "did not work" in problem_shown(app), "the first error")
            assert isinstance(app.screen, AskRecoveryKey)  # asked again
            wrong = encode_recovery_key(generate_secret_storage_key())
            await submit(app, pilot, "#recovery-input", wrong)
            await until(pilot, lambda: "does not open" in problem_shown(app), "the second error")

            await submit(app, pilot, "#recovery-input", key)
            assert app.client is not None
            await until(pilot, lambda: app.client.identity.state == "restored", "restored")  # type: ignore[union-attr]
            assert not isinstance(app.screen, AskRecoveryKey)
            assert app.client.session is not None
            tui_device = app.client.session.device_id
            seen = await manager.cs.query(coord, fresh=True)
            assert await manager.cs.device_cross_signed(coord, tui_device, info=seen)


async def test_reset_the_identity_with_the_password(
    org_env: OrgEnv, make_user: Any, tmp_path: Any
) -> None:
    settings = org_env.write_org("")
    await org_env.open(settings)
    coord, _ = await make_user("coord")
    async with other_device(org_env, coord, tmp_path / "element") as (_other, manager):
        assert await manager.cs.bootstrap(password_of(coord))
        before = (await manager.cs.query(coord, fresh=True))["master"]
        async with tui_for(org_env, settings, coord, dismiss_identity=False) as (app, pilot):
            await until(pilot, lambda: isinstance(app.screen, AskRecoveryKey), "the choices")
            await press(app, pilot, "#reset-identity")
            await until(pilot, lambda: isinstance(app.screen, ResetIdentity), "the warning")
            warning = str(app.screen.query_one(Static).render())
            assert "Everyone who verified you must verify you again" in warning
            await submit(app, pilot, "#reset-password", "not the password")
            await until(pilot, lambda: isinstance(app.screen, AskRecoveryKey), "asked again")
            assert "refused the password" in problem_shown(app)
            await press(app, pilot, "#reset-identity")
            await until(pilot, lambda: isinstance(app.screen, ResetIdentity), "the warning again")
            await submit(app, pilot, "#reset-password", password_of(coord))
            await until(pilot, lambda: isinstance(app.screen, RecoveryKeyScreen), "the new key")
            after = await manager.cs.query(coord, fresh=True)
            assert after["master"] != before
            assert app.client is not None
            assert app.client.session is not None
            assert await manager.cs.device_cross_signed(
                coord, app.client.session.device_id, info=after
            )


async def test_verify_this_device_from_the_other_session_by_emoji(
    org_env: OrgEnv, make_user: Any, tmp_path: Any
) -> None:
    settings = org_env.write_org("")
    await org_env.open(settings)
    coord, _ = await make_user("coord")
    async with other_device(org_env, coord, tmp_path / "element") as (other, manager):
        assert await manager.cs.bootstrap(password_of(coord))
        async with tui_for(org_env, settings, coord, dismiss_identity=False) as (app, pilot):
            await until(pilot, lambda: isinstance(app.screen, AskRecoveryKey), "the choices")
            assert app.client is not None
            assert app.client.session is not None
            tui_device = app.client.session.device_id
            await other.query_device_keys({coord})
            await press(app, pilot, "#verify-other")
            theirs = await manager.incoming.get()  # the request reached the other session
            assert theirs.other_device == tui_device
            await theirs.accept()
            await until(pilot, lambda: isinstance(app.screen, VerifyScreen), "the emoji screen")
            ours = app.screen.v  # type: ignore[attr-defined]
            await until(pilot, lambda: ours.state == "keys" and theirs.state == "keys", "emoji")
            assert ours.emojis == theirs.emojis
            await theirs.confirm()
            await pilot.press("y")
            await until(pilot, lambda: theirs.state == "done", "done on the other session")
            # What Element does next: it holds the self-signing key, so it signs the new device.
            assert manager.cs.keys is not None
            info = await manager.cs.query(coord, fresh=True)
            signed = manager.cs.keys.sign_device(info["devices"][tui_device], coord)
            await other.api("POST", "/keys/signatures/upload", {coord: {tui_device: signed}})
            await until(pilot, lambda: app.client.identity.state == "verified", "verified")  # type: ignore[union-attr]
            assert app.client.identity.ok
            assert any("verified" in str(n.message) for n in app._notifications)
