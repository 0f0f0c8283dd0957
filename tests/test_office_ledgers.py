"""Ledgers as offices keep them (issue 11): GBK and BOM CSV, Excel in and out, Chinese
headers and values, one usage error for a ledger nothing in which can be read."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ecorules import load_pack
from ecorules._cli import main
from ecorules._errors import FactError
from ecorules._ledger import read_ledger
from ecorules._mapping import LedgerVocabulary

openpyxl = pytest.importorskip("openpyxl")

AS_OF = "2024-10-30"
HEADER = ["编号", "来源", "类别", "问题移交日期", "备注"]
GOOD = [
    ["A1", "省级移交", "一般性问题", "2024/9/27", "x"],
    ["A2", "ＰＲＯＶＩＮＣＩＡＬ", "一般性问题", "2024年9月2日", ""],
    ["A4", "国家移交", "重点突出问题", "2024-09-20", "中文备注"],
]
BAD = ["A3", "省移交", "一般性问题", "2024-09-27", ""]  # not a name the pack gives


def _csv(rows: list[list[str]]) -> str:
    return "".join(",".join(r) + "\r\n" for r in rows)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _decided(text: str) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for line in text.splitlines()]
    return {d["fact_id"]: d for d in lines if "refused" not in d}


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("ledger.csv", "utf-8"), ("ledger_bom.csv", "utf-8-sig"), ("LEDGER.CSV", "gbk")],
)
def test_every_good_row_of_a_csv_in_any_office_encoding_is_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, encoding: str
) -> None:
    ledger = tmp_path / name
    ledger.write_bytes(_csv([HEADER, GOOD[0], GOOD[1], BAD, GOOD[2]]).encode(encoding))
    code, out, err = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF)
    assert code == 1  # one row refused
    decided = _decided(out)
    assert sorted(decided) == ["A1", "A2", "A4"]
    assert {d["source"] for d in decided.values()} == {"provincial", "national"}
    refused = [json.loads(line)["refused"] for line in out.splitlines() if "refused" in line]
    assert len(refused) == 1
    assert refused[0]["line"] == 4
    assert refused[0]["problems"][0]["field"] == "来源 (source)"
    assert refused[0]["problems"][0]["value"] == "省移交"
    assert "省级移交 (provincial)" in refused[0]["problems"][0]["allowed"]
    assert "1 of 4 facts refused" in err and "line 4" in err
    assert "columns not read" in err and "备注" in err  # said once, not lost silently


def test_a_gbk_row_in_a_utf8_ledger_is_refused_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: a UTF-8 ledger with one row saved as GBK loses no other row."""
    rows = [HEADER] + [[f"N{i}", "省级移交", "一般性问题", "2024-09-27", ""] for i in range(800)]
    body = _csv(rows).encode("utf-8").splitlines(keepends=True)
    body[700] = _csv([["GBK", "省级移交", "一般性问题", "2024-09-27", "备注"]]).encode("gbk")
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes(b"".join(body))
    code, out, err = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF)
    assert code == 1
    assert len(_decided(out)) == 799
    assert "1 of 800 facts refused" in err and "line 701" in err
    assert "not UTF-8 text" in out


def test_a_file_in_neither_encoding_is_one_error_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes(_csv([HEADER, *GOOD]).encode("utf-16"))
    code, out, err = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF)
    assert code == 1 and out == ""
    assert "ledger line 1" in err and "ledger.csv" in err and "--encoding" in err
    assert "Traceback" not in err
    # …and read as what it is when told
    code, out, err = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--encoding", "utf-16"
    )
    assert code == 0 and sorted(_decided(out)) == ["A1", "A2", "A4"]


def test_headers_that_name_nothing_are_one_usage_error_before_any_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    rows = [["问题号", "问题出处", "移交时"]] + [["A", "省级移交", "2024-09-27"]] * 1000
    ledger.write_text(_csv(rows), encoding="utf-8")
    code, out, err = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF)
    assert code == 1 and out == ""
    assert err.count("\n") <= 3, err  # one error, not a thousand refusals
    assert "问题号" in err and "问题出处" in err and "ecorules mapping" in err


