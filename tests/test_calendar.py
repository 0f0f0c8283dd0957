"""Tests for the working-day calendar (``ecorules._calendar``).

Every deadline a pack computes ("N个工作日内", "两个月内", "每年5月6日前") rests on this module, and
its holiday data comes from the ``holidays`` library. These tests pin the calendar to the reading
conventions (docs: /work/shared/spec/conventions.md) and to an independent, hand-kept reading of
the State Council's annual holiday notices, so that a wrong or changed upstream table, or an
off-by-one in the precomputed arrays, shows up here rather than as a wrong deadline.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import ecorules
from ecorules._calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    SPAN_END,
    SPAN_START,
    CalendarNotice,
    Occurrences,
    OutOfSpan,
    WorkingCalendar,
    add_months,
    build_calendar,
    occurrences,
    official_horizon_year,
)

from .conftest import WRITTEN_THROUGH, release_carrying_a_notice_for

D = date


def days(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def blocks(*spans: tuple[date, date]) -> list[date]:
    """Every date of each (first, last) span."""
    return [day for first, last in spans for day in days(first, last)]


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    # The data as these tests were written: notices through 2026, later years predicted,
    # so a holidays release carrying 2027's notice does not move their expectations.
    return build_calendar(official_through=WRITTEN_THROUGH)


# ---------------------------------------------------------------------------------------------
# An independent reading of the State Council's annual holiday notices
# (国务院办公厅关于…部分节假日安排的通知), kept here by hand, NOT derived from the ``holidays``
# package (which is what is under test).
# For each year: the holiday blocks (放假调休, weekends included) and the make-up workdays (上班).
# 2020's Spring Festival block includes the extension to 2020-02-02 (国办发明电〔2020〕1号), which
# also cancelled the make-up Saturday 2020-02-01. 2019's May Day block is the revised one
# (国办发明电〔2019〕2号: 5-1..5-4 off, 4-28 and 5-5 at work).
# ---------------------------------------------------------------------------------------------
NOTICES: dict[int, tuple[list[date], list[date]]] = {
    2019: (
        blocks(
            (D(2019, 1, 1), D(2019, 1, 1)),
            (D(2019, 2, 4), D(2019, 2, 10)),
            (D(2019, 4, 5), D(2019, 4, 7)),
            (D(2019, 5, 1), D(2019, 5, 4)),
            (D(2019, 6, 7), D(2019, 6, 9)),
            (D(2019, 9, 13), D(2019, 9, 15)),
            (D(2019, 10, 1), D(2019, 10, 7)),
        ),
        [
            D(2019, 2, 2),
            D(2019, 2, 3),
            D(2019, 4, 28),
            D(2019, 5, 5),
            D(2019, 9, 29),
            D(2019, 10, 12),
        ],
    ),
    2020: (
        blocks(
            (D(2020, 1, 1), D(2020, 1, 1)),
            (D(2020, 1, 24), D(2020, 2, 2)),
            (D(2020, 4, 4), D(2020, 4, 6)),
            (D(2020, 5, 1), D(2020, 5, 5)),
            (D(2020, 6, 25), D(2020, 6, 27)),
            (D(2020, 10, 1), D(2020, 10, 8)),
        ),
        [
            D(2020, 1, 19),
            D(2020, 4, 26),
            D(2020, 5, 9),
            D(2020, 6, 28),
            D(2020, 9, 27),
            D(2020, 10, 10),
        ],
    ),
    2021: (
        blocks(
            (D(2021, 1, 1), D(2021, 1, 3)),
            (D(2021, 2, 11), D(2021, 2, 17)),
            (D(2021, 4, 3), D(2021, 4, 5)),
            (D(2021, 5, 1), D(2021, 5, 5)),
            (D(2021, 6, 12), D(2021, 6, 14)),
            (D(2021, 9, 19), D(2021, 9, 21)),
            (D(2021, 10, 1), D(2021, 10, 7)),
        ),
        [
            D(2021, 2, 7),
            D(2021, 2, 20),
            D(2021, 4, 25),
            D(2021, 5, 8),
            D(2021, 9, 18),
            D(2021, 9, 26),
            D(2021, 10, 9),
        ],
    ),
    2022: (
        blocks(
            (D(2022, 1, 1), D(2022, 1, 3)),
            (D(2022, 1, 31), D(2022, 2, 6)),
            (D(2022, 4, 3), D(2022, 4, 5)),
            (D(2022, 4, 30), D(2022, 5, 4)),
            (D(2022, 6, 3), D(2022, 6, 5)),
            (D(2022, 9, 10), D(2022, 9, 12)),
            (D(2022, 10, 1), D(2022, 10, 7)),
        ),
        [
            D(2022, 1, 29),
            D(2022, 1, 30),
            D(2022, 4, 2),
            D(2022, 4, 24),
            D(2022, 5, 7),
            D(2022, 10, 8),
            D(2022, 10, 9),
        ],
    ),
    2023: (
        blocks(
            (D(2022, 12, 31), D(2023, 1, 2)),
            (D(2023, 1, 21), D(2023, 1, 27)),
            (D(2023, 4, 5), D(2023, 4, 5)),
            (D(2023, 4, 29), D(2023, 5, 3)),
            (D(2023, 6, 22), D(2023, 6, 24)),
            (D(2023, 9, 29), D(2023, 10, 6)),
        ),
        [
            D(2023, 1, 28),
            D(2023, 1, 29),
            D(2023, 4, 23),
            D(2023, 5, 6),
            D(2023, 6, 25),
            D(2023, 10, 7),
            D(2023, 10, 8),
        ],
    ),
    2024: (
        blocks(
            (D(2024, 1, 1), D(2024, 1, 1)),
            (D(2024, 2, 10), D(2024, 2, 17)),
            (D(2024, 4, 4), D(2024, 4, 6)),
            (D(2024, 5, 1), D(2024, 5, 5)),
            (D(2024, 6, 8), D(2024, 6, 10)),
            (D(2024, 9, 15), D(2024, 9, 17)),
            (D(2024, 10, 1), D(2024, 10, 7)),
        ),
        [
            D(2024, 2, 4),
            D(2024, 2, 18),
            D(2024, 4, 7),
            D(2024, 4, 28),
            D(2024, 5, 11),
            D(2024, 9, 14),
            D(2024, 9, 29),
            D(2024, 10, 12),
        ],
    ),
    2025: (
        blocks(
            (D(2025, 1, 1), D(2025, 1, 1)),
            (D(2025, 1, 28), D(2025, 2, 4)),
            (D(2025, 4, 4), D(2025, 4, 6)),
            (D(2025, 5, 1), D(2025, 5, 5)),
            (D(2025, 5, 31), D(2025, 6, 2)),
            (D(2025, 10, 1), D(2025, 10, 8)),
        ),
        [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)],
    ),
    2026: (
        blocks(
            (D(2026, 1, 1), D(2026, 1, 3)),
            (D(2026, 2, 15), D(2026, 2, 23)),
            (D(2026, 4, 4), D(2026, 4, 6)),
            (D(2026, 5, 1), D(2026, 5, 5)),
            (D(2026, 6, 19), D(2026, 6, 21)),
            (D(2026, 9, 25), D(2026, 9, 27)),
            (D(2026, 10, 1), D(2026, 10, 7)),
        ),
        [
            D(2026, 1, 4),
            D(2026, 2, 14),
            D(2026, 2, 28),
            D(2026, 5, 9),
            D(2026, 9, 20),
            D(2026, 10, 10),
        ],
    ),
}


def test_notice_table_is_well_formed() -> None:
    for holidays_off, make_up in NOTICES.values():
        assert all(d.weekday() >= 5 for d in make_up), "a make-up workday is a Sat or Sun"
        assert not set(holidays_off) & set(make_up)


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_make_up_workdays_match_the_notices(cal: WorkingCalendar, year: int) -> None:
    _, make_up = NOTICES[year]
    for day in make_up:
        assert cal.is_working_day(day), f"{day} is a make-up workday (调休上班)"
    # And the calendar knows of no other weekend workdays that year.
    assert cal.make_up_days_between(D(year - 1, 12, 31), D(year, 12, 31)) == sorted(make_up)


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_holiday_weekdays_match_the_notices(cal: WorkingCalendar, year: int) -> None:
    holidays_off, _ = NOTICES[year]
    weekdays_off = sorted(d for d in holidays_off if d.weekday() < 5)
    for day in weekdays_off:
        assert not cal.is_working_day(day), f"{day} is a statutory day off (放假)"
    # And the calendar knows of no other weekday rest days in that year.
    in_year = [d for d in weekdays_off if d.year == year]
    rest = cal.rest_days_between(D(year - 1, 12, 31), D(year, 12, 31))
    assert [d for d in rest if d.weekday() < 5] == in_year


# ---------------------------------------------------------------------------------------------
# 1. The conventions' worked example, and 12. the explanation helpers on that window.
# ---------------------------------------------------------------------------------------------
def test_conventions_worked_example(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2024, 9, 27), 10) == D(2024, 10, 16)
    assert cal.working_days_between(D(2024, 9, 27), D(2024, 10, 16)) == 10
    assert cal.working_days_between(D(2024, 9, 27), D(2024, 10, 15)) == 9


def test_rest_and_make_up_days_on_national_day_2024(cal: WorkingCalendar) -> None:
    start, end = D(2024, 9, 27), D(2024, 10, 16)
    assert cal.rest_days_between(start, end) == [
        D(2024, 9, 28),
        *days(D(2024, 10, 1), D(2024, 10, 7)),
        D(2024, 10, 13),
    ]
    assert cal.make_up_days_between(start, end) == [D(2024, 9, 29), D(2024, 10, 12)]
    # (start, end]: the start is excluded, the end included.
    assert cal.rest_days_between(D(2024, 9, 28), D(2024, 10, 1)) == [D(2024, 10, 1)]
    assert cal.make_up_days_between(D(2024, 9, 29), D(2024, 10, 12)) == [D(2024, 10, 12)]
    assert cal.rest_days_between(end, end) == []
    # Every day of the window is exactly one of working / rest.
    total = (end - start).days
    assert cal.working_days_between(start, end) + len(cal.rest_days_between(start, end)) == total


# ---------------------------------------------------------------------------------------------
# 3. Property: add_working_days, working_days_between and the holidays library agree.
# ---------------------------------------------------------------------------------------------
_HOLIDAYS_CHINA = holidays.China(years=range(2003, 2029))
_HAS_NTH = hasattr(_HOLIDAYS_CHINA, "get_nth_working_day")


@settings(
    max_examples=300, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    start=st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 12, 31)),
    n=st.integers(min_value=1, max_value=30),
)
def test_add_working_days_properties(start: date, n: int) -> None:
    cal = build_calendar()
    result = cal.add_working_days(start, n)
    assert result > start
    assert cal.is_working_day(result)
    assert cal.working_days_between(start, result) == n
    # It is the *first* date with n working days used: the day before has only n - 1.
    assert cal.working_days_between(start, result - timedelta(days=1)) == n - 1
    if _HAS_NTH:
        assert _HOLIDAYS_CHINA.get_nth_working_day(start, n) == result


def test_is_working_day_agrees_with_holidays_library(cal: WorkingCalendar) -> None:
    for day in days(D(2004, 1, 1), D(2026, 12, 31)):
        assert cal.is_working_day(day) == _HOLIDAYS_CHINA.is_working_day(day), day


# ---------------------------------------------------------------------------------------------
# 4. roll_forward, and 6. triggers on a rest day or a make-up day.
# ---------------------------------------------------------------------------------------------
def test_roll_forward(cal: WorkingCalendar) -> None:
    assert cal.roll_forward(D(2024, 9, 30)) == D(2024, 9, 30)  # ordinary Monday
    assert cal.roll_forward(D(2024, 10, 1)) == D(2024, 10, 8)  # National Day
    assert cal.roll_forward(D(2024, 10, 7)) == D(2024, 10, 8)  # last day off (Monday)
    assert cal.roll_forward(D(2024, 10, 12)) == D(2024, 10, 12)  # make-up Saturday
    assert cal.roll_forward(D(2024, 9, 29)) == D(2024, 9, 29)  # make-up Sunday
    assert cal.roll_forward(D(2024, 9, 28)) == D(2024, 9, 29)  # Saturday -> make-up Sunday
    assert cal.roll_forward(D(2024, 10, 13)) == D(2024, 10, 14)  # ordinary Sunday


def test_trigger_on_a_rest_day_starts_counting_at_next_working_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2024, 10, 3), 1) == D(2024, 10, 8)
    assert cal.add_working_days(D(2024, 10, 3), 5) == D(2024, 10, 12)  # 8,9,10,11,12(Sat)
    assert cal.add_working_days(D(2024, 9, 28), 1) == D(2024, 9, 29)  # Sat -> make-up Sun
    assert cal.add_working_days(D(2024, 10, 13), 1) == D(2024, 10, 14)


def test_trigger_on_a_make_up_day(cal: WorkingCalendar) -> None:
    # The make-up day itself is the trigger's day, so not counted.
    assert cal.add_working_days(D(2024, 9, 29), 1) == D(2024, 9, 30)
    assert cal.add_working_days(D(2024, 9, 29), 2) == D(2024, 10, 8)
    assert cal.add_working_days(D(2024, 10, 12), 1) == D(2024, 10, 14)


# ---------------------------------------------------------------------------------------------
# 5. Calendar periods: add_months clamps, then roll_forward.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2023, 12, 31), 2, D(2024, 2, 29)),  # the conventions' example
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 3, 31), 1, D(2024, 4, 30)),
        (D(2024, 5, 15), 2, D(2024, 7, 15)),  # no clamp needed
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "months", "clamped", "due"),
    [
        # 2020-02-29 is a Saturday (not a make-up day): the period ends on Monday 03-02.
        (D(2020, 1, 31), 1, D(2020, 2, 29), D(2020, 3, 2)),
        # 2023-09-30 is inside the Mid-Autumn/National Day break (09-29..10-06); the first
        # working day after it is the make-up Saturday 2023-10-07.
        (D(2023, 8, 31), 1, D(2023, 9, 30), D(2023, 10, 7)),
        # 2026-02-28 is a Saturday but a make-up workday: no roll.
        (D(2026, 1, 31), 1, D(2026, 2, 28), D(2026, 2, 28)),
        # No clamp, but lands on National Day.
        (D(2024, 9, 1), 1, D(2024, 10, 1), D(2024, 10, 8)),
    ],
)
def test_calendar_period_rolls_past_rest_days(
    cal: WorkingCalendar, start: date, months: int, clamped: date, due: date
) -> None:
    assert add_months(start, months) == clamped
    assert cal.roll_forward(clamped) == due


# ---------------------------------------------------------------------------------------------
# 7. Windows across Spring Festival 2025/2026 and National Day 2025, derived by hand.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Spring Festival 2025: 01-28..02-04 off; Sun 01-26 and Sat 02-08 at work.
        # Fri 01-24: 26(Sun)=1, 27=2, [28..04 off], 05=3, 06=4, 07=5, 08(Sat)=6, 10..13=7..10.
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 24), 2, D(2025, 1, 27)),
        (D(2025, 1, 24), 3, D(2025, 2, 5)),
        (D(2025, 1, 24), 6, D(2025, 2, 8)),
        (D(2025, 1, 24), 10, D(2025, 2, 13)),
        (D(2025, 1, 30), 1, D(2025, 2, 5)),  # trigger inside the break
        # Spring Festival 2026: 02-15..02-23 off; Sat 02-14 and Sat 02-28 at work.
        # Thu 02-12: 13=1, 14(Sat)=2, [15..23 off], 24=3, 25=4, 26=5, 27=6, 28(Sat)=7,
        # 03-02=8, 03-03=9, 03-04=10.
        (D(2026, 2, 12), 2, D(2026, 2, 14)),
        (D(2026, 2, 12), 3, D(2026, 2, 24)),
        (D(2026, 2, 12), 5, D(2026, 2, 26)),
        (D(2026, 2, 12), 7, D(2026, 2, 28)),
        (D(2026, 2, 12), 10, D(2026, 3, 4)),
        (D(2026, 2, 16), 1, D(2026, 2, 24)),  # trigger inside the break
        # National Day + Mid-Autumn 2025: 10-01..10-08 off; Sun 09-28 and Sat 10-11 at work.
        # Fri 09-26: 28(Sun)=1, 29=2, 30=3, [01..08 off], 09=4, 10=5, 11(Sat)=6, 13..16=7..10.
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 26), 4, D(2025, 10, 9)),
        (D(2025, 9, 26), 6, D(2025, 10, 11)),
        (D(2025, 9, 26), 10, D(2025, 10, 16)),
        (D(2025, 10, 6), 1, D(2025, 10, 9)),  # trigger inside the break
    ],
)
def test_windows_across_long_breaks(
    cal: WorkingCalendar, start: date, n: int, expected: date
) -> None:
    assert cal.add_working_days(start, n) == expected
    assert cal.working_days_between(start, expected) == n


# ---------------------------------------------------------------------------------------------
# 8. The official horizon and host-supplied notices.
# ---------------------------------------------------------------------------------------------
NOTICE_2027 = CalendarNotice(
    year=2027,
    holidays=tuple(days(D(2027, 10, 1), D(2027, 10, 7))),
    workdays=(D(2027, 9, 25),),
    source="made-up 2027 notice for tests",
)


def test_official_horizon(cal: WorkingCalendar) -> None:
    year = official_horizon_year()
    assert year >= WRITTEN_THROUGH
    whole = build_calendar()
    assert (whole.horizon_year, whole.official_through) == (year, year)
    assert whole.horizon == D(year, 12, 31)
    assert (cal.horizon_year, cal.official_through) == (WRITTEN_THROUGH, WRITTEN_THROUGH)


def test_official_through_keeps_the_calendar_of_before_a_later_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = build_calendar()
    year = before.official_through + 1
    swaps = release_carrying_a_notice_for(year, monkeypatch)
    assert official_horizon_year() == year
    after = build_calendar()
    for off, on in swaps:
        assert not after.is_working_day(off) and after.is_working_day(on)
        assert before.is_working_day(off) and not before.is_working_day(on)
    replayed = build_calendar(official_through=year - 1)
    # Day for day the calendar of before the release, with its horizon.
    assert replayed._is_work == before._is_work
    assert (replayed.horizon_year, replayed.official_through) == (year - 1, year - 1)
    assert build_calendar(official_through=year) is after  # the whole data: one calendar


def test_official_through_drops_a_make_up_day_in_the_year_before_its_notice() -> None:
    # The 2002 notice swapped 2002-01-02 off for Sat 2001-12-29 at work.
    whole, cut = build_calendar(), build_calendar(official_through=2001)
    assert whole.is_working_day(D(2001, 12, 29)) and not whole.is_working_day(D(2002, 1, 2))
    assert not cut.is_working_day(D(2001, 12, 29)) and cut.is_working_day(D(2002, 1, 2))
    # A year with no notice in between is predicted from the law alone: New Year's Day
    # and the statutory festivals are off, no make-up workday is left.
    assert not cut.is_working_day(D(2002, 1, 1))
    assert cut.make_up_days_between(D(2001, 12, 31), D(2026, 12, 31)) == []
    assert whole.make_up_days_between(D(2001, 12, 31), D(2026, 12, 31)) != []


@pytest.mark.parametrize("year", [1999, 2099, True, "2026"])
def test_official_through_must_be_a_year_the_data_carries(year: object) -> None:
    with pytest.raises(ValueError, match=r"official_through must be a year from 2000 to 20"):
        build_calendar(official_through=year)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"official_through must be a year"):
        ecorules.load_pack("shidian", official_through=year)  # type: ignore[arg-type]


def test_notice_moves_horizon_and_changes_results(cal: WorkingCalendar) -> None:
    noticed = build_calendar(notices=[NOTICE_2027], official_through=WRITTEN_THROUGH)
    assert noticed.horizon_year == 2027
    assert noticed.horizon == D(noticed.horizon_year, 12, 31)
    # Sat 09-25 is at work, 10-01..10-07 are off.
    assert noticed.is_working_day(D(2027, 9, 25))
    assert not cal.is_working_day(D(2027, 9, 25))
    assert not any(noticed.is_working_day(d) for d in days(D(2027, 10, 1), D(2027, 10, 7)))
    assert cal.is_working_day(D(2027, 10, 7))  # a predicted ordinary Thursday
    # Thu 09-23: 24=1, 25(Sat)=2, 27..30=3..6, [10-01..10-07 off], 08=7, 11=8, 12=9, 13=10.
    assert noticed.add_working_days(D(2027, 9, 23), 2) == D(2027, 9, 25)
    assert noticed.add_working_days(D(2027, 9, 23), 10) == D(2027, 10, 13)
    for n in (2, 7, 10):
        assert cal.add_working_days(D(2027, 9, 23), n) != noticed.add_working_days(
            D(2027, 9, 23), n
        )
    # Years without a notice are unaffected.
    assert noticed.add_working_days(D(2024, 9, 27), 10) == D(2024, 10, 16)


def test_notice_replaces_the_years_predicted_holidays(cal: WorkingCalendar) -> None:
    noticed = build_calendar(notices=[NOTICE_2027], official_through=WRITTEN_THROUGH)
    # New Year's Day 2027 (Friday) is predicted off, but the notice lists only October.
    assert not cal.is_working_day(D(2027, 1, 1))
    assert noticed.is_working_day(D(2027, 1, 1))
    predicted_weekdays_off = [
        d for d in cal.rest_days_between(D(2026, 12, 31), D(2027, 12, 31)) if d.weekday() < 5
    ]
    assert predicted_weekdays_off  # something was predicted...
    outside_notice = [d for d in predicted_weekdays_off if d not in NOTICE_2027.holidays]
    assert outside_notice
    assert all(noticed.is_working_day(d) for d in outside_notice)  # ...and is gone


def test_notice_for_an_official_year_replaces_its_data(cal: WorkingCalendar) -> None:
    empty_2024 = CalendarNotice(year=2024, holidays=(), workdays=())
    replaced = build_calendar(notices=[empty_2024], official_through=WRITTEN_THROUGH)
    assert replaced.is_working_day(D(2024, 10, 1))  # a Tuesday, no longer off
    assert not replaced.is_working_day(D(2024, 10, 12))  # a Saturday, no longer at work
    assert replaced.add_working_days(D(2024, 9, 27), 10) == D(2024, 10, 11)
    assert replaced.horizon == cal.horizon  # an older notice never moves the horizon back
    assert replaced.add_working_days(D(2025, 9, 26), 10) == D(2025, 10, 16)


def test_calendar_notice_validation() -> None:
    with pytest.raises(ValidationError):
        CalendarNotice(year=FIRST_YEAR - 1, holidays=())
    with pytest.raises(ValidationError):
        CalendarNotice(year=LAST_YEAR + 1, holidays=())
    with pytest.raises(ValidationError):
        CalendarNotice(year=2027, holidays=(), unknown="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        NOTICE_2027.year = 2028  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# 9. Pack-local days and caching.
# ---------------------------------------------------------------------------------------------
def test_extra_holidays_and_workdays(cal: WorkingCalendar) -> None:
    local_holiday = D(2024, 7, 1)  # a Monday
    local_workday = D(2024, 7, 6)  # a Saturday
    local = build_calendar(extra_holidays=[local_holiday], extra_workdays=[local_workday])
    assert cal.add_working_days(D(2024, 6, 28), 1) == D(2024, 7, 1)
    assert local.add_working_days(D(2024, 6, 28), 1) == D(2024, 7, 2)
    assert cal.add_working_days(D(2024, 7, 5), 1) == D(2024, 7, 8)
    assert local.add_working_days(D(2024, 7, 5), 1) == D(2024, 7, 6)
    assert local.roll_forward(local_holiday) == D(2024, 7, 2)
    assert local.make_up_days_between(D(2024, 6, 30), D(2024, 7, 31)) == [local_workday]


def test_extra_days_override_statutory_ones(cal: WorkingCalendar) -> None:
    # A pack may make a statutory day off a workday, and a make-up workday a day off.
    local = build_calendar(extra_holidays=[D(2024, 10, 12)], extra_workdays=[D(2024, 10, 2)])
    assert local.is_working_day(D(2024, 10, 2))
    assert not local.is_working_day(D(2024, 10, 12))
    assert local.add_working_days(D(2024, 10, 1), 1) == D(2024, 10, 2)
    assert local.add_working_days(D(2024, 10, 11), 1) == D(2024, 10, 14)
    assert cal.add_working_days(D(2024, 10, 11), 1) == D(2024, 10, 12)


def test_build_calendar_is_cached() -> None:
    assert build_calendar() is build_calendar()
    a = build_calendar(extra_holidays=[D(2024, 7, 1), D(2024, 7, 2)])
    b = build_calendar(extra_holidays=(D(2024, 7, 2), D(2024, 7, 1), D(2024, 7, 1)))
    c = build_calendar(extra_holidays={D(2024, 7, 1), D(2024, 7, 2)})
    assert a is b is c
    assert a is not build_calendar()
    assert a is not build_calendar(extra_workdays=[D(2024, 7, 1), D(2024, 7, 2)])
    same_notice = CalendarNotice(**NOTICE_2027.model_dump())
    assert build_calendar(notices=[NOTICE_2027]) is build_calendar(notices=(same_notice,))


# ---------------------------------------------------------------------------------------------
# 10. The span.
# ---------------------------------------------------------------------------------------------
def test_out_of_span(cal: WorkingCalendar) -> None:
    assert issubclass(OutOfSpan, ValueError)
    before, after = SPAN_START - timedelta(days=1), SPAN_END + timedelta(days=1)
    assert (SPAN_START.year, SPAN_END.year) == (FIRST_YEAR, LAST_YEAR) == (2000, 2060)
    for bad in (before, after, D(1999, 6, 1), D(2070, 1, 1)):
        with pytest.raises(OutOfSpan):
            cal.is_working_day(bad)
        with pytest.raises(OutOfSpan):
            cal.add_working_days(bad, 1)
        with pytest.raises(OutOfSpan):
            cal.roll_forward(bad)
    with pytest.raises(OutOfSpan):
        cal.working_days_between(before, D(2000, 1, 10))
    with pytest.raises(OutOfSpan):
        cal.working_days_between(D(2060, 1, 1), after)
    # The edges themselves are covered; running off the end is OutOfSpan too.
    cal.is_working_day(SPAN_START)
    cal.is_working_day(SPAN_END)
    assert cal.add_working_days(SPAN_START, 1) == D(2000, 1, 4)  # 01-01..03 New Year off
    with pytest.raises(OutOfSpan):
        cal.add_working_days(SPAN_END, 1)
    with pytest.raises(ValueError):
        cal.add_working_days(D(2060, 12, 1), 60)


def test_add_working_days_rejects_non_positive_n(cal: WorkingCalendar) -> None:
    # Regression: n = 0 at the span's start used to wrap around the workday array and
    # return 2060-12-31.
    for n in (0, -1):
        with pytest.raises(ValueError):
            cal.add_working_days(SPAN_START, n)
        with pytest.raises(ValueError):
            cal.add_working_days(date(2024, 9, 27), n)


# ---------------------------------------------------------------------------------------------
# 11. Recurrences.
# ---------------------------------------------------------------------------------------------
def test_yearly_recurrence_on_fixed_dates() -> None:
    occ = Occurrences("FREQ=YEARLY;BYMONTH=5,11;BYMONTHDAY=6")
    assert occ.next_on_or_after(D(2024, 5, 7)) == D(2024, 11, 6)
    assert occ.next_on_or_after(D(2024, 5, 6)) == D(2024, 5, 6)
    assert occ.previous_before(D(2024, 5, 6)) == D(2023, 11, 6)
    assert occ.previous_before(D(2024, 5, 7)) == D(2024, 5, 6)
    dates = occ.dates()
    assert len(occ) == len(dates) == 2 * (LAST_YEAR - FIRST_YEAR + 1)
    assert dates[0] == D(2000, 5, 6) and dates[-1] == D(2060, 11, 6)
    assert dates[occ.index_on_or_after(D(2024, 5, 7))] == D(2024, 11, 6)
    assert occ.index_on_or_after(D(2024, 5, 6)) == occ.index_on_or_after(D(2023, 11, 7))
    assert occ.previous_before(D(2000, 5, 6)) is None
    assert occ.next_on_or_after(D(2060, 11, 7)) is None
    assert occ.index_on_or_after(D(2060, 11, 7)) == len(occ)


def test_monthly_recurrence_on_month_ends() -> None:
    occ = Occurrences("FREQ=MONTHLY;BYMONTHDAY=-1")
    dates = occ.dates()
    assert len(dates) == 12 * (LAST_YEAR - FIRST_YEAR + 1)
    assert D(2024, 2, 29) in dates and D(2023, 2, 28) in dates and D(2000, 2, 29) in dates
    assert all((d + timedelta(days=1)).day == 1 for d in dates)
    assert occ.next_on_or_after(D(2024, 2, 1)) == D(2024, 2, 29)
    assert occ.next_on_or_after(D(2024, 3, 1)) == D(2024, 3, 31)
    assert occ.previous_before(D(2024, 2, 29)) == D(2024, 1, 31)


def test_half_monthly_recurrence() -> None:
    occ = Occurrences("FREQ=MONTHLY;BYMONTHDAY=15,-1")
    assert len(occ) == 24 * (LAST_YEAR - FIRST_YEAR + 1)
    start = occ.index_on_or_after(D(2024, 1, 1))
    assert occ.dates()[start : start + 6] == [
        D(2024, 1, 15),
        D(2024, 1, 31),
        D(2024, 2, 15),
        D(2024, 2, 29),
        D(2024, 3, 15),
        D(2024, 3, 31),
    ]
    assert occ.next_on_or_after(D(2024, 2, 16)) == D(2024, 2, 29)
    assert occ.next_on_or_after(D(2024, 2, 15)) == D(2024, 2, 15)


def test_occurrences_is_cached() -> None:
    rule = "FREQ=MONTHLY;BYMONTHDAY=-1"
    assert occurrences(rule) is occurrences(rule)
    assert occurrences(rule).dates() == Occurrences(rule).dates()
