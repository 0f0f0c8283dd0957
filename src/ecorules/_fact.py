"""Facts: the one record shape every pack reads, and how input becomes it.

``Fact`` is the public, typed form (and its JSON Schema). Evaluation accepts a ``Fact`` or
any JSON-like mapping; dates may be ``date`` objects, ISO 8601 date strings, or ISO datetimes
(aware ones are converted to Asia/Shanghai, naive ones read as Shanghai time — conventions 6).
Vocabulary checks are the pack's: a source, flag or event the pack does not declare is an
error naming the field, the value and the allowed ids, never a silent miss.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ._errors import FactError, FactProblem

SHANGHAI = ZoneInfo("Asia/Shanghai")

ACCEPTED_DATE_FORMS = "an ISO 8601 date (2024-09-27) or datetime (2024-09-27T09:30:00+08:00)"


def _iso_day(text: str) -> bool:
    """Whether a 10-character string is laid out as YYYY-MM-DD. ``date.fromisoformat``
    also takes ISO week dates (2024-W39-5) and non-ASCII digits, which the documented
    formats do not; this keeps to them."""
    return text[4] == "-" and text[7] == "-" and text.isascii()


def _no_such_day(text: str) -> ValueError:
    """Laid out as a date but not one (2024-02-30): say so, rather than blame the format."""
    year, month = text[:4], text[5:7]
    if year.isdigit() and month.isdigit() and 1 <= int(month) <= 12 and int(year) >= 1:
        length = calendar.monthrange(int(year), int(month))[1]
        return ValueError(f"there is no such day: {year}-{month} has {length} days")
    if month.isdigit():
        return ValueError(f"there is no such day: a month runs from 01 to 12, not {month}")
    return ValueError(f"expected {ACCEPTED_DATE_FORMS}")


def to_china_date(value: object) -> date:
    """A calendar date in China Standard Time, from a date, datetime or ISO string."""
    if type(value) is str and len(value) == 10:
        if _iso_day(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                if value[:4].isdigit() and value[5:7].isdigit() and value[8:].isdigit():
                    raise _no_such_day(value) from None
        raise ValueError(f"expected {ACCEPTED_DATE_FORMS}")
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(SHANGHAI)
            except OverflowError:  # 0001-01-01T00:00+14:00 has no Shanghai date
                raise ValueError("the date is outside the supported range") from None
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            if _iso_day(text):
                try:
                    return date.fromisoformat(text)
                except ValueError:
                    pass
        elif len(text) > 10 and text[10] in "T " and _iso_day(text[:10]):
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return to_china_date(moment)
    raise ValueError(f"expected {ACCEPTED_DATE_FORMS}")


ChinaDate = Annotated[date, BeforeValidator(to_china_date)]


def _null_is_empty_set(value: object) -> object:
    return frozenset() if value is None else value


def _null_is_empty_map(value: object) -> object:
    return {} if value is None else value


# Plain `date` too: a YAML file gives unquoted dates as date objects; a date attr's ISO
# string is made a date by the pack, which knows the attr's type.
AttrValue = bool | int | str | date


class Fact(BaseModel):
    """A problem (or another kind of record a pack declares) and what has happened to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, description="the host's id, echoed in the decision")
    kind: str = "problem"
    source: str | None = None
    category: str | None = None
    sector: str | None = None
    # A null collection, as ledgers often hold, means an empty one.
    flags: Annotated[frozenset[str], BeforeValidator(_null_is_empty_set)] = Field(
        default_factory=frozenset
    )
    events: Annotated[dict[str, ChinaDate], BeforeValidator(_null_is_empty_map)] = Field(
        default_factory=dict
    )
    attrs: Annotated[dict[str, AttrValue], BeforeValidator(_null_is_empty_map)] = Field(
        default_factory=dict
    )


class FactView:
    """A fact as evaluation reads it: shape-checked, dates normalised to China dates."""

    __slots__ = (
        "attrs",
        "category",
        "events",
        "flags",
        "id",
        "kind",
        "matched",
        "sector",
        "source",
    )

    def __init__(
        self,
        id: str | None,
        kind: str,
        source: str | None,
        category: str | None,
        sector: str | None,
        flags: frozenset[str],
        events: dict[str, date],
        attrs: Mapping[str, bool | int | str | date],
    ):
        self.id = id
        self.kind = kind
        self.source = source
        self.category = category
        self.sector = sector
        self.flags = flags
        self.events = events
        self.attrs = attrs
        self.matched: frozenset[str] = frozenset()
        """Ids of the items another engine found applicable (see CompiledPack.whole_plan)."""

    def with_matched(self, matched: frozenset[str]) -> FactView:
        view = self._replaced()
        view.matched = matched
        return view

    @classmethod
    def of(cls, fact: Fact) -> FactView:
        return cls(
            fact.id,
            fact.kind,
            fact.source,
            fact.category,
            fact.sector,
            fact.flags,
            # Copies: a decision reads the view after evaluate returns (its id is hashed
            # when first read), and the host's Fact holds mutable dicts.
            dict(fact.events),
            dict(fact.attrs),
        )

    def with_events(self, events: dict[str, date]) -> FactView:
        return self._replaced(events=events)

    def with_attrs(self, attrs: Mapping[str, bool | int | str | date]) -> FactView:
        return self._replaced(attrs=attrs)

    def _replaced(self, **changes: Any) -> FactView:
        fields = {
            name: getattr(self, name)
            for name in ("id", "kind", "source", "category", "sector", "flags", "events", "attrs")
        }
        return FactView(**{**fields, **changes})


