"""The Chinese working-day calendar, precomputed so that date arithmetic is a lookup.

Working days come from ``holidays.China``: weekdays that are not statutory holidays, plus the
make-up workdays (调休上班日, ``weekend_workdays``) of the State Council's annual notice. A pack
may add local holidays and workdays; a host may supply a new year's notice at run time. The
whole span is laid out once into arrays, so "N working days after" is two index reads, never a
day-by-day loop at evaluation time.

Dates past the last year with an official notice (the *horizon*) are still computed, from the
rules ``holidays`` uses to predict them, but every result that depends on one is flagged.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Final

import holidays
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field

from ._errors import FactError, FactProblem

FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2060
SPAN_START: Final = date(FIRST_YEAR, 1, 1)
SPAN_END: Final = date(LAST_YEAR, 12, 31)
_BASE: Final = SPAN_START.toordinal()
_END: Final = SPAN_END.toordinal()


class CalendarNotice(BaseModel):
    """A year's State Council holiday notice: its days off and its make-up workdays.

    Supplying one replaces that year's predicted holidays and moves the horizon to that year.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=FIRST_YEAR, le=LAST_YEAR)
    holidays: tuple[date, ...] = Field(
        description="statutory days off (放假), weekends included or not"
    )
    workdays: tuple[date, ...] = Field(default=(), description="make-up workdays (调休上班)")
    source: str | None = Field(default=None, description="the notice's title or number")


class OutOfSpan(FactError):
    """A date the calendar does not cover. A FactError (so a ValueError): what runs off the
    calendar is a fact's date, or a due date counted from one."""

    def __init__(self, message: str):
        super().__init__([FactProblem("due date", None, message)])


def holidays_version() -> str:
    """The installed ``holidays`` release, whose data holds the official notices."""
    return str(getattr(holidays, "__version__", "unknown"))


def official_horizon_year() -> int:
    """The last year whose State Council notice the installed ``holidays`` data carries."""
    try:
        from holidays.countries.china import ChinaStaticHolidays

        return int(max(ChinaStaticHolidays.special_public_holidays))
    except (ImportError, AttributeError, ValueError):  # older holidays, without that class
        workdays = holidays.country_holidays(
            "CN", years=range(FIRST_YEAR, LAST_YEAR + 1)
        ).weekend_workdays
        return max(d.year for d in workdays)


def notice_days(year: int) -> tuple[set[date], set[date]]:
    """The days off and make-up workdays the installed ``holidays`` data takes from ``year``'s
    State Council notice, beyond what it computes from the law for any year (the statutory
    festivals and their in-lieu days, which is all it has for a year with no notice).

    Read from ``ChinaStaticHolidays``, the table ``holidays`` keeps the notices in: each entry
    is a day off with the make-up workday it is swapped with (``(month, day, from_month,
    from_day[, from_year])``), or a day off by name (``(month, day, name)``)."""
    from holidays.countries.china import ChinaStaticHolidays

    off: set[date] = set()
    work: set[date] = set()
    for attribute, table in vars(ChinaStaticHolidays).items():
        if not attribute.startswith("special_public_holidays") or not isinstance(table, dict):
            continue
        entries = table.get(year, ())
        for entry in (entries,) if entries and isinstance(entries[0], int) else entries:
            off.add(date(year, entry[0], entry[1]))
            if len(entry) >= 4 and isinstance(entry[2], int):
                work.add(date(entry[4] if len(entry) > 4 else year, entry[2], entry[3]))
    return off, work


