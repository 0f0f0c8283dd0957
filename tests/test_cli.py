"""The command line as a person uses it: `evaluate`, `explain`, `test`; errors without
tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ecorules
from ecorules._cli import main

from .test_loader import MINIMAL, write_pack

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "shidian_problem.yaml")


def test_evaluate_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "shidian", EXAMPLE, "--as-of", "2024-10-24"]) == 0
    table = capsys.readouterr().out
    assert "整改责任主体: 乡镇人民政府 (乡镇)" in table
    assert "2024-10-23  逾期" in table
    assert main(["evaluate", "shidian", EXAMPLE, "--as-of", "2024-10-24", "--format", "json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["responsible_tier"] == "township"


def test_explain_shows_why_and_how_dates_were_counted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "shidian", EXAMPLE, "--as-of", "2024-10-24"]) == 0
    out = capsys.readouterr().out
    assert "✓ route_b_plan [二(一)]" in out
    assert (
        "overridden by `c3_provincial_general_municipal_key` (二(三)): the more specific "
        "provision wins"
    ) in out
    assert (
        "b_submit_township_plan: 2024-10-16 — 10 working days after `transferred` on "
        "2024-09-27 (that day not counted)"
    ) in out
    assert "rest days crossed: 2024-09-28, 2024-10-01..07, 2024-10-13" in out
    assert "make-up workdays (调休上班) crossed: 2024-09-29, 2024-10-12" in out


def test_explain_api_matches_the_decision(shidian: ecorules.Pack) -> None:
    fact = {
        "source": "provincial",
        "category": "general",
        "flags": ["public_interest"],
        "events": {"transferred": "2024-09-27"},
    }
    plain = shidian.evaluate(fact, "2024-10-15")
    explained = shidian.evaluate(fact, "2024-10-15", explain=True)
    assert plain.explanation is None
    assert explained.actions == plain.actions
    traces = {t.id: t for t in explained.explanation.rules}
    assert traces["public_interest_transfer"].applies
    assert traces["crime_transfer"].reason == "condition not met: flag suspected_crime"
    assert {t.id for t in explained.explanation.rules if t.applies} == set(plain.matched_rules)


def test_test_command_reports_failures_and_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_pack(tmp_path, MINIMAL)
    (directory / "cases").mkdir()
    (directory / "cases" / "plan.yaml").write_text(
        "cases:\n"
        "  - note: due ten working days after transfer\n"
        "    as_of: 2024-10-15\n"
        "    fact: {source: provincial, category: general, events: {transferred: 2024-09-27}}\n"
        "    want: {actions: {submit_plan: {due: 2024-10-16}}}\n"
        "  - note: a wrong expectation\n"
        "    as_of: 2024-10-15\n"
        "    fact: {source: provincial, category: general, events: {transferred: 2024-09-27}}\n"
        "    want: {actions: {submit_plan: {status: overdue}}}\n",
        encoding="utf-8",
    )
    assert main(["test", str(directory), "--coverage"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "tiny: 1 passed, 1 failed"
    assert out[1].endswith("plan.yaml:6: a wrong expectation")
    assert out[2].strip() == "action `submit_plan` status: want 'overdue', got 'pending'"
    assert (
        out[3].strip() == "coverage: 100% (2/2 rules, chains, lifecycles, duties and obligations)"
    )
    assert out[-1] == "1 passed, 1 failed"


def test_errors_are_one_line_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "nowhere", EXAMPLE, "--as-of", "2024-10-24"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nowhere: unknown_pack: no bundled pack or directory named `nowhere`")
    assert "Traceback" not in err
    assert main(["evaluate", "shidian", "missing.yaml", "--as-of", "2024-10-24"]) == 1
    assert capsys.readouterr().err.startswith("`fact`: no such file (got `missing.yaml`)")


def test_a_bare_name_is_the_bundled_pack_even_beside_a_same_named_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shidian").mkdir()  # not a pack
    monkeypatch.chdir(tmp_path)
    assert ecorules.load_pack("shidian").model.id == "shidian"
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack("./shidian")
    assert [d.code for d in caught.value.diagnostics] == ["no_pack_file"]


def test_explain_says_when_a_missing_flag_rules_a_rule_out(shidian: ecorules.Pack) -> None:
    decision = shidian.evaluate(
        {"source": "provincial", "category": "general"}, "2024-10-15", explain=True
    )
    traces = {t.id: t for t in decision.explanation.rules}
    assert traces["crime_transfer"].reason == (
        "needs a flag the fact does not have: flag suspected_crime"
    )


@pytest.mark.parametrize("command", [["diagram", "shidian"], ["annotate", "shidian"]])
def test_text_outputs_are_checked_first_and_land_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = tmp_path / "nowhere" / "out.txt"
    assert main([*command, "-o", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such directory" in err and "Traceback" not in err
    target = tmp_path / "out.txt"
    target.write_text("yesterday's", encoding="utf-8")
    assert main([*command, "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") != "yesterday's"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left
