"""Pack revisions and decision ids: the same pack text and fact give the same id anywhere;
any change to what decided gives another."""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest

import ecorules
from ecorules._pack import policies_dir

FLAG = "repeated_exposure"
FACT = {
    "id": "p-1",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2024-02-08"},
}


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "shidian"
    shutil.copytree(policies_dir() / "shidian", target)
    return target


def test_revision_is_the_content_not_the_place_or_the_time(copy: Path) -> None:
    bundled = ecorules.load_pack("shidian")
    assert bundled.revision.startswith("sha256:") and len(bundled.revision) == 7 + 64
    os.utime(copy / "pack.yaml", (0, 0))
    (copy / ".pack.yaml.swp").write_text("editor noise")
    assert ecorules.load_pack(copy).revision == bundled.revision


@pytest.mark.parametrize("edit", ["pack.yaml", "source.txt", "cases/new.yaml"])
def test_any_file_edited_gives_a_new_revision(copy: Path, edit: str) -> None:
    before = ecorules.load_pack(copy).revision
    target = copy / edit
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    target.write_text(old + "\n# edited\n", encoding="utf-8")
    assert ecorules.load_pack(copy).revision != before


def test_decisions_carry_the_revision_and_a_uuid8_id() -> None:
    pack = ecorules.load_pack("shidian")
    decision = pack.evaluate(FACT, "2024-02-29")
    assert decision.revision == pack.revision
    assert decision.decision_id is not None
    parsed = uuid.UUID(decision.decision_id)
    assert parsed.version == 8 and parsed.variant == uuid.RFC_4122
    dumped = decision.model_dump(mode="json")
    assert dumped["decision_id"] == decision.decision_id
    assert dumped["revision"] == pack.revision


def test_the_same_fact_in_any_accepted_form_has_the_same_id() -> None:
    pack = ecorules.load_pack("shidian")
    expected = pack.evaluate(FACT, "2024-02-29").decision_id
    as_dates = {**FACT, "events": {"transferred": date(2024, 2, 8)}}
    as_datetime = {**FACT, "events": {"transferred": datetime(2024, 2, 8, 9, 30)}}
    assert pack.evaluate(as_dates, date(2024, 2, 29)).decision_id == expected
    assert pack.evaluate(as_datetime, "2024-02-29T23:00:00+08:00").decision_id == expected
    assert pack.evaluate(ecorules.Fact(**FACT), "2024-02-29").decision_id == expected
    assert pack.evaluate(FACT, "2024-02-29", explain=True).decision_id == expected
    [batch] = pack.evaluate_many([FACT], "2024-02-29")
    assert isinstance(batch, ecorules.Decision) and batch.decision_id == expected
    durable = ecorules.load_pack("shidian", engine="durable")
    assert durable.evaluate(FACT, "2024-02-29").decision_id == expected


@pytest.mark.parametrize(
    "change",
    [
        {"as_of": "2024-03-01"},
        {"fact": {**FACT, "id": "p-2"}},
        {"fact": {**FACT, "flags": [FLAG]}},
        {"fact": {**FACT, "events": {"transferred": "2024-02-07"}}},
        {"fact": {**FACT, "events": {**FACT["events"], "rectified": "2024-03-05"}}},
    ],
)
def test_anything_that_decides_changes_the_id(change: dict[str, object]) -> None:
    pack = ecorules.load_pack("shidian")
    base = pack.evaluate(FACT, "2024-02-29").decision_id
    fact = change.get("fact", FACT)
    as_of = change.get("as_of", "2024-02-29")
    assert pack.evaluate(fact, as_of).decision_id != base  # type: ignore[arg-type]


def test_another_revision_or_calendar_notice_changes_the_id(copy: Path) -> None:
    base = ecorules.load_pack(copy).evaluate(FACT, "2024-02-29").decision_id
    (copy / "source.txt").write_text("changed", encoding="utf-8")
    assert ecorules.load_pack(copy).evaluate(FACT, "2024-02-29").decision_id != base
    notice = Path(__file__).parent / "fixtures" / "notices" / "test-only-notice-2027.yaml"
    with_notice = ecorules.load_pack("shidian", calendar_notices=[str(notice)])
    assert with_notice.revision == ecorules.load_pack("shidian").revision
    assert (
        with_notice.evaluate(FACT, "2024-02-29").decision_id
        != ecorules.load_pack("shidian").evaluate(FACT, "2024-02-29").decision_id
    )


def test_attrs_and_free_text_ids_are_part_of_the_id() -> None:
    from ecorules._fact import FactView
    from ecorules._revision import decision_id

    def view(id_: str | None, attrs: dict[str, object]) -> FactView:
        return FactView(id_, "problem", "s", "c", None, frozenset(), {}, attrs)  # type: ignore[arg-type]

    seed, day = b"k" * 32, date(2024, 1, 1)
    ids = {
        decision_id(seed, view(i, a), day)
        for i, a in [
            (None, {}),
            ("", {}),
            ("x", {}),
            ("x", {"n": 1}),
            ("x", {"n": "1"}),
            ("x", {"n": True}),
            ("x", {"n": date(2024, 1, 1)}),
            ("x", {"n": "2024-01-01"}),
            ("x\x1f", {}),
        ]
    }
    assert len(ids) == 9


def test_a_date_attr_moves_the_id() -> None:
    from ecorules._cases import load_cases

    pack = ecorules.load_pack("chongqing")
    case = next(
        c.case
        for c in load_cases(pack.path)
        if c.case.want_error is None and c.case.fact.get("attrs")
    )
    ids = set()
    for deadline in ("2025-06-30", "2025-07-31"):
        fact = {**case.fact, "attrs": {**case.fact["attrs"], "rectification_deadline": deadline}}
        ids.add(pack.evaluate(fact, case.as_of).decision_id)
    assert len(ids) == 2
