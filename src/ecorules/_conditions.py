"""The condition language of ``when:`` clauses: structured YAML, never a string to eval.

A condition is a mapping with exactly one key::

    {all: [...]}  {any: [...]}  {not: {...}}
    {kind: problem}  {source: provincial}  {source: [national, provincial]}   # list = any of
    {category: key}  {sector: mining}  {flag: suspected_crime}  {event: rectified}
    {attr: {id: owner, equals: township}}  {attr: {id: owner, in: [a, b]}}

Because conditions are data, a pack can be analysed (which facts can a rule match, where do
two rules overlap) and compiled once: ``specialise`` evaluates what the fact's kind, source
and category decide ahead of time, and ``compile_predicate`` turns what remains into a
closure over the normalised fact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

CONDITION_KEYS = (
    "all",
    "any",
    "not",
    "kind",
    "source",
    "category",
    "sector",
    "flag",
    "event",
    "attr",
)


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllOf(_Node):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Node):
    any: list[Condition] = Field(min_length=1)


class Not(_Node):
    not_: Condition = Field(alias="not")


def _names(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class KindIs(_Node):
    kind: str | list[str]


class SourceIs(_Node):
    source: str | list[str]


class CategoryIs(_Node):
    category: str | list[str]


class SectorIs(_Node):
    sector: str | list[str]


class FlagSet(_Node):
    flag: str


class EventPresent(_Node):
    event: str


class AttrTest(_Node):
    id: str
    equals: bool | int | date | str | None = None
    in_: list[bool | int | date | str] | None = Field(default=None, alias="in")
    present: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> AttrTest:
        given = [self.equals is not None, self.in_ is not None, self.present is not None]
        if sum(given) != 1:
            raise ValueError("an attr test has exactly one of `equals`, `in`, `present`")
        return self


class AttrIs(_Node):
    attr: AttrTest


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = [k for k in value if k in CONDITION_KEYS]
        return keys[0] if len(keys) == 1 and len(value) == 1 else None
    if isinstance(value, BaseModel):
        return _MODEL_TAGS.get(type(value))
    return None


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[KindIs, Tag("kind")]
    | Annotated[SourceIs, Tag("source")]
    | Annotated[CategoryIs, Tag("category")]
    | Annotated[SectorIs, Tag("sector")]
    | Annotated[FlagSet, Tag("flag")]
    | Annotated[EventPresent, Tag("event")]
    | Annotated[AttrIs, Tag("attr")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition_shape",
        custom_error_message="a condition is a mapping with exactly one of the keys: "
        + ", ".join(CONDITION_KEYS),
    ),
]

_MODEL_TAGS: dict[type, str] = {
    AllOf: "all",
    AnyOf: "any",
    Not: "not",
    KindIs: "kind",
    SourceIs: "source",
    CategoryIs: "category",
    SectorIs: "sector",
    FlagSet: "flag",
    EventPresent: "event",
    AttrIs: "attr",
}

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()

StaticKey = tuple[str, str | None, str | None, bool]
"""(kind, source, category, whether any flag is set): what plans are indexed by.

