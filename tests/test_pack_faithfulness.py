"""Faithfulness checks run on every bundled pack: every inventory row is encoded or listed as
not encoded, and every assumption is stated and used. (Quotes and bases are checked against
the document by `ecorules check` itself, for every pack: tests/test_checker.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import ecorules

from .conftest import PACK_NAMES, SHARED, load, pack_dir


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_inventory_row_is_accounted_for(name: str) -> None:
    pack = load(name)
    inventory_name = pack.model.metadata.inventory
    if inventory_name is None:
        pytest.skip("the pack names no inventory")
    inventory = SHARED / "spec" / "clauses" / inventory_name
    if not inventory.is_file():
        pytest.skip(f"{inventory} is not beside this checkout")
    rows = set(re.findall(r"^\| ([A-Z]{2,3}-\d+[a-z]?) \|", inventory.read_text("utf-8"), re.M))
    assert rows, "no rows found in the inventory"
    model = pack.model
    covered = {
        row
        for item in [*model.rules, *model.closure_chains, *model.lifecycles, *model.recurring]
        for row in item.rows
    }
    listed = {row for item in model.not_encoded for row in item.rows}
    assumed = {row for item in model.assumptions for row in item.rows}
    assert sorted(rows - covered - listed - assumed) == []
    assert sorted((covered | listed) - rows) == [], "rows cited that the inventory lacks"


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_assumption_is_referenced_or_row_bound(name: str) -> None:
    model = load(name).model
    used: set[str] = set()
    for rule in model.rules:
        used.update(rule.assumptions)
        for ob in rule.obligations:
            used.update(ob.assumptions)
    for chain in model.closure_chains:
        used.update(chain.assumptions)
        for step in chain.steps:
            used.update(step.assumptions)
    for duty in model.recurring:
        used.update(duty.assumptions)
    unused = [a.id for a in model.assumptions if a.id not in used and not a.rows]
    assert unused == []


@pytest.mark.parametrize("name", PACK_NAMES)
def test_pack_file_points_editors_at_the_schema(name: str) -> None:
    first = (pack_dir(name) / "pack.yaml").read_text("utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../pack.schema.json"


def test_committed_schema_is_current() -> None:
    committed = json.loads(
        (Path(pack_dir(PACK_NAMES[0])).parent / "pack.schema.json").read_text("utf-8")
    )
    assert committed == ecorules.pack_json_schema(), (
        "policies/pack.schema.json is stale: review the change, then run "
        "`ecorules schema > policies/pack.schema.json`"
    )
