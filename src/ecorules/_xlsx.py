"""Excel ledgers, in and out (the ``excel`` extra).

In: the first sheet (or ``--sheet``), values not formulas, read with python-calamine (13×
openpyxl's speed, measured in docs/performance.md) or, without it, openpyxl read-only;
both give the same cells. Ledgers as offices keep them often open with a title merged
across the sheet (``XX市整改台账``) above the real header, or a header over two rows with
cells merged down, so the header is the one of the top rows that names the most fact
fields once cells merged down are filled in; blank rows (Excel keeps formatted, empty
trailing rows) are skipped. Rows are named ``sheet!row`` as Excel numbers them.

Out (openpyxl, write-only, so memory stays flat): the ledger's own columns first, then the
decision per row — next action, its due date, status, responsible body by name, basis —
statuses coloured, the header frozen, an auto-filter on, and a second sheet counting rows
by responsible body × status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import FactError, FactProblem

if TYPE_CHECKING:
    from ._decision import Decision
    from ._figures import Figures
    from ._ledger import LedgerRow
    from ._mapping import LedgerVocabulary
    from ._pack import Pack
    from ._report import RefusedFact

HEADER_SCAN_ROWS = 10
"""How far down a sheet the header row is looked for (below a merged title, notes …)."""


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise FactError(
            [
                FactProblem(
                    "ledger",
                    ".xlsx",
                    "Excel ledgers need the `excel` extra: pip install 'ecorules[excel]'",
                )
            ]
        ) from None
    return openpyxl


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def open_sheet(
    path: Path, sheet: str | None, reader: str | None = None
) -> tuple[str, Iterator[tuple[Any, ...]], Callable[[], None]]:
    """The sheet's title, its rows from row 1 (empty cells None, dates as date/datetime,
    numbers as Excel keeps them), and how to close the workbook.

    python-calamine reads 100,000 rows about 13 times as fast as openpyxl (see
    docs/performance.md), so it reads when installed; openpyxl, which the output needs
    anyway, reads otherwise. Both give the same cells (a test holds them to it)."""
    if reader in (None, "calamine"):
        try:
            from python_calamine import CalamineWorkbook
        except ImportError:
            if reader == "calamine":
                raise
        else:
            try:
                book = CalamineWorkbook.from_path(str(path))
            except Exception as exc:  # not a zip, not a workbook
                raise FactError(
                    [FactProblem("ledger", str(path), f"not an Excel .xlsx workbook ({exc})")]
                ) from None
            names = list(book.sheet_names)
            if sheet is not None and sheet not in names:
                raise FactError([FactProblem("--sheet", sheet, "no such sheet", tuple(names))])
            if not names:
                raise FactError([FactProblem("ledger", str(path), "the workbook has no sheet")])
            title = sheet if sheet is not None else names[0]
            ws = book.get_sheet_by_name(title)

            def calamine_rows() -> Iterator[tuple[Any, ...]]:
                for values in ws.iter_rows():
                    yield tuple(None if v == "" else v for v in values)

            return title, calamine_rows(), lambda: None
    openpyxl = _openpyxl()
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
        raise FactError(
            [FactProblem("ledger", str(path), f"not an Excel .xlsx workbook ({exc})")]
        ) from None
    if sheet is None:
        wsheet = workbook.worksheets[0]
    elif sheet in workbook.sheetnames:
        wsheet = workbook[sheet]
    else:
        workbook.close()
        raise FactError(
            [FactProblem("--sheet", sheet, "no such sheet", tuple(workbook.sheetnames))]
        )
    wsheet.reset_dimensions()  # declared dimensions are often wrong; read what is there
    return wsheet.title, wsheet.iter_rows(values_only=True), workbook.close


def xlsx_rows(
    path: Path,
    columns: Mapping[str, str],
    words: LedgerVocabulary | None,
    sheet: str | None,
    reader: str | None = None,
) -> Iterator[LedgerRow]:
    """An Excel ledger's rows; the workbook, sheet and header are checked now."""
    from ._ledger import LedgerRow, OwnedRows, _row_fact
    from ._mapping import columns_for, norm

    title, rows, close = open_sheet(path, sheet, reader)
    try:
        top: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(rows, start=1):
            top.append((number, values))
            if number >= HEADER_SCAN_ROWS:
                break

        def filled(index: int) -> list[str]:
            """Row ``index`` of ``top`` as a header: a cell merged down from the row above
            (序号 over two header rows) keeps its text in the upper cell only, so an empty
            cell takes the text above it."""
            cells = [_text(v) for v in top[index][1]]
            if index == 0:
                return cells
            above = [_text(v) for v in top[index - 1][1]]
            return [
                c or (above[i] if i < len(above) and above[i] not in cells else "")
                for i, c in enumerate(cells)
            ]

        def score(cells: list[str]) -> int:
            if words is None:
                return sum(1 for c in cells if c)
            named = set(columns.values())
            return sum(1 for c in cells if c and (c in named or norm(c) in words.headers))

        if not top:
            raise FactError([FactProblem("ledger", str(path), f"the sheet `{title}` is empty")])
        headers = [filled(i) for i in range(len(top))]
        best = max(range(len(top)), key=lambda i: (score(headers[i]), -i))
        if score(headers[best]) == 0:  # nothing recognised: the first non-blank row
            best = next((i for i in range(len(top)) if any(headers[i])), 0)
            headers[best] = [_text(v) for v in top[best][1]]
        header_row, header = top[best][0], headers[best]
        by_field = columns_for(header, columns, words, f"sheet `{title}`")
        header_t = tuple(header)
    except BaseException:
        close()
        raise

    def body() -> Iterator[LedgerRow]:
        for number, values in top:
            if number > header_row:
                yield from one(number, values)
        for number, values in enumerate(rows, start=len(top) + 1):
            yield from one(number, values)

    def one(number: int, values: tuple[Any, ...]) -> Iterator[LedgerRow]:
        if not any(v is not None and _text(v) for v in values):
            return  # a blank row
        row = dict(zip(header, values, strict=False))
        yield LedgerRow(
            number,
            _row_fact(row, by_field, words),
            None,
            by_field,
            title,
            tuple(values),
            header_t,
            words.names if words is not None else None,
        )

    return OwnedRows(body(), close)


