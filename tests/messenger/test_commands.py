"""The command framework: declared arguments, parsing, usage generated from declarations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messenger.botkit.commands import (
    Arg,
    CommandError,
    CommandTable,
    Opt,
    command,
    declared_commands,
    is_command,
    tokenize,
)


def positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive whole number, e.g. 3")
    return value


class Demo:
    @command(
        "thing create",
        Arg("title", "what to call it"),
        Arg("count", parse=positive_int),
        Arg("zone", optional=True),
        Opt("where", metavar="PLACE"),
        Opt("urgent", flag=True),
        summary="Create a thing",
        example='!thing create "Board" 3',
    )
    async def create(self, ctx: object, **kw: object) -> None: ...

    @command("say", Arg("text", rest=True), summary="Say it")
    async def say(self, ctx: object, **kw: object) -> None: ...


def table() -> CommandTable:
    return CommandTable(declared_commands(Demo()))


def test_usage_is_generated_from_the_declaration() -> None:
    (create,) = [c for c in table().commands if c.name == "thing create"]
    assert create.usage() == "!thing create <title> <count> [zone] [--where PLACE] [--urgent]"
    assert "example: !thing create" in create.help_text()


def test_parses_quotes_options_and_flags() -> None:
    cmd, rest = table().match(tokenize('!thing create "Board meeting" 3 --where "Room 1" --urgent'))  # type: ignore[misc]
    assert cmd.bind(rest) == {
        "title": "Board meeting",
        "count": 3,
        "zone": None,
        "where": "Room 1",
        "urgent": True,
    }


def test_smart_quotes_from_phones_count_as_quotes() -> None:
    assert tokenize("!say “hej då”") == ["say", "hej då"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("!thing create", "missing title"),
        ("!thing create Board", "missing count"),
        ("!thing create Board -2", "count '-2': must be a positive whole number"),
        ("!thing create Board 2 x y", "unexpected extra words: y"),
        ("!thing create Board 2 --colour red", "unknown option --colour"),
        ("!thing create Board 2 --where", "--where needs a value"),
    ],
)
def test_bad_input_says_what_is_wrong(body: str, message: str) -> None:
    cmd, rest = table().match(tokenize(body))  # type: ignore[misc]
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        cmd.bind(rest)


def test_unbalanced_quote_explains_how_to_quote() -> None:
    with pytest.raises(CommandError, match="close every quote"):
        tokenize('!thing create "Board 3')


def test_rest_argument_takes_every_word() -> None:
    cmd, rest = table().match(tokenize("!say hello there  world"))  # type: ignore[misc]
    assert cmd.bind(rest) == {"text": "hello there world"}


def test_is_command() -> None:
    assert is_command("!ping")
    assert not is_command("! ping")
    assert not is_command("ping")
    assert not is_command("!")


@given(st.text(max_size=200))
def test_any_text_either_parses_or_raises_a_command_error(text: str) -> None:
    try:
        words = tokenize("!" + text)
    except CommandError:
        return
    found = table().match(words)
    if found is None:
        return
    cmd, rest = found
    try:
        cmd.bind(rest)
    except CommandError as e:
        assert str(e)  # noqa: PT017 -- fuzz: a refusal must say what was wrong
