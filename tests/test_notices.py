"""Holiday notice files: read by every entry point, refused with positions, named by decisions.

Every notice here is WRITTEN FOR THE TESTS (see tests/fixtures/notices/README.md): the State
Council's 2027 notice had not been published, and none is invented into the library.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import holidays
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import ecorules
from ecorules._calendar import official_horizon_year
from ecorules._calendar_cli import template
from ecorules._cli import main
from ecorules._notices import (
    ENV_VAR,
    notice_sha256,
    parse_days,
    parse_notice_file,
)

NOTICES = Path(__file__).resolve().parent / "fixtures" / "notices"
YAML_2027 = str(NOTICES / "test-only-notice-2027.yaml")
JSON_2027 = str(NOTICES / "test-only-notice-2027.json")
TEST_SOURCE = "ecorules test fixture — not a State Council notice"
FACT = {
    "id": "T-1",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2026-12-24"},
}
ACTION = "b_submit_township_plan"  # 10 working days after `transferred`

# These tests supply 2027's notice themselves: they run on the data as it was before a
# holidays release carried one (see conftest), whichever release is installed.
pytestmark = pytest.mark.usefixtures("holidays_data_as_written")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def write(tmp_path: Path, text: str, name: str = "notice.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------------------------
# Reading a notice file
# ---------------------------------------------------------------------------------------------
def test_days_and_ranges() -> None:
    assert parse_days(date(2027, 1, 1)) == [date(2027, 1, 1)]
    assert parse_days("2027-01-01") == [date(2027, 1, 1)]
    assert parse_days("2027-02-05..2027-02-07") == [date(2027, 2, d) for d in (5, 6, 7)]
    assert parse_days("2027-02-05..07") == [date(2027, 2, d) for d in (5, 6, 7)]
    assert parse_days("2027-01-31..02-01") == [date(2027, 1, 31), date(2027, 2, 1)]
    for bad in ("2027-02-07..2027-02-05", "2027-02-30", "next friday", 20270101):
        with pytest.raises(ValueError):
            parse_days(bad)


def test_yaml_and_json_files_give_the_same_notice_and_hash() -> None:
    from_yaml, from_json = parse_notice_file(YAML_2027), parse_notice_file(JSON_2027)
    assert from_yaml.ok and from_json.ok, (from_yaml.diagnostics, from_json.diagnostics)
    assert from_yaml.diagnostics == ()  # every weekday festival of 2027 is listed: no warning
    assert from_yaml.notices == from_json.notices
    (notice,) = from_yaml.notices
    assert notice.year == 2027 and notice.source == TEST_SOURCE
    assert len(notice.holidays) == 4 + 7 + 1 + 5 + 1 + 1 + 7
    assert notice.workdays == tuple(
        date(2027, m, d) for m, d in ((1, 9), (2, 20), (9, 25), (10, 9))
    )
    # The hash is of the content: reordering the days or changing the source keeps it.
    same = notice.model_copy(update={"source": "other title", "holidays": notice.holidays[::-1]})
    assert notice_sha256(same) == notice_sha256(notice)
    moved = notice.model_copy(update={"workdays": notice.workdays[:-1]})
    assert notice_sha256(moved) != notice_sha256(notice)


BAD = """\
- year: 2027
  source: written for the tests
  holidays:
    - 2027-01-01
    - 2026-12-31
    - 2027-10-01..2027-10-07
  workdays:
    - 2027-10-08
    - 2027-10-03
- year: 2027
  source: written for the tests, again
  holidays: [2027-05-01]
