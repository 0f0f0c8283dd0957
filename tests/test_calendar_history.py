"""The working-day calendar checked against the State Council's holiday notices, 2004–2018.

``tests/test_calendar.py`` pins ``ecorules._calendar`` to an independent, hand-kept reading of
the notices for 2019–2026. Deadlines for older events (look-back reviews, cases transferred
years ago, reports on past rectification) rest on the same calendar, and its data for those
years comes only from the ``holidays`` library. This module extends the independent reading
back to 2004, so that a wrong or changed upstream table for an old year shows up here rather
than as a wrong historical deadline.

Where the data comes from: typed in by hand from the State Council General Office's annual
notices (国务院办公厅关于××年部分节假日安排的通知), NOT derived from the ``holidays`` package
(which is what is under test). For each notice: every holiday block (放假, weekend days
included) and every make-up workday (调休上班). The main changes over the period:

* 2004–2007 (全国年节及纪念日放假办法 as amended 1999): 10 statutory days — New Year 1,
  Spring Festival 3 (初一–初三), May Day 3, National Day 3; May Day and National Day were
  7-day "golden weeks" (黄金周), two weekend days shifted into each.
* 2008 onwards (2007 amendment): 11 statutory days — May Day cut to 1; Qingming, Dragon Boat
  and Mid-Autumn 1 day each; Spring Festival 3 days from 除夕 to 初二.
* 2014 onwards (2013 amendment): Spring Festival is 初一–初三 again (still 3 days).
* 2015: a one-off national holiday on Thursday 09-03 for the 70th anniversary of the victory
  in the War of Resistance (抗战胜利70周年), 09-03..09-05 off, Sunday 09-06
  at work. Mid-Autumn fell on Sunday 09-27; its weekday in lieu was folded into National Day
  (10-01..10-07 off with only Saturday 10-10 at work).

A notice's New Year arrangement can reach back into the previous December (e.g. the 2012
notice: 2011-12-31, a Saturday, at work). Dates are therefore kept by notice below, and the
per-year checks regroup them by the calendar year they fall in. The 2019 notice's New Year
arrangement reaches back into 2018 (2018-12-30..2019-01-01 off, Saturday 2018-12-29 at work);
``test_calendar.py`` checks 2019 only from 2019-01-01, so that December part is kept here.
"""

from __future__ import annotations

from datetime import date

import pytest

from ecorules._calendar import WorkingCalendar, build_calendar

from .test_calendar import D, blocks

FIRST, LAST = 2004, 2018


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return build_calendar()


