"""Language names as members read them: CLDR's names in the reader's language."""

from __future__ import annotations

from bots.translate.render import language_name, named
from messenger.i18n import translator


def test_names_are_in_the_readers_language_and_keep_their_letters() -> None:
    en, sv, da, nb = (translator(x) for x in ("en", "sv", "da", "nb"))
    assert language_name("nb", en) == "Norwegian Bokmål"
    assert named("nn", en) == "Norwegian Nynorsk (nn)"
    assert language_name("da", en) == "Danish"
    assert language_name("da", sv) == "danska"
    assert language_name("ne", sv) == "nepalesiska"
    assert language_name("my", en) == "Burmese"
    assert language_name("nb", da) == "bokmål"  # CLDR: Danish says bokmål alone
    assert language_name("nb", nb) == "norsk bokmål"
    assert language_name("sv", nb) == "svensk"
    assert language_name("xx", en) == "xx"
