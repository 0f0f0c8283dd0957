"""General engine features, each on a small pack of its own: lifecycles, measures, deadlines
held in a fact's date attrs, and extensions that may only move a deadline later."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ecorules

from .test_loader import MINIMAL, write_pack

LIFECYCLE = (
    MINIMAL.replace(
        "    - {id: plan_submitted, name: 报送}\n",
        "    - {id: plan_submitted, name: 报送}\n"
        "    - {id: reported, name: 收集}\n"
        "    - {id: screened, name: 甄别}\n"
        "    - {id: closed, name: 销号}\n",
    )
    + """\
lifecycles:
  - id: loop
    title: 收集 → 甄别 → 销号
    basis: 四(十四)
    quote: 10个工作日内报送
    stages:
      - {id: collect, title: 收集, entered_when: reported, actor: county_gov}
      - {id: screen, title: 甄别, entered_when: screened, actor: county_gov}
      - {id: close, title: 销号, entered_when: closed, actor: county_gov}
"""
)

FACT = {"source": "provincial", "category": "general"}


@pytest.fixture()
def lifecycle_pack(tmp_path: Path) -> ecorules.Pack:
    return ecorules.load_pack(write_pack(tmp_path, LIFECYCLE))


def test_stage_is_the_furthest_recorded_and_the_next_is_an_action(
    lifecycle_pack: ecorules.Pack,
) -> None:
    fresh = lifecycle_pack.evaluate(FACT, "2024-10-15")
    assert (fresh.lifecycle_id, fresh.stage) == ("loop", None)
    assert fresh.action("collect").kind == "stage"
    collected = lifecycle_pack.evaluate(
        {**FACT, "events": {"reported": "2024-10-01"}}, "2024-10-15"
    )
    assert collected.stage == "collect"
    assert [a.id for a in collected.actions if a.kind == "stage"] == ["screen"]
    assert "loop" in collected.matched_rules
    assert not collected.closed


def test_last_stage_closes_when_no_chain_applies(lifecycle_pack: ecorules.Pack) -> None:
    done = lifecycle_pack.evaluate(
        {
            **FACT,
            "events": {"reported": "2024-10-01", "screened": "2024-10-02", "closed": "2024-10-09"},
        },
        "2024-10-15",
    )
    # The tiny pack names no responsible body anywhere: the decision says so.
    assert (done.stage, done.closed, done.warning_codes) == (
        "close",
        True,
        ("responsible_undeclared",),
    )
    assert not [a for a in done.actions if a.kind == "stage"]


def test_a_skipped_stage_is_reported(lifecycle_pack: ecorules.Pack) -> None:
    skipped = lifecycle_pack.evaluate({**FACT, "events": {"screened": "2024-10-02"}}, "2024-10-15")
    assert skipped.stage == "screen"
    assert skipped.warning_codes == ("responsible_undeclared", "stage_skipped")


_CACHE: dict[str, ecorules.Pack] = {}


def _load_once(factory: pytest.TempPathFactory, text: str) -> ecorules.Pack:
    """Hypothesis reruns a test body many times; load each small pack only once."""
    if text not in _CACHE:
        _CACHE[text] = ecorules.load_pack(write_pack(factory.mktemp("pack"), text))
    return _CACHE[text]


@settings(max_examples=200, deadline=None)
@given(recorded=st.sets(st.sampled_from(["reported", "screened", "closed"])))
def test_the_next_stage_is_always_the_one_after_the_current(
    tmp_path_factory: pytest.TempPathFactory, recorded: set[str]
) -> None:
    pack = _load_once(tmp_path_factory, LIFECYCLE)
    events = {e: "2024-10-01" for e in recorded}
    decision = pack.evaluate({**FACT, "events": events}, "2024-10-15")
    order = ["collect", "screen", "close"]
    current = order.index(decision.stage) if decision.stage else -1
    upcoming = [a.id for a in decision.actions if a.kind == "stage"]
    assert upcoming == order[current + 1 : current + 2]


DEADLINES = (
    MINIMAL.replace(
        "roles:\n",
        "  attrs:\n"
        "    - {id: deadline, name: 整改时限, type: date}\n"
        "    - {id: extended_to, name: 延期至, type: date}\n"
        "  flags:\n"
        "    - {id: hard_to_fix_short_term, name: 短期内难以整改到位}\n"
        "roles:\n",
    ).replace(
        "    - {id: plan_submitted, name: 报送}\n",
        "    - {id: plan_submitted, name: 报送}\n    - {id: rectified, name: 整改完成}\n",
    )
    + """\
  - id: ledger_deadline
    kind: deadline
    title: 列入台账，明确整改时限
    basis: 三(二)
    quote: 10个工作日内报送
    when: {flag: hard_to_fix_short_term}
    obligations:
      - id: rectify
        title: 按时限整改到位
        actor: county_gov
        due_attr: deadline
        extended_until: extended_to
        done_when: rectified
  - id: reminder
    kind: measure
    title: 函告提醒
    basis: 三(三)
    quote: 10个工作日内报送
    when: {flag: hard_to_fix_short_term}
    obligations:
      - {id: remind, title: 函告提醒, actor: county_gov, trigger: {overdue: rectify}}