# ---------------------------------------------------------------------------------------
# Output

STATUS_FILLS = {
    "overdue": "FFC7CE",  # Excel's own "bad" red
    "due_soon": "FFEB9C",  # its "neutral" amber
    "done": "C6EFCE",  # its "good" green
}
FIGURE_COLOURS = ("C0504D", "F2C314", "4F81BD")  # first series red, then amber, then blue
CHART_COLOURS = {
    "overdue": "C0504D",
    "due_soon": "F2C314",
    "done": "9BBB59",
    "done_late": "9BBB59",
    "pending": "4F81BD",
    "scheduled": "B4C7E7",
    "none": "D9D9D9",
    "refused": "7F7F7F",
}
STATUS_NAMES = {
    "overdue": "逾期",
    "pending": "待办",
    "due_soon": "临期",
    "done": "已完成",
    "done_late": "逾期完成",
    "scheduled": "待触发",
    "none": "无待办",
    "refused": "拒收",
}
DECISION_HEADERS = ("下一步", "期限", "状态", "责任主体", "依据", "提示")
DECISION_WIDTHS = (36, 12, 10, 22, 10, 40)
SOON_WORKING_DAYS = 3


def _safe(value: Any) -> Any:
    """A cell value that Excel will show and not run: openpyxl writes text starting with
    ``=`` as a formula, so such text gets a leading apostrophe (tablib's ``escape``)."""
    if isinstance(value, str) and value.startswith("="):
        return "'" + value
    return value


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def write_xlsx(
    pack: Pack,
    results: Iterable[tuple[LedgerRow | None, Decision | RefusedFact]],
    path: Path,
    as_of: date,
) -> tuple[int, int]:
    """The ledger back as a workbook, one row per ledger row, the decision appended."""
    openpyxl = _openpyxl()  # first: without the excel extra, one clear error, no traceback
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    from ._figures import FigureTally
    from ._report import RefusedFact

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("台账")
    counts_ws = book.create_sheet("统计")
    figures_ws = book.create_sheet("图表")
    tally = FigureTally(pack, as_of)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in STATUS_FILLS.items()}
    wrap = Alignment(wrap_text=True, vertical="top")
    calendar = pack.calendar
    counts: Counter[tuple[str, str]] = Counter()
    decided = refused = 0
    number = 1
    header: list[str] = []
    full_header: list[str] = []
    own_columns = True
    for row, result in results:
        if number == 1:  # the header, once the first row says what it is
            header = list(row.header or ()) if row is not None else []
            own_columns = bool(header)
            if not own_columns:  # JSON Lines or YAML: no columns of its own but the id
                header = ["编号"]
            full_header = [*header, *DECISION_HEADERS]
            _write_header(ws, full_header, openpyxl, WriteOnlyCell, Font(bold=True))
        number += 1
        if own_columns:
            original = [_cell(ws, v) for v in (row.raw if row is not None and row.raw else [])]
        else:
            original = [result.fact_id]
        original += [None] * (len(header) - len(original))
        if isinstance(result, RefusedFact):
            refused += 1
            tail: list[Any] = ["", None, STATUS_NAMES["refused"], "", "", result.error]
            status_key = "refused"
            body = ""
        else:
            decided += 1
            tally.add(result)
            action = _next_action(result)
            status_key = "done" if result.closed else "none"
            if action is not None and not result.closed:
                status_key = action.status
                if action.status == "done_late":
                    status_key = "done"
                if (
                    action.status == "pending"
                    and action.due is not None
                    and calendar.working_days_between(as_of, action.due) <= SOON_WORKING_DAYS
                ):
                    status_key = "due_soon"
            body = ""
            if action is not None:
                try:
                    body = pack.role(action.actor).name
                except Exception:  # an actor the pack does not name as a role
                    body = action.actor
            warnings = "；".join(w.message for w in result.warnings[:3])
            tail = [
                action.title if action is not None else ("已办结" if result.closed else ""),
                action.due if action is not None else None,
                STATUS_NAMES.get(status_key, status_key),
                body,
                action.basis if action is not None else "",
                warnings,
            ]
        counts[(STATUS_NAMES.get(status_key, status_key), body or "—")] += 1
        cells: list[Any] = list(original)
        for offset, value in enumerate(tail):
            cell = WriteOnlyCell(ws, value=_safe(value))
            if offset == 1 and isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if offset == 2 and status_key in fills:
                cell.fill = fills[status_key]
            if offset in (0, 5) and value:  # long texts wrap inside their column
                cell.alignment = wrap
            cells.append(cell)
        ws.append(cells)
    if number == 1:
        full_header = list(DECISION_HEADERS)
        _write_header(ws, full_header, openpyxl, WriteOnlyCell, Font(bold=True))
    last = openpyxl.utils.get_column_letter(len(full_header))
    ws.auto_filter.ref = f"A1:{last}{number}"
    statuses = sorted({s for s, _ in counts})
    bodies = sorted({b for _, b in counts})
    # write-only sheets take column widths and panes only before their first row
    counts_ws.column_dimensions["A"].width = max([_width(b) for b in bodies] + [10]) + 2
    counts_ws.freeze_panes = "B2"
    counts_ws.append(["责任主体", *statuses, "合计"])
    for body_name in bodies:
        row_counts = [counts[(s, body_name)] for s in statuses]
        counts_ws.append([body_name, *row_counts, sum(row_counts)])
    counts_ws.append(
        ["合计", *[sum(counts[(s, b)] for b in bodies) for s in statuses], sum(counts.values())]
    )
    if bodies and statuses:
        chart = _status_chart(counts_ws, len(bodies), statuses)
        counts_ws.add_chart(chart, f"A{len(bodies) + 4}")
    _write_figures(figures_ws, tally.figures())
    book.save(path)
    return decided, refused


