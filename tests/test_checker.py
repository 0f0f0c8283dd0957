"""The pack checker: a corpus of broken packs, each with its exact expected diagnostics
(position, code, message). A changed diagnostic fails here until it is reviewed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import ecorules
from ecorules._checker import check_pack

from .conftest import PACK_NAMES

CORPUS = Path(__file__).parent / "checker_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "pack.yaml").is_file())


def findings(directory: Path, **options: bool) -> list[str]:
    pack = ecorules.load_pack(directory)
    assert pack.located is not None
    return [
        f"{d.line}:{d.col}: {d.code}: {d.message}"
        for d in check_pack(pack.model, pack.located, pack_dir=directory, **options)
    ]


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str) -> None:
    expected = yaml.safe_load((CORPUS / case / "expected.yaml").read_text(encoding="utf-8"))
    assert findings(CORPUS / case) == expected


def test_corpus_covers_every_class_of_mistake() -> None:
    codes = set()
    for case in CASES:
        for line in yaml.safe_load((CORPUS / case / "expected.yaml").read_text("utf-8")):
            codes.add(line.split(": ")[1])
    assert codes >= {
        "gap",
        "conflict_chain",
        "conflict_responsible",
        "shadowed",
        "never_applies",
        "window_order",
        "chain_descends",
        "chain_below_responsible",
        "unused_role",
        "quote_not_in_source",
        "basis_format",
        "basis_not_in_source",
        "responsibility_gap",
        "untouched_sentence",
    }


@pytest.mark.parametrize("name", PACK_NAMES)
def test_bundled_packs_check_clean(name: str) -> None:
    pack = ecorules.load_pack(name)
    assert pack.located is not None
    assert [str(d) for d in check_pack(pack.model, pack.located, pack_dir=pack.path)] == []


def test_assumptions_are_listed_as_information() -> None:
    pack = ecorules.load_pack("shidian")
    assert pack.located is not None
    listed = [d for d in check_pack(pack.model, pack.located, assumptions=True)]
    assert {d.severity for d in listed} == {"info"}
    assert len(listed) == len(pack.model.assumptions)
    assert listed[0].message.startswith("`a_in_force`: ")


def test_check_command_is_silent_when_clean_and_exits_1_otherwise(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ecorules._cli import main

    assert main(["check", "shidian"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(["check", "--format", "short", str(CORPUS / "gap")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(
        "gap/pack.yaml:12:3: gap: no closure chain or lifecycle covers "
        "problem × source `municipal` × category `general`"
    )
