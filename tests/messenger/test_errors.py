"""One mapping from a refused request to the exception tree, for nio and raw HTTP alike."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from nio import RoomSendError

from messenger.calls import json_body
from messenger.errors import (
    AuthError,
    MatrixError,
    NotFound,
    RateLimited,
    TooLarge,
    TransientError,
    check,
    raise_for_status,
)

CASES: list[tuple[int | None, str | None, type[Exception]]] = [
    (429, None, RateLimited),
    (400, "M_LIMIT_EXCEEDED", RateLimited),
    (413, None, TooLarge),
    (400, "M_TOO_LARGE", TooLarge),
    (403, "M_FORBIDDEN", AuthError),
    (401, None, AuthError),
    (404, None, NotFound),
    (400, "M_NOT_FOUND", NotFound),
    (500, None, TransientError),
    (502, "M_UNKNOWN", TransientError),
    (400, "M_UNKNOWN", MatrixError),
]


def nio_error(status: int | None, errcode: str | None) -> Any:
    resp = RoomSendError("refused", errcode, 1500)
    resp.transport_response = SimpleNamespace(status=status) if status is not None else None
    return resp


@pytest.mark.parametrize(("status", "errcode", "expected"), CASES)
def test_nio_and_raw_http_map_the_same_way(
    status: int | None, errcode: str | None, expected: type[Exception]
) -> None:
    with pytest.raises(expected) as raw:
        raise_for_status(status or 0, {"errcode": errcode, "retry_after_ms": 1500}, "sending")
    with pytest.raises(expected) as via_nio:
        check(nio_error(status, errcode), "sending")
    assert type(raw.value) is type(via_nio.value) is expected
    if expected is RateLimited:
        assert isinstance(raw.value, RateLimited)
        assert raw.value.retry_after_ms == 1500


def test_no_answer_at_all_is_transient() -> None:
    with pytest.raises(TransientError):
        check(nio_error(None, None), "syncing")


def test_json_body_a_proxy_page_is_transient_on_success_and_the_status_speaks_on_error() -> None:
    assert json_body(200, '{"a": 1}', "GET /x") == {"a": 1}
    assert json_body(200, "", "GET /x") == {}
    assert json_body(200, "[1, 2]", "GET /x") == {}
    assert json_body(502, "<html>502 Bad Gateway</html>", "GET /x") == {}
    with pytest.raises(TransientError, match="GET /x: HTTP 200 without JSON"):
        json_body(200, "<html>ok?</html>", "GET /x")
