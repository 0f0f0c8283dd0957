"""The pack format as pydantic models: the single definition behind validation, the JSON
Schema that editors use, and the documentation in docs/pack-format.md.

Unknown keys are forbidden everywhere, so a typo is an error with a position, not a rule
that silently never fires. Cross-references (roles, events, flags, rule ids) are checked
after the shape is valid, in ``_loader``, where the YAML positions are at hand.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    model_validator,
)

from ._conditions import Condition

Tier = Literal["national", "provincial", "municipal", "county", "township"]
TIERS: tuple[Tier, ...] = ("township", "county", "municipal", "provincial", "national")
TIER_RANK: dict[str, int] = {tier: rank for rank, tier in enumerate(TIERS)}
TIER_NAMES = {
    "national": "国家",
    "provincial": "省级",
    "municipal": "市级",
    "county": "县级",
    "township": "乡镇",
}

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Id = Annotated[
    str,
    Field(pattern=ID_PATTERN, max_length=64, description="lower_snake_case identifier"),
]
Basis = Annotated[
    str,
    Field(
        min_length=1, max_length=40, description="the document's own numbering, e.g. 二(一) or ¶3"
    ),
]
Quote = Annotated[
    str,
    Field(
        min_length=2, max_length=200, description="a short verbatim quote; … joins two fragments"
    ),
]
Provenance = Literal["provision", "reported"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metadata(Strict):
    """What document the pack encodes and when it is in force."""

    title: str
    title_inferred: bool = Field(default=False, description="the document states no title")
    issuer: str = Field(description="the adopting or publishing body, in Chinese")
    issuer_note: str | None = None
    published: date | None = Field(default=None, description="left out when the text gives none")
    jurisdiction: str
    tier: Tier
    valid_from: date | None = None
    valid_until: date | None = None
    succeeded_by: str | None = Field(default=None, description="the pack that replaces this one")
    document: str = Field(description="file of the source text, relative to the pack")
    document_kind: Literal["policy", "report"] = "policy"
    inventory: str | None = Field(default=None, description="the clause inventory this pack covers")
    supersedes: str | None = Field(
        default=None,
        description="in a pack with versions: the version this one replaces (its directory name)",
    )
    case_starts: list[Id] = Field(
        default_factory=list,
        description="the events that start a case (the earliest recorded one): in a pack with "
        "versions, the version in force on that date decides the case",
    )
    test_fixture: str | None = Field(
        default=None,
        description="set only in packs made for tests: why it exists; it is not a real document",
    )

    @model_validator(mode="after")
    def _period_in_order(self) -> Metadata:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("`valid_until` is before `valid_from`")
        return self


class CalendarSpec(Strict):
    """The working-day calendar: China's, plus the jurisdiction's own days."""

    base: Literal["CN"] = "CN"
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)


class Term(Strict):
    """One vocabulary entry: an id from the shared vocabulary or the pack's own."""

    id: Id
    name: str = Field(description="the Chinese term")
    aliases: list[str] = Field(
        default_factory=list,
        description="other words ledgers use for it (a ledger may give the id, the name or "
        "any alias, case and full-/half-width aside)",
    )
    note: str | None = None
    informative: bool = Field(
        default=False,
        description="facts may record it, but the document attaches no consequence to it "
        "(the checker does not report it as unused)",
    )


class KindSpec(Term):
    requires: list[Literal["source", "category", "sector"]] = Field(default_factory=list)


class AttrSpec(Term):
    type: Literal["string", "integer", "boolean", "date"] = "string"
    values: list[str] | None = Field(default=None, description="allowed values (strings only)")


class Vocabulary(Strict):
    kinds: list[KindSpec] = Field(
        default_factory=lambda: [
            KindSpec(id="problem", name="问题", requires=["source", "category"])
        ]
    )
    sources: list[Term] = Field(default_factory=list)
    categories: list[Term] = Field(default_factory=list)
    sectors: list[Term] = Field(default_factory=list)
    flags: list[Term] = Field(default_factory=list)
    events: list[Term] = Field(default_factory=list)
    attrs: list[AttrSpec] = Field(default_factory=list)


class Role(Strict):
    """A body that acts or receives; every role sits at exactly one tier."""

    id: Id
    name: str
    tier: Tier
    beside: str | None = Field(default=None, description="an extra kind of body at this tier")
    note: str | None = None


