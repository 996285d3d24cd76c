"""Provides the organisation file and runtime settings as validated pydantic models."""

from __future__ import annotations

import os
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from messenger.errors import ConfigError
from messenger.ids import is_user_id
from messenger.orgrules import (
    check_countries,
    check_reminders,
    check_server_names,
    cross_problems,
    known_codes,
)
from messenger.orgrules import remote_user_problem as remote_user_problem
from messenger.orgrules import slugify as slugify

# Validation context that leaves the cross-field rules to ``parse_org`` (which checks them on
# the raw file, so they are reported together with the field problems).
_FIELDS_ONLY = {"fields_only": True}


NOT_ISO_639_1 = frozenset({"no", "sh"})
"""Two-letter codes CLDR knows that a room cannot list: ``no`` (write ``nb`` or ``nn``: the
detector and the catalogues tell them apart) and the withdrawn ``sh`` (``sr``, ``hr``, ``bs``)."""


@cache
def language_codes() -> frozenset[str]:
    """Every ISO 639-1 code a room or the organisation may list as a working language (from
    Babel's CLDR table), whether or not the offline detector knows the language."""
    from babel import Locale

    names = [str(c) for c in Locale.parse("en").languages]
    two_letter = {c for c in names if len(c) == 2 and c.isalpha() and c.islower()}
    return frozenset(two_letter - NOT_ISO_639_1)


def check_languages(codes: list[str]) -> list[str]:
    """Normalise and validate language codes; raise ValueError naming the bad ones."""
    how = (
        "use ISO 639-1 codes such as 'sv', 'da', 'nb', 'en', 'sw', 'ne' (Norwegian is 'nb' or 'nn')"
    )
    return known_codes([c.strip().lower() for c in codes], language_codes(), "language", how)


COORDINATOR_LEVEL = 50
"""Power level of a group's coordinators: they approve, settle polls, add to pools."""
BOT_LEVEL = 50
"""Power level of the bot accounts in every organisation room."""


class Strict(BaseModel):
    """Base for file models: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(Strict):
    """The ``[organisation]`` table."""

    name: str = Field(min_length=1, description="The organisation's display name; names the space.")
    languages: list[str] = Field(default=["en"], description="Default working languages.")

    _langs = field_validator("languages")(classmethod(lambda cls, v: check_languages(v)))


class HomeserverSettings(Strict):
    """The ``[homeserver]`` table: the embedded Synapse, or an existing server by ``url``."""

    server_name: str = Field(default="localhost", description="The Matrix server name.")
    port: int = Field(
        default=8008, ge=1, le=65535, description="Loopback port of the embedded server."
    )
    url: str | None = Field(default=None, description="Use this existing homeserver instead.")
    partners: list[str] = Field(
        default_factory=list,
        description="Server names of partner homeservers whose people may be in partnerships.",
    )

    @field_validator("server_name")
    @classmethod
    def _server_name(cls, v: str) -> str:
        return check_server_names([v])[0]

    @field_validator("partners")
    @classmethod
    def _partners(cls, v: list[str], info: ValidationInfo) -> list[str]:
        names = check_server_names(v)
        ours = info.data.get("server_name")
        if ours in names:
            raise ValueError(
                f"{ours!r} is our own server_name; list only the partners' homeservers"
            )
        return names

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL such as 'https://matrix.example.org'")
        return v.rstrip("/") if v else v

    @property
    def embedded(self) -> bool:
        """Whether Samverkan runs its own Synapse."""
        return self.url is None

    @property
    def client_url(self) -> str:
        """The URL clients use."""
        return self.url or f"http://127.0.0.1:{self.port}"


class BotSettings(Strict):
    """The ``[bots]`` table: localparts of the bot accounts and their defaults."""

    service: str = Field(
        default="samverkan",
        description="Localpart of the provisioning account that owns the rooms.",
    )
    events: str = Field(default="events", description="Localpart of the events bot.")
    resources: str = Field(default="resources", description="Localpart of the resources bot.")
    translate: str = Field(default="translate", description="Localpart of the translation bot.")
    library: str = Field(default="library", description="Localpart of the library bot.")
    projects: str = Field(default="projects", description="Localpart of the projects bot.")
    enabled: list[Literal["events", "resources", "translate", "library", "projects"]] = Field(
        default=["events", "resources", "translate", "projects", "library"],
        description="Bots the runtime hosts.",
    )
    default_reminders: list[str] = Field(
        default=["24h", "1h"], description="Reminders every new event gets before it starts."
    )
    machine_translation_url: str | None = Field(
        default=None,
        description="A self-hosted LibreTranslate URL; nothing else is ever contacted.",
    )
    argos_models_path: str | None = Field(
        default=None, description="Local directory of Argos Translate models."
    )
    library_max_file_mb: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Largest file (MB) the library bot reads into an entry; larger ones are "
        "refused with the reason.",
    )
    four_eyes: bool = Field(
        default=True,
        description="A coordinator's own resource request needs another coordinator's "
        "approval; set false for one-coordinator groups.",
    )

    _reminders = field_validator("default_reminders")(
        classmethod(lambda cls, v: check_reminders(v))
    )

    @field_validator("service", "events", "resources", "translate", "library", "projects")
    @classmethod
    def _localpart(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9._=\-/]+", v):
            raise ValueError("a localpart may use only a-z, 0-9 and . _ = - /")
        return v


_PERIOD = re.compile(r"(\d{1,4})([hdw])")
_PERIOD_MS = {"h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def period_ms(text: str) -> int:
    """``12h``, ``30d``, ``2w`` in milliseconds (ValueError naming the right form)."""
    m = _PERIOD.fullmatch(text.strip().lower())
    if m is None or int(m.group(1)) == 0:
        raise ValueError(
            f"{text!r} is not a period; write a whole number and h, d or w, e.g. '30d' or '1w'"
        )
    return int(m.group(1)) * _PERIOD_MS[m.group(2)]


class SecuritySettings(Strict):
    """The ``[security]`` table: what ``samverkan audit`` checks and when it reports."""

    stale_device_days: int = Field(
        default=90, ge=1, le=3650, description="A device unseen this many days is stale."
    )
    audit_every: str | None = Field(
        default=None, description="Post the audit to ``audit_room`` this often, e.g. '30d'."
    )
    audit_room: str | None = Field(
        default=None, description="Name of the group (coordinators' room) the audit is posted to."
    )

    @field_validator("audit_every")
    @classmethod
    def _every(cls, v: str | None) -> str | None:
        if v is not None:
            period_ms(v)
        return v

    @model_validator(mode="after")
    def _room_with_schedule(self) -> SecuritySettings:
        if self.audit_every and not self.audit_room:
            raise ValueError(
                "audit_every needs audit_room: name the group whose room gets the report, "
                'e.g. audit_room = "Nordic policy"'
            )
        return self

    @property
    def every_ms(self) -> int | None:
        """The schedule's period in milliseconds (None: no schedule)."""
        return period_ms(self.audit_every) if self.audit_every else None


