"""Ledgers in and decisions out, as files: JSON Lines, JSON arrays, YAML lists and CSV.

Hosts export ledgers as spreadsheets with their own column names (编号, 来源, 移交日期 …); a
column mapping turns each row into a fact. Everything streams, one fact at a time, so a
ledger of any size goes through in constant memory.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from ._decision import Decision
from ._encoding import detect_encoding, encoding_label
from ._errors import FactError, FactProblem, shown
from ._mapping import LedgerVocabulary, columns_for, office_date
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


MAX_ROW_BYTES = 1 << 20
"""A ledger row longer than this (1 MiB; real rows are a few hundred bytes) is refused, so
that one runaway line cannot take memory with it."""

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One row of a ledger file as read: the fact, and the file line it starts on; or,
    when the row could not be read at all, ``error`` says why. ``evaluate_many`` takes
    these in place of facts, so that refusals name the line and an unreadable row is
    reported in its place instead of ending the batch."""

    line: int
    fact: Any
    error: str | None = None
    columns: Mapping[str, str] | None = None
    """field → the column header it was read from, so that a refusal names the column."""
    sheet: str | None = None
    """The worksheet, for a row of an Excel ledger (``line`` is then its row number)."""
    raw: tuple[Any, ...] | None = None
    """The row's cells as read, for outputs that give the ledger back with its decisions."""
    header: tuple[str, ...] | None = None
    """The ledger's header row (one tuple shared by every row)."""
    names: Mapping[str, Mapping[str, str]] | None = None
    """The pack's Chinese names of allowed values (field → id → name), for refusals."""

    @property
    def place(self) -> str:
        """Where the row is, as its reader would look for it: ``line 12`` or ``台账!12``."""
        return f"{self.sheet}!{self.line}" if self.sheet else f"line {self.line}"

    def refused(self, exc: FactError) -> FactError:
        """``exc`` with each problem's field named by the column the ledger gave it
        (``移交日期 (events.transferred)``), and the sheet and row for an Excel row."""
        if not self.columns:
            return exc
        names = self.names or {}
        problems = tuple(
            FactProblem(
                f"{self.columns[p.field]} ({p.field})" if p.field in self.columns else p.field,
                p.value,
                p.message,
                _named(
                    p.allowed,
                    names.get(
                        p.field.partition(".")[0] if p.field.startswith("events.") else p.field
                    ),
                ),
            )
            for p in exc.problems
        )
        return FactError(problems, exc.fact_id)


def refusal(exc: FactError, position: int, row: LedgerRow | None) -> RefusedFact:
    """The fact at ``position`` refused for ``exc``; for a row of a ledger file, its
    problems named by the ledger's columns, with its line and sheet. One process and the
    workers both refuse through this, so that a refusal reads the same from either."""
    if row is not None:  # name the ledger's column, not only the fact field
        exc = row.refused(exc)
    return RefusedFact(
        exc.fact_id if isinstance(exc.fact_id, str) else None,
        position,
        str(exc),
        row.line if row is not None else None,
        exc.problems,
        row.sheet if row is not None else None,
    )


LEDGER_SUFFIXES = (".jsonl", ".csv", ".xlsx")
"""Suffixes (any case) of the ledgers read as streams of rows, not as one fact."""


def is_ledger(source: str) -> bool:
    return Path(source).suffix.lower() in LEDGER_SUFFIXES


def _named(allowed: tuple[str, ...], names: Mapping[str, str] | None) -> tuple[str, ...]:
    """Allowed ids as a clerk would write them: ``省级移交 (provincial)``."""
    if not names:
        return allowed
    return tuple(f"{names[a]} ({a})" if a in names else a for a in allowed)