def _write_figures(sheet: Any, figures: Figures) -> None:
    """The dashboard's figures (``report --format html``) as tables, each drawn beside it
    as a native Excel chart: open, overdue and due-soon facts per responsible body; pending
    actions due per week; each closure chain's steps, done and waiting."""
    from openpyxl.chart import BarChart, Reference

    from ._model import TIER_NAMES

    sheet.column_dimensions["A"].width = 36
    row = 1

    def table(title: str, header: list[str], rows: list[list[Any]]) -> tuple[int, int]:
        """Write a titled table; (header row, last row)."""
        nonlocal row
        sheet.append([title])
        sheet.append(header)
        first = row + 1
        for values in rows:
            sheet.append(values)
        row = first + len(rows) + 1  # the blank row after it
        sheet.append([])
        return first, first + len(rows)

    def chart(
        title: str, first: int, last: int, columns: range, *, horizontal: bool, stacked: bool
    ) -> None:
        nonlocal row
        if last <= first:
            return
        drawn = BarChart()
        drawn.type = "bar" if horizontal else "col"
        drawn.grouping = "stacked" if stacked else "clustered"
        if stacked:
            drawn.overlap = 100
        drawn.title = title
        drawn.height, drawn.width = max(7.5, 0.7 * (last - first) + 3), 18
        data = Reference(
            sheet, min_col=columns.start, max_col=columns.stop - 1, min_row=first, max_row=last
        )
        drawn.add_data(data, titles_from_data=True)
        drawn.set_categories(Reference(sheet, min_col=1, min_row=first + 1, max_row=last))
        for series, colour in zip(drawn.series, FIGURE_COLOURS, strict=False):
            series.graphicalProperties.solidFill = colour
        sheet.add_chart(drawn, f"F{first - 1}")
        # Rows are about 0.5 cm: leave the chart room before the next table starts.
        while row < first - 1 + int(drawn.height / 0.5) + 2:
            sheet.append([])
            row += 1

    first, last = table(
        f"责任主体（逾期、{figures.due_soon_days}日内到期、在办）",
        ["责任主体", "逾期", "即将到期", "在办", "层级"],
        [
            [b.name, b.overdue, b.due_soon, b.open, TIER_NAMES.get(b.tier, b.tier)]
            for b in figures.bodies
        ],
    )
    chart("各责任主体逾期与即将到期", first, last, range(2, 4), horizontal=True, stacked=False)
    first, last = table(
        "未来各周到期事项",
        ["周", "到期事项"],
        [[f"{w.start.isoformat()}～{w.end.isoformat()[5:]}", w.due] for w in figures.weeks],
    )
    chart("未来各周到期事项", first, last, range(2, 3), horizontal=False, stacked=False)
    for funnel in figures.chains:
        first, last = table(
            f"{funnel.title}（{funnel.basis}）：共 {funnel.total}，已销号 {funnel.closed}",
            ["步骤", "已完成", "停留于此"],
            [[f"{s.title}（{s.actor}）", s.done, s.waiting] for s in funnel.steps],
        )
        chart(funnel.title, first, last, range(2, 4), horizontal=True, stacked=True)


