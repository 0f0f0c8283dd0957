"""Ledger reports count what a ledger holds as of a date, and survive bad rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ecorules

from .test_engine_features import LIFECYCLE
from .test_loader import write_pack

SHIDIAN_LEDGER = [
    {
        "id": "A",
        "source": "provincial",
        "category": "general",
        "events": {"transferred": "2024-09-27"},
    },  # route B plan overdue
    {
        "id": "B",
        "source": "provincial",
        "category": "general",
        "events": {"transferred": "2024-10-20"},
    },  # still pending
    {
        "id": "C",
        "source": "national",
        "category": "key",
        "events": {
            "rectified": "2024-05-01",
            "self_checked": "2024-05-10",
            "accepted_by_municipal": "2024-06-01",
            "signed_off": "2024-06-10",
            "accepted_by_provincial": "2024-07-01",
            "closed": "2024-08-01",
        },
    },
    {"id": "D", "source": "hotline_12345", "category": "general"},  # refused: undeclared
]


def test_shidian_counts_by_kind_and_category(shidian: ecorules.Pack) -> None:
    report = shidian.report(SHIDIAN_LEDGER, "2024-10-25")
    assert report.total == 3
    groups = {(g.kind, g.category): g for g in report.groups}
    everything = groups[("problem", None)]
    assert (everything.total, everything.closed, everything.open, everything.overdue) == (
        3,
        1,
        2,
        1,
    )
    assert everything.tiers == {"township": 2, "county": 1}
    assert (groups[("problem", "general")].total, groups[("problem", "key")].closed) == (2, 1)
    (refused,) = report.refused
    assert (refused.position, refused.fact_id) == (4, "D")
    assert "hotline_12345" in refused.error


def test_stages_count_at_and_reached(tmp_path: Path) -> None:
    pack = ecorules.load_pack(write_pack(tmp_path, LIFECYCLE))
    base = {"source": "provincial", "category": "general"}
    ledger = [
        {**base, "events": {"reported": "2024-10-01"}},
        {**base, "events": {"reported": "2024-10-01", "screened": "2024-10-02"}},
        {
            **base,
            "events": {"reported": "2024-10-01", "screened": "2024-10-02", "closed": "2024-10-03"},
        },
        base,
    ]
    (group, _) = pack.report(ledger, "2024-10-15").groups
    assert [(s.stage, s.at, s.reached) for s in group.stages] == [
        ("collect", 1, 3),
        ("screen", 1, 2),
        ("close", 1, 1),
    ]
    assert (group.total, group.closed, group.open) == (4, 1, 3)


def test_report_command_reads_json_lines_from_a_file_or_stdin(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    text = "\n".join(json.dumps(f) for f in SHIDIAN_LEDGER) + "\n"
    ledger.write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "ecorules", "report", "shidian"]
    run = subprocess.run(
        [*command, str(ledger), "--as-of", "2024-10-25", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1  # a fact was refused: it is reported, and the status says so
    out = json.loads(run.stdout)
    assert out["total"] == 3 and len(out["refused"]) == 1
    table = subprocess.run(
        [*command, "-", "--as-of", "2024-10-25"], input=text, capture_output=True, text=True
    ).stdout
    assert "一般性问题" in table and "refused: 1 facts" in table


def test_bad_ledger_file_is_a_clear_error(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text('{"id": "A"}\n{not json\n', encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecorules",
            "report",
            "shidian",
            str(ledger),
            "--as-of",
            "2024-10-25",
        ],
        capture_output=True,
        text=True,
    )
    # The unreadable row is reported in its place, with its line; it does not end the run.
    assert run.returncode == 1
    assert "refused: 2 facts\n" in run.stdout
    assert "  line 2: `row`: not JSON: Expecting property name" in run.stdout
    assert run.stderr == ""