"""


def test_check_refuses_an_impossible_notice_with_positions(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    parsed = parse_notice_file(path)
    assert not parsed.ok
    found = {(d.code, d.line, d.col) for d in parsed.diagnostics if d.severity == "error"}
    assert found == {
        ("day_outside_year", 5, 7),  # a holiday outside its year
        ("workday_not_weekend", 8, 7),  # Friday 2027-10-08
        ("day_both_off_and_workday", 9, 7),  # Sunday 10-03, also inside the 10-01..07 range
        ("duplicate_year", 10, 9),  # 2027 twice
    }
    assert all(d.file == path for d in parsed.diagnostics)
    with pytest.raises(ecorules.CalendarError) as caught:
        ecorules.read_calendar_notices(path)
    assert isinstance(caught.value, ecorules.PackError)
    assert f"{path}:8:7: workday_not_weekend: make-up workday 2027-10-08 is a Friday" in str(
        caught.value
    )


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("year: 2027\n", "notice_file_not_list", 1, 1),
        ("- 2027\n", "notice_not_mapping", 1, 3),
        ("- year: 2027\n  source: s\n  holiday: [2027-01-01]\n", "unknown_key", 3, 3),
        ("- year: 2027\n  source: s\n  holidays: [2027-02-30]\n", "invalid_value", 3, 14),
        ("- year: 2027\n  source: s\n  holidays: ['2027-02-03..01']\n", "invalid_date", 3, 14),
        ("- year: 1999\n  source: s\n  holidays: [1999-01-01]\n", "invalid_value", 1, 9),
        ("- year: 2027\n  holidays: [2027-01-01]\n", "notice_source_missing", 1, 3),
        ("- year: 2027\n  source: s\n  holidays: []\n", "notice_without_holidays", 1, 3),
        ("- year: 2028\n  source: s\n  holidays: [2028-01-03]\n", "notice_year_gap", 1, 9),
        ("- year: 2027\n  source: s\n  holidays: [2027-01-01\n", "yaml_syntax", 4, 1),
    ],
)
def test_each_refusal_has_a_code_and_a_position(
    tmp_path: Path, text: str, code: str, line: int, col: int
) -> None:
    parsed = parse_notice_file(write(tmp_path, text))
    errors = [(d.code, d.line, d.col) for d in parsed.diagnostics if d.severity == "error"]
    assert (code, line, col) in errors, parsed.diagnostics


def test_unknown_key_suggests_the_near_name(tmp_path: Path) -> None:
    parsed = parse_notice_file(write(tmp_path, "- year: 2027\n  source: s\n  holiday: []\n"))
    assert any(d.help == "did you mean `holidays`?" for d in parsed.diagnostics)


def test_warnings_do_not_refuse(tmp_path: Path) -> None:
    # A weekday festival left out, and a year the data already has: warned, still usable.
    text = (
        "- year: 2026\n  source: s\n  holidays: [2026-01-01]\n"
        "- year: 2027\n  source: s\n  holidays: [2027-01-01]\n"
    )
    parsed = parse_notice_file(write(tmp_path, text))
    assert parsed.ok
    codes = {(d.code, d.severity) for d in parsed.diagnostics}
    assert ("notice_replaces_data", "warning") in codes
    assert ("festival_not_off", "warning") in codes
    missing = [d.message for d in parsed.diagnostics if d.code == "festival_not_off"]
    assert any(m.startswith("2027-10-01 (国庆节") for m in missing)


# ---------------------------------------------------------------------------------------------
# The template
# ---------------------------------------------------------------------------------------------
def test_template_is_marked_and_refused_until_completed(tmp_path: Path) -> None:
    text = template(2027)
    assert "A TEMPLATE, NOT THE NOTICE" in text
    festivals = holidays.country_holidays("CN", years=2027, observed=False)
    for day in festivals:
        assert f"- {day.isoformat()}  #" in text
    path = write(tmp_path, text)
    codes = {d.code for d in parse_notice_file(path).diagnostics}
    assert {"notice_is_draft", "notice_source_missing"} <= codes
    with pytest.raises(ecorules.CalendarError):
        ecorules.load_pack("shidian", calendar_notices=path)
    # Completed (here: only the draft mark removed and a source set), it is accepted.
    done = text.replace("  draft: true\n", "").replace('source: ""', "source: written for tests")
    assert parse_notice_file(write(tmp_path, done, "done.yaml")).ok


# ---------------------------------------------------------------------------------------------
# Every entry point, and what decisions say
# ---------------------------------------------------------------------------------------------
def test_load_pack_reads_a_notice_file_and_decisions_name_it() -> None:
    plain = ecorules.load_pack("shidian", calendar_notices=())
    noticed = ecorules.load_pack("shidian", calendar_notices=YAML_2027)
    before, after = plain.evaluate(FACT, "2026-12-28"), noticed.evaluate(FACT, "2026-12-28")
    # Predicted: Fri 2027-01-08. The test notice takes 01-04 off and works Sat 01-09.
    assert before.action(ACTION).due == date(2027, 1, 8)
    assert after.action(ACTION).due == date(2027, 1, 9)
    assert "calendar_beyond_horizon" in before.warning_codes
    assert "calendar_beyond_horizon" not in after.warning_codes

    assert before.calendar == plain.calendar_identity
    assert before.calendar is not None and after.calendar is not None
    assert before.calendar.holidays_version == holidays.__version__
    assert before.calendar.official_through == official_horizon_year()
    assert before.calendar.notices == ()
    assert after.calendar.horizon == date(2027, 12, 31)
    (used,) = after.calendar.notices
    assert (used.year, used.source, used.file) == (2027, TEST_SOURCE, YAML_2027)
    assert used.sha256 == notice_sha256(noticed.notices[0])
    dumped = json.loads(json.dumps(after.model_dump(mode="json")))
    assert dumped["calendar"]["notices"][0]["sha256"] == used.sha256
    assert json.loads(after.model_dump_json())["calendar"]["holidays_version"] == (
        holidays.__version__
    )


def test_decisions_share_one_identity_object() -> None:
    # Nothing is built per fact: every decision points at the pack's identity.
    pack = ecorules.load_pack("shidian", calendar_notices=YAML_2027)
    first, second = pack.evaluate(FACT, "2026-12-28"), pack.evaluate(FACT, "2027-01-05")
    assert first.calendar is second.calendar is pack.calendar_identity


def test_python_notices_and_files_mix_and_are_checked_alike() -> None:
    notice = ecorules.CalendarNotice(
        year=2027, holidays=[date(2027, 1, 1)], source="written for the tests"
    )
    pack = ecorules.load_pack("shidian", calendar_notices=[notice])
    (used,) = pack.calendar_identity.notices
    assert used.file is None and used.sha256 == notice_sha256(notice)
    with pytest.raises(ecorules.CalendarError, match="duplicate_year"):
        ecorules.load_pack("shidian", calendar_notices=[notice, YAML_2027])
    friday = ecorules.CalendarNotice(
        year=2027, holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 8)]
    )
    with pytest.raises(ecorules.CalendarError, match="workday_not_weekend"):
        ecorules.load_pack("shidian", calendar_notices=[friday])


def test_environment_variable_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, JSON_2027)
    pack = ecorules.load_pack("shidian")
    assert pack.evaluate(FACT, "2026-12-28").action(ACTION).due == date(2027, 1, 9)
    assert pack.calendar_identity.notices[0].file == JSON_2027
    # Explicitly none, or another file, wins over the variable.
    assert ecorules.load_pack("shidian", calendar_notices=()).calendar_identity.notices == ()
    monkeypatch.setenv(ENV_VAR, "/no/such/notice.yaml")
    with pytest.raises(ecorules.CalendarError, match="unreadable"):
        ecorules.load_pack("shidian")


def test_horizon_warning_names_the_missing_year_and_the_way_to_supply_it() -> None:
    decision = ecorules.load_pack("shidian", calendar_notices=()).evaluate(FACT, "2026-12-28")
    (warning,) = [w for w in decision.warnings if w.code == "calendar_beyond_horizon"]
    missing = official_horizon_year() + 1
    assert f"no State Council holiday notice for {missing}" in warning.message
    assert f"ecorules calendar template {missing}" in warning.message
    assert "--calendar FILE" in warning.message and ENV_VAR in warning.message


def test_no_notice_is_shipped() -> None:
    # Without a notice file, the calendar ends where the holidays data does: nothing in the
    # library supplies a year on its own.
    pack = ecorules.load_pack("shidian", calendar_notices=())
    assert pack.calendar.horizon_year == official_horizon_year()
    root = Path(ecorules.__file__).resolve().parent
    shipped = [*root.rglob("*.yaml"), *root.rglob("*.json")]
    shipped += [*(root.parents[1] / "policies").rglob("*.yaml")]
    for path in shipped:
        parsed = parse_notice_file(path)
        assert not parsed.notices, f"{path} reads as a holiday notice"


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------
def fact_file(tmp_path: Path) -> str:
    return write(tmp_path, json.dumps(FACT), "fact.json")


def test_cli_calendar_option_on_commands_that_compute_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fact = fact_file(tmp_path)
    args = ["shidian", fact, "--as-of", "2026-12-28", "--format", "json"]
    assert main(["evaluate", *args]) == 0
    assert json.loads(capsys.readouterr().out)["calendar"]["notices"] == []
    assert main(["evaluate", *args, "--calendar", YAML_2027]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["calendar"]["notices"][0]["source"] == TEST_SOURCE
    assert next(a for a in decision["actions"] if a["id"] == ACTION)["due"] == "2027-01-09"

    assert (
        main(["evaluate", "shidian", fact, "--as-of", "2026-12-28", "--calendar", JSON_2027]) == 0
    )
    table = capsys.readouterr().out
    assert "2027-01-09" in table and f"2027 notice: {TEST_SOURCE}" in table

    assert main(["explain", *args[:3], "2026-12-28", "--calendar", YAML_2027]) == 0
    assert "b_submit_township_plan: 2027-01-09" in capsys.readouterr().out

    ledger = write(tmp_path, json.dumps(FACT) + "\n", "ledger.jsonl")
    assert (
        main(["evaluate", "shidian", ledger, "--as-of", "2026-12-28", "--calendar", YAML_2027]) == 0
    )
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["calendar"]["horizon"] == "2027-12-31"

    assert main(["report", "shidian", ledger, "--as-of", "2027-01-09", "--format", "json"]) == 0
    predicted = json.loads(capsys.readouterr().out)
    assert (
        main(
            [
                "report",
                "shidian",
                ledger,
                "--as-of",
                "2027-01-09",
                "--format",
                "json",
                "--calendar",
                YAML_2027,
            ]
        )
        == 0
    )
    noticed = json.loads(capsys.readouterr().out)
    assert predicted["calendar"]["notices"] == []
    assert noticed["calendar"]["notices"][0]["sha256"] == notice_sha256(
        ecorules.read_calendar_notices(YAML_2027)[0]
    )
    # Due Fri 01-08 by prediction: overdue on 01-09; with the notice, due that very day.
    assert predicted["groups"][0]["overdue"] == 1 and noticed["groups"][0]["overdue"] == 0

    assert (
        main(["report", "shidian", ledger, "--as-of", "2027-01-09", "--calendar", JSON_2027]) == 0
    )
    assert f"calendar: holidays {holidays.__version__} + 2027 notice: {TEST_SOURCE}" in (
        capsys.readouterr().out
    )

    # The pack's own cases pin the no-notice estimates; a notice file reaches the case
    # runner too, so those (and only those) now disagree.
    assert main(["test", "shidian"]) == 0
    assert ", 0 failed" in capsys.readouterr().out
    assert main(["test", "shidian", "--calendar", YAML_2027]) == 1
    out = capsys.readouterr().out
    assert "warnings: want ['calendar_beyond_horizon'], got []" in out
    assert "a_submit_county_plan` due: want 2027-01-06, got 2027-01-07" in out


def test_cli_refuses_a_bad_notice_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = write(tmp_path, BAD)
    fact = fact_file(tmp_path)
    assert main(["evaluate", "shidian", fact, "--as-of", "2026-12-28", "--calendar", bad]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:5:7: day_outside_year" in err and "Traceback" not in err
    monkeypatch.setenv(ENV_VAR, bad)
    assert main(["evaluate", "shidian", fact, "--as-of", "2026-12-28"]) == 1
    assert f"{bad}:8:7: workday_not_weekend" in capsys.readouterr().err


def test_cli_calendar_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "check", YAML_2027]) == 0
    out = capsys.readouterr().out
    assert f"{YAML_2027}: 2027: 26 days off, 4 make-up workdays" in out
    assert "sha256 " + notice_sha256(ecorules.read_calendar_notices(YAML_2027)[0]) in out
    bad = write(tmp_path, BAD)
    assert main(["calendar", "check", bad]) == 1
    err = capsys.readouterr().err
    assert "error[duplicate_year]: " in err and f"  --> {bad}:10:9\n" in err
    assert err.endswith("4 errors, 12 warnings\n")
    # Two files, each fine alone, that give the same year.
    assert main(["calendar", "check", YAML_2027, JSON_2027, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"]
    assert [d["code"] for d in report["diagnostics"]] == ["duplicate_year"]


def test_cli_replays_on_the_data_as_it_stood(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--official-through YEAR` on the commands that decide, and on `calendar show`."""
    data = {**FACT, "events": {"transferred": "2025-12-24"}}
    fact = write(tmp_path, json.dumps(data), "fact-2025.json")
    args = ["shidian", fact, "--as-of", "2025-12-28", "--official-through", "2025"]
    assert main(["evaluate", *args, "--format", "json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    expected = ecorules.load_pack("shidian", official_through=2025).evaluate(data, "2025-12-28")
    assert decision == expected.model_dump(mode="json")
    assert decision["calendar"]["official_through"] == 2025
    assert "calendar_beyond_horizon" in [w["code"] for w in decision["warnings"]]
    assert main(["explain", *args]) == 0
    assert "past 2025-12-31, the last official holiday" in capsys.readouterr().out

    assert main(["calendar", "show", "2026", "--official-through", "2025"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2026 — PREDICTED") and "(official data through 2025)" in out
    assert main(["calendar", "show", "2026"]) == 0
    assert capsys.readouterr().out.startswith("2026 — from the holidays data")

    for bad, says in (
        ("2099", "official_through must be a year from 2000 to 2026"),
        ("x", "`x` is not a year"),
    ):
        with pytest.raises(SystemExit) as stopped:
            main(["evaluate", *args[:4], "--official-through", bad])
        assert stopped.value.code == 2
        assert f"argument --official-through: {says}" in capsys.readouterr().err


def test_cli_calendar_show(capsys: pytest.CaptureFixture[str]) -> None:
    year = official_horizon_year()
    assert main(["calendar", "show", str(year)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{year} — from the holidays data {holidays.__version__}")
    assert "10  days off: 10-01.." in out
    assert main(["calendar", "show", str(year + 1)]) == 0
    assert f"{year + 1} — PREDICTED" in capsys.readouterr().out
    assert main(["calendar", "show", "2027", "--calendar", YAML_2027, "--pack", "shidian"]) == 0
    out = capsys.readouterr().out
    assert f"2027 — from notice file {YAML_2027}: {TEST_SOURCE}" in out
    assert "horizon: 2027-12-31" in out
    assert "01  days off: 01-01..01-04  |  make-up workdays: 01-09 (Sat)" in out


def test_cli_calendar_show_marks_a_packs_local_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_loader import MINIMAL, write_pack

    local = "calendar: {extra_holidays: [2027-03-15], extra_workdays: [2027-03-20]}\n"
    directory = write_pack(tmp_path, MINIMAL + local)
    assert main(["calendar", "show", "2027", "--pack", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "03  days off: 03-13..03-15 *  |  make-up workdays: 03-20 (Sat)*" in out
    assert out.endswith("* a local day of pack `tiny`\n")


def test_cli_calendar_template_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "template", "2027"]) == 0
    assert capsys.readouterr().out == template(2027)
    with pytest.raises(SystemExit) as exited:
        main(["calendar", "template", "1999"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        main(["calendar", "--help"])
    help_text = capsys.readouterr().out
    assert "The yearly routine" in help_text
    assert "ecorules calendar template 2027 > notice-2027.yaml" in help_text


# ---------------------------------------------------------------------------------------------
# Any notice, written either way, reads back as itself
# ---------------------------------------------------------------------------------------------
def _year_days(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [date.fromordinal(start.toordinal() + i) for i in range(365)]


def _folded(days: list[date]) -> list[str]:
    """Consecutive days written as ranges, as a person copying a notice would."""
    out: list[list[date]] = []
    for day in sorted(days):
        if out and (day - out[-1][-1]).days == 1:
            out[-1].append(day)
        else:
            out.append([day])
    return [
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}"
        for run in out
    ]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_valid_notice_round_trips_through_yaml_and_json(data: st.DataObject) -> None:
    import tempfile

    days = _year_days(2027)
    off = data.draw(st.sets(st.sampled_from(days), min_size=1, max_size=40))
    weekend = [d for d in days if d.weekday() >= 5 and d not in off]
    work = data.draw(st.sets(st.sampled_from(weekend), max_size=8))
    notice = ecorules.CalendarNotice(
        year=2027, holidays=sorted(off), workdays=sorted(work), source="written for the tests"
    )
    entry = {
        "year": 2027,
        "source": "written for the tests",
        "holidays": _folded(list(off)),
        "workdays": [d.isoformat() for d in sorted(work)],
    }
    with tempfile.TemporaryDirectory() as tmp:
        as_json = write(Path(tmp), json.dumps([entry]), "n.json")
        as_yaml = write(Path(tmp), yaml.safe_dump([entry], allow_unicode=True), "n.yaml")
        for path in (as_json, as_yaml):
            parsed = parse_notice_file(path)
            assert parsed.ok, parsed.diagnostics
            assert parsed.notices == (notice,)
        pack_a = ecorules.load_pack("yantai", calendar_notices=as_json)
        pack_b = ecorules.load_pack("yantai", calendar_notices=[notice])
    assert pack_a.calendar is pack_b.calendar  # one cached calendar for one content
    assert pack_a.calendar_identity.notices[0].sha256 == pack_b.calendar_identity.notices[0].sha256


def test_diff_loads_both_packs_with_the_notice_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ecorules._diff_cli as diff_cli

    loaded: list[object] = []
    real = diff_cli.load_pack

    def recording(name: str, **options: object) -> ecorules.Pack:
        loaded.append(options.get("calendar_notices"))
        return real(name, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(diff_cli, "load_pack", recording)
    assert main(["diff", "shidian", "shidian", "--calendar", YAML_2027]) == 0
    assert loaded == [[YAML_2027], [YAML_2027]]
    assert "no structural change" in capsys.readouterr().out