def _status_chart(sheet: Any, bodies: int, statuses: list[str]) -> Any:
    """A native Excel chart of the 统计 table: one bar per responsible body, its rows
    stacked by status (the dashboard's per-body chart, for people who stay in Excel)."""
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "各责任主体事项状态"
    chart.y_axis.title = "事项数"
    chart.height = max(7.5, 0.8 * bodies + 3)
    chart.width = 24
    # Columns B.. hold the statuses (the last column, 合计, is left out); row 1 their names.
    data = Reference(sheet, min_col=2, max_col=1 + len(statuses), min_row=1, max_row=1 + bodies)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=1 + bodies))
    # The ledger sheet's colours, stronger: overdue red, due soon amber, done green.
    colours = {STATUS_NAMES[k]: v for k, v in CHART_COLOURS.items()}
    for series, status in zip(chart.series, statuses, strict=True):
        if status in colours:
            series.graphicalProperties.solidFill = colours[status]
    return chart


def _write_header(ws: Any, names: list[str], openpyxl: Any, cell_type: Any, font: Any) -> None:
    """The header row, bold, frozen, with columns wide enough for Chinese text."""
    ws.freeze_panes = "A2"
    own = len(names) - len(DECISION_HEADERS)
    for index, name in enumerate(names, start=1):
        width = min(max(_width(name), 8) + 2, 40)
        if index > own:
            width = DECISION_WIDTHS[index - own - 1]
        ws.column_dimensions[openpyxl.utils.get_column_letter(index)].width = width
    # printed (or made a PDF), the sheet is one page wide, landscape
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    cells = []
    for name in names:
        cell = cell_type(ws, value=name)
        cell.font = font
        cells.append(cell)
    ws.append(cells)


def _next_action(result: Decision) -> Any:
    """The action a ledger row shows: the most overdue, else the nearest pending one with a
    due date, else one pending without, else the first there is."""
    overdue = [a for a in result.actions if a.status == "overdue"]
    if overdue:
        return min(overdue, key=lambda a: a.due or date.max)
    pending = [a for a in result.actions if a.status == "pending"]
    if pending:
        return min(pending, key=lambda a: (a.due is None, a.due or date.max))
    return next(iter(result.actions), None)


def _cell(ws: Any, value: Any) -> Any:
    """One of the ledger's own cells, written back as it was read: a date keeps showing
    as a date (openpyxl would give a midnight datetime a time format too wide to show)."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)  # type: ignore[arg-type]  # openpyxl takes dates
        midnight = not isinstance(value, datetime) or value.time() == time()
        cell.number_format = "yyyy-mm-dd" if midnight else "yyyy-mm-dd hh:mm"
        return cell
    return _safe(value)