class Group(Strict):
    """Common fields of a working group and a partnership."""

    name: str = Field(min_length=1, description="Room name.")
    topic: str = Field(default="", description="Room topic (room state is not encrypted).")
    languages: list[str] = Field(default_factory=list, description="Working languages.")
    coordinators: list[str] = Field(default_factory=list, description="Power level 50.")
    members: list[str] = Field(default_factory=list, description="Invited members.")
    trust: Literal["tofu", "verified"] = Field(
        default="tofu", description="'verified': bots refuse commands from unverified devices."
    )
    countries: list[str] = Field(
        default_factory=list,
        description="ISO 3166-1 alpha-2 codes (e.g. 'KE'): the events bot warns about their "
        "public holidays.",
    )
    decisions: Literal["consensus", "majority", "coordinator"] = Field(
        default="majority",
        description="How !event poll accept settles a poll: the slot every voter chose, the "
        "most votes, or the slot a coordinator picks.",
    )
    welcome: str | None = Field(
        default=None,
        max_length=4000,
        description="This room's welcome text (overrides [onboarding] welcome).",
    )

    _langs = field_validator("languages")(classmethod(lambda cls, v: check_languages(v)))
    _countries = field_validator("countries")(classmethod(lambda cls, v: check_countries(v)))

    @field_validator("coordinators", "members")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        bad = [u for u in v if not is_user_id(u)]
        if bad:
            raise ValueError(
                f"not a Matrix user ID: {', '.join(map(repr, bad))}; write '@name:server'"
            )
        return list(dict.fromkeys(v))

    @property
    def slug(self) -> str:
        """Stable key of the room."""
        return slugify(self.name)

    @property
    def kind(self) -> str:
        """``working_group`` or ``partnership``."""
        return "working_group"

    @property
    def everyone(self) -> list[str]:
        """Coordinators and members, without duplicates."""
        return list(dict.fromkeys([*self.coordinators, *self.members]))


class WorkingGroup(Group):
    """A ``[[working_group]]``."""


