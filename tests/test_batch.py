"""Batch evaluation: evaluate_many streams, reports refused facts in place or at the end,
and the command line reads JSON Lines or CSV ledgers and writes JSON Lines or CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ecorules

GOOD = {
    "id": "A",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2024-09-27"},
}
BAD = {"id": "B", "source": "hotline_12345", "category": "general"}


def test_collect_yields_refusals_in_place(shidian: ecorules.Pack) -> None:
    results = list(shidian.evaluate_many([GOOD, BAD, GOOD], "2024-10-25"))
    assert [type(r).__name__ for r in results] == ["Decision", "RefusedFact", "Decision"]
    refused = results[1]
    assert (refused.position, refused.fact_id) == (2, "B")
    assert results[0] == shidian.evaluate(GOOD, "2024-10-25")


def test_raise_decides_everything_then_raises(shidian: ecorules.Pack) -> None:
    seen = []
    with pytest.raises(ecorules.BatchError) as caught:
        for decision in shidian.evaluate_many([BAD, GOOD, BAD], "2024-10-25", errors="raise"):
            seen.append(decision.fact_id)
    assert seen == ["A"]
    assert [r.position for r in caught.value.refused] == [1, 3]
    assert str(caught.value).startswith("2 facts refused:\n#1: fact `B`: `source`: unknown source")


def test_it_is_lazy(shidian: ecorules.Pack) -> None:
    def endless():  # type: ignore[no-untyped-def]
        while True:
            yield GOOD

    stream = shidian.evaluate_many(endless(), "2024-10-25")
    assert [next(stream).fact_id for _ in range(3)] == ["A", "A", "A"]


def test_csv_ledger_with_column_mapping_to_csv(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "编号,来源,类别,移交日期,标记\n"
        "A1,provincial,general,2024-09-27,suspected_crime、public_interest\n"
        "A2,hotline_12345,general,2024-09-27,\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecorules",
            "evaluate",
            "shidian",
            str(ledger),
            "--as-of",
            "2024-10-25",
            "--format",
            "csv",
            "--columns",
            "id=编号,source=来源,category=类别,events.transferred=移交日期,flags=标记",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.strip() == "1 of 2 facts refused (see the output): line 3"
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    first = next(r for r in rows if r["action"] == "b_submit_township_plan")
    assert (first["fact_id"], first["due"], first["status"]) == ("A1", "2024-10-16", "overdue")
    assert {r["action"] for r in rows if r["fact_id"] == "A1"} >= {
        "transfer_case_to_police",
        "transfer_public_interest_clue",
    }
    (refused,) = [r for r in rows if r["fact_id"] == "A2"]
    assert "unknown source" in refused["error"]


def test_jsonl_ledger_to_jsonl_file(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text(
        json.dumps(GOOD) + "\n" + json.dumps(GOOD | {"id": "C"}) + "\n", encoding="utf-8"
    )
    out = tmp_path / "decisions.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecorules",
            "evaluate",
            "shidian",
            str(ledger),
            "--as-of",
            "2024-10-25",
            "-o",
            str(out),
            "--engine",
            "durable",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    decisions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["fact_id"] for d in decisions] == ["A", "C"]
    assert decisions[0]["actions"][0]["due"] == "2024-10-16"


def test_csv_mapping_names_missing_columns(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("id,source\nA,provincial\n", encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecorules",
            "evaluate",
            "shidian",
            str(ledger),
            "--as-of",
            "2024-10-25",
            "--columns",
            "id=id,category=类别",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.startswith(
        "`columns`: not in the CSV header (got `类别`); allowed: id, source"
    )
