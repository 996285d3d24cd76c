"""The translate bot's records read what earlier versions stored; its errors sit in the tree."""

from __future__ import annotations

from bots.errors import BotError
from bots.translate.model import Memory, Prompt
from bots.translate.providers import ProviderError, ProviderUnavailable, TranslationFailed
from messenger.errors import MessengerError

# A prompt record as the bot stored it before records were typed: answered from memory,
# so it never got volunteers, present, drafts, provider or notes.
OLD_PROMPT = {
    "room_id": "!r:x",
    "thread_root": "$root",
    "text": "Hej alle sammen, vi ses i morgen",
    "source": "da",
    "confidence": 0.93,
    "targets": ["sv", "en"],
    "translated": {"sv": "@mette:x"},
    "requested_by": None,
    "prompt_key": None,
}


def test_a_stored_prompt_from_before_reads_with_defaults_and_round_trips() -> None:
    p = Prompt.from_stored(OLD_PROMPT)
    assert (p.source, p.targets, p.translated) == ("da", ["sv", "en"], {"sv": "@mette:x"})
    assert (p.volunteers, p.present, p.drafts, p.provider, p.notes) == ([], [], {}, None, [])
    assert p.done() == ["sv"]
    stored = p.stored()
    assert {k: stored[k] for k in OLD_PROMPT} == OLD_PROMPT
    assert Prompt.from_stored(stored) == p


def test_asked_again_keeps_the_first_thread_and_history() -> None:
    old = Prompt.from_stored({**OLD_PROMPT, "prompt_key": "tr-prompt:$src", "volunteers": ["@a"]})
    new = Prompt("!r:x", "$other", "text", "da", 0.5, ["de", "sv"], requested_by="@b")
    new.carry_over(old)
    assert (new.thread_root, new.prompt_key, new.volunteers) == ("$root", "tr-prompt:$src", ["@a"])
    assert new.requested_by is None
    assert new.targets == ["sv", "en", "de"]
    assert new.translated == {"sv": "@mette:x"}
    assert new.translated is not old.translated


def test_a_stored_memory_entry_reads_both_shapes() -> None:
    volunteer = Memory.from_stored({"text": "Vi ses", "by": "@m:x", "machine": False,
                                    "source_event": "$e"})  # fmt: skip
    assert (volunteer.by, volunteer.machine, volunteer.provider) == ("@m:x", False, None)
    machine = Memory.from_stored({"text": "See you", "by": "machine:argos", "machine": True,
                                  "provider": "argos", "source_event": "$e"})  # fmt: skip
    assert (machine.machine, machine.provider) == (True, "argos")


def test_provider_errors_sit_in_the_bots_and_messengers_tree() -> None:
    for cls in (ProviderError, ProviderUnavailable, TranslationFailed):
        assert issubclass(cls, BotError)
        assert issubclass(cls, MessengerError)
