"""What evaluation returns: a Decision with its actions, closure chain and warnings.

These are slotted, frozen dataclasses rather than pydantic models: the evaluator builds
several per fact, millions of times a night, and every value was already checked at pack
load or fact intake. Pydantic still serves them: ``model_dump(mode="json")`` and the output's
JSON Schema go through a ``TypeAdapter``, so hosts get the same JSON either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter

from ._model import Provenance, Tier

Status = Literal["pending", "overdue", "done", "done_late", "scheduled"]
ActionKind = Literal[
    "routing",
    "deadline",
    "transfer",
    "escalation",
    "review",
    "disclosure",
    "measure",
    "closure_step",
    "stage",
    "recurring",
]


class _Dumpable:
    __slots__ = ()

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """A plain mapping; ``mode="json"`` gives JSON-ready values (dates as ISO strings)."""
        result: dict[str, Any] = _adapter(type(self)).dump_python(self, mode=mode)
        return result

    def model_dump_json(self, *, indent: int | None = None) -> str:
        return _adapter(type(self)).dump_json(self, indent=indent).decode("utf-8")

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of this output type."""
        return _adapter(cls).json_schema()


_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(cls: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


@dataclass(frozen=True, slots=True)
class Action(_Dumpable):
    """Something a body must do next, by when, and on which clause.

    ``status``: *scheduled* — its trigger has not happened yet, or it is a recurring duty's
    next occurrence; *pending* — triggered, not done, not past due; *overdue* — not done and
    ``as_of`` is after ``due``; *done* / *done_late* — completed on or before / after ``due``.
    """

    id: str
    title: str
    kind: ActionKind
    rule: str
    """The rule, closure chain or duty it comes from."""
    actor: str
    tier: Tier
    recipient: str | None
    due: date | None
    status: Status
    basis: str
    done_on: date | None = None
    provenance: Provenance = "provision"


@dataclass(frozen=True, slots=True)
class ChainStepState(_Dumpable):
    """One step on the way to closure (销号) and whether it is done."""

    id: str
    title: str
    actor: str
    tier: Tier
    recipient: str | None
    basis: str
    done: bool
    done_on: date | None = None


@dataclass(frozen=True, slots=True)
class Notice(_Dumpable):
    """A warning that qualifies a decision; ``code`` is stable."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class NoticeIdentity(_Dumpable):
    """One State Council holiday notice a calendar was built with (replay information)."""

    year: int
    source: str | None
    """The notice's title or number, as the notice file (or the host) gave it."""
    sha256: str
    """Hash of the notice's content: its year, days off and make-up workdays, canonical (see
    ``ecorules calendar check``), so the same notice hashes the same in YAML or JSON."""
    file: str | None = None
    """The notice file it was read from, as given; None when a host passed it in Python."""


@dataclass(frozen=True, slots=True)
class CalendarIdentity(_Dumpable):
    """Which working-day calendar computed a decision's dates: enough to replay it."""

    holidays_version: str
    """The installed ``holidays`` library, whose data holds the official notices."""
    official_through: int
    """The last year whose State Council notice from that data was used: the last it carries,
    or an earlier year if the pack was loaded with ``official_through`` (to replay)."""
    horizon: date
    """The end of the last year with a notice, from the data or a notice file."""
    notices: tuple[NoticeIdentity, ...] = ()
    """Notices supplied on top of the data (a notice file or the host), by year."""


@dataclass(frozen=True, slots=True)
class Decision(_Dumpable):
    """Everything a pack decides about one fact as of one date."""

    fact_id: str | None
    pack: str
    as_of: date
    kind: str
    source: str | None
    category: str | None
    responsible: str | None
    """The role owning rectification, where the pack decides one."""
    responsible_tier: Tier | None
    closure_chain_id: str | None
    closure_chain: tuple[ChainStepState, ...]
    closed: bool
    """The closure chain's last step is done (or, with no chain, the lifecycle's last stage)."""
    actions: tuple[Action, ...]
    matched_rules: tuple[str, ...]
    """Ids of the rules, chain, lifecycle and duties that apply."""
    warnings: tuple[Notice, ...] = field(default=())
    provenance: Provenance = "provision"
    lifecycle_id: str | None = None
    stage: str | None = None
    """The furthest lifecycle stage whose event is recorded, if any."""
    explanation: Any = None
    """With ``evaluate(..., explain=True)``: an ``Explanation`` of every rule and due date."""
    calendar: CalendarIdentity | None = None
    """The calendar the dates were computed with (shared by every decision of the pack)."""
    decision_id: str | None = None
    """Derived from the pack revision, ``as_of`` and the fact: a replay gives the same id."""
    revision: str | None = None
    """The content hash of the pack directory that decided (``Pack.revision``); in a pack
    with versions, of the deciding version's directory."""
    version: str | None = None
    """In a pack with versions, the version that decided (its directory name)."""

    def action(self, action_id: str) -> Action:
        """The action with this id (KeyError if the decision has none)."""
        for act in self.actions:
            if act.id == action_id:
                return act
        raise KeyError(action_id)

    @property
    def warning_codes(self) -> tuple[str, ...]:
        return tuple(n.code for n in self.warnings)


_T = TypeVar("_T")


class Deferred:
    """A field value computed when first read: ``compute(*args)``, which must be pure.

    Evaluation leaves ``Decision.decision_id`` deferred, so a host that never reads the id
    does not pay for hashing the fact; every read (attribute, equality, hash, repr, pickle,
    ``model_dump``, ``dataclasses.replace``) goes through the field's descriptor, which
    computes the value and keeps it, so nothing outside sees this object."""

    __slots__ = ("args", "compute")

    def __init__(self, compute: Callable[..., Any], args: tuple[Any, ...]):
        self.compute = compute
        self.args = args


class _DeferredField:
    """The data descriptor standing in for a slot that may hold a ``Deferred``.

    Two threads reading the same field at once both compute it and store equal values: the
    computation is pure, so there is no lock."""

    __slots__ = ("slot",)

    def __init__(self, slot: Any):
        self.slot = slot

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self.slot.__get__(obj, owner)
        if type(value) is Deferred:
            value = value.compute(*value.args)
            self.slot.__set__(obj, value)
        return value

    def __set__(self, obj: object, value: Any) -> None:
        self.slot.__set__(obj, value)

    def __delete__(self, obj: object) -> None:
        self.slot.__delete__(obj)


def _fast_constructor(cls: type[_T], name: str) -> Callable[..., _T]:
    """A function building ``cls`` from every field's value, positionally, as its generated
    ``__init__`` would (the same slots set to the same values), in about half the time:
    a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which
    looks the field up on the class every time; this calls each slot's setter directly.
    The engine builds a ``Decision`` and a few ``Action``s per fact, millions of times."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    setters = {f"set_{n}": cls.__dict__[n].__set__ for n in names}
    source = "\n".join(
        [f"def {name}({', '.join(names)}):", "    self = new(cls)"]
        + [f"    set_{n}(self, {n})" for n in names]
        + ["    return self"]
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, **setters}
    exec(source, namespace)  # the source is built above from the class's own fields
    built: Callable[..., _T] = namespace[name]
    return built


new_action = _fast_constructor(Action, "new_action")
new_chain_step = _fast_constructor(ChainStepState, "new_chain_step")
# Built before decision_id becomes deferred: this sets the slot itself, Deferred or not.
new_decision = _fast_constructor(Decision, "new_decision")
setattr(Decision, "decision_id", _DeferredField(Decision.__dict__["decision_id"]))  # noqa: B010
