"""Behaviour that a mutant of the core survived the suite without (issue 20).

Each test here was written for a mutant of the sampled mutation run (scripts/mutation.py) that
changed behaviour and went unnoticed; the mutant's name is in the test's comment, and
docs/reliability.md has the run's figures.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import ecorules
from ecorules._calendar import occurrences
from ecorules._checker import check_pack

from .test_checker import findings
from .test_engine_features import DEADLINES, hard
from .test_loader import MINIMAL, diagnostics, write_pack

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
