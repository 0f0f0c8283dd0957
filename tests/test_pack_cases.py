"""Runs the YAML cases of every bundled pack, one test per case, named by its note."""

from __future__ import annotations

import pytest

import ecorules
from ecorules import PackError
from ecorules._calendar import official_horizon_year
from ecorules._cases import LoadedCase, load_cases, run_case

from .conftest import PACK_NAMES, load, pack_dir, release_carrying_a_notice_for

_CASES: list[tuple[str, LoadedCase]] = []
_BROKEN: dict[str, str] = {}
for _name in PACK_NAMES:
    try:
        _CASES += [(_name, loaded) for loaded in load_cases(pack_dir(_name), load(_name).model)]
    except PackError as exc:  # reported by test_case_files_are_well_formed, for this pack only
        _BROKEN[_name] = str(exc)
_PACKS: dict[str, ecorules.Pack] = {}


def _pack(name: str) -> ecorules.Pack:
    if name not in _PACKS:
        _PACKS[name] = ecorules.load_pack(name)
    return _PACKS[name]


@pytest.mark.parametrize(("pack_name", "loaded"), _CASES, ids=[f"{n}/{c.name}" for n, c in _CASES])
def test_case(pack_name: str, loaded: LoadedCase) -> None:
    result = run_case(_pack(pack_name), loaded)
    assert result.passed, f"{loaded.file}:{loaded.line}: " + "; ".join(result.mismatches)


def test_every_case_passes_once_holidays_carries_the_next_notice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A holidays release with the next year's notice changes no case's verdict: a case that
    expects a prediction for that year says which data it was written against
    (`official_through`). Fails for a new case that forgets to."""
    release_carrying_a_notice_for(official_horizon_year() + 1, monkeypatch)
    failed = []
    for name in sorted({name for name, _ in _CASES}):
        pack = ecorules.load_pack(name)  # on the data with the new notice
        assert pack.calendar.official_through == official_horizon_year()
        for case_pack, loaded in _CASES:
            if case_pack == name and not (result := run_case(pack, loaded)).passed:
                failed.append(f"{loaded.file}:{loaded.line}: " + "; ".join(result.mismatches))
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("pack_name", PACK_NAMES)
def test_every_rule_has_a_case(pack_name: str) -> None:
    """Each rule, chain and recurring duty is matched by at least one of the pack's cases."""
    pack = _pack(pack_name)
    exercised: set[str] = set()
    for name, loaded in _CASES:
        if name != pack_name or loaded.case.want is None:
            continue
        decision = pack.evaluate(loaded.case.fact, loaded.case.as_of)
        exercised.update(decision.matched_rules)
    model = pack.model
    declared = (
        {r.id for r in model.rules}
        | {c.id for c in model.closure_chains}
        | {d.id for d in model.recurring}
    )
    assert sorted(declared - exercised) == []


@pytest.mark.parametrize("pack_name", PACK_NAMES)
def test_pack_has_cases(pack_name: str) -> None:
    assert any(name == pack_name for name, _ in _CASES)


@pytest.mark.parametrize("pack_name", PACK_NAMES)
def test_case_files_are_well_formed(pack_name: str) -> None:
    assert pack_name not in _BROKEN, _BROKEN.get(pack_name)