def read_ledger(
    source: str,
    columns: Mapping[str, str] | None = None,
    *,
    encoding: str | None = None,
    words: LedgerVocabulary | None = None,
    sheet: str | None = None,
) -> Iterator[LedgerRow]:
    """The rows of a ledger: ``-`` (JSON Lines on stdin), .jsonl, .csv and .xlsx stream;
    .json and .yaml files hold a list. Everything about the file as a whole (it exists, it
    is a regular file, its encoding, the header has the mapped columns once each) is
    checked before this returns; each row's own problems come as a LedgerRow with an
    ``error``, in its place. With ``words`` (a pack's), headers and values may be the
    pack's Chinese names, and dates may be written as offices write them."""
    if source == "-":
        return _json_rows(sys.stdin.buffer)
    path = _ledger_file(source)
    try:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return _csv_rows(path, columns or {}, detect_encoding(path, encoding), words)
        if suffix == ".xlsx":
            from ._xlsx import xlsx_rows

            return xlsx_rows(path, columns or {}, words, sheet)
        if suffix == ".jsonl":
            handle = path.open("rb")
            return OwnedRows(_json_rows(handle), handle.close)
    except OSError as exc:
        raise FactError([FactProblem("ledger", source, f"cannot read: {exc.strerror}")]) from None
    try:
        located = load_file(path)
    except YamlProblem as exc:
        raise FactError([FactProblem("ledger", source, str(exc.diagnostic))]) from None
    if not isinstance(located.data, list):
        raise FactError([FactProblem("ledger", source, "a ledger is a list of facts")])
    return (LedgerRow(located.position((i,))[0], fact) for i, fact in enumerate(located.data))


def _ledger_file(source: str) -> Path:
    """``source`` as a path, refused in the ledger's terms unless it is a regular file."""
    path = Path(source)
    try:
        if not path.exists():
            raise FactError([FactProblem("ledger", source, "no such file")])
        if not path.is_file():
            raise FactError([FactProblem("ledger", source, "not a regular file")])
    except OSError as exc:  # a name too long, a directory that cannot be searched
        raise FactError([FactProblem("ledger", source, f"cannot read: {exc.strerror}")]) from None
    return path


def read_json_lines(source: str) -> Iterator[tuple[int, bytes] | LedgerRow]:
    """A JSON Lines ledger (``-`` or a .jsonl file) as ``json_lines`` reads it: line numbers
    and bytes, parsed later by ``json_row`` in another process. Checked as ``read_ledger``
    checks it; close it to close the file."""
    if source == "-":
        return json_lines(sys.stdin.buffer)
    try:
        handle = _ledger_file(source).open("rb")
    except OSError as exc:
        raise FactError([FactProblem("ledger", source, f"cannot read: {exc.strerror}")]) from None
    # OwnedRows closes the file; what it hands on is json_lines' items, not rows
    owned: Iterator[Any] = OwnedRows(cast(Iterator[LedgerRow], json_lines(handle)), handle.close)
    return owned


class OwnedRows(Iterator[LedgerRow]):
    """Rows read from a file this closes: when they run out, when reading them fails, or
    when it is closed, even before the first row is taken (a generator closed unstarted
    runs no ``finally``, and the file it was handed would stay open until GC)."""

    __slots__ = ("_close", "_rows")

    def __init__(self, rows: Iterator[LedgerRow], close: Callable[[], object]) -> None:
        self._rows = rows
        self._close = close

    def __iter__(self) -> OwnedRows:
        return self

    def __next__(self) -> LedgerRow:
        try:
            return next(self._rows)
        except BaseException:  # StopIteration too: the file is done with either way
            self.close()
            raise

    def close(self) -> None:
        close_rows = getattr(self._rows, "close", None)
        if close_rows is not None:
            close_rows()
        self._close()


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when a key repeats: which value was meant is unknowable
    (a .json fact file is refused for the same thing)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _json_rows(handle: BinaryIO) -> Iterator[LedgerRow]:
    """JSON Lines, one row per line; lines are counted as the file has them (blank ones
    included), and each is decoded on its own so a bad byte costs one row, not the file."""
    for item in json_lines(handle):
        if isinstance(item, LedgerRow):
            yield item
        elif (row := json_row(*item)) is not None:
            yield row


