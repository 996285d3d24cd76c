"""The organisation file: valid files load, every problem in a bad one is listed by path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messenger.config import load_org, parse_org
from messenger.errors import ConfigError
from messenger.ids import server_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "org.toml"


def test_example_organisation_loads() -> None:
    org = load_org(EXAMPLE)
    assert len(org.working_group) >= 2
    assert len(org.partnership) >= 3
    assert org.homeserver.embedded
    assert org.group_languages(org.partnership[0]) == ["en", "sw"]


def test_every_problem_is_listed_with_its_path() -> None:
    text = """
        [organisation]
        name = ""
        languages = ["xx"]
        [homeserver]
        port = 99999
        url = "ftp://nope"
        [[working_group]]
        name = "Nordic"
        members = ["bob"]
        colour = "red"
        trust = "sometimes"
    """
    with pytest.raises(ConfigError) as info:
        parse_org(text.replace("\n        ", "\n"))
    problems = info.value.problems
    assert any(p.startswith("organisation.name:") for p in problems)
    assert any(p.startswith("organisation.languages:") and "'xx'" in p for p in problems)
    assert any(p.startswith("homeserver.port:") for p in problems)
    assert any(p.startswith("homeserver.url:") for p in problems)
    assert any(p.startswith("working_group.0.members:") and "'bob'" in p for p in problems)
    assert any(p.startswith("working_group.0.colour:") and "unknown key" in p for p in problems)
    assert any(p.startswith("working_group.0.trust:") for p in problems)
    assert "Traceback" not in str(info.value)


def test_toml_syntax_error_is_one_clear_message() -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_org("[organisation\nname='x'")


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--config"):
        load_org(tmp_path / "nope.toml")


def test_two_groups_with_the_same_name_are_refused() -> None:
    with pytest.raises(ConfigError, match="two groups named alike"):
        parse_org(
            '[organisation]\nname="x"\n[[working_group]]\nname="A b"\n[[partnership]]\nname="a-B"\n'
        )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzzed_files_never_escape_as_anything_but_config_error(text: str) -> None:
    try:
        parse_org(text)
    except ConfigError:
        pass


# Partner homeservers: ``[homeserver] partners`` names the servers partnership people may be on.

PARTNER_FILE = """
[organisation]
name = "x"
[homeserver]
server_name = "our-party.se"
{partners}
[[working_group]]
name = "Nordic"
coordinators = ["@anna:our-party.se"]
members = [{wg}]
[[partnership]]
name = "Kenya"
coordinators = ["@anna:our-party.se", {coord}]
members = ["@wanjiru:matrix.partner.example"]
"""


def partner_file(
    partners: str = 'partners = ["matrix.partner.example", "partner2.example:8448"]',
    wg: str = "",
    coord: str = '"@otieno:partner2.example:8448"',
) -> str:
    return PARTNER_FILE.format(partners=partners, wg=wg, coord=coord)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_org(text)
    return info.value.problems


def test_partner_servers_are_named_and_their_people_join_partnerships() -> None:
    org = parse_org(partner_file())
    assert org.homeserver.partners == ["matrix.partner.example", "partner2.example:8448"]
    assert org.partnership[0].everyone == [
        "@anna:our-party.se",
        "@otieno:partner2.example:8448",
        "@wanjiru:matrix.partner.example",
    ]
    # Bots and the provisioning account stay on our server.
    assert set(map(server_of, org.bot_user_ids().values())) == {"our-party.se"}


def test_files_without_partners_stay_valid_when_everyone_is_ours() -> None:
    org = parse_org(
        '[organisation]\nname="x"\n[[partnership]]\nname="P"\ncoordinators=["@a:localhost"]'
    )
    assert org.homeserver.partners == []


def test_a_person_on_an_unlisted_server_names_the_partners_key() -> None:
    problems = problems_of(partner_file(partners=""))
    assert len(problems) == 2, problems
    coord, member = problems
    assert coord.startswith("partnership.0.coordinators: '@otieno:partner2.example:8448'")
    assert member.startswith("partnership.0.members: '@wanjiru:matrix.partner.example'")
    assert "neither our server ('our-party.se')" in member
    assert "partners = ['matrix.partner.example']" in member
    # One listed, the other not: only the unlisted one is a problem.
    (only,) = problems_of(partner_file(partners='partners = ["matrix.partner.example"]'))
    assert only.startswith("partnership.0.coordinators:")
    assert "partners = ['matrix.partner.example', 'partner2.example:8448']" in only


def test_partner_people_are_only_allowed_in_partnerships() -> None:
    (problem,) = problems_of(partner_file(wg='"@wanjiru:matrix.partner.example"'))
    assert problem.startswith("working_group.0.members: '@wanjiru:matrix.partner.example'")
    assert "only be in a [[partnership]]" in problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"https://matrix.partner.example/"', "is a URL; write the Matrix server name only, e.g. "),
        ('"@wanjiru:partner.example"', "is not a Matrix server name"),
        ('"partner example"', "is not a Matrix server name"),
        ('""', "is not a Matrix server name"),
        ('"partner.example:port"', "is not a Matrix server name"),
        ('"our-party.se"', "is our own server_name"),
    ],
)
def test_bad_partner_server_names_are_explained(value: str, expected: str) -> None:
    problems = problems_of(
        partner_file(partners=f"partners = [{value}]", coord='"@b:our-party.se"')
    )
    assert any(p.startswith("homeserver.partners:") and expected in p for p in problems), problems


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True), min_size=1)
    .map(".".join)
    .filter(lambda s: s != "our-party.se"),
    st.one_of(st.none(), st.integers(1, 65535)),
)
def test_any_dns_server_name_with_or_without_port_is_a_partner(name: str, port: int | None) -> None:
    server = name if port is None else f"{name}:{port}"
    text = partner_file(
        partners=f'partners = ["{server}", "matrix.partner.example"]', coord=f'"@p:{server}"'
    )
    assert server in parse_org(text).homeserver.partners


# One run reports every problem: field checks and the rules spanning fields together.

MANY_PROBLEMS = """
[organisation]
name = ""
languages = ["xx"]
[homeserver]
server_name = "our-party.se"
port = 99999
partners = ["matrix.partner.example"]
[bots]
default_reminders = ["24 hours", "1h"]
four_eyes = "maybe"
[[working_group]]
name = "Nordic policy"
coordinators = ["@anna:our-party.se"]
members = ["bob", "@wanjiru:matrix.partner.example"]
colour = "red"
[[partnership]]
name = "nordic-Policy"
coordinators = []
members = ["@otieno:partner2.example"]
"""


def test_field_and_cross_field_problems_are_all_reported_at_once() -> None:
    problems = problems_of(MANY_PROBLEMS)
    expected = [
        ("organisation.name:", "must not be empty; write some text in quotes"),
        ("organisation.languages:", "'xx'"),
        ("homeserver.port:", "65535"),
        ("bots.default_reminders:", "'24 hours' is not a time before the event"),
        ("bots.four_eyes:", "write true or false"),
        ("working_group.0.members:", "not a Matrix user ID: 'bob'"),
        ("working_group.0.members:", "only be in a [[partnership]]"),
        ("working_group.0.colour:", "unknown key"),
        ("partnership.0.name:", "two groups named alike"),
        ("partnership.0.coordinators:", "at least one coordinator"),
        ("partnership.0.members:", "partners = ['matrix.partner.example', 'partner2.example']"),
    ]
    for path, text in expected:
        assert any(p.startswith(path) and text in p for p in problems), (path, text, problems)
    assert len(problems) == len(expected), problems
    # Listed in the file's order, each saying how to fix it.
    assert [p.split(":")[0].split(".")[0] for p in problems] == [
        "organisation", "organisation", "homeserver", "bots", "bots",
        *["working_group"] * 3, *["partnership"] * 3,
    ]  # fmt: skip


def test_cross_field_rules_still_guard_a_model_built_without_parse_org() -> None:
    org = parse_org('[organisation]\nname="x"\n[[working_group]]\nname="A"\n')
    data = org.model_dump()
    data["working_group"].append(dict(data["working_group"][0]))
    with pytest.raises(ValueError, match="two groups named alike"):
        type(org).model_validate(data)


@pytest.mark.parametrize("word", ["24 hours", "", "1 day", "0h", "61d", "h", "tomorrow"])
def test_a_default_reminder_that_is_not_a_duration_is_refused(word: str) -> None:
    (problem,) = problems_of(f'[organisation]\nname="x"\n[bots]\ndefault_reminders=["{word}"]')
    assert problem.startswith(f"bots.default_reminders: {word.strip().lower()!r} is not a time")
    assert "default_reminders = ['24h', '1h']" in problem


def test_default_reminders_in_the_events_bot_grammar_load() -> None:
    text = '[organisation]\nname="x"\n[bots]\ndefault_reminders=["2d", " 30M ", "1d12h", "60d"]'
    assert parse_org(text).bots.default_reminders == ["2d", "30m", "1d12h", "60d"]


@pytest.mark.parametrize("line", ["coordinators = []", ""])
def test_a_partnership_without_coordinators_is_refused(line: str) -> None:
    (problem,) = problems_of(
        f'[organisation]\nname="x"\n[[partnership]]\nname="P"\n{line}\nmembers=["@a:localhost"]'
    )
    assert problem.startswith("partnership.0.coordinators: a partnership needs at least one")
    assert "coordinators = ['@anna:your-server']" in problem


def test_four_eyes_defaults_on_and_can_be_turned_off() -> None:
    assert parse_org('[organisation]\nname="x"').bots.four_eyes is True
    assert parse_org('[organisation]\nname="x"\n[bots]\nfour_eyes=false').bots.four_eyes is False


def test_any_iso_639_1_language_is_a_working_language() -> None:
    """Issue 16: Nepali and Burmese are listed though the offline detector knows neither;
    ``no`` is refused in favour of ``nb``/``nn``, and non-codes still are."""
    org = parse_org(
        '[organisation]\nname="x"\nlanguages=["ne", "MY", "en"]\n'
        '[[working_group]]\nname="A"\nlanguages=["ne"]\n'
    )
    assert org.organisation.languages == ["ne", "my", "en"]
    assert org.groups[0].languages == ["ne"]
    for bad in ("no", "xx", "nep"):
        with pytest.raises(ConfigError) as info:
            parse_org(f'[organisation]\nname="x"\nlanguages=["{bad}"]\n')
        assert any(f"'{bad}'" in p and "'nb' or 'nn'" in p for p in info.value.problems)
