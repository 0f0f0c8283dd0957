"""Faithfulness checks run on every bundled pack: quotes are verbatim, every inventory row
is encoded or listed as not encoded, and every assumption is stated and used."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from opencc import OpenCC

import ecorules

from .conftest import PACK_NAMES, SHARED, load, pack_dir


def _quotes(pack: ecorules.Pack) -> list[tuple[str, str]]:
    model = pack.model
    found = []
    for rule in model.rules:
        found.append((rule.id, rule.quote))
        found += [(ob.id, ob.quote) for ob in rule.obligations if ob.quote]
    for chain in model.closure_chains:
        found.append((chain.id, chain.quote))
        found += [(step.id, step.quote) for step in chain.steps if step.quote]
    found += [(duty.id, duty.quote) for duty in model.recurring]
    return found


_PINYIN_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_TO_SIMPLIFIED = OpenCC("t2s")


def _normalise(text: str) -> str:
    """Compare in simplified characters, without the pinyin glosses some web captures carry
    (責(zé)), modulo ASCII/full-width punctuation and whitespace. Sources stay verbatim in the
    pack; quotes follow the inventories, which give traditional texts in simplified form."""
    table = str.maketrans(
        {"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "“": '"', "”": '"'}
    )
    text = _TO_SIMPLIFIED.convert(_PINYIN_GLOSS.sub("", text))
    return re.sub(r"\s+", "", text.translate(table))


@pytest.mark.parametrize("name", PACK_NAMES)
def test_quotes_are_verbatim(name: str) -> None:
    pack = load(name)
    document = _normalise((pack.path / pack.model.metadata.document).read_text("utf-8"))
    missing = [
        (item, quote)
        for item, quote in _quotes(pack)
        if not all(_normalise(part) in document for part in quote.split("…"))
    ]
    assert missing == []


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