# (holiday blocks, make-up workdays, statutory days the notice grants) for each notice.
HISTORY: dict[int, tuple[list[date], list[date], int]] = {
    2004: (
        blocks(
            (D(2004, 1, 1), D(2004, 1, 1)),  # New Year: Thursday only
            (D(2004, 1, 22), D(2004, 1, 28)),  # Spring Festival (初一 Thu 01-22)
            (D(2004, 5, 1), D(2004, 5, 7)),  # May Day golden week
            (D(2004, 10, 1), D(2004, 10, 7)),  # National Day golden week
        ),
        [
            D(2004, 1, 17),
            D(2004, 1, 18),
            D(2004, 5, 8),
            D(2004, 5, 9),
            D(2004, 10, 9),
            D(2004, 10, 10),
        ],
        10,
    ),
    2005: (
        blocks(
            (D(2005, 1, 1), D(2005, 1, 3)),  # Sat 01-01, Monday in lieu
            (D(2005, 2, 9), D(2005, 2, 15)),  # 初一 Wed 02-09
            (D(2005, 5, 1), D(2005, 5, 7)),
            (D(2005, 10, 1), D(2005, 10, 7)),
        ),
        [
            D(2005, 2, 5),
            D(2005, 2, 6),
            D(2005, 4, 30),
            D(2005, 5, 8),
            D(2005, 10, 8),
            D(2005, 10, 9),
        ],
        10,
    ),
    2006: (
        blocks(
            (D(2006, 1, 1), D(2006, 1, 3)),  # Sun 01-01
            (D(2006, 1, 29), D(2006, 2, 4)),  # 初一 Sun 01-29
            (D(2006, 5, 1), D(2006, 5, 7)),
            (D(2006, 10, 1), D(2006, 10, 7)),
        ),
        [
            D(2005, 12, 31),  # Saturday before New Year 2006
            D(2006, 1, 28),
            D(2006, 2, 5),
            D(2006, 4, 29),
            D(2006, 4, 30),
            D(2006, 9, 30),
            D(2006, 10, 8),
        ],
        10,
    ),
    2007: (
        blocks(
            (D(2007, 1, 1), D(2007, 1, 3)),  # Mon–Wed
            (D(2007, 2, 18), D(2007, 2, 24)),  # 初一 Sun 02-18
            (D(2007, 5, 1), D(2007, 5, 7)),
            (D(2007, 10, 1), D(2007, 10, 7)),
        ),
        [
            D(2006, 12, 30),  # the whole weekend before New Year 2007 at work
            D(2006, 12, 31),
            D(2007, 2, 17),
            D(2007, 2, 25),
            D(2007, 4, 28),
            D(2007, 4, 29),
            D(2007, 9, 29),
            D(2007, 9, 30),
        ],
        10,
    ),
    2008: (
        blocks(
            (D(2007, 12, 30), D(2008, 1, 1)),
            (D(2008, 2, 6), D(2008, 2, 12)),  # 除夕 Wed 02-06
            (D(2008, 4, 4), D(2008, 4, 6)),  # first Qingming holiday
            (D(2008, 5, 1), D(2008, 5, 3)),  # May Day now 1 statutory day
            (D(2008, 6, 7), D(2008, 6, 9)),  # Dragon Boat Sun 06-08
            (D(2008, 9, 13), D(2008, 9, 15)),  # Mid-Autumn Sun 09-14
            (D(2008, 9, 29), D(2008, 10, 5)),
        ),
        [
            D(2007, 12, 29),
            D(2008, 2, 2),
            D(2008, 2, 3),
            D(2008, 5, 4),
            D(2008, 9, 27),
            D(2008, 9, 28),
        ],
        11,
    ),
    2009: (
        blocks(
            (D(2009, 1, 1), D(2009, 1, 3)),
            (D(2009, 1, 25), D(2009, 1, 31)),  # 除夕 Sun 01-25
            (D(2009, 4, 4), D(2009, 4, 6)),
            (D(2009, 5, 1), D(2009, 5, 3)),
            (D(2009, 5, 28), D(2009, 5, 30)),
            (D(2009, 10, 1), D(2009, 10, 8)),  # National Day + Mid-Autumn (Sat 10-03)
        ),
        [
            D(2009, 1, 4),
            D(2009, 1, 24),
            D(2009, 2, 1),
            D(2009, 5, 31),
            D(2009, 9, 27),
            D(2009, 10, 10),
        ],
        11,
    ),
    2010: (
        blocks(
            (D(2010, 1, 1), D(2010, 1, 3)),
            (D(2010, 2, 13), D(2010, 2, 19)),  # 除夕 Sat 02-13
            (D(2010, 4, 3), D(2010, 4, 5)),
            (D(2010, 5, 1), D(2010, 5, 3)),
            (D(2010, 6, 14), D(2010, 6, 16)),
            (D(2010, 9, 22), D(2010, 9, 24)),
            (D(2010, 10, 1), D(2010, 10, 7)),
        ),
        [
            D(2010, 2, 20),
            D(2010, 2, 21),
            D(2010, 6, 12),
            D(2010, 6, 13),
            D(2010, 9, 19),
            D(2010, 9, 25),
            D(2010, 9, 26),
            D(2010, 10, 9),
        ],
        11,
    ),
    2011: (
        blocks(
            (D(2011, 1, 1), D(2011, 1, 3)),
            (D(2011, 2, 2), D(2011, 2, 8)),  # 除夕 Wed 02-02
            (D(2011, 4, 3), D(2011, 4, 5)),
            (D(2011, 4, 30), D(2011, 5, 2)),
            (D(2011, 6, 4), D(2011, 6, 6)),
            (D(2011, 9, 10), D(2011, 9, 12)),
            (D(2011, 10, 1), D(2011, 10, 7)),
        ),
        [
            D(2011, 1, 30),
            D(2011, 2, 12),
            D(2011, 4, 2),
            D(2011, 10, 8),
            D(2011, 10, 9),
        ],
        11,
    ),
    2012: (
        blocks(
            (D(2012, 1, 1), D(2012, 1, 3)),
            (D(2012, 1, 22), D(2012, 1, 28)),  # 除夕 Sun 01-22
            (D(2012, 4, 2), D(2012, 4, 4)),
            (D(2012, 4, 29), D(2012, 5, 1)),
            (D(2012, 6, 22), D(2012, 6, 24)),  # Dragon Boat Sat 06-23
            (D(2012, 9, 30), D(2012, 10, 7)),  # Mid-Autumn (Sun 09-30) + National Day
        ),
        [
            D(2011, 12, 31),
            D(2012, 1, 21),
            D(2012, 1, 29),
            D(2012, 3, 31),
            D(2012, 4, 1),
            D(2012, 4, 28),
            D(2012, 9, 29),
        ],
        11,
    ),
    2013: (
        blocks(
            (D(2013, 1, 1), D(2013, 1, 3)),
            (D(2013, 2, 9), D(2013, 2, 15)),  # 除夕 Sat 02-09
            (D(2013, 4, 4), D(2013, 4, 6)),
            (D(2013, 4, 29), D(2013, 5, 1)),
            (D(2013, 6, 10), D(2013, 6, 12)),
            (D(2013, 9, 19), D(2013, 9, 21)),
            (D(2013, 10, 1), D(2013, 10, 7)),
        ),
        [
            D(2013, 1, 5),
            D(2013, 1, 6),
            D(2013, 2, 16),
            D(2013, 2, 17),
            D(2013, 4, 7),
            D(2013, 4, 27),
            D(2013, 4, 28),
            D(2013, 6, 8),
            D(2013, 6, 9),
            D(2013, 9, 22),
            D(2013, 9, 29),
            D(2013, 10, 12),
        ],
        11,
    ),
    2014: (
        blocks(
            (D(2014, 1, 1), D(2014, 1, 1)),
            (D(2014, 1, 31), D(2014, 2, 6)),  # 初一 Fri 01-31 (除夕 no longer off)
            (D(2014, 4, 5), D(2014, 4, 7)),
            (D(2014, 5, 1), D(2014, 5, 3)),
            (D(2014, 5, 31), D(2014, 6, 2)),
            (D(2014, 9, 6), D(2014, 9, 8)),
            (D(2014, 10, 1), D(2014, 10, 7)),
        ),
        [
            D(2014, 1, 26),
            D(2014, 2, 8),
            D(2014, 5, 4),
            D(2014, 9, 28),
            D(2014, 10, 11),
        ],
        11,
    ),
    2015: (
        blocks(
            (D(2015, 1, 1), D(2015, 1, 3)),
            (D(2015, 2, 18), D(2015, 2, 24)),
            (D(2015, 4, 4), D(2015, 4, 6)),
            (D(2015, 5, 1), D(2015, 5, 3)),
            (D(2015, 6, 20), D(2015, 6, 22)),
            (D(2015, 9, 3), D(2015, 9, 5)),  # 抗战胜利70周年 (one-off)
            (D(2015, 9, 27), D(2015, 9, 27)),  # Mid-Autumn, Sunday
            (D(2015, 10, 1), D(2015, 10, 7)),
        ),
        [
            D(2015, 1, 4),
            D(2015, 2, 15),
            D(2015, 2, 28),
            D(2015, 9, 6),
            D(2015, 10, 10),
        ],
        12,  # 11 + the one-off 09-03
    ),
    2016: (
        blocks(
            (D(2016, 1, 1), D(2016, 1, 3)),
            (D(2016, 2, 7), D(2016, 2, 13)),
            (D(2016, 4, 2), D(2016, 4, 4)),
            (D(2016, 4, 30), D(2016, 5, 2)),
            (D(2016, 6, 9), D(2016, 6, 11)),
            (D(2016, 9, 15), D(2016, 9, 17)),
            (D(2016, 10, 1), D(2016, 10, 7)),
        ),
        [
            D(2016, 2, 6),
            D(2016, 2, 14),
            D(2016, 6, 12),
            D(2016, 9, 18),
            D(2016, 10, 8),
            D(2016, 10, 9),
        ],
        11,
    ),
    2017: (
        blocks(
            (D(2016, 12, 31), D(2017, 1, 2)),
            (D(2017, 1, 27), D(2017, 2, 2)),
            (D(2017, 4, 2), D(2017, 4, 4)),
            (D(2017, 4, 29), D(2017, 5, 1)),
            (D(2017, 5, 28), D(2017, 5, 30)),
            (D(2017, 10, 1), D(2017, 10, 8)),  # National Day + Mid-Autumn (Wed 10-04)
        ),
        [
            D(2017, 1, 22),
            D(2017, 2, 4),
            D(2017, 4, 1),
            D(2017, 5, 27),
            D(2017, 9, 30),
        ],
        11,
    ),
    2018: (
        blocks(
            (D(2017, 12, 30), D(2018, 1, 1)),
            (D(2018, 2, 15), D(2018, 2, 21)),
            (D(2018, 4, 5), D(2018, 4, 7)),
            (D(2018, 4, 29), D(2018, 5, 1)),
            (D(2018, 6, 16), D(2018, 6, 18)),
            (D(2018, 9, 22), D(2018, 9, 24)),
            (D(2018, 10, 1), D(2018, 10, 7)),
        ),
        [
            D(2018, 2, 11),
            D(2018, 2, 24),
            D(2018, 4, 8),
            D(2018, 4, 28),
            D(2018, 9, 29),
            D(2018, 9, 30),
        ],
        11,
    ),
}