def test_a_mapping_naming_a_missing_column_is_one_error_with_the_nearest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_csv([HEADER, *GOOD]), encoding="utf-8")
    mapping = tmp_path / "ledger.yaml"
    mapping.write_text("columns:\n  events.transferred: 移交日期\n", encoding="utf-8")
    code, out, err = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--mapping", str(mapping)
    )
    assert code == 1 and out == ""
    assert "移交日期" in err and "nearest" in err and "问题移交日期" in err


def test_a_mapping_file_gives_columns_and_value_aliases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        _csv([["问题号", "出处", "类别", "移交"], ["A3", "省移交", "一般", "2024-09-27"]]),
        encoding="utf-8",
    )
    mapping = tmp_path / "ledger.yaml"
    mapping.write_text(
        "columns:\n  id: 问题号\n  source: 出处\n  events.transferred: 移交\n"
        "values:\n  source:\n    省移交: provincial\n  category:\n    一般: general\n",
        encoding="utf-8",
    )
    code, out, _ = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--mapping", str(mapping)
    )
    assert code == 0
    assert _decided(out)["A3"]["source"] == "provincial"


def test_the_starter_mapping_lists_every_field_and_value_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "mapping", "shidian")
    assert code == 0
    pack = load_pack("shidian")
    for term in pack.model.vocabulary.sources:
        assert f"{term.name}（{term.id}）" in out
    for event in pack.model.vocabulary.events:
        assert f"events.{event.id}: {event.name}日期" in out
    import yaml

    assert set(yaml.safe_load(out)) == {"columns", "values"}
    # used as it is printed, on a ledger with the usual headers, it reads the ledger
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(out, encoding="utf-8")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_csv([HEADER, *GOOD]), encoding="utf-8")
    code, decided, _ = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--mapping", str(mapping)
    )
    assert code == 0 and sorted(_decided(decided)) == ["A1", "A2", "A4"]


def test_names_are_matched_width_and_case_insensitively_at_load() -> None:
    words = LedgerVocabulary.of(load_pack("shidian"))
    assert words.value("source", "省级移交") == "provincial"
    assert words.value("source", " Provincial ") == "provincial"
    assert words.value("flags", "涉嫌犯罪") == "suspected_crime"
    assert words.value("source", "省移交") == "省移交"  # unknown: left for the check to refuse


# -- Excel -------------------------------------------------------------------------------


def _workbook(path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "台账"
    ws.append(["十堰市长江经济带生态环境问题整改台账"])  # a title merged over the header
    ws.merge_cells("A1:E1")
    ws.append(HEADER)
    ws.append(["A1", "省级移交", "一般性问题", dt.datetime(2024, 9, 27), "x"])  # an Excel date
    ws.append(["A2", "省级移交", "一般性问题", "2024年9月2日", None])  # a text date
    ws.append(BAD)
    ws.append(["A4", "国家移交", "重点突出问题", dt.date(2024, 9, 20), "=SUM(1,2)"])
    ws["E6"].data_type = "s"  # text that looks like a formula, as a clerk may type it
    ws.append([None, None, None, None, None])  # blank trailing rows, as Excel keeps them
    ws.append([None, "", None, None, None])
    other = book.create_sheet("其他")
    other.append(["无关"])
    book.save(path)


def test_an_excel_ledger_is_read_below_its_merged_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "台账.XLSX"
    _workbook(ledger)
    code, out, err = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF)
    assert code == 1
    decided = _decided(out)
    assert sorted(decided) == ["A1", "A2", "A4"]
    refused = [json.loads(line)["refused"] for line in out.splitlines() if "refused" in line]
    assert [(r["sheet"], r["line"]) for r in refused] == [("台账", 5)]
    assert "台账!5" in err
    rows = list(read_ledger(str(ledger), words=LedgerVocabulary.of(load_pack("shidian"))))
    assert rows[0].fact["events"] == {"transferred": "2024-09-27"}
    assert rows[1].fact["events"] == {"transferred": "2024-09-02"}


