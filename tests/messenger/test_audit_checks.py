"""The deployment checks of the security audit, as pure units: data directory permissions,
the vault's Argon2id cost, recovery keys confirmed offline, Synapse privacy settings."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

from nacl.pwhash import argon2id

from messenger.config import parse_org
from messenger.deploy.audit.hosting import (
    check_permissions,
    check_recovery,
    check_synapse_config,
    check_vault,
    recovery_fingerprint,
)
from messenger.deploy.audit.rooms import check_room
from messenger.deploy.homeserver import synapse_config
from messenger.deploy.provision import Provisioner, RoomState
from messenger.protocol import ROOM_MARKER
from messenger.session.rooms import INVITE_LEVEL, MEGOLM

ORG = textwrap.dedent("""
    [organisation]
    name = "Audit units"
    [homeserver]
    partners = ["partner.example"]
    [[partnership]]
    name = "Kenya"
    coordinators = ["@anna:localhost"]
""")


def test_a_data_directory_others_can_read_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "accounts" / "events").mkdir(parents=True, mode=0o700)
    home.chmod(0o700)
    (home / "accounts").chmod(0o700)
    db = home / "accounts" / "events" / "state.db"
    db.write_text("x")
    db.chmod(0o644)
    assert check_permissions(home) == []  # readable, but nobody else can get there
    home.chmod(0o755)
    found = check_permissions(home)
    assert [(f.code, f.subject, f.value) for f in found] == [
        ("files.permissions", str(home), "0o755")
    ]
    home.chmod(0o711)  # others may pass through: one finding for the whole directory
    assert [f.subject for f in check_permissions(home)] == [str(home)]


def test_vault_cost_below_the_default_is_named(tmp_path: Path) -> None:
    header = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}
    (tmp_path / "vault.json").write_text(json.dumps(header))
    assert [f.code for f in check_vault(tmp_path)] == ["vault.weak-kdf"]
    header = {"opslimit": argon2id.OPSLIMIT_MODERATE, "memlimit": argon2id.MEMLIMIT_MODERATE}
    (tmp_path / "vault.json").write_text(json.dumps(header))
    assert check_vault(tmp_path) == []


def test_recovery_keys_must_be_confirmed_with_the_current_key() -> None:
    kept = {"events-x": {"recovery_key": "EsT1 abcd"}}
    bots = {"events": "events-x", "resources": "resources-x"}
    assert [f.subject for f in check_recovery(kept, {}, bots)] == ["events"]
    confirmed = {"events-x": {"sha256": recovery_fingerprint("EsT1 abcd")}}
    assert check_recovery(kept, confirmed, bots) == []
    rotated = {"events-x": {"recovery_key": "EsT2 efgh"}}
    assert [f.code for f in check_recovery(rotated, confirmed, bots)] == [
        "bot.recovery-unconfirmed"
    ]


def test_synapse_settings_that_weaken_privacy(tmp_path: Path) -> None:
    org = parse_org(ORG)
    ours = synapse_config(tmp_path, "localhost", 8008, "secret")
    ours["federation_domain_whitelist"] = ["localhost", "partner.example"]
    assert check_synapse_config(ours, org) == []  # what `samverkan up` writes is clean
    weak = {
        **ours,
        "enable_registration": True,
        "url_preview_enabled": True,
        "report_stats": True,
        "presence": {"enabled": True},
    }
    del weak["federation_domain_whitelist"]
    codes = {f.code: f for f in check_synapse_config(weak, org)}
    assert set(codes) == {
        "synapse.registration-open",
        "synapse.url-previews",
        "synapse.report-stats",
        "synapse.presence",
        "synapse.federation-open",
    }
    assert codes["synapse.registration-open"].severity == "critical"
    assert "partner.example" in codes["synapse.federation-open"].expected
    ours["federation_domain_whitelist"] = ["localhost", "partner.example", "rogue.example"]
    extra = check_synapse_config(ours, org)
    assert [(f.code, f.value) for f in extra] == [("synapse.federation-extra", '["rogue.example"]')]


def state_event(etype: str, content: dict[str, object], key: str = "") -> dict[str, object]:
    return {"type": etype, "state_key": key, "content": content, "sender": "@svc:localhost"}


def test_room_checks_name_each_setting_against_the_file() -> None:
    org = parse_org(ORG + '[bots]\nservice = "svc"\nenabled = ["events"]\n')
    group = org.groups[0]
    prov = Provisioner(SimpleNamespace(client=None, user_id="@svc:localhost"), org)  # type: ignore[arg-type]
    good = [
        state_event("m.room.create", {"room_version": "10"}),
        state_event("m.room.encryption", {"algorithm": MEGOLM}),
        state_event("m.room.join_rules", {"join_rule": "invite"}),
        state_event("m.room.guest_access", {"guest_access": "forbidden"}),
        state_event("m.room.history_visibility", {"history_visibility": "joined"}),
        state_event(ROOM_MARKER, {"slug": group.slug, "kind": "partnership"}),
        state_event(
            "m.room.power_levels",
            {"users": prov.levels_for(group), "invite": INVITE_LEVEL, "users_default": 0},
        ),
        *(
            state_event("m.room.member", {"membership": "join"}, u)
            for u in prov.wanted_members(group) | {"@svc:localhost"}
        ),
    ]
    space = RoomState.parse(
        "!space:localhost", [state_event("m.space.child", {"via": ["x"]}, "!r:localhost")]
    )
    assert check_room(prov, group, RoomState.parse("!r:localhost", good), space) == []

    bad = [
        *good,
        state_event("m.room.encryption", {"algorithm": "m.olm.v1.curve25519-aes-sha2"}),
        state_event("m.room.history_visibility", {"history_visibility": "world_readable"}),
        state_event("m.room.member", {"membership": "invite"}, "@mallory:localhost"),
        state_event(
            "m.room.power_levels",
            {
                "users": {**prov.levels_for(group), "@anna:localhost": 100},
                "invite": 0,
                "users_default": 10,
            },
        ),  # fmt: skip
    ]
    found = {f.code: f for f in check_room(prov, group, RoomState.parse("!r:localhost", bad), None)}
    assert found["room.encryption"].severity == "critical"
    assert found["room.history-visibility"].severity == "critical"
    assert found["room.history-visibility"].value == "world_readable"
    assert found["room.unexpected-member"].setting == "@mallory:localhost"
    assert found["room.power-excess"].value == "100"
    assert found["room.power-default"].value == "10"
    assert found["room.invite-level"].expected == str(INVITE_LEVEL)
    assert all(f.fixable and f.room == group.slug for f in found.values())
    assert [f.code for f in check_room(prov, group, None, None)] == ["room.missing"]
