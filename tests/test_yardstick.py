"""The benchmark's yardstick (benchmarks/shidian_yardstick.py) decides exactly as the engine.

The yardstick is a hand-written Shidian evaluator; bench_engines.py reports the engine's
speed as a ratio to it, which is only fair while both do the same work. So every field of
every decision must be equal (``==`` on the ``Decision``: actions, statuses, due dates,
chain steps, duties, warnings, ids), and a fact the engine refuses must be refused too — on
the pack's own cases, on the benchmark's whole workload and on generated facts. The
yardstick lives beside the benchmark that uses it (with the workload it is measured on),
so it is imported from benchmarks/ here.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecorules
from ecorules import Decision, FactError
from ecorules._calendar import official_horizon_year
from ecorules._cases import LoadedCase, load_cases

from .conftest import pack_dir
from .strategies import facts_as_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import shidian_yardstick as yardstick
from bench_core import workload

PACK = ecorules.load_pack("shidian")
CASES = load_cases(pack_dir("shidian"), PACK.model)


def outcome(evaluate: Any, fact: Any, as_of: Any) -> Decision | tuple[str, str | None]:
    """The decision, or that the fact was refused and which field was named first."""
    try:
        return evaluate(fact, as_of)  # type: ignore[no-any-return]
    except FactError as exc:
        return ("refused", exc.field)


def differences(engine: Decision, ours: Decision) -> dict[str, tuple[Any, Any]]:
    """Which fields differ, for a readable failure (== on the Decision is what is asserted)."""
    a, b = engine.model_dump(mode="json"), ours.model_dump(mode="json")
    return {k: (a[k], b[k]) for k in a if a[k] != b[k]}


def assert_same(fact: Any, as_of: Any) -> None:
    engine = outcome(PACK.evaluate, fact, as_of)
    ours = outcome(yardstick.evaluate, fact, as_of)
    if isinstance(engine, Decision) and isinstance(ours, Decision):
        assert engine == ours, differences(engine, ours)
    elif isinstance(engine, Decision) or isinstance(ours, Decision):
        pytest.fail(
            f"one refused, the other decided: engine {engine!r:.200}, yardstick {ours!r:.200}"
        )
    else:
        assert engine[0] == ours[0]


@pytest.mark.parametrize("loaded", CASES, ids=[c.name for c in CASES])
def test_every_pack_case_decides_alike(loaded: LoadedCase) -> None:
    case = loaded.case
    if case.want_error is not None:
        # The yardstick names the field the engine names first, as the case asks.
        assert outcome(yardstick.evaluate, case.fact, case.as_of) == (
            "refused",
            case.want_error.field,
        )
    assert_same(case.fact, case.as_of)


def test_the_benchmark_workload_decides_alike() -> None:
    facts = workload(PACK, 20_000)
    mismatched = [
        (fact, as_of)
        for fact, as_of in facts
        if yardstick.evaluate(fact, as_of) != PACK.evaluate(fact, as_of)
    ]
    assert not mismatched, mismatched[:3]


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("as_of", [date(2024, 10, 15), date(2025, 3, 31)])
def test_the_example_ledger_and_problem_decide_alike(as_of: date) -> None:
    lines = (EXAMPLES / "shidian_ledger.jsonl").read_text("utf-8").splitlines()
    facts = [json.loads(line) for line in lines if line.strip()]
    facts.append(yaml.safe_load((EXAMPLES / "shidian_problem.yaml").read_text("utf-8")))
    for fact in facts:
        assert_same(fact, as_of)


def test_a_closed_chain_with_a_gap_and_a_late_plan_warn_alike() -> None:
    """The data-quality warnings, a late plan and the horizon, in one fact (a fixed example
    so a failure here reads without hypothesis)."""
    fact = {
        "id": "Q-1",
        "source": "municipal",
        "category": "key",
        "flags": ["suspected_crime", "perfunctory"],
        "events": {
            "plan_submitted": "2026-12-01",
            "transferred": "2026-12-11",
            "rectified": "2027-01-05",
            "closed": "2026-12-20",
        },
    }
    decision = yardstick.evaluate(fact, "2026-12-30")
    # The 15-working-day window from 12-11 ends in 2027: an estimate until the installed
    # holidays data carries 2027's notice (both evaluators use the installed data).
    beyond = ("calendar_beyond_horizon",) if official_horizon_year() < 2027 else ()
    assert decision.warning_codes == (
        *beyond,
        "closed_with_open_steps",
        "event_after_as_of",
        "event_before_its_cause",
        "event_before_its_cause",
    )
    assert decision.action("b_submit_township_plan").status == "done"
    assert decision == PACK.evaluate(fact, "2026-12-30")


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@SETTINGS
@given(facts_as_of(PACK))
def test_generated_facts_decide_alike(case: tuple[dict[str, Any], date]) -> None:
    fact, as_of = case
    assert_same(fact, as_of)


def _spoiled(fact: dict[str, Any], how: str, where: str) -> dict[str, Any]:
    """The fact with one thing made doubtful: most are refused, some (an aware datetime,
    a padded date, a null list) are valid other spellings."""
    fact = dict(fact)
    events = dict(fact.get("events") or {})
    name = next(iter(events), "transferred")
    day = date.fromisoformat(events.get(name, "2024-09-27"))
    if how == "field":
        fact[where] = "x"
    elif how == "source":
        fact["source"] = where
    elif how == "category":
        fact["category"] = where
    elif how == "drop":
        fact.pop(where, None)
    elif how == "flag":
        fact["flags"] = [*fact.get("flags", []), where]
    elif how == "event":
        events[where] = day.isoformat()
    elif how == "date":
        events[name] = where
    elif how == "aware":
        events[name] = datetime(day.year, day.month, day.day, 20, 30, tzinfo=UTC)
    elif how == "naive":
        events[name] = f"{day.isoformat()}T{where}"
    elif how == "padded":
        events[name] = f" {day.isoformat()} "
    elif how == "old":
        events[name] = (date(2000, 1, 1) - timedelta(days=len(where))).isoformat()
    elif how == "null":
        fact[where] = None
    elif how == "attrs":
        fact["attrs"] = {where: 1}
    elif how == "id":
        fact["id"] = 7
    if how not in ("null", "drop") or where != "events":
        fact["events"] = events
    return fact


SPOILS = st.sampled_from(
    [
        "field",
        "source",
        "category",
        "drop",
        "flag",
        "event",
        "date",
        "aware",
        "naive",
        "padded",
        "old",
        "null",
        "attrs",
        "id",
    ]
)
WHERE = st.sampled_from(
    [
        "key",
        "general",
        "sector",
        "kind",
        "flags",
        "events",
        "municipal",
        "hotline",
        "2024/09/27",
        "2024-02-30",
        "23:30:00",
        "23:30:00+08:00",
        "bogus",
        "transferred",
        "closed",
        "",
    ]
)


@pytest.mark.slow
@SETTINGS
@given(facts_as_of(PACK), SPOILS, WHERE)
def test_doubtful_facts_are_refused_or_decided_alike(
    case: tuple[dict[str, Any], date], how: str, where: str
) -> None:
    fact, as_of = case
    assert_same(_spoiled(fact, how, where), as_of)


@pytest.mark.parametrize(
    "as_of", ["2024/10/15", "2024-02-30", "1999-12-31", "2051-01-01", 20241015]
)
def test_a_bad_as_of_is_refused_alike(as_of: object) -> None:
    fact = {"source": "provincial", "category": "general"}
    assert outcome(yardstick.evaluate, fact, as_of) == outcome(PACK.evaluate, fact, as_of)


def test_a_fact_object_decides_alike() -> None:
    fact = ecorules.Fact(
        id="F-1",
        source="national",
        category="key",
        flags=frozenset({"public_interest"}),
        events={"transferred": date(2024, 9, 2), "upper_plan_issued": date(2024, 9, 27)},
    )
    assert yardstick.evaluate(fact, date(2024, 10, 15)) == PACK.evaluate(fact, date(2024, 10, 15))