def test_a_missing_sheet_is_refused_with_the_sheets_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.xlsx"
    _workbook(ledger)
    code, _, err = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--sheet", "台帐"
    )
    assert code == 1 and "no such sheet" in err and "台账" in err


def test_a_file_named_xlsx_that_is_not_one_is_one_error(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.xlsx"
    ledger.write_text("编号,来源\n", encoding="utf-8")
    with pytest.raises(FactError, match="not an Excel"):
        read_ledger(str(ledger))


def _write_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    ledger = tmp_path / "ledger.xlsx"
    _workbook(ledger)
    out = tmp_path / "result.xlsx"
    code, stdout, _ = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "-o", str(out)
    )
    assert code == 1 and stdout == ""
    return out


def test_the_excel_output_is_the_ledger_back_with_its_decisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _write_result(tmp_path, capsys)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["台账", "统计", "图表"]
    ws = book["台账"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADER, "下一步", "期限", "状态", "责任主体", "依据", "提示"]
    assert [r[0] for r in rows[1:]] == ["A1", "A2", "A3", "A4"]
    a1 = rows[1]
    assert a1[6] == dt.datetime(2024, 10, 16)  # the due date, a real Excel date
    assert a1[7] == "逾期" and a1[8] and not a1[8].startswith(("sd_", "bs_"))  # a body's name
    assert a1[9] == "二(一)"
    assert rows[3][7] == "拒收" and "来源" in rows[3][10]
    assert rows[4][4] == "'=SUM(1,2)"  # a formula in a cell is text again, never run
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:K{len(rows)}"
    assert ws.cell(2, 8).fill.fgColor.rgb.endswith("FFC7CE")  # overdue: red
    counts = list(book["统计"].iter_rows(values_only=True))
    assert counts[0][0] == "责任主体" and counts[-1][0] == "合计"
    assert counts[-1][-1] == 4


def test_the_counts_sheet_carries_a_native_excel_chart_of_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import zipfile

    out = _write_result(tmp_path, capsys)
    counts = list(openpyxl.load_workbook(out)["统计"].iter_rows(values_only=True))
    statuses, bodies = counts[0][1:-1], len(counts) - 2  # without 合计 column and row
    with zipfile.ZipFile(out) as book:
        charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/")]
    (chart,) = [c for c in charts if "'统计'!" in c]
    assert '<barDir val="bar" />' in chart and '<grouping val="stacked" />' in chart
    # One series per status, each a column of the table over every body (not 合计).
    for column, status in enumerate(statuses):
        letter = "BCDEFGHIJ"[column]
        assert f"<f>'统计'!${letter}$2:${letter}${bodies + 1}</f>" in chart, status
    assert chart.count("<ser>") == len(statuses)
    assert "逾期" in statuses and "C0504D" in chart  # overdue drawn red, as on the ledger


@pytest.mark.slow
def test_libreoffice_opens_the_excel_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    out = _write_result(tmp_path, capsys)
    subprocess.run(
        [
            office,
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path / "lo"),
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    text = (tmp_path / "lo" / "result.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("编号,来源,类别,问题移交日期,备注,下一步,期限,状态")
    assert len(lines) == 5 and "逾期" in lines[1] and "2024-10-16" in lines[1]


def test_csv_written_to_a_file_has_a_bom_for_excel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_csv([HEADER, *GOOD]), encoding="utf-8")
    out = tmp_path / "out.csv"
    code, _, _ = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "-o", str(out))
    assert code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbffact_id,")


# -- data quality and pack aliases ----------------------------------------------------------


