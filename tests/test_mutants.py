"""Behaviour that a mutant of the core survived the suite without (issue 20).

Each test here was written for a mutant of the sampled mutation run (scripts/mutation.py) that
changed behaviour and went unnoticed; the mutant's name is in the test's comment or
docstring, and docs/reliability.md has the run's figures.
"""

from __future__ import annotations

import importlib
import sys
import types
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules._calendar import occurrences, official_horizon_year
from ecorules._checker import check_pack
from ecorules._conditions import (
    CategoryIs,
    Condition,
    KindIs,
    SectorIs,
    SourceIs,
    compile_predicate,
)
from ecorules._fact import FactView

from .test_checker import findings
from .test_engine_features import DEADLINES, hard
from .test_loader import MINIMAL, diagnostics, write_pack

FACT = {"source": "provincial", "category": "general"}
RESPONSIBILITY_GAP = (
    "11:18: responsibility_gap: no rule names who is responsible for problem (问题) × source "
    "`provincial` (省级移交) × category `general` (一般性问题) or says why not (`responsible: "
    "{unspecified: …}` or `{needs_attr: …}`), e.g. {kind: problem, source: provincial, "
    "category: general}"
)


def test_previous_occurrence_before_the_second_is_the_first() -> None:
    # _calendar Occurrences.previous_before `i > 0` -> `i > 1`
    yearly = occurrences("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31")
    assert yearly.previous_before(date(2000, 12, 31)) is None
    assert yearly.previous_before(date(2001, 1, 1)) == date(2000, 12, 31)


def test_a_pack_without_chains_or_lifecycles_reports_no_closure_gap(tmp_path: Path) -> None:
    # _checker _gaps: `not chains and not lifecycles` -> `not chains and lifecycles`; and
    # _undeclared_world's `key[3] and ...` -> `or` (a pack with no flags lost every gap).
    assert findings(write_pack(tmp_path, MINIMAL)) == [RESPONSIBILITY_GAP]
    (tmp_path / "deadlines").mkdir()
    assert findings(write_pack(tmp_path / "deadlines", DEADLINES)) == [RESPONSIBILITY_GAP]


def test_an_assumption_cited_by_nothing_is_named(tmp_path: Path) -> None:
    # _checker _unused: the unused_assumption message (replaced by None, unnoticed).
    text = (
        MINIMAL
        + """\
assumptions:
  - id: a_orphan
    about: nothing cites this
    reading: none
"""
    )
    assert findings(write_pack(tmp_path, text))[-1] == (
        "32:9: unused_assumption: assumption `a_orphan` is cited by nothing and names no "
        "inventory rows"
    )


