"""Facts: the one record shape every pack reads, and how input becomes it.

``Fact`` is the public, typed form (and its JSON Schema). Evaluation accepts a ``Fact`` or
any JSON-like mapping; dates may be ``date`` objects, ISO 8601 date strings, or ISO datetimes
(aware ones are converted to Asia/Shanghai, naive ones read as Shanghai time — conventions 6).
Vocabulary checks are the pack's: a source, flag or event the pack does not declare is an
error naming the field, the value and the allowed ids, never a silent miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from ._errors import FactError, FactProblem

SHANGHAI = ZoneInfo("Asia/Shanghai")

ACCEPTED_DATE_FORMS = "an ISO 8601 date (2024-09-27) or datetime (2024-09-27T09:30:00+08:00)"


def to_china_date(value: object) -> date:
    """A calendar date in China Standard Time, from a date, datetime or ISO string."""
    if type(value) is str and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected {ACCEPTED_DATE_FORMS}") from None
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(SHANGHAI)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        elif len(text) > 10 and text[10] in "T ":
            try:
                return to_china_date(datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                pass
    raise ValueError(f"expected {ACCEPTED_DATE_FORMS}")


ChinaDate = Annotated[date, BeforeValidator(to_china_date)]
AttrValue = bool | int | str


class Fact(BaseModel):
    """A problem (or another kind of record a pack declares) and what has happened to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, description="the host's id, echoed in the decision")
    kind: str = "problem"
    source: str | None = None
    category: str | None = None
    sector: str | None = None
    flags: frozenset[str] = Field(default_factory=frozenset)
    events: dict[str, ChinaDate] = Field(default_factory=dict)
    attrs: dict[str, AttrValue] = Field(default_factory=dict)


class FactView:
    """A fact as evaluation sees it: checked, with events after ``as_of`` cut away."""

    __slots__ = ("attrs", "category", "events", "flags", "id", "kind", "sector", "source")

    def __init__(self, fact: Fact, events: dict[str, date]):
        self.id = fact.id
        self.kind = fact.kind
        self.source = fact.source
        self.category = fact.category
        self.sector = fact.sector
        self.flags = fact.flags
        self.events = events
        self.attrs = fact.attrs


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
    try:
        return to_china_date(value)
    except ValueError as exc:
        raise FactError([FactProblem("as_of", value, str(exc))]) from None
