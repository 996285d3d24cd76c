"""Provides the messenger's exception tree and the one place nio error responses become exceptions.

MessengerError
├── ConfigError            the organisation file or settings are invalid
├── HomeserverError        the embedded homeserver failed to start or answer
├── MatrixError            the homeserver refused a request (errcode, status)
│   ├── AuthError          M_FORBIDDEN / M_UNKNOWN_TOKEN / bad password
│   ├── RateLimited        M_LIMIT_EXCEEDED (retry_after_ms)
│   └── NotFound           M_NOT_FOUND / unknown user or room
├── TransientError         network failure or 5xx: worth retrying
└── StoreError             the local state store failed
"""

from __future__ import annotations

from typing import Any


class MessengerError(Exception):
    """Root of every error raised by ``messenger``."""


class ConfigError(MessengerError):
    """The organisation file or settings are invalid; ``problems`` lists each one."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        text = message
        if self.problems:
            text += "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(text)


class HomeserverError(MessengerError):
    """The embedded homeserver could not be started, reached or stopped."""


class MatrixError(MessengerError):
    """The homeserver answered a request with an error."""

    def __init__(self, message: str, errcode: str | None = None, status: int | None = None):
        self.errcode = errcode
        self.status = status
        super().__init__(f"{message} ({errcode or 'no errcode'}, HTTP {status or '?'})")


class AuthError(MatrixError):
    """Authentication or authorisation was refused."""


class RateLimited(MatrixError):
    """The homeserver rate-limited the request."""

    def __init__(self, message: str, retry_after_ms: int | None, **kw: Any) -> None:
        self.retry_after_ms = retry_after_ms
        super().__init__(message, **kw)


class TooLarge(MatrixError):
    """The event is larger than the homeserver accepts (M_TOO_LARGE); retrying cannot help."""


class NotFound(MatrixError):
    """The user, room or resource does not exist."""


class TransientError(MessengerError):
    """A network failure or server error; the operation may be retried."""


class StoreError(MessengerError):
    """The local encrypted state store failed."""


def check(response: Any, action: str = "request") -> Any:
    """Return ``response`` unless it is a nio error response, which becomes a typed exception.

    This is the only function in Samverkan that looks at nio's error response classes.
    """
    from nio import ErrorResponse  # local: keep nio out of import-time for pure users

    if not isinstance(response, ErrorResponse):
        return response
    code = response.status_code
    transport = getattr(response, "transport_response", None)
    http = getattr(transport, "status", None) if transport is not None else None
    message = f"{action} failed: {response.message}"
    if code == "M_LIMIT_EXCEEDED":
        raise RateLimited(message, response.retry_after_ms, errcode=code, status=http)
    if code in {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED"}:
        raise AuthError(message, errcode=code, status=http)
    if code == "M_TOO_LARGE" or http == 413:
        raise TooLarge(message, errcode=code, status=http)
    if code == "M_NOT_FOUND" or http == 404:
        raise NotFound(message, errcode=code, status=http)
    if http is None or http >= 500 or http == 429:
        raise TransientError(message)
    raise MatrixError(message, errcode=code, status=http)


def raise_for_status(status: int, data: dict[str, Any], action: str) -> None:
    """Raise the typed exception for a raw HTTP error answer (the non-nio path)."""
    code = data.get("errcode")
    message = f"{action} failed: {data.get('error', 'no message')}"
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        raise RateLimited(message, data.get("retry_after_ms"), errcode=code, status=status)
    if code in {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"} or status in {401, 403}:
        raise AuthError(message, errcode=code, status=status)
    if code == "M_NOT_FOUND" or status == 404:
        raise NotFound(message, errcode=code, status=status)
    if status >= 500:
        raise TransientError(message)
    raise MatrixError(message, errcode=code, status=status)