def test_a_plan_before_its_transfer_and_a_closure_before_rectification_are_warned() -> None:
    pack = load_pack("shidian")
    fact = {
        "id": "Q1",
        "source": "provincial",
        "category": "general",
        "events": {
            "transferred": "2024-09-27",
            "plan_submitted": "2024-09-01",
            "rectified": "2024-10-20",
            "closed": "2024-10-10",
        },
    }
    decision = pack.evaluate(fact, "2024-10-30")
    order = [w.message for w in decision.warnings if w.code == "event_before_its_cause"]
    assert len(order) == 2
    assert "`plan_submitted`, 2024-09-01" in order[0] and "`transferred`" in order[0]
    assert "`closed`, 2024-10-10" in order[1] and "`rectified`" in order[1]
    in_order = {**fact, "events": {"transferred": "2024-09-27", "plan_submitted": "2024-10-01"}}
    warnings = pack.evaluate(in_order, "2024-10-30").warnings
    assert not [w for w in warnings if w.code == "event_before_its_cause"]


def test_a_pack_alias_is_a_value_a_ledger_may_use(tmp_path: Path) -> None:
    source = Path(load_pack("shidian").path)
    copy = tmp_path / "shidian"
    shutil.copytree(source, copy)
    text = (copy / "pack.yaml").read_text("utf-8")
    text = text.replace(
        "{id: provincial, name: 省级移交}", "{id: provincial, name: 省级移交, aliases: [省移交]}"
    )
    (copy / "pack.yaml").write_text(text, "utf-8")
    words = LedgerVocabulary.of(load_pack(copy))
    assert words.value("source", "省移交") == "provincial"
    assert words.value("source", "省 移 交") == "provincial"


# -- calendars ------------------------------------------------------------------------------


def test_dues_become_an_icalendar_file_with_stable_uids_and_reminders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    icalendar = pytest.importorskip("icalendar")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_csv([HEADER, *GOOD, BAD]), encoding="utf-8")
    out = tmp_path / "dues.ics"
    code, _, err = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "-o", str(out)
    )
    assert code == 1 and "line 5" in err
    first = out.read_bytes()
    cal = icalendar.Calendar.from_ical(first)
    events = list(cal.walk("VEVENT"))
    decisions = load_pack("shidian").evaluate_many(
        [
            {
                "id": "A1",
                "source": "provincial",
                "category": "general",
                "events": {"transferred": "2024-09-27"},
            },
        ],
        AS_OF,
    )
    a1 = next(iter(decisions))
    dated = [a for a in a1.actions if a.due and a.status in ("pending", "overdue")]
    mine = [e for e in events if "（A1）" in str(e["SUMMARY"])]
    assert len(mine) == len(dated) > 0
    overdue = next(e for e in mine if str(e["SUMMARY"]).startswith("【逾期】"))
    assert overdue["DTSTART"].dt == dt.date(2024, 10, 16)  # all-day, on the due date
    assert "二(一)" in str(overdue["DESCRIPTION"]) and "乡镇人民政府" in str(overdue["DESCRIPTION"])
    alarm = next(iter(overdue.walk("VALARM")))
    # 2024-10-16 is a Wednesday: the reminder is on Tuesday the 15th, 09:00 in Beijing
    assert alarm["TRIGGER"].dt == dt.datetime(2024, 10, 15, 1, 0, tzinfo=dt.UTC)
    assert len({str(e["UID"]) for e in events}) == len(events)
    # the same ledger again: the same bytes, so a re-import updates rather than duplicates
    _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "-o", str(out))
    assert out.read_bytes() == first


def test_a_reminder_before_a_monday_due_date_falls_on_the_friday() -> None:
    from ecorules._ics import previous_working_day

    calendar = load_pack("shidian").calendar
    assert previous_working_day(calendar, dt.date(2024, 10, 21)) == dt.date(2024, 10, 18)
    # after the National Day week, the working day before 8 October is 30 September
    assert previous_working_day(calendar, dt.date(2024, 10, 8)) == dt.date(2024, 9, 30)


