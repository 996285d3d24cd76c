"""Decision norms settling a scheduling poll: consensus, majority, coordinator (pure rules)."""

from __future__ import annotations

from bots.events import polls
from bots.events.model import PollRecord, Rule
from bots.events.render import tally_text
from messenger.i18n import translator
from tests.bots.events.test_render import poll as three_slots

EN = translator("en")


def poll(rule: Rule, votes: dict[str, list[str]]) -> PollRecord:
    rec = three_slots().model_copy(
        update={"rule": rule, "max_selections": 3 if rule == "consensus" else 1}
    )
    for ts, (user, answers) in enumerate(votes.items()):
        rec.record_vote(user, answers, ts)
    return rec


def test_consensus_picks_the_earliest_slot_every_voter_chose() -> None:
    rec = poll("consensus", {"@a:l": ["s1", "s2", "s3"], "@b:l": ["s3", "s2"], "@c:l": ["s2"]})
    assert rec.votes["@a:l"] == ["s1", "s2", "s3"], "a consensus poll takes several choices"
    rec.close()
    assert rec.winner == "s2"
    assert polls.start_content(EN, rec)["org.matrix.msc3381.poll.start"]["max_selections"] == 3


def test_consensus_picks_no_slot_when_one_voter_excluded_all_and_says_why() -> None:
    rec = poll("consensus", {"@a:l": ["s1", "s2"], "@b:l": ["s1", "s2"], "@c:l": ["s3"]})
    rec.close()
    assert rec.leader() == "s1", "a majority would have settled on slot 1"
    assert rec.winner is None
    text = tally_text(EN, rec)
    assert "No slot was chosen by every voter" in text
    assert "slot 1 left out by @c:l" in text
    assert "slot 3 left out by @a:l, @b:l" in text


def test_majority_is_todays_rule_and_the_default() -> None:
    rec = poll("majority", {"@a:l": ["s1", "s2"], "@b:l": ["s3"], "@c:l": ["s3"]})
    assert rec.votes["@a:l"] == ["s1"], "one choice per voter"
    rec.close()
    assert rec.winner == "s3"
    default = PollRecord.model_validate(
        {k: v for k, v in rec.model_dump().items() if k not in ("rule", "max_selections")}
    )
    assert default.rule == "majority", "polls stored before the rule existed keep majority"


def test_coordinator_rule_leaves_the_pick_to_a_coordinator() -> None:
    rec = poll("coordinator", {"@a:l": ["s1"], "@b:l": ["s1"]})
    rec.close()
    assert rec.winner is None
    assert "a coordinator picks the slot: !event poll accept P1 1" in tally_text(EN, rec)


def test_no_votes_means_no_winner_under_every_rule() -> None:
    for rule in ("consensus", "majority", "coordinator"):
        rec = poll(rule, {})  # type: ignore[arg-type]
        rec.close()
        assert rec.winner is None
        assert "Nobody voted" in tally_text(EN, rec)
