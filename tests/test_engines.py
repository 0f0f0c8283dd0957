"""Differential tests: the native engine, the durable_rules engine and, for Shidian, a
hand-written reference must decide alike — on every YAML case and on generated facts."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings

import ecorules
from ecorules._cases import load_cases, run_case

from . import shidian_reference as reference
from .conftest import PACK_NAMES, load, pack_dir
from .strategies import facts_as_of

pytest.importorskip("durable_rules_engine")

KNOWN = yaml.safe_load((Path(__file__).parent / "engine_differences.yaml").read_text("utf-8"))
assert KNOWN["differences"] == [], "listed differences need handling in this module"

_DURABLE: dict[str, ecorules.Pack] = {}


def durable(name: str) -> ecorules.Pack:
    if name not in _DURABLE:
        _DURABLE[name] = ecorules.load_pack(name, engine="durable")
    return _DURABLE[name]


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_case_passes_on_the_durable_engine_too(name: str) -> None:
    pack = durable(name)
    failures = []
    for loaded in load_cases(pack_dir(name)):
        result = run_case(pack, loaded)
        if not result.passed:
            failures.append(f"{loaded.name}: {result.mismatches}")
        if loaded.case.want is not None:
            assert pack.evaluate(loaded.case.fact, loaded.case.as_of) == load(name).evaluate(
                loaded.case.fact, loaded.case.as_of
            ), loaded.name
    assert failures == []


@pytest.mark.parametrize("name", PACK_NAMES)
def test_engines_agree_on_generated_facts(name: str) -> None:
    native, rete = load(name), durable(name)

    @settings(max_examples=150, deadline=None)
    @given(case=facts_as_of(native))
    def check(case: tuple[dict, date]) -> None:
        fact, as_of = case
        assert rete.evaluate(fact, as_of) == native.evaluate(fact, as_of)

    check()


@settings(max_examples=300, deadline=None)
@given(case=facts_as_of(ecorules.load_pack("shidian")))
def test_shidian_engines_agree_with_the_hand_written_reference(case: tuple[dict, date]) -> None:
    fact, as_of = case
    events = {k: date.fromisoformat(v) for k, v in fact.get("events", {}).items()}
    events = {k: v for k, v in events.items() if v <= as_of}
    source, category = fact["source"], fact["category"]
    flags = set(fact.get("flags", []))
    for pack in (load("shidian"), durable("shidian")):
        decision = pack.evaluate(fact, as_of)
        assert decision.closure_chain_id == reference.chain(source, category)
        assert decision.responsible_tier == reference.responsible_tier(source, category)
        dated = {a.id: a for a in decision.actions if a.kind == "deadline" and a.due}
        expected = reference.plan_deadlines(source, category, events)
        assert {k: a.due for k, a in dated.items()} == expected
        for action_id, due in expected.items():
            done = events.get(reference.COMPLETION[action_id])
            assert dated[action_id].status == reference.status(due, done, as_of)
        actions = {a.id for a in decision.actions}
        assert reference.transfers(flags) <= actions
        assert (
            not (
                reference.transfers(
                    {"suspected_crime", "public_interest", "perfunctory", "environmental_violation"}
                )
                - reference.transfers(flags)
            )
            & actions
        )


def test_durable_survives_many_facts_and_threads() -> None:
    """Sessions are cleaned up after every fact (the C core holds at most 1,024), and calls
    from several threads give the single-threaded decisions."""
    native, rete = load("shidian"), durable("shidian")
    fact = {
        "source": "provincial",
        "category": "general",
        "flags": ["suspected_crime"],
        "events": {"transferred": "2024-09-27"},
    }
    expected = native.evaluate(fact, "2024-10-15")
    for _ in range(3000):
        assert rete.evaluate(fact, "2024-10-15") == expected
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(200):
                as_of = f"2024-10-{10 + i % 20:02d}"
                assert rete.evaluate(fact, as_of) == native.evaluate(fact, as_of)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_refused_fact_leaves_the_durable_engine_usable() -> None:
    rete = durable("shidian")
    with pytest.raises(ecorules.FactError):
        rete.evaluate({"source": "hotline_12345", "category": "general"}, "2024-10-15")
    assert rete.evaluate({"source": "municipal", "category": "general"}, "2024-10-15").closure_chain


def test_missing_durable_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    with pytest.raises(ImportError, match=r"pip install 'ecorules\[durable\]'"):
        ecorules.load_pack("shidian", engine="durable")


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="available: native, durable"):
        ecorules.load_pack("shidian", engine="drools")  # type: ignore[arg-type]
