"""Nothing a member wrote lies on disk in plaintext: scan every file under the data directory."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support import OrgEnv


def files_containing(root: Path, needles: list[bytes]) -> list[tuple[Path, bytes]]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [(path, n) for n in needles if n in data]
    return hits


async def test_no_plaintext_of_messages_titles_or_requests_on_disk(
    org_env: OrgEnv, member_factory
) -> None:  # noqa: E501
    _settings, room_id, (coord, member), runtime = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1
    )
    tag = uuid.uuid4().hex[:10]
    secrets = {
        "message": f"Confidential strategy note {tag}: we back the coalition motion",
        "title": f"Leadership retreat {tag}",
        "request": f"Travel grant for Nairobi {tag}",
        "tr": f"Hemlig översättning {tag} av strategin",
    }
    bots = {b.name: b.user_id for b in runtime.bots}
    sent = await member.send(room_id, secrets["message"])
    ev = await member.send(
        room_id, f'!event create "{secrets["title"]}" 2031-05-04 10:00 Europe/Stockholm'
    )
    await member.wait_reply(ev, sender=bots["events"])
    req = await member.send(room_id, f'!request funding "{secrets["request"]}" --amount 1200')
    await member.wait_reply(req, sender=bots["resources"])
    ping = await coord.send(room_id, "!ping")
    await coord.wait_reply(ping, count=len(bots))
    del sent
    await org_env.stop_bots()  # flush and close every store

    assert org_env.home.exists()
    needles = [s.encode() for s in secrets.values() if s != secrets["tr"]] + [tag.encode()]
    hits = files_containing(org_env.home, needles)
    assert not hits, (
        f"plaintext on disk: {[(str(p.relative_to(org_env.home)), n) for p, n in hits]}"
    )