Most facts carry no flags, and many rules are flag-triggered transfers: knowing ahead that
no flag is set decides those rules at load time instead of per fact."""

Residual = Condition | bool


def specialise(cond: Condition | None, key: StaticKey) -> Residual:
    """Decide what ``key`` decides; return True, False or the condition left to test."""
    if cond is None:
        return True
    if isinstance(cond, AllOf):
        parts: list[Condition] = []
        for sub in cond.all:
            r = specialise(sub, key)
            if r is False:
                return False
            if r is not True:
                parts.append(r)
        return True if not parts else parts[0] if len(parts) == 1 else AllOf(all=parts)
    if isinstance(cond, AnyOf):
        parts = []
        for sub in cond.any:
            r = specialise(sub, key)
            if r is True:
                return True
            if r is not False:
                parts.append(r)
        return False if not parts else parts[0] if len(parts) == 1 else AnyOf(any=parts)
    if isinstance(cond, Not):
        r = specialise(cond.not_, key)
        return (not r) if isinstance(r, bool) else Not(**{"not": r})
    if isinstance(cond, KindIs):
        return key[0] in _names(cond.kind)
    if isinstance(cond, SourceIs):
        return key[1] in _names(cond.source)
    if isinstance(cond, CategoryIs):
        return key[2] in _names(cond.category)
    if isinstance(cond, FlagSet) and not key[3]:
        return False
    return cond


class FactLike(Protocol):
    """What a predicate reads: a Fact, or a view of one with later events cut away."""

    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def sector(self) -> str | None: ...
    @property
    def flags(self) -> frozenset[str]: ...
    @property
    def events(self) -> Mapping[str, date]: ...
    @property
    def attrs(self) -> Mapping[str, object]: ...


Predicate = Callable[[FactLike], bool]


def compile_predicate(cond: Condition) -> Predicate:
    """A closure testing ``cond`` on a normalised fact (events already cut at as_of)."""
    if isinstance(cond, AnyOf) and all(isinstance(c, FlagSet) for c in cond.any):
        any_of = frozenset(c.flag for c in cond.any)  # type: ignore[union-attr]
        return lambda f: not any_of.isdisjoint(f.flags)
    if isinstance(cond, AllOf | AnyOf):
        subs = tuple(
            compile_predicate(c) for c in (cond.all if isinstance(cond, AllOf) else cond.any)
        )
        return _all_of(subs) if isinstance(cond, AllOf) else _any_of(subs)
    if isinstance(cond, Not):
        inner = compile_predicate(cond.not_)
        return lambda f: not inner(f)
    if isinstance(cond, KindIs):
        kinds = frozenset(_names(cond.kind))
        return lambda f: f.kind in kinds
    if isinstance(cond, SourceIs):
        sources = frozenset(_names(cond.source))
        return lambda f: f.source in sources
    if isinstance(cond, CategoryIs):
        categories = frozenset(_names(cond.category))
        return lambda f: f.category in categories
    if isinstance(cond, SectorIs):
        sectors = frozenset(_names(cond.sector))
        return lambda f: f.sector in sectors
    if isinstance(cond, FlagSet):
        flag = cond.flag
        return lambda f: flag in f.flags
    if isinstance(cond, EventPresent):
        event = cond.event
        return lambda f: event in f.events
    if isinstance(cond, AttrIs):
        return _attr_predicate(cond.attr)
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - the model forbids it


def _all_of(subs: tuple[Predicate, ...]) -> Predicate:
    # Two-part conjunctions are the common case; a plain closure beats a generator.
    if len(subs) == 2:
        first, second = subs
        return lambda f: first(f) and second(f)

    def every(f: FactLike) -> bool:
        for p in subs:  # noqa: SIM110 - a loop, not a generator: this runs per fact
            if not p(f):
                return False
        return True

    return every


def _any_of(subs: tuple[Predicate, ...]) -> Predicate:
    if len(subs) == 2:
        first, second = subs
        return lambda f: first(f) or second(f)

    def some(f: FactLike) -> bool:
        for p in subs:  # noqa: SIM110 - a loop, not a generator: this runs per fact
            if p(f):
                return True
        return False

    return some


def _attr_predicate(test: AttrTest) -> Predicate:
    name = test.id
    if test.present is not None:
        want = test.present
        return lambda f: (name in f.attrs) is want
    if test.in_ is not None:
        allowed = frozenset(test.in_)
        return lambda f: f.attrs.get(name) in allowed
    expected = test.equals
    return lambda f: name in f.attrs and f.attrs[name] == expected


def references(cond: Condition | None) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    """Every vocabulary name a condition uses: (field, name, path inside the condition)."""
    if cond is None:
        return
    yield from _references(cond, ())


def _references(
    cond: Condition, path: tuple[str | int, ...]
) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    if isinstance(cond, AllOf | AnyOf):
        items = cond.all if isinstance(cond, AllOf) else cond.any
        tag = "all" if isinstance(cond, AllOf) else "any"
        for i, sub in enumerate(items):
            yield from _references(sub, (*path, tag, i))
    elif isinstance(cond, Not):
        yield from _references(cond.not_, (*path, "not"))
    elif isinstance(cond, KindIs | SourceIs | CategoryIs | SectorIs):
        field: Literal["kind", "source", "category", "sector"] = _MODEL_TAGS[type(cond)]  # type: ignore[assignment]
        value = getattr(cond, field)
        if isinstance(value, str):
            yield (field, value, (*path, field))
        else:
            for i, name in enumerate(value):
                yield (field, name, (*path, field, i))
    elif isinstance(cond, FlagSet):
        yield ("flag", cond.flag, (*path, "flag"))
    elif isinstance(cond, EventPresent):
        yield ("event", cond.event, (*path, "event"))
    elif isinstance(cond, AttrIs):
        yield ("attr", cond.attr.id, (*path, "attr", "id"))


def attr_tests(cond: Condition | None) -> Iterator[tuple[AttrTest, tuple[str | int, ...]]]:
    """Every attr test in a condition, with its path (ending at `attr`)."""
    if cond is None:
        return
    stack: list[tuple[Condition, tuple[str | int, ...]]] = [(cond, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, AllOf):
            stack.extend((sub, (*path, "all", i)) for i, sub in enumerate(node.all))
        elif isinstance(node, AnyOf):
            stack.extend((sub, (*path, "any", i)) for i, sub in enumerate(node.any))
        elif isinstance(node, Not):
            stack.append((node.not_, (*path, "not")))
        elif isinstance(node, AttrIs):
            yield node.attr, (*path, "attr")


def describe(cond: Condition | None) -> str:
    """A short human reading of a condition, for explanations and diagrams."""
    if cond is None:
        return "always"
    if isinstance(cond, AllOf):
        return "(" + " and ".join(describe(c) for c in cond.all) + ")"
    if isinstance(cond, AnyOf):
        return "(" + " or ".join(describe(c) for c in cond.any) + ")"
    if isinstance(cond, Not):
        return "not " + describe(cond.not_)
    if isinstance(cond, AttrIs):
        t = cond.attr
        if t.present is not None:
            return f"attr {t.id} {'present' if t.present else 'absent'}"
        if t.in_ is not None:
            return f"attr {t.id} in {list(t.in_)}"
        return f"attr {t.id} = {t.equals}"
    field = _MODEL_TAGS[type(cond)]
    value = getattr(cond, field)
    if isinstance(value, list):
        return f"{field} in [{', '.join(value)}]"
    return f"{field} = {value}" if field not in ("flag", "event") else f"{field} {value}"
