"""Every boundary of the core, pinned on both sides and named (issue 20).

Mutation testing found comparisons whose edge no test touched: `<=` could become `<` on the
first and last accepted fact date, `>` could become `>=` on an event dated as_of, and so on,
and the suite stayed green. Each test here sits on one edge: the last value accepted and the
first refused, so moving the comparison by one fails it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules._calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    SPAN_END,
    SPAN_START,
    CalendarNotice,
    OutOfSpan,
    build_calendar,
    occurrences,
    official_horizon_year,
)
from ecorules._checker import MAX_COMBINATIONS, _satisfiable, _worlds
from ecorules._conditions import AllOf, FlagSet, Not
from ecorules._engine import FACT_DATES_FROM, FACT_DATES_UNTIL

from .test_engine_features import DEADLINES, hard
from .test_loader import MINIMAL, write_pack

FACT = {"source": "provincial", "category": "general"}
DAY = timedelta(days=1)


@pytest.fixture()
def tiny(tmp_path: Path) -> ecorules.Pack:
    return ecorules.load_pack(write_pack(tmp_path, MINIMAL))


@pytest.fixture()
def deadlines(tmp_path: Path) -> ecorules.Pack:
    return ecorules.load_pack(write_pack(tmp_path, DEADLINES))


def refused_fields(pack: ecorules.Pack, fact: Mapping[str, Any], as_of: date) -> list[str]:
    with pytest.raises(ecorules.FactError) as caught:
        pack.evaluate(fact, as_of)
    return [p.field for p in caught.value.problems]


# -- the accepted range of fact dates: 2000-01-01 .. 2050-12-31 -------------------------------


def test_fact_date_range_is_the_one_documented() -> None:
    assert (date(2000, 1, 1), date(2050, 12, 31)) == (FACT_DATES_FROM, FACT_DATES_UNTIL)


def test_first_accepted_fact_date_is_accepted_and_the_day_before_refused(
    tiny: ecorules.Pack,
) -> None:
    first = tiny.evaluate({**FACT, "events": {"transferred": "2000-01-01"}}, "2000-01-01")
    # New Year 2000 was Sat..Mon off: the 10th working day after is Mon 2000-01-17.
    assert first.action("submit_plan").due == date(2000, 1, 17)
    assert refused_fields(
        tiny, {**FACT, "events": {"transferred": "1999-12-31"}}, date(2000, 1, 1)
    ) == ["events.transferred"]


def test_last_accepted_fact_date_is_accepted_and_the_day_after_refused(
    tiny: ecorules.Pack,
) -> None:
    last = tiny.evaluate({**FACT, "events": {"transferred": "2050-12-31"}}, "2050-12-31")
    assert last.action("submit_plan").status == "pending"
    assert refused_fields(
        tiny, {**FACT, "events": {"transferred": "2051-01-01"}}, date(2050, 12, 31)
    ) == ["events.transferred"]


def test_as_of_on_the_first_and_last_accepted_day_and_one_beyond(tiny: ecorules.Pack) -> None:
    assert tiny.evaluate(FACT, FACT_DATES_FROM).action("submit_plan").status == "scheduled"
    assert tiny.evaluate(FACT, FACT_DATES_UNTIL).action("submit_plan").status == "scheduled"
    assert refused_fields(tiny, FACT, FACT_DATES_FROM - DAY) == ["as_of"]
    assert refused_fields(tiny, FACT, FACT_DATES_UNTIL + DAY) == ["as_of"]


@pytest.mark.parametrize(
    ("deadline", "accepted"),
    [("1999-12-31", False), ("2000-01-01", True), ("2050-12-31", True), ("2051-01-01", False)],
)
def test_date_attr_on_each_edge_of_the_range(
    deadlines: ecorules.Pack, deadline: str, accepted: bool
) -> None:
    fact = hard({"deadline": deadline})
    if accepted:
        decision = deadlines.evaluate(fact, "2050-12-31")
        assert decision.action("rectify").due == date.fromisoformat(deadline)
    else:
        assert refused_fields(deadlines, fact, date(2050, 12, 31)) == ["attrs.deadline"]


@pytest.mark.parametrize(
    ("transferred", "accepted"),
    [("1999-12-31", False), ("2000-01-01", True), ("2050-12-31", True), ("2051-01-01", False)],
)
def test_event_on_each_edge_of_the_range_with_attrs(
    deadlines: ecorules.Pack, transferred: str, accepted: bool
) -> None:
    # A fact with attrs is checked field by field (CompiledPack._check_slowly), not by the
    # quick test for plain facts: the same edges hold there.
    fact = hard({"deadline": "2050-12-31"}, {"transferred": transferred})
    if accepted:
        decision = deadlines.evaluate(fact, "2050-12-31")
        assert decision.action("rectify").due == date(2050, 12, 31)
    else:
        assert refused_fields(deadlines, fact, date(2050, 12, 31)) == ["events.transferred"]


# -- an event dated on as_of has happened; the day after has not ------------------------------


def test_event_on_the_as_of_day_counts_as_happened(tiny: ecorules.Pack) -> None:
    events = {"transferred": "2024-10-08", "plan_submitted": "2024-10-15"}
    on_the_day = tiny.evaluate({**FACT, "events": events}, "2024-10-15")
    assert on_the_day.action("submit_plan").status == "done"
    assert on_the_day.action("submit_plan").done_on == date(2024, 10, 15)
    assert "event_after_as_of" not in on_the_day.warning_codes


def test_event_the_day_after_as_of_is_not_yet_happened(tiny: ecorules.Pack) -> None:
    events = {"transferred": "2024-10-08", "plan_submitted": "2024-10-16"}
    day_before = tiny.evaluate({**FACT, "events": events}, "2024-10-15")
    assert day_before.action("submit_plan").status == "pending"
    assert day_before.warning_codes == ("event_after_as_of", "responsible_undeclared")
    assert day_before.warnings[0].message.endswith(": plan_submitted")


def test_the_notice_names_only_events_after_as_of_not_one_on_it(tiny: ecorules.Pack) -> None:
    events = {"transferred": "2024-10-15", "plan_submitted": "2024-10-16"}
    decision = tiny.evaluate({**FACT, "events": events}, "2024-10-15")
    assert decision.warnings[0].message == (
        "events dated after as_of are treated as not yet happened: plan_submitted"
    )
    assert decision.action("submit_plan").due == date(2024, 10, 29)


# -- the calendar horizon: a due date on its last day is official, the day after is not -------

# Host notices through 2030 (each giving New Year's Day off, in order from the installed data's
# last year) move the horizon to Tue 2030-12-31 whatever year the `holidays` data reaches;
# 10 working days after Tue 2030-12-17 is that day, after 12-18 it is Thu 2031-01-02.
NOTICES_TO_2030 = [
    CalendarNotice(year=y, holidays=(date(y, 1, 1),))
    for y in range(official_horizon_year() + 1, 2031)
]
ON_HORIZON = {"transferred": "2030-12-17"}
PAST_HORIZON = {"transferred": "2030-12-18"}


@pytest.mark.skipif(official_horizon_year() >= 2030, reason="the data already reaches 2030")
@pytest.mark.parametrize(
    ("text", "flags"),
    # With the flag, DEADLINES's reminder escalates `rectify`: the plan runs in escalation
    # order (CompiledPack._escalating), a separate loop with its own horizon check.
    [(MINIMAL, []), (DEADLINES, ["hard_to_fix_short_term"])],
    ids=["plain", "escalating"],
)
def test_due_on_the_horizons_last_day_and_the_day_after(
    tmp_path: Path, text: str, flags: list[str]
) -> None:
    pack = ecorules.load_pack(write_pack(tmp_path, text), calendar_notices=NOTICES_TO_2030)
    assert pack.calendar.horizon == date(2030, 12, 31)
    fact = {**FACT, "flags": flags}
    on = pack.evaluate({**fact, "events": ON_HORIZON}, "2030-12-20")
    assert on.action("submit_plan").due == date(2030, 12, 31)
    assert "calendar_beyond_horizon" not in on.warning_codes
    past = pack.evaluate({**fact, "events": PAST_HORIZON}, "2030-12-20")
    assert past.action("submit_plan").due == date(2031, 1, 2)
    assert "calendar_beyond_horizon" in past.warning_codes


def test_a_deadline_attr_past_the_horizon_is_not_a_calendar_estimate(
    deadlines: ecorules.Pack,
) -> None:
    # A deadline the fact states is a date, not a count of working days: no warning.
    decision = deadlines.evaluate(hard({"deadline": "2049-06-30"}), "2030-01-02")
    assert decision.action("rectify").due == date(2049, 6, 30)
    assert "calendar_beyond_horizon" not in decision.warning_codes


# -- the last day of the calendar span (2060-12-31, a Friday and a working day) ---------------


def test_span_is_the_one_documented() -> None:
    assert (date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)) == (SPAN_START, SPAN_END)
    assert (FIRST_YEAR, LAST_YEAR) == (2000, 2060)


def test_first_and_last_day_of_the_span_are_looked_up_and_one_beyond_is_refused() -> None:
    cal = build_calendar()
    assert cal.is_working_day(SPAN_START) is False  # a Saturday
    assert cal.is_working_day(SPAN_END) is True
    for outside in (SPAN_START - DAY, SPAN_END + DAY):
        with pytest.raises(OutOfSpan, match="outside the calendar"):
            cal.is_working_day(outside)


def test_the_last_year_of_the_span_has_its_holidays() -> None:
    # Holidays are read for FIRST_YEAR..LAST_YEAR inclusive: 2060's New Year's Day (a
    # Thursday) and National Day week are days off, like any year's.
    cal = build_calendar()
    assert cal.is_working_day(date(2060, 1, 1)) is False
    assert cal.is_working_day(date(2060, 10, 1)) is False
    assert cal.is_working_day(date(2060, 1, 2)) is True


def test_counting_onto_the_last_working_day_of_the_span_and_past_it() -> None:
    cal = build_calendar()
    assert cal.add_working_days(date(2060, 12, 30), 1) == SPAN_END
    assert cal.add_working_days(date(2060, 12, 24), 5) == SPAN_END  # over the last weekend
    with pytest.raises(OutOfSpan, match="past 2060"):
        cal.add_working_days(date(2060, 12, 30), 2)
    with pytest.raises(OutOfSpan, match="past 2060"):
        cal.add_working_days(SPAN_END, 1)
    assert cal.working_days_between(date(2060, 12, 24), SPAN_END) == 5


def test_rolling_forward_at_the_end_of_the_span() -> None:
    cal = build_calendar()
    assert cal.roll_forward(SPAN_END) == SPAN_END
    assert cal.roll_forward(date(2060, 12, 25)) == date(2060, 12, 27)
    # With the last day made a holiday there is no working day left to roll onto.
    closed = build_calendar(extra_holidays=[SPAN_END])
    assert closed.roll_forward(date(2060, 12, 30)) == date(2060, 12, 30)
    with pytest.raises(OutOfSpan, match="no working day after 2060-12-31"):
        closed.roll_forward(SPAN_END)


def test_recurrence_on_the_last_day_of_the_span_and_after_it() -> None:
    yearly = occurrences("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31")
    assert len(yearly) == LAST_YEAR - FIRST_YEAR + 1
    assert yearly.next_on_or_after(SPAN_END) == SPAN_END
    assert yearly.next_on_or_after(SPAN_END + DAY) is None
    assert yearly.previous_before(SPAN_END) == date(LAST_YEAR - 1, 12, 31)
    assert yearly.previous_before(SPAN_END + DAY) == SPAN_END
    assert yearly.next_on_or_after(SPAN_START - DAY) == date(FIRST_YEAR, 12, 31)


def test_a_notice_for_the_last_year_of_the_span_is_accepted_and_the_next_refused() -> None:
    assert CalendarNotice(year=LAST_YEAR, holidays=()).year == LAST_YEAR
    assert CalendarNotice(year=FIRST_YEAR, holidays=()).year == FIRST_YEAR
    for year in (FIRST_YEAR - 1, LAST_YEAR + 1):
        with pytest.raises(ValueError, match="year"):
            CalendarNotice(year=year, holidays=())


# -- the checker's combination cap: exactly MAX_COMBINATIONS is still analysed ----------------


def _contradiction(n_flags: int) -> AllOf:
    """Every one of n flags set, and the first not set: never true."""
    flags = [FlagSet(flag=f"f{i:02d}") for i in range(n_flags)]
    return AllOf(all=[*flags, Not.model_validate({"not": flags[0]})])


def test_combination_cap_at_exactly_the_limit_is_analysed() -> None:
    assert MAX_COMBINATIONS == 2**12
    at_limit = _contradiction(12)  # 2**12 flag settings × one sector (none)
    worlds = _worlds([at_limit])
    assert worlds is not None
    assert sum(1 for _ in worlds) == MAX_COMBINATIONS
    assert _satisfiable(at_limit) is False


def test_combination_cap_one_flag_over_the_limit_gives_up_and_assumes_satisfiable() -> None:
    over = _contradiction(13)
    assert _worlds([over]) is None
    assert _satisfiable(over) is True  # cannot tell: never reports a rule as dead by guessing


def test_worlds_set_each_flag_both_ways() -> None:
    worlds = list(_worlds([_contradiction(2)]) or ())
    assert sorted(sorted(w.flags) for w in worlds) == [
        [],
        ["f00"],
        ["f00", "f01"],
        ["f01"],
    ]


# -- provenance follows the document kind ------------------------------------------------------


def test_policy_pack_decisions_are_provisions(tiny: ecorules.Pack) -> None:
    decision = tiny.evaluate({**FACT, "events": {"transferred": "2024-10-08"}}, "2024-10-15")
    assert decision.provenance == "provision"
    assert {a.provenance for a in decision.actions} == {"provision"}


def test_report_pack_decisions_are_reported_practice(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  document: source.txt\n", "  document: source.txt\n  document_kind: report\n"
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    decision = pack.evaluate({**FACT, "events": {"transferred": "2024-10-08"}}, "2024-10-15")
    assert decision.provenance == "reported"
    # An action's provenance is its rule's own (a plain rule is a provision even here).
    assert {a.provenance for a in decision.actions} == {"provision"}


def test_bundled_packs_provenance_by_document_kind() -> None:
    yantai = ecorules.load_pack("yantai")
    fact = {"kind": "complaint", "source": "municipal_hotline"}
    assert yantai.evaluate(fact, "2024-10-15").provenance == "reported"
    shidian = ecorules.load_pack("shidian")
    assert shidian.evaluate(FACT, "2024-10-15").provenance == "provision"
