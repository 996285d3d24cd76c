"""Provides ``FilesMixin``: encrypted attachments of a ``Session``, up and down."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
from nio.crypto import decrypt_attachment
from nio.exceptions import EncryptionError

from messenger.calls import guarded
from messenger.errors import MessengerError, TransientError, check

API_TIMEOUT_S = 60.0  # one raw client-server call (backup uploads, cross-signing, state)


class FilesMixin:
    """Uploads and downloads for ``Session`` (which provides ``client``)."""

    client: Any

    async def upload_encrypted(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        """Upload an encrypted attachment; return the ``file`` block of an ``m.file`` message."""
        resp, keys = await self._upload(data, filename)
        return {**keys, "url": resp.content_uri, "mimetype": mimetype}

    async def download(self, url: str, keys: dict[str, Any] | None = None) -> bytes:
        """The content of an ``mxc://`` URL, decrypted with an ``m.file`` message's ``file``
        block when one is given (its hash checked); a damaged file raises MessengerError."""
        resp = await guarded(
            asyncio.wait_for(self.client.download(mxc=url), API_TIMEOUT_S), "downloading a file"
        )
        data = bytes(resp.body)
        if keys is None:
            return data
        try:
            return bytes(
                decrypt_attachment(data, keys["key"]["k"], keys["hashes"]["sha256"], keys["iv"])
            )
        except (EncryptionError, KeyError, TypeError, ValueError) as e:
            raise MessengerError(f"the file could not be decrypted: {e}") from None

    async def _upload(self, data: bytes, filename: str) -> tuple[Any, dict[str, Any]]:
        try:
            resp, keys = await self.client.upload(
                lambda *_: io.BytesIO(data),
                content_type="application/octet-stream",
                filename=filename,
                encrypt=True,
                filesize=len(data),
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransientError(f"uploading {filename} failed: {e}") from None
        check(resp, f"uploading {filename}")
        return resp, dict(keys or {})
