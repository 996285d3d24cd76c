"""The in-memory full-text index: folding, words inside compounds, ranking, removal (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from messenger.fulltext import TextIndex, fold, query_terms, snippet


def test_fold_strips_diacritics_and_nordic_letters() -> None:
    assert fold("Östersjö") == "ostersjo"
    assert fold("Ærø Æble") == "aero aeble"
    assert fold("Straße") == "strasse"
    assert fold("Håkon Øvergård") == "hakon overgard"
    assert fold("Česká ŁÓDŹ") == "ceska lodz"


def test_query_terms_split_usable_and_short() -> None:
    assert query_terms("Valg, ø og ÖSTERSJÖ valg") == (["valg", "ostersjo"], ["o", "og"])
    assert query_terms("!!") == ([], [])


def index() -> TextIndex:
    ix = TextIndex()
    ix.add(
        "K1", title="Frivilliges erfaringer", text="Start tidligt i kommunalvalget.", tags=["kenya"]
    )
    ix.add("K2", title="Östersjöstrategi", text="Samarbete kring Östersjöns miljö och valg.")
    ix.add("K3", title="Valg", text="Valg, valg og valgkamp.")
    ix.add("K4", title="Kenya", text="Nothing about elections.")
    return ix


def test_words_match_inside_compounds_and_without_accents() -> None:
    ix = index()
    assert {h.doc_id for h in ix.search(["valg"])} == {"K1", "K2", "K3"}
    assert [h.doc_id for h in ix.search(["ostersjo"])] == ["K2"]
    assert [h.doc_id for h in ix.search(["kommunal"])] == ["K1"]
    assert ix.search(["absent"]) == []


def test_ranking_more_words_first_then_title_and_whole_words() -> None:
    ix = index()
    assert ix.search(["valg"])[0].doc_id == "K3"  # in the title, whole words, often
    both = ix.search(["valg", "kenya"])
    assert both[0].doc_id == "K1"  # the only one matching both words
    assert both[0].matched == 2


def test_allowed_filters_and_limit_cuts() -> None:
    ix = index()
    assert [h.doc_id for h in ix.search(["valg"], allowed=lambda d: d == "K2")] == ["K2"]
    assert len(ix.search(["valg"], limit=1)) == 1


def test_reindex_and_remove_forget_old_words() -> None:
    ix = index()
    ix.add("K3", title="Budget", text="Kostnader.")
    assert "K3" not in {h.doc_id for h in ix.search(["valg"])}
    assert [h.doc_id for h in ix.search(["kostnad"])] == ["K3"]
    ix.remove("K3")
    ix.remove("K3")  # twice: nothing
    assert ix.search(["kostnad"]) == []
    assert len(ix) == 3
    assert "K3" not in ix


def test_snippet_shows_the_original_words_around_the_match() -> None:
    text = "Inledning. " * 30 + "Samarbetet kring Östersjön är viktigt." + " Slut." * 30
    piece = snippet(text, ["ostersjo"], 80)
    assert "Östersjön" in piece
    assert piece.startswith("…")
    assert piece.endswith("…")
    assert snippet("Kort text.", ["zzz"]) == "Kort text."


@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=8), st.text(max_size=10))
def test_every_document_containing_a_word_is_found(texts: list[str], probe: str) -> None:
    ix = TextIndex()
    for i, t in enumerate(texts):
        ix.add(f"D{i}", title="", text=t)
    for term in query_terms(probe)[0]:
        found = {h.doc_id for h in ix.search([term], limit=None)}
        expected = {f"D{i}" for i, t in enumerate(texts) if any(term in w for w in fold(t).split())}
        assert found <= {f"D{i}" for i in range(len(texts))}
        assert expected <= found
