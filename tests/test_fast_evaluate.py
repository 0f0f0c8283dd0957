"""What the engine's shortcuts must leave unchanged: a decision built by the fast
constructor is the dataclass's own, its deferred id reads the same everywhere, and the
cached event-order check warns exactly as the plain one."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

import ecorules
from ecorules._decision import Action, Decision, Deferred, new_action, new_decision
from ecorules._fact import read_fact
from ecorules._quality import OrderCheck, out_of_order
from ecorules._revision import decision_id

SHIDIAN = ecorules.load_pack("shidian")
FACT = {
    "id": "D-1",
    "source": "national",
    "category": "key",
    "events": {"transferred": "2024-03-01", "upper_plan_issued": "2024-03-04"},
}
AS_OF = date(2024, 4, 1)


def test_the_fast_constructors_build_what_the_dataclasses_build() -> None:
    action = Action("a", "t", "deadline", "r", "x", "county", None, AS_OF, "pending", "b")
    fields = [getattr(action, f.name) for f in dataclasses.fields(Action)]
    assert new_action(*fields) == action
    assert type(new_action(*fields)) is Action
    decision = SHIDIAN.evaluate(FACT, AS_OF)
    values = [getattr(decision, f.name) for f in dataclasses.fields(Decision)]
    rebuilt = new_decision(*values)
    assert type(rebuilt) is Decision
    assert rebuilt == decision and repr(rebuilt) == repr(decision)
    assert Decision(*values) == decision and hash(Decision(*values)) == hash(decision)


def test_the_deferred_id_is_the_id_of_the_fact_read_as_evaluation_reads_it() -> None:
    view = SHIDIAN._compiled.check_fact(read_fact(FACT))
    expected = decision_id(SHIDIAN._compiled.seed, view, AS_OF)
    # Every way of reading a decision sees the id, never the deferred computation.
    assert SHIDIAN.evaluate(FACT, AS_OF).decision_id == expected
    assert SHIDIAN.evaluate(FACT, AS_OF).model_dump()["decision_id"] == expected
    assert f'"decision_id":"{expected}"' in SHIDIAN.evaluate(FACT, AS_OF).model_dump_json()
    assert f"decision_id='{expected}'" in repr(SHIDIAN.evaluate(FACT, AS_OF))
    assert dataclasses.asdict(SHIDIAN.evaluate(FACT, AS_OF))["decision_id"] == expected
    replaced = dataclasses.replace(SHIDIAN.evaluate(FACT, AS_OF), closed=True)
    assert replaced.decision_id == expected
    copied = pickle.loads(pickle.dumps(SHIDIAN.evaluate(FACT, AS_OF)))
    assert copied.decision_id == expected and copied == SHIDIAN.evaluate(FACT, AS_OF)
    # Equality and hashing compare the id: another fact id, another decision.
    other = SHIDIAN.evaluate({**FACT, "id": "D-2"}, AS_OF)
    assert other.decision_id != expected
    assert other != dataclasses.replace(other, decision_id=expected)
    assert not isinstance(SHIDIAN.evaluate(FACT, AS_OF).decision_id, Deferred)


def test_a_decision_stays_frozen_with_its_id_deferred() -> None:
    decision = SHIDIAN.evaluate(FACT, AS_OF)
    try:
        decision.decision_id = "x"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a decision's id could be assigned")
    assert decision.decision_id != "x"


def test_the_id_does_not_follow_a_fact_changed_after_evaluation() -> None:
    fact = ecorules.Fact.model_validate(FACT)
    decision = SHIDIAN.evaluate(fact, AS_OF)
    fact.events["transferred"] = date(2024, 3, 2)  # a host mutating its "frozen" Fact
    assert decision.decision_id == SHIDIAN.evaluate(FACT, AS_OF).decision_id


def test_threads_reading_one_deferred_id_agree() -> None:
    decisions = [SHIDIAN.evaluate({**FACT, "id": f"T-{i}"}, AS_OF) for i in range(200)]
    seen: list[list[str | None]] = []

    def read() -> None:
        seen.append([d.decision_id for d in decisions])

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(ids == seen[0] for ids in seen)
    assert len(set(seen[0])) == 200


EVENTS = sorted(e.id for e in SHIDIAN.model.vocabulary.events)
ORDER = SHIDIAN._compiled.event_order
NAMES = SHIDIAN._compiled.event_names


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(EVENTS), st.integers(0, 60).map(lambda d: date(2024, 1, 1) + timedelta(d))
    )
)
def test_the_cached_order_check_warns_as_the_plain_one(events: dict[str, date]) -> None:
    check = OrderCheck(ORDER, NAMES)
    # Twice: once working the pairs out, once from the cache.
    assert check.warnings(events) == out_of_order(ORDER, events, NAMES)
    assert check.warnings(events) == out_of_order(ORDER, events, NAMES)


def test_the_order_check_keeps_working_past_its_cache_bound() -> None:
    class Uncached(OrderCheck):
        LIMIT = 0  # type: ignore[misc]

    check = Uncached(ORDER, NAMES)
    events = {"closed": date(2024, 1, 1), "rectified": date(2024, 2, 1)}
    assert check.warnings(events) == out_of_order(ORDER, events, NAMES) != []
    assert check.warnings({"rectified": date(2024, 1, 1)}) == []
    assert not check._pairs


def _ledger() -> list[dict[str, object]]:
    facts: list[dict[str, object]] = []
    for i in range(60):
        day = date(2024, 1, 2) + timedelta(days=3 * i)
        facts.append(
            {
                "id": f"C-{i}",
                "source": ["national", "provincial", "municipal"][i % 3],
                "category": ["key", "general"][i % 2],
                "events": {
                    "transferred": day.isoformat(),
                    "plan_submitted": (day + timedelta(days=i % 9)).isoformat(),
                    "rectified": (day + timedelta(days=20)).isoformat(),
                    "self_checked": (day + timedelta(days=25 + i % 4)).isoformat(),
                },
            }
        )
    return facts


def test_actions_kept_for_reuse_are_the_ones_built_afresh(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ecorules._engine as engine

    facts, days = _ledger(), [date(2024, 3, 1), date(2024, 12, 31)]
    cached = ecorules.load_pack("shidian")
    first = [cached.evaluate(f, d) for f in facts for d in days]
    again = [cached.evaluate(f, d) for f in facts for d in days]
    monkeypatch.setattr(engine, "CACHE_LIMIT", 0)
    fresh_pack = ecorules.load_pack("shidian")
    fresh = [fresh_pack.evaluate(f, d) for f in facts for d in days]
    assert first == again == fresh
    assert [d.model_dump_json() for d in first] == [d.model_dump_json() for d in fresh]
    # With the limit at 0 nothing was kept; with it, the obligations did keep their actions.
    kept = [
        len(ob.done_by_day) + len(ob.timed_by_key)
        for plan in (fresh_pack._compiled.plans.values())
        for rule, _ in plan.rules
        for ob in rule.obligations
    ]
    assert sum(kept) == 0
    assert any(
        ob.timed_by_key
        for plan in cached._compiled.plans.values()
        for rule, _ in plan.rules
        for ob in rule.obligations
    )
