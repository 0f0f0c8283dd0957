"""Ledgers in and decisions out, as files: JSON Lines, JSON arrays, YAML lists and CSV.

Hosts export ledgers as spreadsheets with their own column names (编号, 来源, 移交日期 …); a
column mapping turns each row into a fact. Everything streams, one fact at a time, so a
ledger of any size goes through in constant memory.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from ._decision import Decision
from ._errors import FactError, FactProblem
from ._report import RefusedFact
from ._yamlsrc import YamlProblem, load_file

FLAG_SEPARATORS = (";", "；", "、", ",", "，")


def parse_columns(spec: str | None) -> dict[str, str]:
    """``id=编号,source=来源,events.transferred=移交日期`` → field → column."""
    if not spec:
        return {}
    mapping = {}
    for part in spec.split(","):
        field, _, column = part.partition("=")
        if not field.strip() or not column.strip():
            raise FactError([FactProblem("columns", part, "expected FIELD=COLUMN")])
        mapping[field.strip()] = column.strip()
    return mapping


def read_ledger(source: str, columns: Mapping[str, str] | None = None) -> Iterator[Any]:
    """Facts from a ledger: ``-`` (JSON Lines on stdin), .jsonl and .csv stream; .json and
    .yaml files hold a list."""
    if source == "-":
        yield from _json_lines(sys.stdin)
        return
    path = Path(source)
    if not path.is_file():
        raise FactError([FactProblem("ledger", source, "no such file")])
    if path.suffix == ".csv":
        yield from _csv_facts(path, columns or {})
        return
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as lines:
            yield from _json_lines(lines)
        return
    try:
        data = load_file(path).data
    except YamlProblem as exc:
        raise FactError([FactProblem("ledger", source, str(exc.diagnostic))]) from None
    if not isinstance(data, list):
        raise FactError([FactProblem("ledger", source, "a ledger is a list of facts")])
    yield from data


def _json_lines(lines: Iterable[str]) -> Iterator[Any]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                problem = FactProblem(
                    f"ledger line {number}", line.strip()[:60], f"not JSON: {exc.msg}"
                )
                raise FactError([problem]) from None


def _csv_facts(path: Path, columns: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in columns.values() if c not in header]
        if missing:
            raise FactError(
                [FactProblem("columns", ", ".join(missing), "not in the CSV header", tuple(header))]
            )
        by_field = dict(columns) or {name: name for name in header}
        for row in reader:
            yield _row_fact(row, by_field)


def _row_fact(row: Mapping[str, str | None], by_field: Mapping[str, str]) -> dict[str, Any]:
    """One CSV row as a fact; empty cells are absent values."""
    fact: dict[str, Any] = {}
    for field, column in by_field.items():
        cell = (row.get(column) or "").strip()
        if not cell:
            continue
        if field == "flags":
            for separator in FLAG_SEPARATORS:
                cell = cell.replace(separator, " ")
            fact["flags"] = cell.split()
        elif field.startswith(("events.", "attrs.")):
            group, _, name = field.partition(".")
            fact.setdefault(group, {})[name] = cell
        else:
            fact[field] = cell
    return fact


CSV_COLUMNS = (
    "fact_id",
    "responsible_tier",
    "closure_chain_id",
    "stage",
    "closed",
    "action",
    "kind",
    "actor",
    "tier",
    "recipient",
    "due",
    "status",
    "basis",
    "error",
)


def write_results(
    results: Iterable[Decision | RefusedFact], out: TextIO, fmt: str, progress: Any = None
) -> tuple[int, int]:
    """Write decisions as JSON Lines (one per fact) or CSV (one row per action); returns
    (decided, refused)."""
    decided = refused = 0
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    for result in results:
        if isinstance(result, RefusedFact):
            refused += 1
            if writer is None:
                out.write(
                    json.dumps({"refused": result.model_dump(mode="json")}, ensure_ascii=False)
                    + "\n"
                )
            else:
                writer.writerow([result.fact_id or f"#{result.position}", *[""] * 12, result.error])
        else:
            decided += 1
            if writer is None:
                out.write(result.model_dump_json() + "\n")
            else:
                head = [
                    result.fact_id or "",
                    result.responsible_tier or "",
                    result.closure_chain_id or "",
                    result.stage or "",
                    "yes" if result.closed else "no",
                ]
                for action in result.actions or [None]:
                    tail = (
                        ["", "", "", "", "", "", "", ""]
                        if action is None
                        else [
                            action.id,
                            action.kind,
                            action.actor,
                            action.tier,
                            action.recipient or "",
                            action.due.isoformat() if action.due else "",
                            action.status,
                            action.basis,
                        ]
                    )
                    writer.writerow([*head, *tail, ""])
        if progress is not None:
            progress(decided + refused)
    return decided, refused
