"""The case runner must fail cases that are wrong, with a readable account of the difference."""

from __future__ import annotations

from pathlib import Path

import ecorules
from ecorules._cases import Case, LoadedCase, run_case

FACT = {"source": "provincial", "category": "general", "events": {"transferred": "2024-09-27"}}


def run(case: dict) -> list[str]:
    loaded = LoadedCase(Case.model_validate(case), str(Path("inline.yaml")), 1)
    return run_case(ecorules.load_pack("shidian"), loaded).mismatches


def test_right_expectations_pass() -> None:
    assert (
        run(
            {
                "note": "all right",
                "as_of": "2024-10-15",
                "fact": FACT,
                "want": {
                    "responsible_tier": "township",
                    "closed": False,
                    "actions": {
                        "b_submit_township_plan": {"due": "2024-10-16", "status": "pending"}
                    },
                },
            }
        )
        == []
    )


def test_each_kind_of_mismatch_is_reported() -> None:
    mismatches = run(
        {
            "note": "wrong",
            "as_of": "2024-10-17",
            "fact": FACT,
            "want": {
                "responsible_tier": "county",
                "closure_chain_id": "none",
                "actions": {
                    "b_submit_township_plan": {"due": "2024-10-15", "status": "pending"},
                    "no_such_action": {"status": "done"},
                },
                "absent": ["b_submit_county_plan"],
                "matched": ["route_a_plan"],
                "warnings": ["pack_not_in_force"],
            },
        }
    )
    assert mismatches[:3] == [
        "responsible_tier: want 'county', got 'township'",
        "closure_chain_id: want none, got 'c3_provincial_general_municipal_key'",
        "action `b_submit_township_plan` due: want 2024-10-15, got 2024-10-16",
    ]
    assert "action `b_submit_township_plan` status: want 'pending', got 'overdue'" in mismatches
    assert any(m.startswith("action `no_such_action`: missing") for m in mismatches)
    assert "action `b_submit_county_plan`: want absent, got pending" in mismatches
    assert any(m.startswith("rule `route_a_plan`: want matched") for m in mismatches)
    assert "warnings: want ['pack_not_in_force'], got []" in mismatches


def test_error_expectations() -> None:
    bad = {**FACT, "source": "hotline_12345"}
    assert (
        run(
            {
                "note": "refused",
                "as_of": "2024-10-15",
                "fact": bad,
                "want_error": {"field": "source"},
            }
        )
        == []
    )
    assert run(
        {
            "note": "wrong field",
            "as_of": "2024-10-15",
            "fact": bad,
            "want_error": {"field": "category"},
        }
    ) == ["error fields: want `category`, got ['source']"]
    assert run(
        {"note": "no error", "as_of": "2024-10-15", "fact": FACT, "want_error": {"field": "source"}}
    ) == ["expected an error naming `source`, got a decision"]


def test_a_case_runs_on_the_data_it_says_it_was_written_against() -> None:
    # 10 working days after Thu 2025-12-18 (19=1, 22..26=2..6, 29..31=7..9): with 2026's
    # notice (01-01..03 off, Sun 01-04 at work) Sun 01-04; as predicted before that notice
    # (only 01-01 off) Fri 01-02, an estimate.
    case = {
        "note": "written before 2026's notice",
        "as_of": "2025-12-19",
        "fact": {**FACT, "events": {"transferred": "2025-12-18"}},
        "want": {
            "actions": {"b_submit_township_plan": {"due": "2026-01-02"}},
            "warnings": ["calendar_beyond_horizon"],
        },
    }
    assert run(case) == [
        "action `b_submit_township_plan` due: want 2026-01-02, got 2026-01-04",
        "warnings: want ['calendar_beyond_horizon'], got []",
    ]
    assert run({**case, "official_through": 2025}) == []


def test_a_case_written_against_data_not_installed_says_so() -> None:
    mismatches = run(
        {
            "note": "from the future",
            "as_of": "2024-10-15",
            "official_through": 2099,
            "fact": FACT,
            "want": {"responsible_tier": "township"},
        }
    )
    assert len(mismatches) == 1
    assert mismatches[0].startswith("official_through: official_through must be a year from")
    assert mismatches[0].endswith("got 2099; upgrade holidays")
