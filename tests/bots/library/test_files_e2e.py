"""Entries from encrypted files on the real Synapse: read, indexed, re-sent encrypted by
``!kb show``; a file too large, of an unknown format or damaged is refused, nothing stored."""

from __future__ import annotations

from nio.crypto import decrypt_attachment

from tests.bots.library.support import (
    CARD_KEY,
    ask,
    docx_bytes,
    hit_ids,
    is_error,
    library_org,
    reply_to,
    send_file,
)
from tests.support import OrgEnv

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def test_add_from_encrypted_file_and_show_sends_it_back(
    org_env: OrgEnv, member_factory
) -> None:
    lib = await library_org(org_env, member_factory, bots_extra="library_max_file_mb = 1")
    a = lib.rooms["A"]
    alice, dave = lib.people["alice"], lib.people["dave"]
    original = docx_bytes("Erfaringer fra ungdomsvalget i Nakuru.", "Husk frivilligkoordinatoren.")
    file_event = await send_file(alice, a, original, "erfaringer.docx", DOCX)
    card = await ask(
        alice, a, lib.bot, '!kb add "Nakuru" --type case --tags kenya', **reply_to(file_event)
    )
    assert not is_error(card), card["body"]
    assert card[CARD_KEY]["file_name"] == "erfaringer.docx"
    assert card[CARD_KEY]["source_event_id"] == file_event
    assert "ungdomsvalget" in card[CARD_KEY]["excerpt"]

    assert hit_ids(await ask(dave, a, lib.bot, "!kb search koordinator")) == ["K1"]

    shown = await dave.send(a, "!kb show K1")
    answers = await dave.wait_reply(shown, sender=lib.bot, count=2)
    files = [r["content"] for r in answers if r["content"].get("msgtype") == "m.file"]
    (sent,) = files
    assert sent["filename"] == "erfaringer.docx"
    assert "url" not in sent  # encrypted: the address is inside the file block only
    blob = await dave.client.download(mxc=sent["file"]["url"])
    plain = decrypt_attachment(
        blob.body, sent["file"]["key"]["k"], sent["file"]["hashes"]["sha256"], sent["file"]["iv"]
    )
    assert plain == original


async def test_unreadable_files_are_refused_and_nothing_stored(
    org_env: OrgEnv, member_factory
) -> None:
    lib = await library_org(org_env, member_factory, bots_extra="library_max_file_mb = 1")
    a = lib.rooms["A"]
    alice = lib.people["alice"]
    cases = [
        (b"x" * (1024 * 1024 + 10), "big.txt", "text/plain", "up to 1.0 MB"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "photo.png", "image/png", "PDF, DOCX and ODT"),
        (b"PK\x03\x04 not really a document", "broken.docx", DOCX, "damaged"),
        (b"\xff\xfe\x00 latin-1 \xe5", "notes.txt", "text/plain", "UTF-8"),
    ]
    for data, name, mimetype, reason in cases:
        event = await send_file(alice, a, data, name, mimetype)
        answer = await ask(alice, a, lib.bot, f'!kb add "{name}"', **reply_to(event))
        assert is_error(answer), name
        assert reason in answer["body"], answer["body"]
    # a file that lies about its size is refused after download all the same
    event = await send_file(alice, a, b"y" * (1024 * 1024 + 10), "small.md", "text/markdown", 10)
    assert is_error(await ask(alice, a, lib.bot, '!kb add "small"', **reply_to(event)))
    listed = await ask(alice, a, lib.bot, "!kb list")
    assert "K1" not in listed["body"]
    ok = await send_file(
        alice, a, "# Guide\nVälkommen till **valet**.".encode(), "g.md", "text/markdown"
    )
    card = await ask(alice, a, lib.bot, '!kb add "Guide" --type guide', **reply_to(ok))
    assert card[CARD_KEY]["id"] == "K1"  # the refused ones took no ID