class WorkingCalendar:
    """Immutable after construction; safe to share between threads and packs."""

    __slots__ = (
        "_cumulative",
        "_is_work",
        "_workdays",
        "horizon",
        "horizon_year",
        "official_through",
    )

    def __init__(
        self,
        rest_days: Iterable[date],
        make_up_workdays: Iterable[date],
        horizon_year: int,
        official_through: int,
    ):
        rest = {d.toordinal() for d in rest_days}
        make_up = {d.toordinal() for d in make_up_workdays}
        is_work = bytearray(_END - _BASE + 1)
        cumulative = array("i", bytes(4 * len(is_work)))
        workdays = array("i")
        count = 0
        # 2000-01-01 was a Saturday: weekday of index i is (i + 5) % 7.
        for i in range(len(is_work)):
            ordinal = _BASE + i
            working = ordinal in make_up or ((i + 5) % 7 < 5 and ordinal not in rest)
            if working:
                is_work[i] = 1
                workdays.append(ordinal)
                count += 1
            cumulative[i] = count
        self._is_work = bytes(is_work)
        self._cumulative = cumulative
        self._workdays = workdays
        self.horizon_year = horizon_year
        self.horizon = date(horizon_year, 12, 31)
        # The last year of the holidays data's notices used (see build_calendar).
        self.official_through = official_through

    def _index(self, day: date) -> int:
        i = day.toordinal() - _BASE
        if i < 0 or i >= len(self._is_work):
            raise OutOfSpan(f"{day.isoformat()} is outside the calendar ({FIRST_YEAR}–{LAST_YEAR})")
        return i

    def is_working_day(self, day: date) -> bool:
        return bool(self._is_work[self._index(day)])

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start itself not counted), n >= 1."""
        if n < 1:
            raise ValueError(f"a working-day count must be at least 1, not {n}")
        k = self._cumulative[self._index(start)] + n - 1
        if k >= len(self._workdays):
            raise OutOfSpan(f"{n} working days after {start.isoformat()} is past {LAST_YEAR}")
        return date.fromordinal(self._workdays[k])

    def roll_forward(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        i = self._index(day)
        if self._is_work[i]:
            return day
        k = self._cumulative[i]
        if k >= len(self._workdays):
            raise OutOfSpan(f"no working day after {day.isoformat()} before {LAST_YEAR}")
        return date.fromordinal(self._workdays[k])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many a window from start to end has used."""
        return self._cumulative[self._index(end)] - self._cumulative[self._index(start)]

    def rest_days_between(self, start: date, end: date) -> list[date]:
        """Days in (start, end] that are not working days (for explanations, not hot paths)."""
        out = []
        day = start + timedelta(days=1)
        while day <= end:
            if not self.is_working_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out

    def make_up_days_between(self, start: date, end: date) -> list[date]:
        """Weekend days in (start, end] that are working days (调休上班)."""
        out = []
        day = start + timedelta(days=1)
        while day <= end:
            if day.weekday() >= 5 and self.is_working_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out


def add_months(start: date, months: int) -> date:
    """Same day of the month ``months`` later, clamped to the month's end (dateutil)."""
    return start + relativedelta(months=months)


_cache: OrderedDict[tuple[object, ...], WorkingCalendar] = OrderedDict()
_cache_lock = threading.Lock()
CALENDAR_CACHE_SIZE: Final = 16
"""Calendars kept for reuse (about 100 KB each): packs share a few; a host that loads with a
new set of notices each time must not grow memory without end."""


def check_official_through(year: int) -> int:
    """``year`` if the installed ``holidays`` data carries its notice, else a ValueError
    saying what it does carry."""
    official = official_horizon_year()
    if type(year) is not int or not FIRST_YEAR <= year <= official:
        raise ValueError(
            f"official_through must be a year from {FIRST_YEAR} to {official}, the last year "
            f"whose holiday notice the installed holidays data ({holidays_version()}) "
            f"carries; got {year!r}"
        )
    return year


