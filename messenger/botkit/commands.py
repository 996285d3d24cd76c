"""Provides declared bot commands: typed arguments, shell-style parsing, generated help."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from messenger.errors import MessengerError
from messenger.i18n import N_, Translator

SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
MAX_COMMAND_CHARS = 4000
B = TypeVar("B")
TRANSLATED_FIELDS = frozenset({"reason", "help"})
"""Fields of a CommandError that are catalogue strings themselves."""


class CommandError(MessengerError):
    """A command could not be run as written; the message says why and how to fix it.

    ``message`` is an English catalogue msgid with ``{name}`` fields filled from ``fields``
    (``CommandError(N_("missing {name}"), cmd, name=...)``); ``render`` gives it in a
    member.s language, ``str()`` in English. ``reason`` and ``help`` fields are translated too (the
    message of a parser's ``ValueError``).
    """

    def __init__(self, message: str, command: Command | None = None, /, **fields: Any) -> None:
        self.command = command
        self.template = message
        self.fields = fields
        super().__init__(message.format(**fields) if fields else message)

    def render(self, t: Translator) -> str:
        """The message in ``t``'s language."""
        text = t.gettext(self.template)
        if not self.fields:
            return text
        fields = {
            k: t.gettext(v) if k in TRANSLATED_FIELDS and isinstance(v, str) else v
            for k, v in self.fields.items()
        }
        try:
            return text.format(**fields)
        except (KeyError, IndexError, ValueError):  # a translation broke its fields
            return str(self)


class PermissionDenied(CommandError):
    """The sender's power level is below what the command needs."""


@dataclass(frozen=True)
class Arg:
    """A positional argument. ``parse`` turns the word into a value or raises ValueError."""

    name: str
    help: str = ""
    parse: Callable[[str], Any] = str
    optional: bool = False
    rest: bool = False  # takes every remaining word, joined by spaces

    def usage(self) -> str:
        """``<name>``, ``[name]`` or ``<name…>``."""
        inner = f"{self.name}…" if self.rest else self.name
        return f"[{inner}]" if self.optional else f"<{inner}>"


@dataclass(frozen=True)
class Opt:
    """An option ``--name VALUE`` (or a flag ``--name`` when ``flag``)."""

    name: str
    help: str = ""
    parse: Callable[[str], Any] = str
    metavar: str = "VALUE"
    flag: bool = False
    repeat: bool = False

    @property
    def key(self) -> str:
        """The keyword the handler receives."""
        return self.name.replace("-", "_")

    def usage(self) -> str:
        """``[--name VALUE]``."""
        return f"[--{self.name}]" if self.flag else f"[--{self.name} {self.metavar}]"


@dataclass
class Command:
    """A declared command: its words, parameters, required power level and handler."""

    path: tuple[str, ...]
    func: Callable[..., Any]
    args: Sequence[Arg] = ()
    opts: Sequence[Opt] = ()
    summary: str = ""
    example: str = ""
    power: int = 0
    threaded_only: bool = False
    raw: bool = False
    aliases: tuple[tuple[str, ...], ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """``event create``."""
        return " ".join(self.path)

    def usage(self) -> str:
        """The usage line, generated from the declaration."""
        parts = [f"!{self.name}", *(a.usage() for a in self.args), *(o.usage() for o in self.opts)]
        return " ".join(parts)

    def help_text(self) -> str:
        """Usage, summary, parameters and example."""
        lines = [self.usage(), f"  {self.summary}" if self.summary else ""]
        for a in self.args:
            if a.help:
                lines.append(f"  {a.name}: {a.help}")
        for o in self.opts:
            if o.help:
                lines.append(f"  --{o.name}: {o.help}")
        if self.power:
            lines.append(f"  needs power level {self.power} in the room")
        if self.example:
            lines.append(f"  example: {self.example}")
        return "\n".join(line for line in lines if line)

    def bind_raw(self, text: str) -> dict[str, Any]:
        """For ``raw`` commands: the text after the command words, unsplit, to the one Arg."""
        (arg,) = self.args
        text = text.strip()
        if not text and not arg.optional:
            raise missing(arg, self)
        return {arg.name: _convert(arg.name, arg.parse, text, self) if text else None}

    def bind(self, words: list[str]) -> dict[str, Any]:
        """Parse the words after the command path into handler keywords."""
        positional: list[str] = []
        values: dict[str, Any] = {
            o.key: ([] if o.repeat else (False if o.flag else None)) for o in self.opts
        }
        by_name = {o.name: o for o in self.opts}
        i = 0
        while i < len(words):
            word = words[i]
            if word.startswith("--") and len(word) > 2:
                name, _, inline = word[2:].partition("=")
                opt = by_name.get(name)
                if opt is None:
                    known = ", ".join(f"--{n}" for n in by_name) or "none"
                    raise CommandError(
                        N_("unknown option --{name} (options: {known})"),
                        self,
                        name=name,
                        known=known,
                    )
                if opt.flag:
                    values[opt.key] = True
                    i += 1
                    continue
                if inline:
                    raw = inline
                elif i + 1 < len(words):
                    raw = words[i + 1]
                    i += 1
                else:
                    raise CommandError(
                        N_("--{name} needs a value ({metavar})"),
                        self,
                        name=name,
                        metavar=opt.metavar,
                    )
                value = _convert(opt.name, opt.parse, raw, self)
                if opt.repeat:
                    values[opt.key].append(value)
                else:
                    values[opt.key] = value
            else:
                positional.append(word)
            i += 1
        for a in self.args:
            if a.rest:
                if not positional and not a.optional:
                    raise missing(a, self)
                values[a.name] = (
                    _convert(a.name, a.parse, " ".join(positional), self) if positional else None
                )
                positional = []
            elif positional:
                values[a.name] = _convert(a.name, a.parse, positional.pop(0), self)
            elif a.optional:
                values[a.name] = None
            else:
                raise missing(a, self)
        if positional:
            extra = " ".join(shlex.quote(p) for p in positional)
            raise CommandError(
                N_("unexpected extra words: {extra} (put text with spaces in quotes)"),
                self,
                extra=extra,
            )
        return values


def missing(arg: Arg, cmd: Command) -> CommandError:
    """``missing title (what the event is called)``."""
    if arg.help:
        return CommandError(N_("missing {name} ({help})"), cmd, name=arg.name, help=arg.help)
    return CommandError(N_("missing {name}"), cmd, name=arg.name)


def _convert(name: str, parse: Callable[[str], Any], raw: str, cmd: Command) -> Any:
    try:
        return parse(raw)
    except (ValueError, KeyError) as e:
        msg = str(e).strip("'\"") or N_("not valid")
        raise CommandError(
            N_("{name} {raw}: {reason}"), cmd, name=name, raw=repr(raw), reason=msg
        ) from None


def command(
    name: str,
    *params: Arg | Opt,
    summary: str,
    example: str = "",
    power: int = 0,
    aliases: Sequence[str] = (),
    raw: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a bot method as the handler of ``!name``; help and usage come from here.

    A ``raw`` command takes exactly one Arg and receives the rest of the message as typed
    (no shell-style quoting), for free text such as ``!tr It's …``.
    """

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        func.__samverkan_command__ = Command(  # type: ignore[attr-defined]
            path=tuple(name.split()),
            func=func,
            args=[p for p in params if isinstance(p, Arg)],
            opts=[p for p in params if isinstance(p, Opt)],
            summary=summary,
            example=example,
            power=power,
            aliases=tuple(tuple(a.split()) for a in aliases),
            raw=raw,
        )
        return func

    return wrap


class Commands(Generic[B]):
    """A group of one bot's declared commands, composed into the bot (``bot.groups``) the way
    maubot collects handler objects: each group is a class of ``@command`` methods that reach
    the bot through ``self.bot``."""

    def __init__(self, bot: B) -> None:
        self.bot = bot


def command_names(bot_class: type, groups: Sequence[type] = ()) -> list[str]:
    """``!event create`` …: the commands a bot class and its group classes declare (no
    instance needed: for completion in clients)."""
    names = []
    for cls in (bot_class, *groups):
        for attr in dir(cls):
            spec = getattr(getattr(cls, attr, None), "__samverkan_command__", None)
            if isinstance(spec, Command):
                names.append("!" + spec.name)
    return sorted(names)


def declared_commands(obj: object) -> list[Command]:
    """The commands declared on an object's class, bound to the object."""
    found = []
    for attr in dir(type(obj)):
        spec = getattr(getattr(type(obj), attr, None), "__samverkan_command__", None)
        if isinstance(spec, Command):
            bound = Command(**{**spec.__dict__, "func": getattr(obj, attr)})
            found.append(bound)
    return sorted(found, key=lambda c: c.path)


def tokenize(body: str) -> list[str]:
    """Split ``!word "quoted text" ...`` into words; smart quotes count as quotes."""
    if len(body) > MAX_COMMAND_CHARS:
        raise CommandError(
            N_("the command is too long ({length} characters; at most {most})"),
            length=len(body),
            most=MAX_COMMAND_CHARS,
        )
    text = body.strip().removeprefix("!").translate(SMART_QUOTES)
    try:
        return shlex.split(text)
    except ValueError as e:
        raise CommandError(
            N_(
                "cannot read the command: {reason} — close every quote you open, "
                'e.g. !event create "Board meeting" tomorrow 14:00'
            ),
            reason=str(e),
        ) from None


def is_command(body: str) -> bool:
    """Whether a message body is a bot command."""
    return body.startswith("!") and len(body) > 1 and not body[1].isspace()


class CommandTable:
    """Commands of one bot, matched by their longest word path."""

    def __init__(self, commands: Sequence[Command]) -> None:
        self.commands = list(commands)
        self._paths: dict[tuple[str, ...], Command] = {}
        for c in self.commands:
            for p in (c.path, *c.aliases):
                self._paths[p] = c

    @property
    def namespaces(self) -> set[str]:
        """First words of this bot's commands (``event``, ``tz``)."""
        return {p[0] for p in self._paths}

    def match(self, words: list[str]) -> tuple[Command, list[str]] | None:
        """The command whose path is the longest prefix of ``words``, and the rest."""
        lowered = [w.lower() for w in words]
        for n in range(min(len(words), 3), 0, -1):
            cmd = self._paths.get(tuple(lowered[:n]))
            if cmd is not None:
                return cmd, words[n:]
        return None

    def match_raw(self, body: str) -> tuple[Command, str] | None:
        """A ``raw`` command whose words start ``body``, and the untouched text after them."""
        text = body.strip().removeprefix("!")
        for cmd in self.commands:
            if not cmd.raw:
                continue
            parts = text.split(None, len(cmd.path))
            if [p.lower() for p in parts[: len(cmd.path)]] == list(cmd.path):
                rest = parts[len(cmd.path)] if len(parts) > len(cmd.path) else ""
                return cmd, rest
        return None

    def in_namespace(self, word: str) -> list[Command]:
        """Commands starting with ``word``."""
        return [c for c in self.commands if c.path[0] == word.lower()]
