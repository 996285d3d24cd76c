"""Language names as members read them."""

from __future__ import annotations

from bots.translate.render import language_name, named


def test_norwegian_names_keep_their_letters() -> None:
    assert language_name("nb") == "Norwegian Bokmål"
    assert named("nn") == "Norwegian Nynorsk (nn)"
    assert language_name("da") == "Danish"
    assert language_name("xx") == "xx"