def test_calendars_split_by_responsible_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("icalendar")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_csv([HEADER, *GOOD]), encoding="utf-8")
    out = tmp_path / "dues.ics"
    code, _, _ = _run(
        capsys,
        "evaluate",
        "shidian",
        str(ledger),
        "--as-of",
        AS_OF,
        "-o",
        str(out),
        "--split-by",
        "actor",
    )
    assert code == 0
    files = sorted(p.name for p in tmp_path.glob("dues-*.ics"))
    pack = load_pack("shidian")
    rows = read_ledger(str(ledger), words=LedgerVocabulary.of(pack))
    acting = {
        f"dues-{a.actor}.ics"
        for d in pack.evaluate_many(rows, AS_OF)
        for a in getattr(d, "actions", ())
        if a.due and a.status in ("pending", "overdue")
    }
    assert files == sorted(acting) and not out.exists()
    for name in files:
        text = (tmp_path / name).read_text("utf-8")
        actor = name.removeprefix("dues-").removesuffix(".ics")
        body = load_pack("shidian").role(actor).name
        assert text.count("CATEGORIES:") == text.count(f"CATEGORIES:{body}")


def test_both_excel_readers_give_the_same_rows(tmp_path: Path) -> None:
    """calamine reads when installed, openpyxl otherwise: the same ledger, the same facts."""
    pytest.importorskip("python_calamine")
    from ecorules._xlsx import xlsx_rows

    ledger = tmp_path / "ledger.xlsx"
    _workbook(ledger)
    words = LedgerVocabulary.of(load_pack("shidian"))

    def rows(reader: str) -> list[tuple[int, object, tuple[object, ...] | None]]:
        return [(r.line, r.fact, r.raw) for r in xlsx_rows(ledger, {}, words, None, reader)]

    by_calamine, by_openpyxl = rows("calamine"), rows("openpyxl")
    assert [line for line, _, _ in by_calamine] == [3, 4, 5, 6]
    assert [fact for _, fact, _ in by_calamine] == [fact for _, fact, _ in by_openpyxl]


def test_a_two_row_header_with_cells_merged_down_is_read(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["编号", "来源", "类别", "时间", None])
    ws.append([None, None, None, "问题移交日期", "整改完成日期"])
    for column in "ABC":
        ws.merge_cells(f"{column}1:{column}2")  # 编号, 来源, 类别 span both header rows
    ws.merge_cells("D1:E1")
    ws.append(["M1", "省级移交", "一般性问题", dt.date(2024, 9, 27), None])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    rows = list(read_ledger(str(path), words=LedgerVocabulary.of(load_pack("shidian"))))
    assert [(r.line, r.fact) for r in rows] == [
        (
            3,
            {
                "id": "M1",
                "source": "provincial",
                "category": "general",
                "events": {"transferred": "2024-09-27"},
            },
        )
    ]


def test_office_dates_are_read_in_every_form_they_come_in() -> None:
    from ecorules._mapping import office_date

    for written in (
        "2024-09-27",
        "2024/9/27",
        "2024年9月27日",
        "2024.9.27",
        "20240927",
        "２０２４年９月２７日",
        dt.date(2024, 9, 27),
        dt.datetime(2024, 9, 27),
        45562,
        45562.0,
    ):
        assert office_date(written) == "2024-09-27", written
    assert office_date("9/27") == "9/27"  # no year: left for the fact check to refuse
    assert office_date(12) == 12


