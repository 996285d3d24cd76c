"""The organisation file: valid files load, every problem in a bad one is listed by path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messenger.config import load_org, parse_org
from messenger.errors import ConfigError

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