"""
)


@pytest.fixture()
def deadline_pack(tmp_path: Path) -> ecorules.Pack:
    return ecorules.load_pack(write_pack(tmp_path, DEADLINES))


def hard(attrs: dict, events: dict | None = None) -> dict:
    return {**FACT, "flags": ["hard_to_fix_short_term"], "attrs": attrs, "events": events or {}}


def test_deadline_from_a_date_attr(deadline_pack: ecorules.Pack) -> None:
    d = deadline_pack.evaluate(hard({"deadline": "2024-12-31"}), "2025-01-02")
    assert (d.action("rectify").due, d.action("rectify").status) == (date(2024, 12, 31), "overdue")
    assert d.action("remind").kind == "measure"
    assert d.action("remind").status == "pending"


def test_no_deadline_attr_means_no_due_date(deadline_pack: ecorules.Pack) -> None:
    d = deadline_pack.evaluate(hard({}), "2025-01-02")
    assert (d.action("rectify").due, d.action("rectify").status) == (None, "pending")
    with pytest.raises(KeyError):
        d.action("remind")


def test_extension_moves_the_deadline_later_never_earlier(deadline_pack: ecorules.Pack) -> None:
    later = deadline_pack.evaluate(
        hard({"deadline": "2024-12-31", "extended_to": "2025-03-31"}), "2025-01-02"
    )
    earlier = deadline_pack.evaluate(
        hard({"deadline": "2024-12-31", "extended_to": "2024-11-30"}), "2025-01-02"
    )
    assert later.action("rectify").due == date(2025, 3, 31)
    assert later.action("rectify").status == "pending"
    assert earlier.action("rectify").due == date(2024, 12, 31)


@settings(max_examples=200, deadline=None)
@given(
    deadline=st.dates(date(2023, 1, 1), date(2026, 12, 31)),
    extension=st.dates(date(2023, 1, 1), date(2026, 12, 31)),
)
def test_extension_property(
    tmp_path_factory: pytest.TempPathFactory, deadline: date, extension: date
) -> None:
    pack = _load_once(tmp_path_factory, DEADLINES)
    plain = pack.evaluate(hard({"deadline": deadline.isoformat()}), "2024-06-01")
    extended = pack.evaluate(
        hard({"deadline": deadline.isoformat(), "extended_to": extension.isoformat()}), "2024-06-01"
    )
    assert extended.action("rectify").due == max(deadline, extension)
    assert extended.action("rectify").due >= plain.action("rectify").due


def test_bad_date_attr_is_refused(deadline_pack: ecorules.Pack) -> None:
    with pytest.raises(ecorules.FactError) as caught:
        deadline_pack.evaluate(hard({"deadline": "end of year"}), "2025-01-02")
    assert caught.value.field == "attrs.deadline"


def test_due_attr_must_name_a_date_attr(tmp_path: Path) -> None:
    text = DEADLINES.replace("due_attr: deadline", "due_attr: dedline")
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, text))
    assert [d.code for d in caught.value.diagnostics] == ["undeclared_attr"]