def test_an_untimed_obligation_in_an_escalating_plan_waits_for_its_trigger(
    tmp_path: Path,
) -> None:
    # _engine _untimed: `waiting if triggered_on is None` forced to `open_ended`.
    text = DEADLINES + (
        """\
  - id: follow_up
    kind: measure
    title: 跟踪
    basis: 三(四)
    quote: 10个工作日内报送
    obligations:
      - {id: track, title: 跟踪, actor: county_gov, trigger: plan_submitted}
"""
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    # The flag makes the plan escalate (`remind` on `rectify`), so it runs in escalation order.
    fact = hard({})
    waiting = pack.evaluate(fact, "2024-10-15").action("track")
    assert (waiting.status, waiting.due) == ("scheduled", None)
    started = pack.evaluate({**fact, "events": {"plan_submitted": "2024-10-10"}}, "2024-10-15")
    assert started.action("track").status == "pending"


def test_a_boolean_field_given_text_names_the_field(tmp_path: Path) -> None:
    # _loader shape_diagnostics: "`{loc[-1]}` takes `true` or `false`" with loc[+1].
    # Deep enough that loc[1] is not loc[-1]: rules[0].obligations[0].window.roll.
    text = MINIMAL.replace("{working_days: 10}", "{working_days: 10, roll: [true]}")
    assert [d.split(": ", 1)[1] for d in diagnostics(write_pack(tmp_path, text))] == [
        "wrong_type: `roll` takes `true` or `false` at `rules.0.obligations.0.window.roll`"
    ]


def test_window_order_compares_windows_in_different_units(tmp_path: Path) -> None:
    # _checker _length: `float(value) * factor` -> `/ factor` (a month became 1/30 of a day).
    text = MINIMAL.replace(
        "      - id: submit_plan\n",
        "      - id: first_report\n"
        "        title: 报告\n"
        "        actor: county_gov\n"
        "        trigger: transferred\n"
        "        window: {months: 1}\n"
        "      - id: submit_plan\n",
    ).replace("window: {working_days: 10}", "window: {days: 20}")
    assert findings(write_pack(tmp_path, text))[-1] == (
        "34:17: window_order: `submit_plan` is due before `first_report`, which comes first, "
        "on the same trigger (`days: 20` < `months: 1`)"
    )


def test_a_misplaced_key_names_at_most_three_places_it_belongs(tmp_path: Path) -> None:
    # _loader _unknown_key_help: `elsewhere[:3]` -> `[:4]` (`basis` belongs in five places).
    text = MINIMAL.replace("id: tiny\n", "id: tiny\nbasis: 二(一)\n")
    assert diagnostics(write_pack(tmp_path, text)) == [
        "3:1: unknown_key: unknown key `basis` (`basis` belongs in `closure_chains[]`, "
        "`closure_chains[].steps[]`, `lifecycles[]`: check its indentation)"
    ]


def test_listed_assumptions_point_at_their_ids(tmp_path: Path) -> None:
    # _checker check_pack(assumptions=True): the path ("assumptions", i, "id") -> "ID" moved
    # the position up to the list item.
    text = MINIMAL + "assumptions:\n  - id: a_orphan\n    about: 无人引用\n    reading: 无\n"
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    assert pack.located is not None
    listed = [
        f"{d.line}:{d.col}: {d.message}"
        for d in check_pack(pack.model, pack.located, assumptions=True)
        if d.code == "assumption"
    ]
    assert listed == ["32:9: `a_orphan`: 无人引用 — reading: 无"]


@pytest.mark.parametrize(
    ("others", "listed"),
    [(5, "(or `s1`, `s2`, `s3`, `s4`, `s5`)"), (6, "(or `s1`, `s2`, `s3`, `s4`, `s5` and 1 more)")],
)
def test_values_alike_are_listed_up_to_five_then_counted(
    tmp_path: Path, others: int, listed: str
) -> None:
    # _checker _describe_terms: `len(others) > 5` -> `>= 5` ("and 0 more" at exactly five).
    extra = "".join(f", {{id: s{i}, name: 来源{i}}}" for i in range(1, others + 1))
    text = MINIMAL.replace("省级移交}]", "省级移交}" + extra + "]")
    [gap] = findings(write_pack(tmp_path, text))
    assert f"source `provincial` (省级移交) {listed} × category" in gap


def test_a_fact_that_is_not_a_mapping_is_refused_naming_the_fact(tiny_pack: ecorules.Pack) -> None:
    # _fact parse_fact: the problem's field "fact" (mutated to "XXfactXX", unnoticed).
    with pytest.raises(ecorules.FactError) as caught:
        tiny_pack.evaluate(["not", "a", "mapping"], "2024-10-15")  # type: ignore[arg-type]
    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("fact", "list")


def test_an_attr_in_condition_matches_listed_values_only(tmp_path: Path) -> None:
    # _conditions _attr_predicate: `frozenset(test.in_)` -> `frozenset(None)` (no pack tested
    # `{attr: {id, in: [...]}}` on a fact).
    text = MINIMAL.replace(
        "roles:\n", "  attrs:\n    - {id: owner, name: 责任主体, values: [a, b, c]}\nroles:\n"
    ).replace(
        "    kind: deadline\n", "    kind: deadline\n    when: {attr: {id: owner, in: [a, b]}}\n"
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    fact = {"source": "provincial", "category": "general"}
    for owner, applies in (("a", True), ("b", True), ("c", False), (None, False)):
        attrs = {} if owner is None else {"owner": owner}
        decision = pack.evaluate({**fact, "attrs": attrs}, "2024-10-15")
        assert ("plan" in decision.matched_rules) is applies, owner


@pytest.fixture()
def tiny_pack(tmp_path: Path) -> ecorules.Pack:
    return ecorules.load_pack(write_pack(tmp_path, MINIMAL))


@pytest.mark.parametrize(
    ("case", "notice"),
    [
        (
            "conflict_chain",
            "ambiguous_chain: several closure chains apply with no precedence between them: "
            "chain_all, chain_provincial; `chain_all` was used",
        ),
        (
            "conflict_lifecycle",
            "ambiguous_lifecycle: several lifecycles apply with no precedence between them: "
            "loop_all, loop_provincial; `loop_all` was used",
        ),
    ],
)
def test_two_chains_or_lifecycles_without_precedence_are_reported_when_deciding(
    case: str, notice: str
) -> None:
    # _engine _only: the notice's code (mutated to None, unnoticed: no decision was checked
    # for it, only the checker's conflict_chain).
    pack = ecorules.load_pack(Path(__file__).parent / "checker_corpus" / case)
    decision = pack.evaluate({"source": "provincial", "category": "general"}, "2024-10-15")
    assert f"{decision.warnings[0].code}: {decision.warnings[0].message}" == notice


# -- the 2026-12-01 run (seed 20; _calendar, _conditions, _fact, _checker, _loader) -----------


def test_the_horizon_year_falls_back_to_the_make_up_workdays_without_static_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """_calendar official_horizon_year: `max(d.year for d in workdays)` -> `max(None)`.

    The fallback serves a `holidays` release without `ChinaStaticHolidays`; a copy of the
    China module without that name stands in for one, and the fallback must agree with the
    static data (the last year with make-up workdays is the last noticed year)."""
    real = importlib.import_module("holidays.countries.china")
    older = types.ModuleType(real.__name__)
    older.__dict__.update({k: v for k, v in vars(real).items() if k != "ChinaStaticHolidays"})
    expected = official_horizon_year()
    monkeypatch.setitem(sys.modules, real.__name__, older)
    assert official_horizon_year() == expected


@pytest.mark.parametrize(
    ("when", "diagnostic"),
    [
        # _conditions _references: `_references(cond.not_, …)` -> `_references(None, …)` (a
        # name under `not` went unchecked) and the flag's path "flag" -> "XXflagXX".
        ("{not: {flag: nosuch}}", "21:24: undeclared_flag: undeclared flag `nosuch`"),
        # _conditions _references: the event's path "event" -> "EVENT" (the diagnostic fell
        # back to the `when` mapping's position).
        ("{event: nosuch}", "21:19: undeclared_event: undeclared event `nosuch`"),
    ],
)
def test_an_undeclared_name_in_a_condition_is_reported_where_it_stands(
    tmp_path: Path, when: str, diagnostic: str
) -> None:
    text = MINIMAL.replace("    kind: deadline\n", f"    kind: deadline\n    when: {when}\n")
    assert [d.split(" (", 1)[0] for d in diagnostics(write_pack(tmp_path, text))] == [diagnostic]


def test_a_sector_condition_matches_its_sector_only(tmp_path: Path) -> None:
    """_conditions compile_predicate: `frozenset(_names(cond.sector))` -> `frozenset(None)`;
    _fact FactView.of: `fact.sector` -> None (a fact read through the model lost its sector).

    No bundled pack and no quick test had a rule with `when: {sector: …}` on a fact."""
    text = MINIMAL.replace(
        "roles:\n", "  sectors: [{id: mining, name: 矿业}, {id: farming, name: 农业}]\nroles:\n"
    ).replace("    kind: deadline\n", "    kind: deadline\n    when: {sector: mining}\n")
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    fact = {"source": "provincial", "category": "general"}
    # A datetime event sends the fact through the model (FactView.of), not the quick path.
    timed = {**fact, "events": {"transferred": "2024-10-08T09:00"}}
    for sector, applies in (("mining", True), ("farming", False), (None, False)):
        for given in (fact, timed):
            given = given if sector is None else {**given, "sector": sector}
            assert ("plan" in pack.evaluate(given, "2024-10-15").matched_rules) is applies, given


@pytest.mark.parametrize(
    ("cond", "holds_for", "fails_for"),
    [
        # _conditions compile_predicate: `f.kind in kinds` -> `None`.
        (KindIs(kind=["problem", "measure"]), {"kind": "measure"}, {"kind": "deadline"}),
        # `sources = frozenset(...)` -> `None`; `f.source in sources` -> `not in`.
        (SourceIs(source="provincial"), {"source": "provincial"}, {"source": "municipal"}),
        # `f.category in categories` -> `None`.
        (CategoryIs(category="key"), {"category": "key"}, {"category": "general"}),
        (SectorIs(sector="mining"), {"sector": "mining"}, {"sector": None}),
    ],
)
def test_a_compiled_condition_decides_kind_source_category_and_sector_itself(
    cond: Condition, holds_for: dict[str, str | None], fails_for: dict[str, str | None]
) -> None:
    """compile_predicate is total over conditions: the library always lets `specialise`
    decide kind, source and category first, but a caller that does not must still get the
    right answer, not `None` or a TypeError."""
    plain: dict[str, Any] = {"kind": "problem", "source": None, "category": None, "sector": None}

    def view(**fields: str | None) -> FactView:
        f = {**plain, **fields}
        return FactView(
            None, f["kind"], f["source"], f["category"], f["sector"], frozenset(), {}, {}
        )

    predicate = compile_predicate(cond)
    assert predicate(view(**holds_for)) is True
    assert predicate(view(**fails_for)) is False


def test_an_any_condition_is_explained_in_parentheses(tmp_path: Path) -> None:
    """_conditions describe: `… + ")"` -> `… + "XX)XX"` (no test read the text of `any`)."""
    text = MINIMAL.replace(
        "    kind: deadline\n",
        "    kind: deadline\n    when: {any: [{source: provincial}, {event: plan_submitted}]}\n",
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    decision = pack.evaluate(
        {"source": "provincial", "category": "general"}, "2024-10-15", explain=True
    )
    assert decision.explanation is not None
    [trace] = [t for t in decision.explanation.rules if t.id == "plan"]
    assert trace.condition == "(source = provincial or event plan_submitted)"


def test_a_responsibility_gap_shows_an_untested_open_attr_value_as_another_value(
    tmp_path: Path,
) -> None:
    """_checker _fact_text: `isinstance(v, _Other)` -> `… and False` printed the placeholder
    object's repr (`<ecorules._checker._Other object at 0x…>`) in the example fact."""
    rules = "".join(
        f"""\
  - id: owner_{name}
    kind: routing
    title: 属地负责
    basis: 二(一)
    quote: 10个工作日内报送
    when: {{attr: {{id: owner, {test}}}}}
    responsible: county_gov
"""
        for name, test in (("absent", "present: false"), ("a", "equals: a"))
    )
    text = MINIMAL.replace("roles:\n", "  attrs: [{id: owner, name: 责任主体}]\nroles:\n") + rules
    [gap] = [f for f in findings(write_pack(tmp_path, text)) if "responsibility_gap" in f]
    assert gap.endswith(
        "e.g. {kind: problem, source: provincial, category: general, "
        "attrs: {owner: <another value>}}"
    )


def test_a_descending_closure_chain_is_an_error() -> None:
    """_checker _chain_tiers: `severity="error"` -> `"ERROR"` (the corpus compares codes and
    messages, not severities; `ecorules check` fails only on errors)."""
    case = Path(__file__).parent / "checker_corpus" / "chain_descends"
    pack = ecorules.load_pack(case)
    assert pack.located is not None
    severities = {d.code: d.severity for d in check_pack(pack.model, pack.located, pack_dir=case)}
    assert severities["chain_descends"] == "error"
    assert set(severities.values()) <= {"error", "warning", "info"}


def test_a_closure_chain_reusing_a_rule_id_is_reported_at_the_chain_id(tmp_path: Path) -> None:
    """_loader _decision_ids: the chain's path ("closure_chains", i, "id") ->
    ("XXclosure_chainsXX", …) moved the duplicate_id diagnostic to the top of the file."""
    text = (
        MINIMAL
        + """\
closure_chains:
  - id: plan
    title: 销号
    basis: 二(一)
    quote: 10个工作日内报送
    starts_when: transferred
    steps:
      - {id: close, title: 销号, actor: county_gov, done_when: plan_submitted}
"""
    )
    assert diagnostics(write_pack(tmp_path, text)) == [
        "32:9: duplicate_id: duplicate id `plan` (first at line 19)"
    ]


def test_an_aware_datetime_without_a_shanghai_date_is_refused_saying_why(
    tiny_pack: ecorules.Pack,
) -> None:
    """_fact to_china_date: the message "the date is outside the supported range" -> None."""
    plus_14 = timezone(timedelta(hours=14))
    fact = {**FACT, "events": {"transferred": datetime(1, 1, 1, tzinfo=plus_14)}}
    with pytest.raises(ecorules.FactError) as caught:
        tiny_pack.evaluate(fact, "2024-10-15")
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("events.transferred", "the date is outside the supported range")
    ]


CHAIN_AND_LIFECYCLE = """\
closure_chains:
  - id: close
    title: 销号
    basis: 二(一)
    quote: 10个工作日内报送
    when: {any: [{source: provincial}, {attr: {id: owner, equals: z}}]}
    starts_when: transferred
    steps:
      - {id: submit_plan, title: 销号, actor: county_gov, done_when: plan_submitted}
lifecycles:
  - id: loop
    title: 交办
    basis: 二(一)
    quote: 10个工作日内报送
    stages:
      - {id: stage_one, title: 交办, entered_when: transferred, actor: county_gov}
      - {id: stage_two, title: 销号, entered_when: plan_submitted, actor: nobody}
"""


def test_mistakes_in_triggers_chains_and_lifecycles_are_reported_where_they_stand(
    tmp_path: Path,
) -> None:
    """Each position below moved, or the load crashed, under one mutant nobody noticed:

    - _loader pack_references: an obligation's trigger path `(*obp, "trigger")` -> None;
    - _conditions attr_tests: "any" -> "ANY" in the path of a test under `any`;
    - _loader _attr_test_values: a chain's ("closure_chains", i, "when") -> "WHEN";
    - _loader _decision_ids: a step's ("closure_chains", …) -> ("CLOSURE_CHAINS", …);
    - _loader pack_references: a stage's (…, "stages", k) -> "XXstagesXX"."""
    text = (
        MINIMAL.replace(
            "roles:\n", "  attrs: [{id: owner, name: 责任主体, values: [a, b]}]\nroles:\n"
        ).replace("trigger: transferred", "trigger: nosuch")
        + CHAIN_AND_LIFECYCLE
    )
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, text))
    assert [f"{d.line}:{d.col}: {d.code}: {d.message}" for d in caught.value.diagnostics] == [
        "29:18: undeclared_event: undeclared event `nosuch`",
        "37:67: undeclared_attr_value: `z` is not a declared value of attr `owner`",
        "40:14: duplicate_id: duplicate id `submit_plan` (first at line 26)",
        "48:73: undeclared_role: undeclared role `nobody`",
    ]