def test_report_reads_a_gbk_ledger_and_an_excel_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes(_csv([HEADER, *GOOD, BAD]).encode("gbk"))
    code, out, _ = _run(
        capsys, "report", "shidian", str(ledger), "--as-of", AS_OF, "--format", "json"
    )
    report = json.loads(out)
    assert code == 1 and report["total"] == 3 and report["refused_count"] == 1
    assert report["refused"][0]["line"] == 5
    book = tmp_path / "ledger.xlsx"
    _workbook(book)
    code, out, _ = _run(
        capsys, "report", "shidian", str(book), "--as-of", AS_OF, "--format", "json"
    )
    report = json.loads(out)
    assert code == 1 and report["total"] == 3
    assert (report["refused"][0]["sheet"], report["refused"][0]["line"]) == ("台账", 5)


def test_a_json_lines_ledger_becomes_a_workbook_keyed_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    facts = [
        {
            "id": "J1",
            "source": "provincial",
            "category": "general",
            "events": {"transferred": "2024-09-27"},
        },
        {"id": "J2", "source": "nowhere", "category": "general"},
    ]
    ledger.write_text("".join(json.dumps(f) + "\n" for f in facts), encoding="utf-8")
    out = tmp_path / "result.xlsx"
    code, _, _ = _run(capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "-o", str(out))
    assert code == 1
    rows = list(openpyxl.load_workbook(out)["台账"].iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "下一步", "期限")
    assert [(r[0], r[3]) for r in rows[1:]] == [("J1", "逾期"), ("J2", "拒收")]


def test_split_by_is_only_for_calendars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(_csv([HEADER, *GOOD]), encoding="utf-8")
    code, out, err = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--split-by", "actor"
    )
    assert code == 1 and out == "" and "--split-by" in err


def test_the_figures_sheet_holds_the_dashboards_numbers_and_draws_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sheet 图表: the figures `report --format html` draws, from the same pass, each table
    with a native Excel chart beside it (issue 18, item 4)."""
    import zipfile

    from ecorules._model import TIER_NAMES

    ledger = Path(__file__).resolve().parents[1] / "examples" / "shidian_ledger.jsonl"
    out = tmp_path / "result.xlsx"
    code, _, _ = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", "2024-10-25", "-o", str(out)
    )
    assert code == 0
    pack = load_pack("shidian")
    figures = pack.report(read_ledger(str(ledger)), "2024-10-25").figures
    assert figures is not None
    rows = [r for r in openpyxl.load_workbook(out)["图表"].iter_rows(values_only=True) if any(r)]
    bodies = rows[2 : 2 + len(figures.bodies)]
    assert [list(r[:5]) for r in bodies] == [
        [b.name, b.overdue, b.due_soon, b.open, TIER_NAMES.get(b.tier, b.tier)]
        for b in figures.bodies
    ]
    at = rows.index(("周", "到期事项", None, None, None))
    assert [r[1] for r in rows[at + 1 : at + 1 + len(figures.weeks)]] == [
        w.due for w in figures.weeks
    ]
    for funnel in figures.chains:
        title = next(i for i, r in enumerate(rows) if str(r[0]).startswith(funnel.title))
        steps = rows[title + 2 : title + 2 + len(funnel.steps)]
        assert [(r[1], r[2]) for r in steps] == [(s.done, s.waiting) for s in funnel.steps]
    with zipfile.ZipFile(out) as book:
        charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/")]
    drawn = [c for c in charts if "'图表'!" in c]
    assert len(drawn) == 2 + len(figures.chains)  # bodies, weeks, one funnel per chain


@pytest.mark.parametrize(("output", "extra"), [("out.xlsx", "excel"), ("dues.ics", "ics")])
def test_an_output_whose_extra_is_missing_is_one_line_before_any_work(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    output: str,
    extra: str,
) -> None:
    import sys

    for module in ("openpyxl", "openpyxl.cell", "openpyxl.styles", "icalendar"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    ledger = Path(__file__).resolve().parents[1] / "examples" / "shidian_ledger.jsonl"
    target = tmp_path / output
    code, out, err = _run(
        capsys, "evaluate", "shidian", str(ledger), "--as-of", "2024-10-25", "-o", str(target)
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and f"ecorules[{extra}]" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
