"""The command line's ledger options, shared by ``evaluate`` and ``report``, and ``mapping``.

Kept apart from _cli.py so that reading ledgers as offices keep them (encodings, Excel,
mapping files, the pack's Chinese words) is one place: the options, how they become a
``read_ledger`` call, and the Excel output that needs the rows beside their decisions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import FactError, FactProblem
from ._ledger import LedgerRow, OwnedRows, parse_columns, read_ledger
from ._mapping import LedgerVocabulary, read_mapping, starter_mapping

if TYPE_CHECKING:
    from ._decision import Decision
    from ._pack import Pack
    from ._report import RefusedFact


def add_ledger_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--encoding",
        help="a CSV ledger's text encoding (default: detected — UTF-8, with or without BOM, "
        "or GB18030/GBK)",
    )
    parser.add_argument("--sheet", help="an Excel ledger's worksheet (default: the first)")
    if parser.prog.endswith("evaluate"):
        parser.add_argument(
            "--split-by",
            choices=("actor",),
            help="--format ics: one calendar file per responsible body (FILE-<body>.ics)",
        )
    parser.add_argument(
        "--mapping",
        metavar="FILE",
        help="a ledger mapping (YAML: columns FIELD: 列名, values FIELD: {词: id}); "
        "`ecorules mapping PACK` prints a starter",
    )


def add_mapping_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mp = sub.add_parser(
        "mapping", help="print a starter ledger mapping for a pack: fields, Chinese headers, values"
    )
    mp.add_argument("pack", help="a bundled pack name or a pack directory")
    mp.set_defaults(run=_mapping)


def _mapping(args: argparse.Namespace) -> int:
    from ._pack import load_pack

    sys.stdout.write(starter_mapping(load_pack(args.pack)))
    return 0


def ledger_columns(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """--columns and --mapping, checked before the pack loads: field → column, value aliases."""
    columns = parse_columns(args.columns)
    aliases: dict[str, dict[str, str]] = {}
    if getattr(args, "mapping", None):
        mapping = read_mapping(args.mapping)
        columns = {**mapping.columns, **columns}
        aliases = mapping.values
    return columns, aliases


def open_ledger(
    pack: Pack,
    args: argparse.Namespace,
    source: str,
    columns: dict[str, str],
    aliases: dict[str, dict[str, str]],
) -> OwnedRows:
    """The rows of ``source``; close them (``contextlib.closing``) to close the file at once
    when a run stops early."""
    words = LedgerVocabulary.of(pack, aliases)
    rows = read_ledger(
        source,
        columns,
        encoding=getattr(args, "encoding", None),
        words=words,
        sheet=getattr(args, "sheet", None),
    )
    return OwnedRows(_noting_unread_columns(rows), getattr(rows, "close", lambda: None))


def _noting_unread_columns(rows: Iterator[LedgerRow]) -> Iterator[LedgerRow]:
    """The rows, after one line on stderr naming the columns nothing reads (备注, 责任人 …):
    a misspelt date column would otherwise vanish without a word."""
    said = False
    for row in rows:
        if not said and row.header is not None:
            said = True
            read = set((row.columns or {}).values())
            unread = [h for h in row.header if h and h not in read]
            if unread:
                print(
                    "columns not read (no fact field; see `ecorules mapping`): "
                    + ", ".join(unread),
                    file=sys.stderr,
                )
        yield row


def paired(
    pack: Pack, rows: Iterable[LedgerRow], as_of: date, **choice: Any
) -> Iterator[tuple[LedgerRow | None, Decision | RefusedFact]]:
    """Each decision beside the row it was made from. ``evaluate_many`` takes one row and
    yields its result before it takes the next, so the last row taken is the result's."""
    last: list[LedgerRow | None] = [None]

    def remembering() -> Iterator[LedgerRow]:
        for row in rows:
            last[0] = row
            yield row

    for result in pack.evaluate_many(remembering(), as_of, **choice):
        yield last[0], result


def check_ledger_output(fmt: str | None, output: str | None) -> str:
    """The output format a ledger run writes: --format, or the output file's suffix."""
    suffix = Path(output).suffix.lower() if output else ""
    by_suffix = {".xlsx": "xlsx", ".csv": "csv", ".jsonl": "jsonl", ".ics": "ics"}
    chosen = fmt or by_suffix.get(suffix, "jsonl")
    if chosen not in LEDGER_FORMATS:
        raise FactError([FactProblem("--format", chosen, "a ledger is written as", LEDGER_FORMATS)])
    if chosen in ("xlsx", "ics") and not output:
        raise FactError([FactProblem("--format", chosen, f"needs -o FILE.{chosen}")])
    # The extra it needs is checked with the other arguments, before anything is read.
    if chosen == "xlsx":
        from ._xlsx import _openpyxl

        _openpyxl()
    elif chosen == "ics":
        from ._ics import _icalendar

        _icalendar()
    return chosen


LEDGER_FORMATS = ("jsonl", "csv", "xlsx", "ics")