def build_calendar(
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    notices: Iterable[CalendarNotice] = (),
    official_through: int | None = None,
) -> WorkingCalendar:
    """The China calendar with a pack's local days and a host's notices; cached per input.

    ``official_through`` uses the ``holidays`` data's notices only up to that year, and its
    prediction after, as if the later notices were not published yet: the calendar a
    decision made then was computed on (its ``calendar.official_through``), to replay it,
    and the calendar a test written then expects."""
    official = official_horizon_year()
    if official_through is not None and check_official_through(official_through) == official:
        official_through = None  # the whole data: the same calendar, one cache entry
    extra_h = tuple(sorted(set(extra_holidays)))
    extra_w = tuple(sorted(set(extra_workdays)))
    notice_list = tuple(sorted(notices, key=lambda n: n.year))
    key = (extra_h, extra_w, notice_list, official_through)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    # Built outside the lock: a slow build must not hold up other loads. Two threads may
    # build the same calendar at once; they are equal, and the first stored is kept.
    china = holidays.country_holidays("CN", years=range(FIRST_YEAR, LAST_YEAR + 1))
    noticed_years = {n.year for n in notice_list}
    rest = {d for d in china if d.year not in noticed_years}
    make_up = {d for d in china.weekend_workdays if d.year not in noticed_years}
    if official_through is not None:
        for year in range(official_through + 1, official + 1):
            if year not in noticed_years:
                days_off, workdays = notice_days(year)
                rest.difference_update(days_off)
                make_up.difference_update(workdays)
        official = official_through
    for notice in notice_list:
        rest.update(notice.holidays)
        make_up.update(notice.workdays)
    rest.update(extra_h)
    rest.difference_update(extra_w)
    make_up.update(extra_w)
    make_up.difference_update(extra_h)
    calendar = WorkingCalendar(rest, make_up, max([official, *noticed_years]), official)
    with _cache_lock:
        calendar = _cache.setdefault(key, calendar)
        _cache.move_to_end(key)
        while len(_cache) > CALENDAR_CACHE_SIZE:
            _cache.popitem(last=False)
    return calendar


@lru_cache(maxsize=256)
def occurrences(rule: str) -> Occurrences:
    """The laid-out recurrence for ``rule``; shared, since it is immutable."""
    return Occurrences(rule)


class Occurrences:
    """A recurrence rule laid out over the calendar's span, for O(1) "next on or after"."""

    __slots__ = ("_next_index", "_ordinals", "rule")

    def __init__(self, rule: str):
        from dateutil.rrule import rrulestr

        from ._recurrence import check_rrule

        check_rrule(rule)  # before laying out: a rule finer than a day would never finish
        self.rule = rule
        recurrence = rrulestr(rule, dtstart=_datetime(SPAN_START))
        stop = _datetime(SPAN_END)
        self._ordinals = array(
            "i",
            (
                dt.date().toordinal()
                for dt in recurrence.between(_datetime(SPAN_START), stop, inc=True)
            ),
        )
        # For each day of the span, the index of the first occurrence on or after it.
        next_index = array("i")
        start = 0
        for position, ordinal in enumerate(self._ordinals):
            next_index.extend(array("i", [position]) * (ordinal - _BASE + 1 - start))
            start = ordinal - _BASE + 1
        next_index.extend(array("i", [len(self._ordinals)]) * (_END - _BASE + 1 - start))
        self._next_index = next_index

    def dates(self) -> list[date]:
        return [date.fromordinal(o) for o in self._ordinals]

    def index_on_or_after(self, day: date) -> int:
        """Index of the first occurrence on or after ``day`` (len() when none)."""
        i = day.toordinal() - _BASE
        if 0 <= i < len(self._next_index):
            return self._next_index[i]
        return bisect.bisect_left(self._ordinals, day.toordinal())

    def __len__(self) -> int:
        return len(self._ordinals)

    def next_on_or_after(self, day: date) -> date | None:
        i = self.index_on_or_after(day)
        return date.fromordinal(self._ordinals[i]) if i < len(self._ordinals) else None

    def previous_before(self, day: date) -> date | None:
        i = self.index_on_or_after(day)
        return date.fromordinal(self._ordinals[i - 1]) if i > 0 else None


def _datetime(day: date):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime(day.year, day.month, day.day)
