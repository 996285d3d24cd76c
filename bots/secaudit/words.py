"""Provides the words of every audit finding: what was found and how to fix it, by ``code``.

Each template is a catalogue msgid (part ``audit``) with the finding's fields ``{subject}``,
``{setting}``, ``{value}`` and ``{expected}``; the CLI shows them in English, a room in the
reader's language. A code without words (a newer auditor) falls back to its code and fields.
"""

from __future__ import annotations

from messenger.i18n import N_, Translator
from messenger.protocol.audit import Finding

FIX_CMD = "samverkan audit --fix"
SEVERITY_WORDS = {
    "critical": N_("critical"),
    "high": N_("high"),
    "medium": N_("medium"),
    "low": N_("low"),
    "info": N_("info"),
}

TEMPLATES: dict[str, tuple[str, str]] = {
    "room.missing": (
        N_("{subject}: the room does not exist, or lost its provisioning marker"),
        N_("create it from the organisation file: {fix}"),
    ),
    "room.encryption": (
        N_("{subject}: encryption is {value}, not {expected}"),
        N_("turn encryption on: {fix} (history sent unencrypted stays readable to the server)"),
    ),
    "room.join-rule": (
        N_("{subject}: join rule is {value}; anyone could join (want {expected})"),
        N_("make the room invite-only again: {fix}"),
    ),
    "room.guest-access": (
        N_("{subject}: guest access is {value} (want {expected})"),
        N_("forbid guests again: {fix}"),
    ),
    "room.history-visibility": (
        N_("{subject}: history visibility is {value} (want {expected})"),
        N_("show history to joined members only: {fix}"),
    ),
    "room.not-in-space": (
        N_("{subject}: the room is not in the organisation's space"),
        N_("add it to the space: {fix}"),
    ),
    "room.power-excess": (
        N_("{subject}: {setting} is {value}, more than the file gives ({expected})"),
        N_("set the power level back to the file's: {fix}"),
    ),
    "room.power-missing": (
        N_("{subject}: {setting} is {value}, less than the file gives ({expected})"),
        N_("give the power level the file gives: {fix}"),
    ),
    "room.power-default": (
        N_("{subject}: everyone gets power level {value} by default (want {expected})"),
        N_("set the default power level back to 0: {fix}"),
    ),
    "room.invite-level": (
        N_("{subject}: inviting needs power level {value} (want {expected}: coordinators)"),
        N_("let only coordinators invite: {fix}"),
    ),
    "room.unexpected-member": (
        N_("{subject}: {setting} is in the room ({value}) but not in the organisation file"),
        N_("add them to the file if they belong, or remove them: {fix}"),
    ),
    "room.missing-member": (
        N_("{subject}: {setting} is in the organisation file but not in the room ({value})"),
        N_("invite them: {fix}"),
    ),
    "room.marker": (
        N_("{subject}: the provisioning marker says {value}, the file says {expected}"),
        N_("correct the group's table in the organisation file, then run {fix}"),
    ),
    "device.not-cross-signed": (
        N_("{subject}: device {setting} is not verified by its owner (not cross-signed)"),
        N_("{subject} verifies the device from another of their sessions, or signs it out"),
    ),
    "device.no-identity": (
        N_("{subject}: device {setting} is not cross-signed; no cross-signing identity is set up"),
        N_("{subject} sets up secure backup / cross-signing in their client and verifies it"),
    ),
    "device.stale": (
        N_("{subject}: device {setting} was last seen {value} days ago (limit {expected})"),
        N_("{subject} signs the device out if it is not in use"),
    ),
    "person.unknown": (
        N_("{subject} is in the organisation file but has no account on the homeserver"),
        N_("create the account (samverkan account add) or correct the file"),
    ),
    "server.admin": (
        N_("{subject} has server-admin rights on the homeserver"),
        N_("take the rights away unless this account runs the server"),
    ),
    "bot.no-cross-signing": (
        N_("bot {subject} has no cross-signing identity"),
        N_("restart the bots (samverkan up): each bot sets up its identity when it starts"),
    ),
    "bot.device-unsigned": (
        N_("bot {subject}: device {setting} is not signed by the bot's identity"),
        N_("restore the bot's identity: samverkan account restore {subject}"),
    ),
    "bot.health-unknown": (
        N_("bot {subject}: its key backup was not checked (not running, or not here)"),
        N_("audit where the bots run (samverkan up), or start them and audit again"),
    ),
    "bot.no-backup": (
        N_("bot {subject} has no server-side key backup"),
        N_("restart the bots (samverkan up): a bot enables its key backup when it starts"),
    ),
    "bot.backup-empty": (
        N_("bot {subject}: key backup {setting} holds {value} room keys"),
        N_("nothing to do if the bot has not been in an encrypted conversation yet"),
    ),
    "bot.recovery-unconfirmed": (
        N_("bot {subject}: its recovery key is not confirmed as stored offline"),
        N_("store the key offline, then run: samverkan audit recovery-stored {subject}"),
    ),
    "vault.unreadable": (
        N_("the vault header ({subject}) cannot be read"),
        N_("restore vault.json from a backup"),
    ),
    "vault.weak-kdf": (
        N_("the vault's Argon2id cost is {value}, below {expected}"),
        N_("re-encrypt the data at rest with the default cost: samverkan rekey"),
    ),
    "files.permissions": (
        N_("{subject} can be read by other users of the machine (mode {value})"),
        N_("restrict it: chmod -R go-rwx on the data directory"),
    ),
    "synapse.registration-open": (
        N_("the homeserver lets anyone register an account ({setting})"),
        N_("close registration: set {setting} to {expected} and restart the homeserver"),
    ),
    "synapse.guest-access": (
        N_("the homeserver allows guest accounts ({setting})"),
        N_("set {setting} to {expected} and restart the homeserver"),
    ),
    "synapse.url-previews": (
        N_("the homeserver fetches URL previews, which reveals links to it ({setting})"),
        N_("set {setting} to {expected} and restart the homeserver"),
    ),
    "synapse.presence": (
        N_("the homeserver shares presence (who is online when) ({setting})"),
        N_("set {setting} to {expected} and restart the homeserver"),
    ),
    "synapse.report-stats": (
        N_("the homeserver reports usage statistics ({setting})"),
        N_("set {setting} to {expected} and restart the homeserver"),
    ),
    "synapse.metrics": (
        N_("the homeserver exposes metrics ({setting})"),
        N_("set {setting} to {expected} unless the metrics port is firewalled"),
    ),
    "synapse.federation-open": (
        N_("the homeserver federates with every server, though only partners are listed"),
        N_("set {setting} to {expected} and restart the homeserver"),
    ),
    "synapse.federation-extra": (
        N_("the homeserver federates with servers that are not partners: {value}"),
        N_("set {setting} to {expected} and restart the homeserver"),
    ),
    "audit.no-admin": (
        N_("stale devices and server admins were not checked: {subject} is not a server admin"),
        N_("make {subject} a server admin (Synapse admin API) and audit again"),
    ),
}


def describe(t: Translator, f: Finding) -> tuple[str, str]:
    """(what was found, how to fix it) in ``t``'s language."""
    fields = {"subject": f.subject, "setting": f.setting, "value": f.value,
              "expected": f.expected, "fix": FIX_CMD}  # fmt: skip
    what, fix = TEMPLATES.get(f.code, ("{subject}: {setting} {value}", ""))
    try:
        return t.gettext(what).format(**fields), t.gettext(fix).format(**fields) if fix else ""
    except (KeyError, IndexError, ValueError):  # a translation broke its fields
        return what.format(**fields), fix.format(**fields)


def who_acts(t: Translator, f: Finding) -> str:
    """Who must act on a finding (the fix says when ``samverkan audit --fix`` does it)."""
    if f.fixable or f.who == "operator":
        return t.gettext("the operator")
    return f.who