class Window(Strict):
    """How long after its trigger an obligation falls due (conventions 1–2)."""

    # Bounded so that no due date from a fact date (≤ 2050) can leave the calendar (≤ 2060).
    # Strict: YAML 1.1 reads `yes`/`true` as booleans, which lax mode would take as 1, and a
    # quoted "5" is text an author did not mean to write.
    working_days: StrictInt | None = Field(default=None, ge=1, le=500)
    days: StrictInt | None = Field(default=None, ge=1, le=1830)
    months: StrictInt | None = Field(default=None, ge=1, le=60)
    roll: StrictBool | None = Field(
        default=None, description="roll a calendar-period end past rest days (default: yes)"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Window:
        given = [n for n in ("working_days", "days", "months") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a window has exactly one of `working_days`, `days`, `months`")
        if self.working_days is not None and self.roll is not None:
            raise ValueError("`roll` applies to `days` and `months` windows only")
        return self


def _trigger_shorthand(value: Any) -> Any:
    return {"event": value} if isinstance(value, str) else value


class Trigger(Strict):
    """What starts an obligation's clock: an event, or another obligation becoming overdue."""

    event: Id | None = None
    overdue: Id | None = Field(default=None, description="an obligation id (escalation)")

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        if (self.event is None) == (self.overdue is None):
            raise ValueError("a trigger has exactly one of `event`, `overdue`")
        return self


class Obligation(Strict):
    """Something an actor must do, with its window and what shows it done."""

    id: Id
    title: str
    actor: Id
    recipient: Id | None = None
    trigger: Annotated[Trigger | None, BeforeValidator(_trigger_shorthand)] = None
    window: Window | None = None
    done_when: Id | None = Field(default=None, description="the event that completes it")
    due_attr: Id | None = Field(
        default=None,
        description="a date attr of the fact that is the due date (instead of a window)",
    )
    extended_until: Id | None = Field(
        default=None,
        description="a date attr holding an approved extension: due becomes the later date",
    )
    basis: Basis | None = Field(default=None, description="when it differs from the rule's")
    quote: Quote | None = None
    assumptions: list[Id] = Field(default_factory=list)

    @model_validator(mode="after")
    def _window_needs_trigger(self) -> Obligation:
        if self.window is not None and self.trigger is None:
            raise ValueError("a `window` needs a `trigger` to count from")
        if self.window is not None and self.due_attr is not None:
            raise ValueError("an obligation has at most one of `window`, `due_attr`")
        if self.extended_until is not None and self.window is None and self.due_attr is None:
            raise ValueError("`extended_until` extends a due date: give a `window` or `due_attr`")
        return self


class Unassigned(Strict):
    """Where a rule applies but no role can be named responsible: the document's silence,
    stated with its reason, or the fact attr whose value names the responsible body."""

    unspecified: str | None = Field(
        default=None,
        min_length=3,
        description="why the document names no responsible body, citing the clause",
    )
    needs_attr: Id | list[Id] | None = Field(
        default=None, description="the attr (or attrs) whose value decides the responsible body"
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Unassigned:
        if (self.unspecified is None) == (self.needs_attr is None):
            raise ValueError("`responsible` has exactly one of a role, `unspecified`, `needs_attr`")
        if self.needs_attr == []:
            raise ValueError("`needs_attr` names at least one attr")
        return self

    @property
    def attrs(self) -> list[str]:
        """The attrs it depends on, as a list."""
        needs = self.needs_attr
        return [] if needs is None else [needs] if isinstance(needs, str) else list(needs)


def _responsible_form(value: Any) -> str:
    """A mapping says why no role is named; anything else must be a role id. One form is
    tried, so a mistake gets one message, not one per form."""
    return "unassigned" if isinstance(value, dict | Unassigned) else "role"


Responsible = Annotated[
    Annotated[Id, Tag("role")] | Annotated[Unassigned, Tag("unassigned")],
    Discriminator(_responsible_form),
]


RuleKind = Literal[
    "routing", "deadline", "transfer", "escalation", "review", "disclosure", "measure"
]


class Rule(Strict):
    """A provision: when it applies, who is responsible, and what it obliges."""

    id: Id
    kind: RuleKind
    title: str
    basis: Basis
    quote: Quote
    rows: list[str] = Field(default_factory=list, description="inventory rows it encodes")
    when: Condition | None = None
    responsible: Responsible | None = Field(
        default=None,
        description="the role owning rectification; or {unspecified: why} where the document "
        "names none; or {needs_attr: attr} where an attr of the fact names it",
    )
    overrides: list[Id] = Field(
        default_factory=list, description="rules this one displaces where both match"
    )
    obligations: list[Obligation] = Field(default_factory=list)
    provenance: Provenance = "provision"
    assumptions: list[Id] = Field(default_factory=list)

    @property
    def responsible_role(self) -> str | None:
        """The role it makes responsible, if it names one."""
        return self.responsible if isinstance(self.responsible, str) else None


class ChainStep(Strict):
    id: Id
    title: str
    actor: Id
    recipient: Id | None = None
    done_when: Id
    basis: Basis | None = None
    quote: Quote | None = None
    assumptions: list[Id] = Field(default_factory=list)


class ClosureChain(Strict):
    """The ordered steps from rectification to closure (销号), climbing the tiers."""

    id: Id
    title: str
    basis: Basis
    quote: Quote
    rows: list[str] = Field(default_factory=list)
    when: Condition | None = None
    starts_when: Id = Field(description="the event after which the first step is due")
    overrides: list[Id] = Field(default_factory=list)
    steps: list[ChainStep] = Field(min_length=1)
    provenance: Provenance = "provision"
    assumptions: list[Id] = Field(default_factory=list)


class Stage(Strict):
    """One stage of a lifecycle, entered when its event is recorded."""

    id: Id
    title: str
    entered_when: Id
    actor: Id = Field(description="the role that carries out this stage")
    recipient: Id | None = None
    basis: Basis | None = None
    quote: Quote | None = None
    assumptions: list[Id] = Field(default_factory=list)


class Lifecycle(Strict):
    """The ordered stages a fact passes through (e.g. 收集 → 甄别 → … → 销号)."""

    id: Id
    title: str
    basis: Basis
    quote: Quote
    rows: list[str] = Field(default_factory=list)
    when: Condition | None = None
    overrides: list[Id] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=2)
    provenance: Provenance = "provision"
    assumptions: list[Id] = Field(default_factory=list)


class RecurringDuty(Strict):
    """A duty that falls due on a calendar recurrence (RFC 5545 RRULE), not on an event."""

    id: Id
    title: str
    basis: Basis
    quote: Quote
    rows: list[str] = Field(default_factory=list)
    actor: Id
    recipient: Id | None = None
    rrule: str = Field(description="RFC 5545 recurrence, e.g. FREQ=MONTHLY;BYMONTHDAY=-1")
    when: Condition | None = None
    provenance: Provenance = "provision"
    assumptions: list[Id] = Field(default_factory=list)


class Assumption(Strict):
    """A reading the text does not give, chosen and stated."""

    id: Id
    about: str = Field(description="the ambiguity, in a sentence")
    reading: str = Field(description="the reading this pack encodes")
    alternatives: list[str] = Field(default_factory=list)
    rows: list[str] = Field(default_factory=list)
    quotes: list[Quote] = Field(
        default_factory=list,
        description="verbatim quotes of the sentences this reading stands in for, where no "
        "rule quotes them (shown on the review page; count as accounted for in text coverage)",
    )


class NotEncoded(Strict):
    """A provision deliberately left out, with why."""

    rows: list[str] = Field(min_length=1)
    basis: Basis
    reason: str
    quotes: list[Quote] = Field(
        default_factory=list,
        description="verbatim quotes of the sentences left out (text coverage, review page)",
    )


class PackModel(Strict):
    """A policy pack: one document made executable."""

    format: Literal[1] = 1
    id: Id
    metadata: Metadata
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    vocabulary: Vocabulary
    roles: list[Role] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    closure_chains: list[ClosureChain] = Field(default_factory=list)
    lifecycles: list[Lifecycle] = Field(default_factory=list)
    recurring: list[RecurringDuty] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)
    not_encoded: list[NotEncoded] = Field(default_factory=list)


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of a pack file, for editors (yaml-language-server) and tools."""
    schema = PackModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ecorules.invalid/pack.schema.json"
    schema["title"] = "ecorules policy pack"
    return schema