def test_too_many_recurring_dates_do_not_hide_the_checks_after_them(tmp_path: Path) -> None:
    """_loader _reference_diagnostics: `break` -> `return` after the bound on recurring dates
    skipped the checks that follow (escalation cycles, attr test values, calendar days)."""
    duties = "".join(
        f"  - id: report{i}\n    title: 报告\n    basis: 二(一)\n    quote: 10个工作日内报送\n"
        # Ten daily duties, each written differently: 10 × 22,280 days > 200,000.
        f"    actor: county_gov\n    rrule: FREQ=DAILY;COUNT={100_000 + i}\n"
        for i in range(10)
    )
    text = MINIMAL.replace(
        "vocabulary:\n", "calendar:\n  extra_holidays: [2061-01-03]\nvocabulary:\n"
    )
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, text + "recurring:\n" + duties))
    messages = {d.code: d.message for d in caught.value.diagnostics}
    assert sorted(messages) == ["invalid_rrule", "invalid_value"]
    assert "more than 200,000 dates in all" in messages["invalid_rrule"]
    assert messages["invalid_value"] == "`2061-01-03` is outside the calendar (2000–2060)"


@pytest.mark.parametrize(("width", "compiled_at_load"), [(32, 2048), (33, 0)])
def test_a_pack_of_exactly_the_eager_limit_compiles_every_plan_at_load(
    tmp_path: Path, width: int, compiled_at_load: int
) -> None:
    """32 sources × 32 categories × (flag or none) is 2,048 plans, the limit for compiling
    them all at load; one more source or category and they are compiled when first needed.
    `_engine` `CompiledPack.__init__` mutant 241 counted a required category as one more
    value (`"category" in requires`), tipping this pack into lazy compilation."""
    from ecorules._engine import EAGER_PLANS

    from .test_hostile_inputs import wide_pack_text

    assert EAGER_PLANS == 2048
    pack = ecorules.load_pack(write_pack(tmp_path, wide_pack_text(width), "tiny"))
    assert len(pack._compiled.plans) == compiled_at_load
    # either way the same decision
    fact = {"source": "s5", "category": "c7", "events": {"transferred": "2024-09-27"}}
    assert pack.evaluate(fact, "2024-10-25").actions[0].due == date(2024, 10, 16)
