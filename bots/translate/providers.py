"""Provides self-hosted machine translation: a LibreTranslate HTTP client and local Argos models.

Nothing here is constructed unless the organisation file names a self-hosted URL or a
local model directory and a room opted in; the bot builds a provider only when an opted-in
room needs one, so with machine translation off no socket is ever opened.
Errors (under ``bots.errors.BotError``): ``ProviderUnavailable`` (not configured, not
installed, unreachable) and ``TranslationFailed`` (the service answered, but not with a
translation), both ``ProviderError``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import aiohttp

from bots.errors import BotError
from bots.translate.model import term_pattern

TIMEOUT_S = 15.0
PUBLIC_HOSTS = ("libretranslate.com", "libretranslate.de", "translate.argosopentech.com")


class ProviderError(BotError):
    """Root of machine-translation errors; the message is fit to show to a room."""


class ProviderUnavailable(ProviderError):
    """The provider cannot translate at all (not installed, no models, unreachable)."""


class TranslationFailed(ProviderError):
    """The provider could not translate this text (unsupported pair, bad answer)."""


class Provider(Protocol):
    """A machine-translation engine on the organisation's own infrastructure."""

    name: str

    async def check(self) -> None:
        """Raise ProviderUnavailable (with a reason a person can act on) if unusable."""

    async def translate(self, text: str, source: str, target: str) -> str:
        """``text`` from ``source`` into ``target``."""

    async def close(self) -> None:
        """Release connections."""


class LibreTranslate:
    """Client of a self-hosted LibreTranslate server (``POST /translate``, ``GET /languages``)."""

    name = "libretranslate"

    def __init__(self, url: str, api_key: str | None = None, timeout: float = TIMEOUT_S) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ProviderUnavailable(f"machine_translation_url {url!r} is not an http(s) URL")
        if any(parsed.hostname == h or parsed.hostname.endswith("." + h) for h in PUBLIC_HOSTS):
            raise ProviderUnavailable(
                f"{parsed.hostname} is a public service; Samverkan only sends text to a "
                "LibreTranslate the organisation runs itself"
            )
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        try:
            async with self._http().request(method, self.url + path, json=payload) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                if resp.status >= 400:
                    detail = data.get("error") if isinstance(data, dict) else None
                    msg = f"LibreTranslate answered {resp.status}: {detail or resp.reason}"
                    if resp.status >= 500 or resp.status in (401, 403, 429):
                        raise ProviderUnavailable(msg)
                    raise TranslationFailed(msg)
                return data
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise ProviderUnavailable(
                f"cannot reach LibreTranslate at {self.url} ({e.__class__.__name__})"
            ) from None

    async def languages(self) -> dict[str, set[str]]:
        """Source code → target codes the server offers."""
        data = await self._call("GET", "/languages")
        if not isinstance(data, list):
            raise ProviderUnavailable(f"{self.url}/languages did not answer a language list")
        out: dict[str, set[str]] = {}
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("code"), str):
                out[item["code"]] = set(item.get("targets") or [])
        return out

    async def check(self) -> None:
        """The server answers ``/languages``."""
        await self.languages()

    async def translate(self, text: str, source: str, target: str) -> str:
        """One translation through ``POST /translate``."""
        payload: dict[str, Any] = {"q": text, "source": source, "target": target, "format": "text"}
        if self.api_key:
            payload["api_key"] = self.api_key
        data = await self._call("POST", "/translate", payload)
        result = data.get("translatedText") if isinstance(data, dict) else None
        if not isinstance(result, str):
            raise TranslationFailed("LibreTranslate answered without translatedText")
        return result

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class Argos:
    """Local Argos Translate models from a directory; never downloads anything."""

    name = "argos"

    def __init__(self, models_path: str) -> None:
        self.path = Path(models_path).expanduser()
        self._module: Any = None

    def _load(self) -> Any:
        if self._module is not None:
            return self._module
        if not self.path.is_dir():
            raise ProviderUnavailable(f"argos_models_path {self.path} is not a directory")
        os.environ.setdefault("ARGOS_PACKAGES_DIR", str(self.path))
        try:
            module = importlib.import_module("argostranslate.translate")
        except ImportError:
            raise ProviderUnavailable(
                "local machine translation is unavailable: argostranslate is not installed "
                "(pip install argostranslate, then put its models in argos_models_path)"
            ) from None
        if not module.get_installed_languages():
            raise ProviderUnavailable(f"no Argos models are installed in {self.path}")
        self._module = module
        return module

    async def check(self) -> None:
        """argostranslate imports and at least one model is installed."""
        await asyncio.to_thread(self._load)

    async def translate(self, text: str, source: str, target: str) -> str:
        """Translate in a worker thread with the installed models."""
        module = await asyncio.to_thread(self._load)

        def run() -> str:
            langs = {lang.code: lang for lang in module.get_installed_languages()}
            if source not in langs or target not in langs:
                raise TranslationFailed(f"no Argos model for {source}>{target} is installed")
            tr = langs[source].get_translation(langs[target])
            if tr is None:
                raise TranslationFailed(f"no Argos model for {source}>{target} is installed")
            return str(tr.translate(text))

        return await asyncio.to_thread(run)

    async def close(self) -> None:
        """Nothing to release."""


def make_provider(url: str | None, models_path: str | None) -> Provider:
    """The configured provider: the LibreTranslate URL wins over local Argos models."""
    if url:
        return LibreTranslate(url)
    if models_path:
        return Argos(models_path)
    raise ProviderUnavailable(
        "machine translation is not configured: the organisation file's [bots] table has "
        "neither machine_translation_url (a self-hosted LibreTranslate) nor argos_models_path"
    )


def _token(i: int) -> str:
    return f"ZQX{i}XQZ"


async def translate_keeping_terms(
    provider: Provider,
    text: str,
    source: str,
    target: str,
    terms: list[tuple[list[str], str]],
) -> tuple[str, list[str]]:
    """Translate with glossary terms fixed: each (forms, rendering) is shielded by a token
    wherever ``find_terms`` sees the term (whole words; anywhere in scripts without spaces).

    Returns the translation and the renderings the engine dropped (to be noted beside it).
    """
    shielded = text
    used: dict[str, str] = {}
    for i, (forms, rendering) in enumerate(terms):
        for form in sorted(forms, key=len, reverse=True):
            if not form:
                continue
            pattern = term_pattern(form)
            if pattern.search(shielded):
                shielded = pattern.sub(_token(i), shielded)
                used[_token(i)] = rendering
    result = await provider.translate(shielded, source, target)
    missing = []
    for token, rendering in used.items():
        found = re.compile(re.escape(token), re.I)
        if found.search(result):
            result = found.sub(rendering.replace("\\", "\\\\"), result)
        else:
            missing.append(rendering)
    return result, missing
