"""``ecorules diff OLD NEW [LEDGER] --as-of D``: what a revision changes, at the terminal.

Kept apart from ``_cli`` so the command line's core stays small; the work is in ``_diff``.
A pack argument is a bundled name or a directory, optionally with ``@VERSION`` to take one
version of a pack that has several (``shidian@2023``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from ._calendar_cli import add_calendar_option
from ._errors import Diagnostic, FactError, FactProblem, UnknownPackError, did_you_mean
from ._fact import parse_as_of
from ._ledger import parse_columns, read_ledger
from ._output import atomic_output, check_output, write_atomically
from ._pack import Pack, load_pack
from ._versions import VERSION_ON


def add_diff_command(sub: Any) -> None:
    df = sub.add_parser(
        "diff",
        help="what a revision changes: rules, windows, actors, tiers; and on a ledger",
        description="Compare two packs (an old text and its revision): the structural "
        "changes in the author's terms and, with a ledger and --as-of, per problem the "
        "actions that appear or disappear, due dates that move and tiers that change, with "
        "a summary. PACK@VERSION takes one version of a pack with versions.",
    )
    df.add_argument("old", help="the pack in force: a bundled name or directory [@VERSION]")
    df.add_argument("new", help="the revision: a bundled name or directory [@VERSION]")
    df.add_argument("ledger", nargs="?", help="facts to decide under both (.jsonl, .csv, …)")
    df.add_argument("--as-of", help="the date to decide the ledger on, YYYY-MM-DD")
    df.add_argument("--columns", help="CSV column mapping (as for evaluate)")
    df.add_argument(
        "--version-on",
        choices=VERSION_ON,
        default="as_of",
        help="in packs with versions, decide each case by the version in force on as_of "
        "(default: the revision applies to every case) or on the case's start",
    )
    df.add_argument(
        "--format",
        choices=("table", "json", "xlsx"),
        default=None,
        help="table (default), json, or xlsx (a workbook; needs -o and the excel extra; "
        "-o FILE.xlsx chooses it too)",
    )
    df.add_argument("-o", "--output", help="write to this file instead of standard output")
    add_calendar_option(df)
    df.set_defaults(run=run_diff)


def load_version(text: str, calendar: Any = None) -> Pack:
    """A pack by name or path, or ``NAME@VERSION``: that version of it."""
    base, sep, version = text.rpartition("@")
    if not sep or not base or Path(text).exists():
        return load_pack(text, calendar_notices=calendar)
    pack = load_pack(base, calendar_notices=calendar)
    for part in pack.versions:
        if part.version == version:
            return part
    names = [p.version for p in pack.versions if p.version is not None]
    raise UnknownPackError(
        [
            Diagnostic(
                "unknown_version",
                f"the pack `{base}` has no version `{version}`",
                text,
                help="; ".join(
                    x
                    for x in (
                        did_you_mean(version, names),
                        "versions: " + ", ".join(names) if names else "it has no versions",
                    )
                    if x
                ),
            )
        ]
    )


def run_diff(args: argparse.Namespace) -> int:
    if args.ledger and not args.as_of:
        raise FactError([FactProblem("--as-of", "", "a ledger is decided as of a date")])
    as_of = parse_as_of(args.as_of) if args.as_of else None
    columns = parse_columns(args.columns)
    output = (
        check_output(args.output, tuple(x for x in (args.ledger,) if x)) if args.output else None
    )
    by_suffix = "xlsx" if output is not None and output.suffix.lower() == ".xlsx" else "table"
    fmt = args.format or by_suffix
    if fmt == "xlsx" and output is None:
        raise FactError([FactProblem("--format", "xlsx", "a workbook is written to a file: -o")])
    old, new = load_version(args.old, args.calendar), load_version(args.new, args.calendar)
    facts = read_ledger(args.ledger, columns) if args.ledger else None
    try:
        comparison = old.compare(new, facts, as_of, version_on=args.version_on)
    finally:  # the ledger file closes now, also when the comparison stops early
        close = getattr(facts, "close", None)
        if close is not None:
            close()
    if fmt == "xlsx":
        from ._diff_xlsx import write_diff_xlsx

        assert output is not None  # checked above
        write_atomically(output, lambda path: write_diff_xlsx(comparison.to_json(), path))
        return 0
    with atomic_output(output) if output else contextlib.nullcontext(sys.stdout) as out:
        if fmt == "json":
            out.write(json.dumps(comparison.to_json(), ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(comparison.table() + "\n")
    return 0
