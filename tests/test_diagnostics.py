"""Diagnostics as authors and tools read them: the compiler-style excerpt with the span
underlined by display width, SARIF for CI, faithfulness findings from `ecorules check`, and
`ecorules test` refusing a pack the checker finds wrong or cases naming ids that do not exist.
The rendered form is a golden file: wording is reviewed like code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ecorules._cli import main
from ecorules._errors import Diagnostic
from ecorules._render import render

from .conftest import REPO, pack_dir

CORPUS = Path(__file__).parent / "checker_corpus"


def test_check_renders_each_finding_with_its_line_and_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["check", "tests/checker_corpus/faithfulness"]) == 1
    golden = (CORPUS / "faithfulness" / "rendered.txt").read_text(encoding="utf-8")
    assert capsys.readouterr().err == golden


def test_underline_counts_chinese_characters_as_two_cells() -> None:
    line = "    quote: 县级行业 x"
    diagnostic = Diagnostic("c", "m", "f.yaml", 7, 12, end_line=7, end_col=16)
    rendered = render(diagnostic, lambda file, number: line).splitlines()
    assert rendered[3] == "7 |     quote: 县级行业 x"
    assert rendered[4] == "  |            ^^^^^^^^"


def test_a_point_without_a_span_gets_one_caret_and_no_help_line() -> None:
    diagnostic = Diagnostic("c", "m", "f.yaml", 2, 3)
    rendered = render(diagnostic, lambda file, number: "ab cd").splitlines()
    assert rendered == ["error[c]: m", "  --> f.yaml:2:3", "  |", "2 | ab cd", "  |   ^"]


def test_sarif_carries_rules_levels_and_spans(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "sarif", str(CORPUS / "faithfulness")]) == 1
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == [
        "basis_format",
        "basis_not_in_source",
        "quote_not_in_source",
        "untouched_sentence",
    ]
    first = run["results"][0]
    assert (first["ruleId"], first["level"]) == ("basis_format", "error")
    assert rule_ids[first["ruleIndex"]] == "basis_format"
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 28, "startColumn": 12, "endLine": 28, "endColumn": 16}
    assert {r["level"] for r in run["results"]} == {"error", "warning"}
    # Text coverage points into the document, with the sentence as its span.
    (coverage,) = [r for r in run["results"] if r["ruleId"] == "untouched_sentence"]
    location = coverage["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("faithfulness/source.txt")
    assert location["region"] == {"startLine": 5, "startColumn": 9, "endLine": 5, "endColumn": 30}


def test_json_carries_the_span(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--format", "json", str(CORPUS / "faithfulness")])
    first = json.loads(capsys.readouterr().out)[0]
    assert (first["line"], first["col"], first["end_line"], first["end_col"]) == (28, 12, 28, 16)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("ecorules ")


def _copy_of_shidian(tmp_path: Path) -> Path:
    directory = tmp_path / "shidian"
    shutil.copytree(pack_dir("shidian"), directory)
    return directory


def test_test_command_fails_a_pack_the_checker_finds_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _copy_of_shidian(tmp_path)
    pack_file = directory / "pack.yaml"
    text = pack_file.read_text(encoding="utf-8")
    invented = "重点问题由县长亲自督办并每周通报"
    pack_file.write_text(
        text.replace("quote: 压实属地整改主体责任、县级部门行业监管责任", f"quote: {invented}"),
        encoding="utf-8",
    )
    assert main(["test", str(directory)]) == 1
    out, err = capsys.readouterr()
    assert "0 failed" in out  # every case still passes: only the checker catches this
    assert "`ecorules check` finds errors in: shidian" in out
    assert "error[quote_not_in_source]: the quote of `territorial_ownership` is not in " in err


def test_cases_naming_ids_the_pack_lacks_are_errors_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _copy_of_shidian(tmp_path)
    cases = directory / "cases" / "chains.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(
        text.replace("absent: [c2_self_check,", "absent: [c2_self_chek,", 1), encoding="utf-8"
    )
    assert main(["test", str(directory)]) == 1
    err = capsys.readouterr().err
    assert "error[unknown_id]: the pack has no action `c2_self_chek`" in err
    assert "= help: did you mean `c2_self_check`?" in err


def test_check_warns_when_a_bare_name_is_also_a_directory_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _copy_of_shidian(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--format", "short", "shidian"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "shidian: bundled_name_shadows_directory: `shidian` names the bundled pack, not the "
        "directory `shidian/` here (write `./shidian` to check that directory)"
    ]
    assert main(["check", "./shidian"]) == 0


MISTAKES = Path(__file__).parent / "diagnostics_corpus"
MISTAKE_CASES = sorted(p.stem for p in MISTAKES.glob("*.yaml"))


def test_the_base_of_the_mistakes_corpus_is_clean(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(MISTAKES)
    assert main(["check", "./base"]) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("case", MISTAKE_CASES)
def test_each_mistake_is_reported_as_the_corpus_shows(
    case: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One mistake per file: the clean base pack broken in one place, and the exact text an
    author sees. Wording is reviewed like code: a changed message fails here until the corpus
    file is updated by hand."""
    spec = yaml.safe_load((MISTAKES / f"{case}.yaml").read_text(encoding="utf-8"))
    shutil.copytree(MISTAKES / "base", tmp_path / "base")
    pack_file = tmp_path / "base" / "pack.yaml"
    text = pack_file.read_text(encoding="utf-8")
    assert text.count(spec["find"]) == 1, "the edit must apply to exactly one place"
    pack_file.write_text(text.replace(spec["find"], spec["replace"]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "./base"]) == 1
    assert capsys.readouterr().err == spec["rendered"]
