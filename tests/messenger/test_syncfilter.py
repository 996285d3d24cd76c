"""The sync filter: uploaded once, named by ID; a bot's leaves the other bots' events out."""

from __future__ import annotations

from typing import Any

from messenger.errors import TransientError
from messenger.session.syncfilter import SYNC_FILTER, SyncFilter


class FakeApi:
    """Records uploads; fails the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.uploads: list[tuple[str, dict[str, Any]]] = []
        self.failures = failures

    async def __call__(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert method == "POST"
        if self.failures:
            self.failures -= 1
            raise TransientError("homeserver away")
        self.uploads.append((path, body))
        return {"filter_id": str(len(self.uploads))}


async def test_the_filter_is_uploaded_once_and_named_by_id() -> None:
    api, f = FakeApi(), SyncFilter()
    assert await f.current(api, "@bot:x") == "1"
    assert await f.current(api, "@bot:x") == "1"
    path, body = api.uploads[0]
    assert path == "/user/%40bot%3Ax/filter"
    assert body["presence"] == {"not_types": ["*"]}
    assert body["room"]["ephemeral"] == {"not_types": ["*"]}
    assert body["room"]["state"]["lazy_load_members"] is True
    assert len(api.uploads) == 1


async def test_other_bots_are_left_out_and_a_change_is_uploaded_again() -> None:
    api, f = FakeApi(), SyncFilter()
    await f.current(api, "@events:x")
    f.ignore_senders({"@translate:x", "@resources:x"})
    assert await f.current(api, "@events:x") == "2"
    assert api.uploads[1][1]["room"]["timeline"]["not_senders"] == [
        "@resources:x",
        "@translate:x",
    ]
    assert "not_senders" not in SYNC_FILTER["room"]["timeline"]  # the shared default is intact
    f.ignore_senders(set())
    assert "not_senders" not in f.spec["room"]["timeline"]


async def test_a_failed_upload_syncs_with_the_filter_itself_and_tries_again() -> None:
    api, f = FakeApi(failures=1), SyncFilter()
    assert await f.current(api, "@bot:x") == f.spec
    assert await f.current(api, "@bot:x") == "1"
