"""What a revision changes, as a workbook a policy office can pass around and filter.

`ecorules diff` answers in a table or JSON; the people drafting a revision work in Excel.
The workbook holds the same comparison (`Comparison.to_json()`), one sheet per part: the
summary, the structural changes in the author's terms, and, with a ledger, each problem's
changes — one row per change, so an office can filter by action or kind of change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ._xlsx import _openpyxl

SUMMARY_LABELS = {
    "facts": "问题总数",
    "changed": "有变化的问题",
    "become_overdue": "变为逾期",
    "no_longer_overdue": "不再逾期",
    "actions_appear": "新增事项",
    "actions_disappear": "取消事项",
    "due_earlier": "期限提前",
    "due_later": "期限推后",
    "responsible_tier_changes": "责任层级变化",
    "closing_tier_changes": "销号层级变化",
    "refused_before_only": "仅修订前拒收",
    "refused_after_only": "仅修订后拒收",
}
STRUCTURE_HEADER = ["类别", "编号", "变化", "字段", "修订前", "修订后", "所属", "说明"]
FACT_HEADER = [
    "问题编号",
    "台账位置",
    "变化",
    "事项",
    "修订前",
    "修订后",
    "修订前逾期",
    "修订后逾期",
]


def write_diff_xlsx(comparison: dict[str, Any], path: Path) -> None:
    """``comparison`` (``Comparison.to_json()``) as a workbook at ``path``."""
    openpyxl = _openpyxl()
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    bold = Font(bold=True)

    summary = book.active
    summary.title = "摘要"
    summary.append(["修订前", comparison["old"], comparison["old_revision"]])
    summary.append(["修订后", comparison["new"], comparison["new_revision"]])
    summary.append(["台账日期", comparison.get("as_of") or "（未给台账）"])
    summary.append([])
    counts = comparison.get("summary") or {}
    for key, label in SUMMARY_LABELS.items():
        if key in counts:
            summary.append([label, counts[key]])
    if counts.get("text"):
        summary.append(["结论", counts["text"]])
    summary.column_dimensions["A"].width = 16
    summary.column_dimensions["B"].width = 24

    structure = book.create_sheet("结构变化")
    structure.append(STRUCTURE_HEADER)
    for change in comparison.get("changes", []):
        structure.append(
            [
                change.get("section"),
                change.get("id"),
                change.get("change"),
                change.get("field"),
                _text(change.get("old")),
                _text(change.get("new")),
                change.get("within"),
                change.get("text"),
            ]
        )

    facts = book.create_sheet("逐件变化")
    facts.append(FACT_HEADER)
    for fact in comparison.get("facts", []):
        for change in fact.get("changes", []):
            facts.append(
                [
                    fact.get("fact_id"),
                    fact.get("position"),
                    change.get("change"),
                    change.get("action"),
                    _text(change.get("old")),
                    _text(change.get("new")),
                    "是" if fact.get("overdue_before") else "否",
                    "是" if fact.get("overdue_after") else "否",
                ]
            )

    for sheet, header in ((structure, STRUCTURE_HEADER), (facts, FACT_HEADER)):
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        last = openpyxl.utils.get_column_letter(len(header))
        sheet.auto_filter.ref = f"A1:{last}{max(sheet.max_row, 1)}"
        for index in range(1, len(header) + 1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = 18
    book.save(path)


def _text(value: Any) -> Any:
    """Values as the table shows them: a date as a date Excel can sort and filter, lists
    joined so that a cell holds one readable value, and never a formula."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value  # text, never a formula
    return value
