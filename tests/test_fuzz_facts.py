"""Fuzzing facts: whatever a host sends, evaluation returns a decision or raises FactError
(a ValueError naming the field) — nothing else escapes, and the input is never changed.
Also: every accepted date form, concurrency on both engines, and determinism across runs,
processes and hash seeds."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ecorules
from ecorules._cases import load_cases

from .conftest import PACK_NAMES, REPO, load, pack_dir

pytestmark = pytest.mark.slow  # fuzzing: hypothesis and subprocesses

# A modest budget in CI; ECORULES_FUZZ_EXAMPLES=100000 for a long campaign (docs/reliability.md).
FUZZ_EXAMPLES = int(os.environ.get("ECORULES_FUZZ_EXAMPLES", "300"))

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=5),
    st.sampled_from(
        [
            "provincial",
            "general",
            "key",
            "problem",
            "2024-09-27",
            "2024/09/27",
            "2024-09-27T09:30:00+08:00",
            "2024-02-30",
            "",
            " ",
            "null",
        ]
    ),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.one_of(
        st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["id", "kind", "source", "category", "sector", "flags", "events", "attrs", "extra"]
HOSTILE = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=8)


@pytest.mark.parametrize("name", PACK_NAMES)
def test_hostile_facts_get_a_decision_or_a_fact_error(name: str) -> None:
    pack = load(name)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None)
    @given(fact=st.one_of(HOSTILE, VALUES), as_of=st.one_of(SCALARS, st.dates()))
    def check(fact: object, as_of: object) -> None:
        before = copy.deepcopy(fact)
        try:
            decision = pack.evaluate(fact, as_of)  # type: ignore[arg-type]
        except ecorules.FactError as exc:
            assert isinstance(exc, ValueError) and exc.field
        else:
            assert isinstance(decision, ecorules.Decision)
        assert fact == before or fact != fact  # NaN compares unequal to itself

    check()


def test_huge_collections_are_refused_quickly(shidian: ecorules.Pack) -> None:
    events = {f"event_{i}": "2024-01-01" for i in range(20_000)}
    with pytest.raises(ecorules.FactError) as caught:
        shidian.evaluate(
            {
                "source": "provincial",
                "category": "general",
                "events": events,
                "flags": [f"f{i}" for i in range(20_000)],
            },
            "2024-10-15",
        )
    assert len(caught.value.problems) > 1


BASE = {"source": "provincial", "category": "general"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-09-27", date(2024, 9, 27)),
        (date(2024, 9, 27), date(2024, 9, 27)),
        ("2024-09-27T09:30:00", date(2024, 9, 27)),  # naive: read as China time
        ("2024-09-27 09:30:00", date(2024, 9, 27)),
        ("2024-09-27T09:30:00+08:00", date(2024, 9, 27)),
        ("2024-09-26T17:00:00Z", date(2024, 9, 27)),  # 01:00 on the 27th in Shanghai
        ("2024-09-27T23:30:00-05:00", date(2024, 9, 28)),  # 12:30 on the 28th in Shanghai
        (datetime(2024, 9, 27, 9, 30), date(2024, 9, 27)),
        (datetime(2024, 9, 26, 20, 0, tzinfo=UTC), date(2024, 9, 27)),
        (datetime(2024, 9, 27, 0, 30, tzinfo=timezone(timedelta(hours=9))), date(2024, 9, 26)),
    ],
)
def test_accepted_date_forms(shidian: ecorules.Pack, value: object, expected: date) -> None:
    decision = shidian.evaluate({**BASE, "events": {"transferred": value}}, "2026-01-01")
    due = decision.action("b_submit_township_plan").due
    assert due == shidian.calendar.add_working_days(expected, 10)


@pytest.mark.parametrize(
    "value",
    [
        "2024/09/27",
        "27.09.2024",
        "2024-9-27",
        "20240927",
        "2024-02-30",
        "",
        20240927,
        1727400000,
        True,
        None,
        [],
        "2024-09-27T25:00:00",
    ],
)
def test_refused_date_forms(shidian: ecorules.Pack, value: object) -> None:
    with pytest.raises(ecorules.FactError) as caught:
        shidian.evaluate({**BASE, "events": {"transferred": value}}, "2024-10-15")
    assert caught.value.field == "events.transferred"


@pytest.mark.parametrize("engine", ["native", "durable"])
def test_eight_threads_give_the_single_threaded_decisions(engine: str) -> None:
    """Same and different packs at once, each thread in its own order, on either engine."""
    if engine == "durable":
        pytest.importorskip("durable_rules_engine")
    packs = {name: ecorules.load_pack(name, engine=engine) for name in PACK_NAMES}  # type: ignore[arg-type]
    work = [
        (name, loaded.case.fact, loaded.case.as_of)
        for name in PACK_NAMES
        for loaded in load_cases(pack_dir(name))
        if loaded.case.want is not None
    ]
    expected = [packs[n].evaluate(f, a) for n, f, a in work]
    results: dict[int, list[tuple[int, ecorules.Decision]]] = {}

    def run(index: int) -> None:
        order = list(range(len(work)))
        order = order[index:] + order[:index]  # a different interleaving per thread
        results[index] = [(i, packs[work[i][0]].evaluate(work[i][1], work[i][2])) for i in order]

    threads = [threading.Thread(target=run, args=(i * 37,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    for got in results.values():
        assert all(decision == expected[i] for i, decision in got)


DETERMINISM = """
import hashlib, ecorules
from ecorules._cases import load_cases
from ecorules._pack import bundled_names
digest = hashlib.sha256()
for name in bundled_names():
    pack = ecorules.load_pack(name)
    for loaded in load_cases(pack.path):
        try:
            out = pack.evaluate(loaded.case.fact, loaded.case.as_of, explain=True).model_dump_json()
        except ecorules.FactError as exc:
            out = str(exc)
        digest.update(out.encode())
print(digest.hexdigest())
"""


def test_decisions_are_byte_identical_across_processes_and_hash_seeds() -> None:
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", DETERMINISM],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=REPO,
        )
        digests.add(run.stdout.strip())
    assert len(digests) == 1
    assert len(next(iter(digests))) == len(hashlib.sha256().hexdigest())


@pytest.mark.parametrize("flags", [[[]], [{}], [["a"]], [None, "x"], [1.5]])
def test_regression_unhashable_flags_are_a_fact_error(shidian: ecorules.Pack, flags: list) -> None:
    """Found by fuzzing: the quick intake path hashed the flags before checking their type,
    so `flags: [[]]` raised TypeError instead of FactError."""
    with pytest.raises(ecorules.FactError) as caught:
        shidian.evaluate({**BASE, "flags": flags}, "2024-10-15")
    assert caught.value.field.startswith("flags")