_FACT_FIELDS = frozenset(Fact.model_fields)
_FLAG_CONTAINERS = (list, tuple, set, frozenset)


def _quick_view(data: Mapping[str, Any]) -> FactView | None:
    """The plain-JSON fact (str fields, ISO date strings, no attrs) without pydantic.

    Most facts in a ledger are exactly this shape, and this is several times faster than
    model validation. Anything else returns None and goes through ``Fact`` — so every
    error message, and every unusual input, is pydantic's business. A test asserts the two
    paths agree on whatever both accept.
    """
    if type(data) is not dict or not _FACT_FIELDS.issuperset(data):
        return None
    get = data.get
    attrs = get("attrs")
    # Only no attrs at all takes this path: "" or 0 or [] must be refused by the model,
    # exactly as they are for a Fact or any other mapping.
    if attrs is not None and (type(attrs) is not dict or attrs):
        return None
    kind = get("kind", "problem")
    id_, source, category, sector = get("id"), get("source"), get("category"), get("sector")
    # Tested inline rather than in a loop: this runs for every fact of a ledger.
    if (
        type(kind) is not str
        or (id_ is not None and type(id_) is not str)
        or (source is not None and type(source) is not str)
        or (category is not None and type(category) is not str)
        or (sector is not None and type(sector) is not str)
    ):
        return None
    flags = get("flags")
    if not flags:
        flag_set: frozenset[str] = _NO_FLAGS
        if flags is not None and type(flags) not in _FLAG_CONTAINERS:
            return None
    else:
        if type(flags) not in _FLAG_CONTAINERS:
            return None
        for flag in flags:  # before hashing them: [[]] must go to the model, not TypeError
            if type(flag) is not str:
                return None
        flag_set = frozenset(flags)
    raw = get("events")
    events: dict[str, date] = {}
    if raw:
        if type(raw) is not dict:
            return None
        for name, value in raw.items():
            if type(name) is not str:
                return None
            if type(value) is str:
                day = _ISO_DAYS.get(value)
                if day is None:
                    # _iso_day, inlined.
                    if not (
                        len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii()
                    ):
                        return None
                    try:
                        day = fromisoformat(value)
                    except ValueError:
                        return None
                    if len(_ISO_DAYS) < ISO_DAYS_LIMIT:
                        _ISO_DAYS[value] = day
                events[name] = day
            elif type(value) is date:
                events[name] = value
            else:
                return None
    elif raw is not None and type(raw) is not dict:
        return None
    return FactView(id_, kind, source, category, sector, flag_set, events, {})


_NO_FLAGS: frozenset[str] = frozenset()
ISO_DAYS_LIMIT = 40_000
"""How many ISO date strings the quick path keeps read: a ledger's dates repeat (every
fact of a week shares its days), and a dict lookup is several times cheaper than parsing.
The dates a fact may hold span 2000–2050 (~18,600 days), so the bound only stops a
hostile stream of far-off dates from growing it. No lock: racing threads store equal
dates."""
_ISO_DAYS: dict[str, date] = {}
fromisoformat = date.fromisoformat


def read_fact(data: Fact | Mapping[str, Any]) -> FactView:
    """Shape-check a fact into the view evaluation reads; FactError names each bad field."""
    quick = _quick_view(data) if type(data) is dict else None
    return quick if quick is not None else FactView.of(parse_fact(data))


def parse_fact(data: Fact | Mapping[str, Any]) -> Fact:
    """Shape-check a fact; pack-independent. Raises FactError naming each bad field."""
    if isinstance(data, Fact):
        return data
    if not isinstance(data, Mapping):
        raise FactError(
            [
                FactProblem(
                    "fact",
                    type(data).__name__,
                    "a fact is a mapping (JSON object) or ecorules.Fact",
                )
            ]
        )
    try:
        return Fact.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "fact"
            message = err["msg"][0].lower() + err["msg"][1:]
            if err["type"] == "extra_forbidden":
                message = "unknown field"
            if err["type"] == "value_error":
                message = message.removeprefix("value error, ")
            problems.append(FactProblem(loc, err.get("input"), message))
        fact_id = data.get("id") if isinstance(data.get("id"), str) else None
        raise FactError(problems, fact_id) from None


def parse_as_of(value: object) -> date:
    """``as_of`` as a China calendar date; a FactError names it when it is not one."""
    if type(value) is date:  # the usual call, once per fact of a batch
        return value
    try:
        return to_china_date(value)
    except ValueError as exc:
        raise FactError([FactProblem("as_of", value, str(exc))]) from None