def json_lines(handle: BinaryIO) -> Iterator[tuple[int, bytes] | LedgerRow]:
    """The reading half of ``_json_rows``: each line's number and bytes, undecoded (a row
    too long to keep is refused here). Split off so that worker processes can decode and
    parse the lines (``json_row``), leaving the reading process only bytes to move."""
    number = 0
    while True:
        raw = handle.readline(MAX_ROW_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_ROW_BYTES and not raw.endswith(b"\n"):
            while (rest := handle.readline(MAX_ROW_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield LedgerRow(number, None, _problem(f"the row is longer than {MAX_ROW_BYTES} bytes"))
            continue
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        yield number, raw


def json_row(number: int, raw: bytes) -> LedgerRow | None:
    """One JSON Lines row from its bytes; None for a blank line (which is no row)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LedgerRow(number, None, _problem(f"not UTF-8 (byte {exc.start + 1})"))
    if not text.strip():
        return None
    try:
        return LedgerRow(number, json.loads(text, object_pairs_hook=_unique_keys))
    except json.JSONDecodeError as exc:
        error = f"not JSON: {exc.msg} at column {exc.colno}"
    except _DuplicateKey as exc:
        error = f"the key `{shown(exc.args[0])}` appears more than once"
    except ValueError as exc:  # an integer of more than 4,300 digits
        error = f"not JSON: {exc}".split(";")[0]
    except RecursionError:
        error = "not JSON: nested too deeply"
    return LedgerRow(number, None, _problem(error, text.strip()))


def _problem(message: str, text: str | None = None) -> str:
    return str(FactProblem("row", text, message))


def _csv_rows(
    path: Path, columns: Mapping[str, str], encoding: str, words: LedgerVocabulary | None
) -> Iterator[LedgerRow]:
    """A CSV ledger's rows. The header is read and checked now; rows stream later."""
    # Undecodable bytes are kept (as lone surrogates) so the parser can go on; the rows
    # holding them are refused below.
    handle = path.open(encoding=encoding, errors="surrogateescape", newline="")
    try:
        lines = _CsvLines(handle)
        # strict: a quote not followed by a delimiter is an error, not a cue to read on
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader, [])
        except csv.Error as exc:
            raise FactError([FactProblem("ledger line 1", str(path), f"not CSV: {exc}")]) from None
        by_field = columns_for(header, columns, words, "CSV")
        repeated = sorted({c for c in by_field.values() if header.count(c) > 1})
        if repeated:
            raise FactError(
                [
                    FactProblem(
                        f"ledger line {lines.fed[0][0] if lines.fed else 1}",
                        ", ".join(repeated),
                        "a column named in the header more than once: which one is meant?",
                    )
                ]
            )
    except BaseException:
        handle.close()
        raise
    return OwnedRows(
        _csv_body(reader, lines, header, by_field, encoding_label(encoding), words), handle.close
    )


class _CsvLines:
    """The file's lines for the CSV parser: numbered, none longer than MAX_ROW_BYTES (a
    longer one is consumed, noted, and passed on as an empty line), and with a way back.

    A stray quote makes the parser read every following line into one cell, up to csv's
    field limit: a thousand good rows gone into one bad one. So ``fed`` keeps the lines of
    the record being parsed, and when that record is refused, the lines after its first
    go back into ``pending`` to be parsed again as rows of their own.
    """

    def __init__(self, handle: TextIO):
        self.handle = handle
        self.number = 0
        self.too_long: set[int] = set()
        self.pending: deque[tuple[int, str]] = deque()
        self.fed: list[tuple[int, str]] = []

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        if self.pending:
            item = self.pending.popleft()
        else:
            line = self.handle.readline(MAX_ROW_BYTES + 1)
            if not line:
                raise StopIteration
            self.number += 1
            if len(line) > MAX_ROW_BYTES and not line.endswith("\n"):
                while (rest := self.handle.readline(MAX_ROW_BYTES)) and not rest.endswith("\n"):
                    pass
                self.too_long.add(self.number)
                line = "\n"
            item = (self.number, line)
        self.fed.append(item)
        return item[1]

    def reparse_after_first(self, fed: list[tuple[int, str]]) -> None:
        self.pending.extendleft(reversed(fed[1:]))


def _csv_body(
    reader: Any,
    lines: _CsvLines,
    header: list[str],
    by_field: Mapping[str, str],
    encoding: str = "UTF-8",
    words: LedgerVocabulary | None = None,
) -> Iterator[LedgerRow]:
    width = len(header)
    header_t = tuple(header)
    while True:
        lines.fed = []
        error = None
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, error = [], f"not CSV: {exc}"
        fed = lines.fed
        start = fed[0][0] if fed else lines.number  # a row spanning lines is named by its first
        # Trailing empty cells (a spreadsheet's stray commas) are harmless; anything else
        # has lost its column, and guessing which would put data in the wrong field.
        if (
            error is None
            and cells
            and len(cells) != width
            and (len(cells) < width or any(c.strip() for c in cells[width:]))
        ):
            error = f"{len(cells)} cells where the header has {width}"
        if error is not None:
            if len(fed) > 1:  # a stray quote may have swallowed the rows that follow
                lines.reparse_after_first(fed)
                cells = [fed[0][1].rstrip("\r\n")]
            yield LedgerRow(start, None, _problem(error, ",".join(cells) or None))
            continue
        if lines.too_long and any(n in lines.too_long for n, _ in fed):
            yield LedgerRow(start, None, _problem(f"the row is longer than {MAX_ROW_BYTES} bytes"))
            continue
        if not cells:
            continue  # a blank line
        try:
            "".join(cells).encode("utf-8")
        except UnicodeEncodeError:
            yield LedgerRow(start, None, _problem(f"not {encoding} text"), by_field)
            continue
        yield LedgerRow(
            start,
            _row_fact(dict(zip(header, cells, strict=False)), by_field, words),
            None,
            by_field,
            raw=tuple(cells),
            header=header_t,
            names=words.names if words is not None else None,
        )


def _row_fact(
    row: Mapping[str, Any],
    by_field: Mapping[str, str],
    words: LedgerVocabulary | None = None,
) -> dict[str, Any]:
    """One ledger row as a fact; empty cells are absent values. With a pack's ``words``,
    vocabulary names become ids and office-written dates ISO dates."""
    fact: dict[str, Any] = {}
    for field, column in by_field.items():
        raw = row.get(column)
        if raw is None:
            continue
        if isinstance(raw, str):
            cell: Any = raw.strip()
            if not cell:
                continue
        elif isinstance(raw, float) and raw.is_integer():
            cell = int(raw)  # Excel keeps every number as a float: 12.0 is 12
        else:
            cell = raw  # an Excel date or number
        if field == "flags":
            text = str(cell)
            for separator in FLAG_SEPARATORS:
                text = text.replace(separator, " ")
            fact["flags"] = [words.value("flags", f) if words else f for f in text.split()]
        elif field.startswith(("events.", "attrs.")):
            group, _, name = field.partition(".")
            if group == "events" and words is not None:
                cell = office_date(cell)
            elif words is not None and isinstance(cell, str):
                cell = words.value(field, cell)
            fact.setdefault(group, {})[name] = cell
        else:
            if not isinstance(cell, str):
                cell = office_date(cell) if isinstance(cell, date) else str(cell)
            fact[field] = words.value(field, cell) if words is not None else cell
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
        else:
            decided += 1
        if writer is None:
            out.write(jsonl_line(result))
        else:
            writer.writerows(csv_rows(result))
        if progress is not None:
            progress(decided + refused)
    return decided, refused


def jsonl_line(result: Decision | RefusedFact) -> str:
    """A result as a line of the JSON Lines output (worker processes write them too)."""
    if isinstance(result, RefusedFact):
        return json.dumps({"refused": result.model_dump(mode="json")}, ensure_ascii=False) + "\n"
    return result.model_dump_json() + "\n"


def csv_rows(result: Decision | RefusedFact) -> list[list[str]]:
    """A result as rows of the CSV output: one per action (worker processes write them too)."""
    if isinstance(result, RefusedFact):
        where = f"line {result.line}" if result.line else f"#{result.position}"
        return [[result.fact_id or where, *[""] * 12, result.error]]
    head = [
        result.fact_id or "",
        result.responsible_tier or "",
        result.closure_chain_id or "",
        result.stage or "",
        "yes" if result.closed else "no",
    ]
    return [
        [
            *head,
            *(
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
            ),
            "",
        ]
        for action in result.actions or [None]
    ]
