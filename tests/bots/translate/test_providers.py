"""One contract suite for every machine-translation provider.

LibreTranslate runs against ``FakeLibreTranslate``: a small aiohttp server on loopback that
speaks LibreTranslate's HTTP API and stands in for a real, self-hosted LibreTranslate
(none can be installed or downloaded here). Argos runs only when argostranslate and its
models are present; otherwise its contract tests are skipped, saying why.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator

import pytest

from bots.translate.providers import (
    Argos,
    LibreTranslate,
    Provider,
    ProviderUnavailable,
    TranslationFailed,
    make_provider,
)
from tests.bots.translate.fake_libretranslate import FakeLibreTranslate

ARGOS_MODELS = os.environ.get("SAMVERKAN_ARGOS_MODELS", "")
ARGOS_SKIP = (
    "argostranslate is not installed"
    if importlib.util.find_spec("argostranslate") is None
    else "no Argos models (set SAMVERKAN_ARGOS_MODELS to a directory with sv/en models)"
    if not ARGOS_MODELS
    else ""
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeLibreTranslate]:
    server = FakeLibreTranslate()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(
    params=[
        "libretranslate",
        pytest.param("argos", marks=pytest.mark.skipif(bool(ARGOS_SKIP), reason=ARGOS_SKIP)),
    ]
)
async def provider(
    request: pytest.FixtureRequest, fake: FakeLibreTranslate
) -> AsyncIterator[Provider]:
    p: Provider = (
        LibreTranslate(fake.url) if request.param == "libretranslate" else Argos(ARGOS_MODELS)
    )
    yield p
    await p.close()


async def test_contract_check_passes_when_usable(provider: Provider) -> None:
    await provider.check()


async def test_contract_translates_sv_to_en(provider: Provider) -> None:
    out = await provider.translate("Vi vill ha mer demokrati", "sv", "en")
    assert "democracy" in out.lower()


async def test_contract_keeps_unknown_tokens(provider: Provider) -> None:
    out = await provider.translate("ZQX0XQZ vill ha mer demokrati", "sv", "en")
    assert "ZQX0XQZ" in out


async def test_contract_unsupported_pair_fails_clearly(provider: Provider) -> None:
    with pytest.raises(TranslationFailed, match="th|supported|model"):
        await provider.translate("Vi vill ha mer demokrati", "sv", "th")


async def test_libretranslate_sends_the_documented_request(fake: FakeLibreTranslate) -> None:
    client = LibreTranslate(fake.url + "/")
    try:
        await client.translate("mer demokrati", "sv", "en")
    finally:
        await client.close()
    assert fake.requests == [
        ("/translate", {"q": "mer demokrati", "source": "sv", "target": "en", "format": "text"})
    ]


async def test_libretranslate_unreachable_is_unavailable(fake: FakeLibreTranslate) -> None:
    url = fake.url
    await fake.stop()
    client = LibreTranslate(url, timeout=3)
    try:
        with pytest.raises(ProviderUnavailable, match="cannot reach LibreTranslate"):
            await client.check()
    finally:
        await client.close()


def test_only_self_hosted_services_are_accepted() -> None:
    with pytest.raises(ProviderUnavailable, match="public service"):
        LibreTranslate("https://libretranslate.com")
    with pytest.raises(ProviderUnavailable, match="not configured"):
        make_provider(None, None)


@pytest.mark.skipif(
    importlib.util.find_spec("argostranslate") is not None, reason="argostranslate is installed"
)
async def test_argos_without_the_library_reports_unavailable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    argos = make_provider(None, str(tmp_path))
    assert isinstance(argos, Argos)
    with pytest.raises(ProviderUnavailable, match="argostranslate is not installed"):
        await argos.check()
    with pytest.raises(ProviderUnavailable, match="not a directory"):
        await Argos(str(tmp_path / "missing")).check()
