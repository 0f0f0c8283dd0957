"""Properties every pack must keep, checked on facts generated from its own vocabulary."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecorules
from ecorules._model import TIER_RANK

from .conftest import PACK_NAMES, load
from .strategies import facts_as_of

pytestmark = pytest.mark.slow  # property-based: hypothesis over every pack

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def working_day_windows(pack: ecorules.Pack) -> dict[str, str]:
    """Obligation id -> the event whose date starts its working-day window."""
    return {
        ob.id: ob.trigger.event
        for rule in pack.model.rules
        for ob in rule.obligations
        if ob.window is not None
        and ob.window.working_days is not None
        and ob.trigger is not None
        and ob.trigger.event is not None
    }


@pytest.mark.parametrize("name", PACK_NAMES)
def test_working_day_due_dates_are_working_days_after_the_trigger(name: str) -> None:
    pack = load(name)
    windows = working_day_windows(pack)

    @SETTINGS
    @given(case=facts_as_of(pack))
    def check(case: tuple[dict, date]) -> None:
        fact, as_of = case
        decision = pack.evaluate(fact, as_of)
        for action in decision.actions:
            if action.id in windows and action.due is not None:
                trigger = date.fromisoformat(fact["events"][windows[action.id]])
                assert action.due > trigger
                assert pack.calendar.is_working_day(action.due)

    check()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_evaluation_is_deterministic_and_leaves_the_fact_alone(name: str) -> None:
    pack = load(name)

    @SETTINGS
    @given(case=facts_as_of(pack))
    def check(case: tuple[dict, date]) -> None:
        fact, as_of = case
        before = copy.deepcopy(fact)
        first = pack.evaluate(fact, as_of)
        second = pack.evaluate(fact, as_of)
        assert fact == before
        assert first == second
        assert first.model_dump_json() == second.model_dump_json()

    check()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_closure_chains_climb_tiers(name: str) -> None:
    pack = load(name)
    tiers = {role.id: role.tier for role in pack.model.roles}
    for chain in pack.model.closure_chains:
        ranks = [TIER_RANK[tiers[step.actor]] for step in chain.steps]
        assert ranks == sorted(ranks), f"{chain.id} descends: {ranks}"


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_valid_problem_gets_a_chain(name: str) -> None:
    """No gaps: each (kind, source, category) a fact may state has a closure chain."""
    pack = load(name)
    vocab = pack.model.vocabulary
    for kind in vocab.kinds:
        if not {"source", "category"} <= set(kind.requires):
            continue
        for source in vocab.sources:
            for category in vocab.categories:
                fact = {"kind": kind.id, "source": source.id, "category": category.id}
                decision = pack.evaluate(fact, "2024-06-03")
                assert decision.closure_chain, f"no chain for {source.id} × {category.id}"


@pytest.mark.parametrize("name", PACK_NAMES)
def test_overdue_never_turns_back_to_pending(name: str) -> None:
    pack = load(name)

    @SETTINGS
    @given(case=facts_as_of(pack), later=st.integers(1, 400))
    def check(case: tuple[dict, date], later: int) -> None:
        fact, as_of = case
        first = pack.evaluate(fact, as_of)
        second = pack.evaluate(fact, as_of + timedelta(days=later))
        after = {a.id: a.status for a in second.actions}
        for action in first.actions:
            if action.status == "overdue" and action.kind != "recurring":
                assert after.get(action.id) in ("overdue", "done_late"), action.id

    check()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_recording_a_completion_never_adds_an_overdue_action(name: str) -> None:
    pack = load(name)
    completes = {
        ob.id: ob.done_when
        for rule in pack.model.rules
        for ob in rule.obligations
        if ob.done_when is not None
    }

    @SETTINGS
    @given(case=facts_as_of(pack), pick=st.integers(0, 1000))
    def check(case: tuple[dict, date], pick: int) -> None:
        fact, as_of = case
        before = pack.evaluate(fact, as_of)
        open_ = [
            a for a in before.actions if a.id in completes and a.status in ("pending", "overdue")
        ]
        if not open_:
            return
        action = open_[pick % len(open_)]
        recorded = copy.deepcopy(fact)
        recorded.setdefault("events", {})[completes[action.id]] = as_of.isoformat()
        after = pack.evaluate(recorded, as_of)
        overdue_before = {a.id for a in before.actions if a.status == "overdue"}
        overdue_after = {a.id for a in after.actions if a.status == "overdue"}
        assert overdue_after <= overdue_before

    check()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_a_lifecycle_never_skips_a_stage(name: str) -> None:
    """The next-stage action is always the stage right after the current one."""
    pack = load(name)
    if not pack.model.lifecycles:
        pytest.skip("no lifecycle")
    order = {lc.id: [s.id for s in lc.stages] for lc in pack.model.lifecycles}

    @SETTINGS
    @given(case=facts_as_of(pack))
    def check(case: tuple[dict, date]) -> None:
        fact, as_of = case
        decision = pack.evaluate(fact, as_of)
        if decision.lifecycle_id is None:
            return
        stages = order[decision.lifecycle_id]
        current = stages.index(decision.stage) if decision.stage else -1
        upcoming = [a.id for a in decision.actions if a.kind == "stage"]
        assert upcoming == stages[current + 1 : current + 2]

    check()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_an_extension_moves_a_deadline_later_never_earlier(name: str) -> None:
    pack = load(name)
    extended = {
        ob.id: ob.extended_until
        for rule in pack.model.rules
        for ob in rule.obligations
        if ob.extended_until is not None
    }
    if not extended:
        pytest.skip("no extensions")

    @SETTINGS
    @given(case=facts_as_of(pack), extension=st.dates(date(2023, 1, 1), date(2026, 12, 31)))
    def check(case: tuple[dict, date], extension: date) -> None:
        fact, as_of = case
        base = copy.deepcopy(fact)
        for attr in extended.values():  # the deadline before any extension
            base.get("attrs", {}).pop(attr, None)
        before = {a.id: a for a in pack.evaluate(base, as_of).actions}
        for action_id, attr in extended.items():
            if action_id not in before or before[action_id].due is None:
                continue
            with_extension = copy.deepcopy(base)
            with_extension.setdefault("attrs", {})[attr] = extension.isoformat()
            after = pack.evaluate(with_extension, as_of).action(action_id)
            assert after.due == max(before[action_id].due, extension)

    check()
