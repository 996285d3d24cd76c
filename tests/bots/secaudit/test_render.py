"""The room report of an audit: every finding's words come from the catalogue (en-XA), it is
grouped by severity with the fix, and nothing private (IP address, user agent) reaches it."""

from __future__ import annotations

import json
import re

from bots.secaudit.render import MAX_SHOWN, room_report
from bots.secaudit.words import TEMPLATES, describe
from messenger.deploy.audit.auditor import AuditReport
from messenger.i18n import PSEUDO, translator
from messenger.protocol.audit import Finding

TRANSLATED = re.compile(r"⟦[^⟦⟧]*⟧")


def finding(code: str, **kw: str) -> Finding:
    return Finding(
        severity=kw.pop("severity", "medium"),  # type: ignore[arg-type]
        code=code,
        subject=kw.pop("subject", "Nordic policy"),
        setting="m.room.guest_access guest_access",
        value="can_join",
        expected="forbidden",
        private={"last_seen_ip": "192.0.2.7", "user_agent": "Element/1.11 (Linux)"},
        **kw,
    )


def test_every_code_has_words_with_only_its_fields() -> None:
    en = translator("en")
    for code in TEMPLATES:
        what, fix = describe(en, finding(code))
        assert "{" not in what + fix, code
        assert what
        assert fix


def test_every_finding_renders_through_the_catalogue() -> None:
    xa = translator(PSEUDO)
    for code in TEMPLATES:
        what, fix = describe(xa, finding(code))
        for text in (what, fix):
            outside = TRANSLATED.sub("", text)
            assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", outside), (code, text)


def test_the_room_report_groups_by_severity_and_keeps_private_data_out() -> None:
    findings = [
        finding("room.guest-access", severity="high", fixable="true"),  # type: ignore[arg-type]
        finding("device.stale", severity="low", subject="@bjorn:localhost", who="@bjorn:localhost"),
        finding("synapse.presence", severity="low"),
    ]
    report = AuditReport(1_700_000_000_000, ["nordic-policy"], findings)
    text, html, data = room_report(translator("sv"), report, ["Nordic policy"])
    assert text.index("högt") < text.index("lågt")
    assert "gäståtkomst är can_join" in text
    assert "samverkan audit --fix" in text
    payload = json.dumps(data.model_dump(mode="json"))
    for blob in (text, html, payload):
        assert "192.0.2.7" not in blob
        assert "Element/1.11" not in blob
    assert data.counts == {"critical": 0, "high": 1, "medium": 0, "low": 2, "info": 0}


def test_a_long_report_is_cut_and_says_how_many_more() -> None:
    many = [finding("room.missing-member", subject=f"G{i}") for i in range(MAX_SHOWN + 7)]
    text, _html, data = room_report(translator("en"), AuditReport(0, [], many), ["all"])
    assert len(data.findings) == MAX_SHOWN
    assert "and 7 more findings" in text


def test_a_clean_report_says_so() -> None:
    report = AuditReport(0, ["nordic-policy"], [finding("bot.health-unknown", severity="info")])
    text, _html, _data = room_report(translator("da"), report, ["Nordic policy"])
    assert "ingen problemer fundet" in text
