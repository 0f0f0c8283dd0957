"""The public surface hosts rely on: names, types, inputs accepted, errors raised."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import ecorules
from ecorules import FactError
from ecorules._calendar import official_horizon_year

from .conftest import WRITTEN_THROUGH, release_carrying_a_notice_for

FACT = {
    "id": "SD-2024-017",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2024-09-27"},
}


def test_all_is_sorted_and_complete() -> None:
    assert ecorules.__all__ == sorted(ecorules.__all__)
    assert set(ecorules.__all__) == {
        "Action",
        "BatchError",
        "CalendarError",
        "CalendarIdentity",
        "CalendarNotice",
        "ChainStepState",
        "ComparedFact",
        "Comparison",
        "ComparisonSummary",
        "Decision",
        "Diagnostic",
        "EcorulesError",
        "Fact",
        "FactError",
        "FactChange",
        "FactProblem",
        "Notice",
        "NoticeIdentity",
        "Pack",
        "PackChange",
        "PackError",
        "PackInfo",
        "PackModel",
        "RefusedFact",
        "Report",
        "ReportGroup",
        "StageCount",
        "UnknownPackError",
        "WorkingCalendar",
        "__version__",
        "load_pack",
        "pack_json_schema",
        "packs",
        "read_calendar_notices",
    }
    for name in ecorules.__all__:
        assert hasattr(ecorules, name)


PUBLIC_SUBMODULES = {"spark"}
"""Submodules named in the docs because they need an extra (``ecorules.spark``: pyspark)."""


def test_private_modules_explain_why_they_exist() -> None:
    import ast
    import pkgutil

    for module in pkgutil.iter_modules(ecorules.__path__):
        if module.name == "__main__":
            continue
        assert module.name.startswith("_") or module.name in PUBLIC_SUBMODULES, module.name
        # Read, not imported: a module behind an extra must not need the extra to be checked.
        source = Path(ecorules.__path__[0], f"{module.name}.py").read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(source))
        assert (doc or "").strip(), f"{module.name} has no docstring"


def test_contract_fields(shidian: ecorules.Pack) -> None:
    d = shidian.evaluate(FACT, as_of="2024-10-15")
    assert d.fact_id == "SD-2024-017"
    assert d.responsible_tier == "township"
    assert [a.due for a in d.actions if a.due] == sorted(a.due for a in d.actions if a.due)
    undated = [a.id for a in d.actions if a.due is None]
    assert undated == sorted(undated)
    assert d.actions[-1].due is None
    first = d.action("b_submit_township_plan")
    assert (first.actor, first.tier, first.recipient, first.due, first.status, first.basis) == (
        "sd_township_gov",
        "township",
        "sd_lead_dept",
        date(2024, 10, 16),
        "pending",
        "二(一)",
    )
    steps = d.closure_chain
    assert [s.tier for s in steps] == ["township", "county", "county", "municipal"]
    assert not any(s.done for s in steps)
    dumped = d.model_dump(mode="json")
    assert dumped["as_of"] == "2024-10-15"
    assert dumped["actions"][0]["due"] == d.actions[0].due.isoformat()
    assert d.model_dump()["as_of"] == date(2024, 10, 15)


def test_overdue_from_the_day_after_due(shidian: ecorules.Pack) -> None:
    on_due = shidian.evaluate(FACT, "2024-10-16").action("b_submit_township_plan")
    after = shidian.evaluate(FACT, "2024-10-17").action("b_submit_township_plan")
    assert (on_due.status, after.status) == ("pending", "overdue")


def test_fact_model_and_mapping_agree(shidian: ecorules.Pack) -> None:
    fact = ecorules.Fact.model_validate(FACT)
    assert shidian.evaluate(fact, "2024-10-15") == shidian.evaluate(FACT, "2024-10-15")


@pytest.mark.parametrize(
    "as_of",
    [
        "2024-10-15",
        date(2024, 10, 15),
        datetime(2024, 10, 15, 9, 30),
        datetime(2024, 10, 14, 20, 0, tzinfo=UTC),  # 04:00 on the 15th in Shanghai
        "2024-10-15T09:30:00+08:00",
        "2024-10-14T16:00:00Z",
    ],
)
def test_accepted_date_forms(shidian: ecorules.Pack, as_of: object) -> None:
    assert shidian.evaluate(FACT, as_of).as_of == date(2024, 10, 15)


def test_event_datetime_is_read_in_shanghai(shidian: ecorules.Pack) -> None:
    fact = dict(FACT, events={"transferred": "2024-09-26T17:00:00-07:00"})  # 09-27 08:00 CST
    d = shidian.evaluate(fact, "2024-10-15")
    assert d.action("b_submit_township_plan").due == date(2024, 10, 16)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"source": "hotline_12345"}, "source", "allowed: daily_inspection"),
        ({"category": None}, "category", "needs a category"),
        ({"flags": ["suspected_crme"]}, "flags", "unknown flag"),
        ({"events": {"transfered": "2024-09-27"}}, "events.transfered", "unknown event"),
        ({"events": {"transferred": "2024/09/27"}}, "events.transferred", "ISO 8601"),
        ({"events": {"transferred": "2024-02-30"}}, "events.transferred", "2024-02 has 29 days"),
        ({"events": {"transferred": "2024-13-01"}}, "events.transferred", "from 01 to 12, not 13"),
        ({"events": {"transfered": "2024-09-27"}}, "events.transfered", "mean `transferred`?"),
        ({"events": {"transferred": "1999-12-31"}}, "events.transferred", "2000–2050"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"flags": "suspected_crime"}, "flags", ""),
    ],
)
def test_bad_facts_name_field_value_and_allowed(
    shidian: ecorules.Pack, change: dict, field: str, words: str
) -> None:
    fact = {**FACT, **change}
    before = copy.deepcopy(fact)
    with pytest.raises(FactError) as caught:
        shidian.evaluate(fact, "2024-10-15")
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert fact == before


def test_bad_as_of(shidian: ecorules.Pack) -> None:
    with pytest.raises(FactError) as caught:
        shidian.evaluate(FACT, "15/10/2024")
    assert caught.value.field == "as_of"


def test_not_a_mapping(shidian: ecorules.Pack) -> None:
    with pytest.raises(FactError, match="a fact is a mapping"):
        shidian.evaluate(["provincial"], "2024-10-15")  # type: ignore[arg-type]


def test_pack_validity_warning(shidian: ecorules.Pack) -> None:
    assert "pack_not_in_force" in shidian.evaluate(FACT, "2023-05-16").warning_codes
    assert "pack_not_in_force" not in shidian.evaluate(FACT, "2023-05-17").warning_codes


def test_calendar_horizon_warning_and_host_notice() -> None:
    fact = dict(FACT, events={"transferred": "2026-12-24"})
    pack = ecorules.load_pack("shidian", official_through=WRITTEN_THROUGH)
    d = pack.evaluate(fact, "2026-12-28")
    assert "calendar_beyond_horizon" in d.warning_codes
    assert d.calendar is not None and d.calendar.official_through == WRITTEN_THROUGH
    # A host supplies 2027's notice: New Year's Day off 2027-01-01..03, no make-up days,
    # plus (hypothetically) 2027-01-04 off: the estimate becomes official and moves.
    notice = ecorules.CalendarNotice(
        year=2027,
        holidays=[date(2027, 1, 1) + timedelta(days=i) for i in range(4)],
        workdays=[],
    )
    noticed = ecorules.load_pack(
        "shidian", calendar_notices=[notice], official_through=WRITTEN_THROUGH
    )
    d2 = noticed.evaluate(fact, "2026-12-28")
    assert "calendar_beyond_horizon" not in d2.warning_codes
    due_before = d.action("b_submit_township_plan").due
    due_after = d2.action("b_submit_township_plan").due
    # 10 working days after Thu 2026-12-24: Fri 2027-01-08 without the notice; with 01-04
    # off as well, Mon 2027-01-11.
    assert (due_before, due_after) == (date(2027, 1, 8), date(2027, 1, 11))


def test_a_decision_replays_equal_after_a_release_with_the_next_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/service.md, "Replaying a decision": the decision's calendar says how to load."""
    year = official_horizon_year()
    fact = dict(FACT, events={"transferred": f"{year}-12-24"})  # due in the year after
    as_of = f"{year}-12-28"
    logged = ecorules.load_pack("shidian", calendar_notices=()).evaluate(fact, as_of)
    assert "calendar_beyond_horizon" in logged.warning_codes
    release_carrying_a_notice_for(year + 1, monkeypatch)
    upgraded = ecorules.load_pack("shidian", calendar_notices=()).evaluate(fact, as_of)
    assert "calendar_beyond_horizon" not in upgraded.warning_codes
    assert logged.calendar is not None
    replayed = ecorules.load_pack(
        "shidian", calendar_notices=(), official_through=logged.calendar.official_through
    ).evaluate(fact, as_of)
    # The same decision, but for the warning's text, which names the data as it is now
    # (as calendar.holidays_version would, after a real upgrade).
    assert replayed.decision_id == logged.decision_id
    assert replace(replayed, warnings=logged.warnings) == logged
    (warning,) = replayed.warnings
    assert f"used through {year})" in warning.message


def test_future_events_are_ignored_with_a_warning(shidian: ecorules.Pack) -> None:
    fact = dict(FACT, events={"transferred": "2024-09-27", "plan_submitted": "2024-10-20"})
    d = shidian.evaluate(fact, "2024-10-15")
    assert d.action("b_submit_township_plan").status == "pending"
    assert d.warning_codes == ("event_after_as_of",)


def test_packs_lists_bundled() -> None:
    infos = {info.name: info for info in ecorules.packs()}
    assert infos["shidian"].valid_from == date(2023, 5, 17)
    assert "施甸" in infos["shidian"].jurisdiction


def test_decision_json_schema_is_available() -> None:
    schema = ecorules.Decision.json_schema()
    assert "actions" in schema["properties"]