# The 2019 notice's New Year arrangement, as far as it falls in 2018.
NEW_YEAR_2019_IN_2018: tuple[list[date], list[date]] = (
    blocks((D(2018, 12, 30), D(2018, 12, 31))),
    [D(2018, 12, 29)],
)


def _all_days_off() -> list[date]:
    out = [d for off, _, _ in HISTORY.values() for d in off]
    return out + NEW_YEAR_2019_IN_2018[0]


def _all_make_up_days() -> list[date]:
    out = [d for _, make_up, _ in HISTORY.values() for d in make_up]
    return out + NEW_YEAR_2019_IN_2018[1]


def test_history_table_is_well_formed() -> None:
    off, make_up = _all_days_off(), _all_make_up_days()
    assert all(d.weekday() >= 5 for d in make_up), "a make-up workday is a Sat or Sun"
    assert len(set(off)) == len(off) and len(set(make_up)) == len(make_up)
    assert not set(off) & set(make_up)
    for year in HISTORY:
        holidays_off, _, _ = HISTORY[year]
        for fixed in (D(year, 1, 1), D(year, 5, 1), D(year, 10, 1)):
            assert fixed in holidays_off, f"{fixed} is missing from the {year} notice"


@pytest.mark.parametrize("year", sorted(HISTORY))
def test_each_notice_balances(year: int) -> None:
    """A notice's weekdays off are its statutory days plus one per make-up workday.

    Statutory days falling on a weekend are given back on a weekday (全国年节及纪念日放假办法),
    and every other weekday off is paid for by a weekend day at work; so the count is a check
    on the hand-typed table itself, independent of the calendar under test.
    """
    holidays_off, make_up, statutory = HISTORY[year]
    weekdays_off = [d for d in holidays_off if d.weekday() < 5]
    assert len(weekdays_off) == statutory + len(make_up)


