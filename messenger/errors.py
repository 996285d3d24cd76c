"""Provides the messenger's exception tree and the one mapping of homeserver errors onto it.

MessengerError                 root of every error raised by messenger/ (and the layers above)
├── ConfigError                the organisation file or settings are invalid (``problems``)
├── HomeserverError            the embedded homeserver failed to start, answer or stop
├── MatrixError                the homeserver refused a request (``errcode``, ``status``)
│   ├── AuthError              M_FORBIDDEN / M_UNKNOWN_TOKEN / M_MISSING_TOKEN, 401, 403
│   ├── RateLimited            M_LIMIT_EXCEEDED, 429 (``retry_after_ms``): retried
│   ├── TooLarge               M_TOO_LARGE, 413: retrying cannot help
│   └── NotFound               M_NOT_FOUND, 404
├── TransientError             network failure, no answer, 5xx: retried
├── Undeliverable              (session.outbox) a queued message that can never be sent
├── RecoveryKeyNeeded          (e2ee.trust) an identity exists; its recovery key is needed
├── CommandError               (botkit.commands) a command as written cannot run
│   └── PermissionDenied       the sender's power level is too low
├── BotError                   (bots.errors) root of the bots' own errors
│   └── ProviderError          (bots.translate) a translation provider failed
└── UsageProblem               (samverkan.context) a CLI argument or file is wrong

``crypto/`` has its own root, ``CryptoError``: it knows nothing of Matrix.
``error_for`` is the one table from (HTTP status, Matrix errcode) to these classes; ``check``
(nio's error responses) and ``raise_for_status`` (raw HTTP answers) both go through it, and
no other module looks at nio's response classes.
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


AUTH_CODES = frozenset({"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_DEACTIVATED"})
ERROR_TABLE: tuple[tuple[type[MatrixError], frozenset[str], frozenset[int]], ...] = (
    (RateLimited, frozenset({"M_LIMIT_EXCEEDED"}), frozenset({429})),
    (AuthError, AUTH_CODES, frozenset({401, 403})),
    (TooLarge, frozenset({"M_TOO_LARGE"}), frozenset({413})),
    (NotFound, frozenset({"M_NOT_FOUND"}), frozenset({404})),
)
"""(class, errcodes, HTTP statuses): the first row whose errcode or status matches wins."""


def error_for(
    message: str, status: int | None, errcode: str | None, retry_after_ms: Any = None
) -> MessengerError:
    """The exception for a refused request: the one table, for nio and raw HTTP alike."""
    for cls, codes, statuses in ERROR_TABLE:
        if errcode in codes or status in statuses:
            if cls is RateLimited:
                retry = retry_after_ms if isinstance(retry_after_ms, int) else None
                return RateLimited(message, retry, errcode=errcode, status=status)
            return cls(message, errcode=errcode, status=status)
    if status is None or status >= 500:
        return TransientError(message)
    return MatrixError(message, errcode=errcode, status=status)


def check(response: Any, action: str = "request") -> Any:
    """Return ``response`` unless it is a nio error response, which becomes a typed exception.

    This is the only function in Samverkan that looks at nio's error response classes.
    """
    from nio import ErrorResponse  # local: keep nio out of import-time for pure users

    if not isinstance(response, ErrorResponse):
        return response
    transport = getattr(response, "transport_response", None)
    http = getattr(transport, "status", None) if transport is not None else None
    raise error_for(
        f"{action} failed: {response.message}",
        http,
        response.status_code,
        response.retry_after_ms,
    )


def raise_for_status(status: int, data: dict[str, Any], action: str) -> None:
    """Raise the typed exception for a raw HTTP error answer (the non-nio path)."""
    raise error_for(
        f"{action} failed: {data.get('error', 'no message')}",
        status,
        data.get("errcode"),
        data.get("retry_after_ms"),
    )
