"""Pack loading errors: every mistake is reported with its file:line:col, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ecorules
from ecorules import PackError

from .conftest import pack_dir

MINIMAL = """\
format: 1
id: tiny
metadata:
  title: 测试方案
  issuer: 测试局
  published: 2024-01-01
  jurisdiction: 测试县
  tier: county
  document: source.txt
vocabulary:
  sources: [{id: provincial, name: 省级移交}]
  categories: [{id: general, name: 一般性问题}]
  events:
    - {id: transferred, name: 移交}
    - {id: plan_submitted, name: 报送}
roles:
  - {id: county_gov, name: 县人民政府, tier: county}
rules:
  - id: plan
    kind: deadline
    title: 报送整改方案
    basis: 二(一)
    quote: 10个工作日内报送
    obligations:
      - id: submit_plan
        title: 报送
        actor: county_gov
        trigger: transferred
        window: {working_days: 10}
        done_when: plan_submitted
"""


def write_pack(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "pack.yaml").write_text(text, encoding="utf-8")
    (directory / "source.txt").write_text("10个工作日内报送", encoding="utf-8")
    return directory


def diagnostics(directory: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        ecorules.load_pack(directory)
    return [
        f"{d.line}:{d.col}: {d.code}: {d.message}" + (f" ({d.help})" if d.help else "")
        for d in caught.value.diagnostics
    ]


def test_minimal_pack_loads_and_evaluates(tmp_path: Path) -> None:
    pack = ecorules.load_pack(write_pack(tmp_path, MINIMAL))
    decision = pack.evaluate(
        {"source": "provincial", "category": "general", "events": {"transferred": "2024-09-27"}},
        "2024-10-17",
    )
    assert decision.action("submit_plan").due.isoformat() == "2024-10-16"
    assert decision.action("submit_plan").status == "overdue"


def test_unknown_key_has_position_and_suggestion(tmp_path: Path) -> None:
    text = MINIMAL.replace("    quote: 10个工作日内报送", "    qoute: 10个工作日内报送")
    assert diagnostics(write_pack(tmp_path, text)) == [
        "19:5: missing_key: missing required key `quote`",
        "23:5: unknown_key: unknown key `qoute` (did you mean `quote`?)",
    ]


def test_undeclared_references_are_all_reported(tmp_path: Path) -> None:
    text = MINIMAL.replace("actor: county_gov", "actor: county_gv").replace(
        "done_when: plan_submitted", "done_when: plan_submited"
    )
    assert diagnostics(write_pack(tmp_path, text)) == [
        "27:16: undeclared_role: undeclared role `county_gv` (did you mean `county_gov`?)",
        "30:20: undeclared_event: undeclared event `plan_submited` "
        "(did you mean `plan_submitted`?)",
    ]


def test_wrong_type_points_at_the_value(tmp_path: Path) -> None:
    text = MINIMAL.replace("{working_days: 10}", "{working_days: ten}")
    (message,) = diagnostics(write_pack(tmp_path, text))
    assert message.startswith("29:32: wrong_type: ")
    assert "rules.0.obligations.0.window.working_days" in message


def test_window_needs_exactly_one_length(tmp_path: Path) -> None:
    text = MINIMAL.replace("{working_days: 10}", "{working_days: 10, months: 1}")
    assert diagnostics(write_pack(tmp_path, text)) == [
        "29:17: invalid_value: a window has exactly one of `working_days`, `days`, `months` "
        "at `rules.0.obligations.0.window`"
    ]


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("  tier: county\n", "  tier: county\n  tier: township\n", 1)
    assert diagnostics(write_pack(tmp_path, text)) == [
        "9:3: duplicate_key: duplicate key `tier` (first at line 8)"
    ]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = MINIMAL.replace("title: 测试方案", "title: [测试方案")
    (message,) = diagnostics(write_pack(tmp_path, text))
    assert message.split(": ")[1] == "yaml_syntax"


def test_duplicate_ids_share_one_space(tmp_path: Path) -> None:
    text = MINIMAL.replace("      - id: submit_plan", "      - id: plan")
    assert diagnostics(write_pack(tmp_path, text)) == [
        "25:13: duplicate_id: duplicate id `plan` (first at line 19)"
    ]


def test_bad_condition_shape(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "    kind: deadline\n", "    kind: deadline\n    when: {source: provincial, flag: x}\n"
    )
    (message,) = diagnostics(write_pack(tmp_path, text))
    assert message.startswith("21:11: invalid_condition: a condition is a mapping with exactly one")


def test_undeclared_vocabulary_in_condition(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "    kind: deadline\n", "    kind: deadline\n    when: {source: [provincial, provincal]}\n"
    )
    assert diagnostics(write_pack(tmp_path, text)) == [
        "21:33: undeclared_source: undeclared source `provincal` (did you mean `provincial`?)"
    ]


def test_escalation_cycle(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "        done_when: plan_submitted\n",
        "        done_when: plan_submitted\n"
        "      - {id: remind, title: 提醒, actor: county_gov, trigger: {overdue: remind_again}}\n"
        "      - {id: remind_again, title: 再次, actor: county_gov, trigger: {overdue: remind}}\n",
    )
    (message,) = diagnostics(write_pack(tmp_path, text))
    assert message.startswith("31:71: escalation_cycle: escalations form a cycle")


def test_empty_file_and_non_mapping(tmp_path: Path) -> None:
    assert diagnostics(write_pack(tmp_path, "", "empty")) == [
        "1:1: empty_file: the file holds no YAML document"
    ]
    assert diagnostics(write_pack(tmp_path, "- a\n- b\n", "listy")) == [
        "1:1: not_a_mapping: a pack file is a YAML mapping of sections"
    ]


def test_directory_without_pack_file(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        ecorules.load_pack(tmp_path)
    assert [d.code for d in caught.value.diagnostics] == ["no_pack_file"]


def test_unknown_pack_name_lists_bundled() -> None:
    with pytest.raises(ecorules.UnknownPackError) as caught:
        ecorules.load_pack("shidan")
    (diag,) = caught.value.diagnostics
    assert diag.code == "unknown_pack"
    assert "did you mean `shidian`?" in (diag.help or "")
    assert "shidian" in (diag.help or "").split("bundled packs: ")[1]


def test_missing_document_file(tmp_path: Path) -> None:
    directory = write_pack(tmp_path, MINIMAL)
    (directory / "source.txt").unlink()
    assert [d.split(": ")[1] for d in diagnostics(directory)] == ["missing_document"]


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += (
            f"a{i}: &a{i} [*{'a' if i == 1 else f'a{i - 1}'}"
            + f", *{'a' if i == 1 else f'a{i - 1}'}" * 9
            + "]\n"
        )
    codes = [d.split(": ")[1] for d in diagnostics(write_pack(tmp_path, bomb))]
    assert codes == ["yaml_too_large"]


def test_errors_are_sorted_and_printed_as_file_line_col(tmp_path: Path) -> None:
    # The duplicate id (line 25) is found before the missing document (line 9).
    text = MINIMAL.replace("      - id: submit_plan", "      - id: plan").replace(
        "document: source.txt", "document: missing.txt"
    )
    directory = write_pack(tmp_path, text)
    with pytest.raises(PackError) as caught:
        ecorules.load_pack(directory)
    assert str(caught.value).splitlines() == [
        f"{directory / 'pack.yaml'}:9:13: missing_document: "
        "the document file `missing.txt` is not in the pack",
        f"{directory / 'pack.yaml'}:25:13: duplicate_id: duplicate id `plan` (first at line 19)",
    ]


def test_bundled_pack_copy_loads_from_a_path(tmp_path: Path) -> None:
    copy = tmp_path / "shidian"
    shutil.copytree(pack_dir("shidian"), copy)
    assert ecorules.load_pack(copy).name == "shidian"


def test_pack_id_must_match_its_directory(tmp_path: Path) -> None:
    assert diagnostics(write_pack(tmp_path, MINIMAL, "other")) == [
        "2:5: pack_id_mismatch: the pack id `tiny` differs from its directory `other`"
    ]


def test_recurrence_that_never_occurs(tmp_path: Path) -> None:
    text = MINIMAL + (
        "recurring:\n"
        "  - {id: feb30, title: 二月三十日, basis: 四(二), quote: 10个工作日内报送,"
        " actor: county_gov, rrule: FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30}\n"
    )
    assert diagnostics(write_pack(tmp_path, text)) == [
        "32:88: invalid_rrule: `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30` never occurs in the "
        "calendar's span"
    ]


def test_overlong_text_is_an_invalid_value(tmp_path: Path) -> None:
    text = MINIMAL.replace("basis: 二(一)", "basis: " + "一" * 41)
    (message,) = diagnostics(write_pack(tmp_path, text))
    assert message.startswith("22:12: invalid_value: string should have at most 40 characters")


def test_window_lengths_are_bounded(tmp_path: Path) -> None:
    text = MINIMAL.replace("{working_days: 10}", "{days: 3000}")
    (message,) = diagnostics(write_pack(tmp_path, text))
    assert message.startswith("29:24: invalid_value: input should be less than or equal to 1830")


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        (
            "{id: owner, equals: park}",
            "24:38: undeclared_attr_value: `park` is not a declared value of attr `owner`",
        ),
        (
            "{id: households, equals: '3'}",
            "24:43: attr_type_mismatch: `3` is not of type integer, the type of attr `households`",
        ),
        (
            "{id: owner, in: [township, towship]}",
            "24:45: undeclared_attr_value: `towship` is not a declared value of attr `owner` "
            "(did you mean `township`?)",
        ),
    ],
)
def test_attr_tests_match_the_declared_attr(tmp_path: Path, test: str, expected: str) -> None:
    text = ATTRS.replace("when: {attr: {id: owner, equals: township}}", f"when: {{attr: {test}}}")
    assert diagnostics(write_pack(tmp_path, text)) == [expected]


ATTRS = MINIMAL.replace(
    "roles:\n",
    "  attrs:\n"
    "    - {id: owner, name: 责任主体类型, values: [township, department]}\n"
    "    - {id: households, name: 涉及户数, type: integer}\n"
    "roles:\n",
).replace(
    "    kind: deadline\n",
    "    kind: deadline\n    when: {attr: {id: owner, equals: township}}\n",
)


@pytest.mark.parametrize(
    ("attrs", "field", "words"),
    [
        ({"owner": "park"}, "attrs.owner", "`park`"),
        ({"households": "many"}, "attrs.households", "expected integer"),
        (
            {"colour": "red"},
            "attrs.colour",
            "unknown attribute (got `colour`); allowed: households, owner",
        ),
    ],
)
def test_attrs_are_checked_by_the_pack(tmp_path: Path, attrs: dict, field: str, words: str) -> None:
    pack = ecorules.load_pack(write_pack(tmp_path, ATTRS))
    fact = {"source": "provincial", "category": "general", "attrs": attrs}
    with pytest.raises(ecorules.FactError) as caught:
        pack.evaluate(fact, "2024-10-15")
    assert caught.value.field == field
    assert words in str(caught.value)


def test_attr_condition_selects_rules(tmp_path: Path) -> None:
    pack = ecorules.load_pack(write_pack(tmp_path, ATTRS))
    base = {"source": "provincial", "category": "general", "events": {"transferred": "2024-09-27"}}
    township = pack.evaluate(
        {**base, "attrs": {"owner": "township", "households": 3}}, "2024-10-15"
    )
    department = pack.evaluate({**base, "attrs": {"owner": "department"}}, "2024-10-15")
    assert township.matched_rules == ("plan",)
    assert department.matched_rules == ()


def test_two_responsible_roles_without_precedence_warn(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  - {id: county_gov, name: 县人民政府, tier: county}\n",
        "  - {id: county_gov, name: 县人民政府, tier: county}\n"
        "  - {id: township_gov, name: 乡镇人民政府, tier: township}\n",
    ).replace("    kind: deadline\n", "    kind: deadline\n    responsible: county_gov\n") + (
        "  - {id: owner, kind: routing, title: 属地, basis: 二(一), quote: 10个工作日内报送,"
        " responsible: township_gov}\n"
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    decision = pack.evaluate({"source": "provincial", "category": "general"}, "2024-10-15")
    assert decision.responsible == "county_gov"
    assert decision.warning_codes == ("ambiguous_responsible",)
    with_precedence = text.replace(
        "responsible: township_gov}", "responsible: township_gov, overrides: [plan]}"
    )
    (tmp_path / "tiny" / "pack.yaml").write_text(with_precedence, encoding="utf-8")
    decision = ecorules.load_pack(tmp_path / "tiny").evaluate(
        {"source": "provincial", "category": "general"}, "2024-10-15"
    )
    assert (decision.responsible, decision.warning_codes) == ("township_gov", ())


def test_malformed_case_file_is_reported_with_position(tmp_path: Path) -> None:
    from ecorules._cases import load_cases

    directory = write_pack(tmp_path, MINIMAL)
    (directory / "cases").mkdir()
    (directory / "cases" / "bad.yaml").write_text(
        "cases:\n  - note: asserts nothing\n    as_of: 2024-10-15\n    fact: {}\n    want: {}\n"
        "  - note: typo\n    as_of: 2024-10-15\n    fact: {}\n    wnat: {closed: true}\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError) as caught:
        load_cases(directory)
    assert [str(d).split(": ", 1)[1] for d in caught.value.diagnostics] == [
        "invalid_value: `want` asserts nothing at `cases.0.want`",
        "unknown_key: unknown key `wnat` (did you mean `want`?)",
    ]
    assert [(d.line, d.col) for d in caught.value.diagnostics] == [(5, 11), (9, 5)]