def test_golden_weeks_until_2007_and_the_2008_reform() -> None:
    for year in range(FIRST, 2008):
        off = set(HISTORY[year][0])
        assert all(D(year, 5, day) in off for day in range(1, 8)), f"{year} May Day golden week"
        assert all(D(year, 10, day) in off for day in range(1, 8)), f"{year} National Day week"
        assert not any(d.month in (4, 6, 9) for d in off), "no Qingming/Dragon Boat/Mid-Autumn"
    for year in range(2008, LAST + 1):
        off = set(HISTORY[year][0])
        assert not all(D(year, 5, day) in off for day in range(1, 8)), f"{year}: May Day cut"
        assert any(d.month == 4 and d.day <= 7 for d in off), f"{year}: Qingming"


@pytest.mark.parametrize("year", range(FIRST, LAST + 1))
def test_make_up_workdays_match_the_notices(cal: WorkingCalendar, year: int) -> None:
    make_up = sorted(d for d in _all_make_up_days() if d.year == year)
    for day in make_up:
        assert cal.is_working_day(day), f"{day} is a make-up workday (调休上班)"
    # And the calendar knows of no other weekend workdays that year.
    assert cal.make_up_days_between(D(year - 1, 12, 31), D(year, 12, 31)) == make_up


@pytest.mark.parametrize("year", range(FIRST, LAST + 1))
def test_holiday_days_match_the_notices(cal: WorkingCalendar, year: int) -> None:
    holidays_off = sorted(d for d in _all_days_off() if d.year == year)
    for day in holidays_off:
        assert not cal.is_working_day(day), f"{day} is a day off (放假)"
    # And the calendar knows of no other weekday rest days in that year.
    weekdays_off = [d for d in holidays_off if d.weekday() < 5]
    rest = cal.rest_days_between(D(year - 1, 12, 31), D(year, 12, 31))
    assert [d for d in rest if d.weekday() < 5] == weekdays_off


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # New Year 2006: Sat 2005-12-31 at work, 01-01..01-03 off.
        # Fri 2005-12-30: 31(Sat)=1, [01..03 off], 2006-01-04=2.
        (D(2005, 12, 30), 1, D(2005, 12, 31)),
        (D(2005, 12, 30), 2, D(2006, 1, 4)),
        # New Year 2007: the whole weekend 2006-12-30/31 at work, 01-01..01-03 off.
        # Fri 2006-12-29: 30(Sat)=1, 31(Sun)=2, [01..03 off], 2007-01-04=3.
        (D(2006, 12, 29), 2, D(2006, 12, 31)),
        (D(2006, 12, 29), 3, D(2007, 1, 4)),
        # Golden week 2007: Sat 09-29 and Sun 09-30 at work, 10-01..10-07 off.
        # Fri 09-28: 29=1, 30=2, [01..07 off], 10-08=3.
        (D(2007, 9, 28), 2, D(2007, 9, 30)),
        (D(2007, 9, 28), 3, D(2007, 10, 8)),
        # National Day + Mid-Autumn 2009: Sun 09-27 and Sat 10-10 at work, 10-01..10-08 off.
        # Fri 09-25: 27=1, 28..30=2..4, [01..08 off], 09(Fri)=5, 10(Sat)=6, 12=7.
        (D(2009, 9, 25), 4, D(2009, 9, 30)),
        (D(2009, 9, 25), 5, D(2009, 10, 9)),
        (D(2009, 9, 25), 7, D(2009, 10, 12)),
        # Qingming 2012: Sat 03-31 and Sun 04-01 at work, 04-02..04-04 off.
        # Fri 03-30: 31=1, 01=2, [02..04 off], 05=3.
        (D(2012, 3, 30), 3, D(2012, 4, 5)),
        # 9-3 2015: 09-03..09-05 off, Sun 09-06 at work.
        # Wed 09-02: [03..05 off], 06(Sun)=1, 07=2.
        (D(2015, 9, 2), 1, D(2015, 9, 6)),
        (D(2015, 9, 2), 2, D(2015, 9, 7)),
        # National Day 2015: only Sat 10-10 at work (Mid-Autumn's day in lieu is inside).
        # Wed 09-30: [01..07 off], 08=1, 09=2, 10(Sat)=3, 12=4.
        (D(2015, 9, 30), 3, D(2015, 10, 10)),
        (D(2015, 9, 30), 4, D(2015, 10, 12)),
        # New Year 2019 reaches into 2018: Sat 12-29 at work, 12-30..01-01 off.
        # Fri 2018-12-28: 29=1, [30..01 off], 2019-01-02=2.
        (D(2018, 12, 28), 2, D(2019, 1, 2)),
    ],
)
def test_historic_windows(cal: WorkingCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected
    assert cal.working_days_between(start, expected) == n