class Partnership(Group):
    """A ``[[partnership]]`` with a sister party."""

    partners: list[str] = Field(default_factory=list, description="Names of partner organisations.")
    coordinators: list[str] = Field(
        default_factory=list,
        validate_default=True,
        description="Power level 50; at least one, who approves requests and settles polls.",
    )

    @field_validator("coordinators")
    @classmethod
    def _someone_coordinates(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(
                "a partnership needs at least one coordinator (power level 50: approves "
                "requests, settles polls); write e.g. coordinators = ['@anna:your-server']"
            )
        return v

    @property
    def kind(self) -> str:
        """``partnership``."""
        return "partnership"


class OnboardingSettings(Strict):
    """The ``[onboarding]`` table: what the events bot says to a member joining a room."""

    welcome: str = Field(
        default="",
        max_length=4000,
        description="Text opening every room's welcome (a group's welcome overrides).",
    )


class OrgFile(Strict):
    """The whole organisation file."""

    organisation: Organisation
    homeserver: HomeserverSettings = HomeserverSettings()
    bots: BotSettings = BotSettings()
    working_group: list[WorkingGroup] = Field(default_factory=list)
    partnership: list[Partnership] = Field(default_factory=list)
    onboarding: OnboardingSettings = OnboardingSettings()
    security: SecuritySettings = SecuritySettings()

    @model_validator(mode="after")
    def _audit_room_is_a_group(self) -> OrgFile:
        room = self.security.audit_room
        if room is not None and slugify(room) not in {g.slug for g in self.groups}:
            names = ", ".join(repr(g.name) for g in self.groups) or "none yet"
            raise ValueError(f"security.audit_room {room!r} names no group; use one of: {names}")
        return self

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> OrgFile:
        """Unique group names, people on our or a partner server (see ``cross_problems``)."""
        if info.context == _FIELDS_ONLY:
            return self
        problems = [
            InitErrorDetails(type=PydanticCustomError("value_error", msg), loc=loc, input=value)
            for loc, msg, value in cross_problems(self.model_dump())
        ]
        if problems:
            raise ValidationError.from_exception_data("OrgFile", problems)
        return self

    @property
    def groups(self) -> list[Group]:
        """Working groups then partnerships."""
        return [*self.working_group, *self.partnership]

    def group_languages(self, group: Group) -> list[str]:
        """A group's working languages, defaulting to the organisation's."""
        return group.languages or self.organisation.languages

    def bot_user_ids(self) -> dict[str, str]:
        """Enabled bot name → user ID."""
        server = self.homeserver.server_name
        return {name: f"@{getattr(self.bots, name)}:{server}" for name in self.bots.enabled}

    def service_user_id(self) -> str:
        """The provisioning account that owns the space and rooms."""
        return f"@{self.bots.service}:{self.homeserver.server_name}"


# How to fix pydantic's own (type and shape) errors; value errors say it themselves.
_FIXES = {
    "missing": "required; add it (see the README's organisation file)",
    "string_too_short": "must not be empty; write some text in quotes",
    "string_type": 'must be text in quotes, e.g. "Nordic policy"',
    "list_type": 'must be a list in brackets, e.g. ["sv", "en"]',
    "bool_type": "write true or false (no quotes)",
    "bool_parsing": "write true or false (no quotes)",
    "int_type": "write a whole number without quotes, e.g. 8008",
    "int_parsing": "write a whole number without quotes, e.g. 8008",
    "model_type": "must be a table: write it as [name] with keys below it",
    "model_attributes_type": "must be a table: write it as [name] with keys below it",
    "dict_type": "must be a table: write it as [name] with keys below it",
    "extra_forbidden": "unknown key (check its spelling against the README's organisation file)",
}
_SECTIONS = (
    "organisation", "homeserver", "bots", "working_group", "partnership", "onboarding", "security"
)  # fmt: skip


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(file)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    fix = _FIXES.get(str(err["type"]))
    if fix is not None:
        replace = err["type"] in ("missing", "extra_forbidden", "string_too_short")
        msg = fix if replace else f"{msg}; {fix}"
    return f"{loc}: {msg}"


def _file_order(err: dict[str, Any]) -> tuple[int, int]:
    """Sort key: the file's sections in README order, groups by their number."""
    loc = tuple(err["loc"])
    section = _SECTIONS.index(loc[0]) if loc and loc[0] in _SECTIONS else len(_SECTIONS)
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1
    return section, index


def parse_org(text: str, source: str = "organisation file") -> OrgFile:
    """Parse and validate TOML text; every problem is listed in the ConfigError."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source} is not valid TOML: {e}") from None
    errors: list[dict[str, Any]] = []
    try:
        org = OrgFile.model_validate(raw, context=_FIELDS_ONLY)
    except ValidationError as e:
        errors += [dict(err) for err in e.errors()]
    errors += [
        {"loc": loc, "msg": msg, "type": "value_error"} for loc, msg, _ in cross_problems(raw)
    ]
    if errors:
        errors.sort(key=_file_order)
        problems = list(dict.fromkeys(map(_describe, errors)))
        raise ConfigError(f"{source} has {len(problems)} problem(s):", problems) from None
    return org


def load_org(path: Path) -> OrgFile:
    """Read and validate an organisation file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such organisation file (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it: {e}") from None
    return parse_org(text, str(path))


class Settings(BaseModel):
    """Runtime settings: where data lives and what unlocks it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    home: Path = Field(description="Data directory ($SAMVERKAN_HOME, default ./.samverkan).")
    passphrase: SecretStr = Field(description="Unlocks every vault under ``home``.")
    org: OrgFile = Field(description="The organisation file.")
    fast_kdf: bool = Field(
        default=False, description="Minimum Argon2id cost; for tests and the demo only."
    )

    @classmethod
    def from_env(cls, org: OrgFile, passphrase: str, fast_kdf: bool = False) -> Settings:
        """Settings with ``home`` from ``$SAMVERKAN_HOME``."""
        home = Path(os.environ.get("SAMVERKAN_HOME", ".samverkan")).resolve()
        return cls(home=home, passphrase=SecretStr(passphrase), org=org, fast_kdf=fast_kdf)
