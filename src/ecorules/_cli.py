"""The ``ecorules`` command line: evaluate a fact, check packs, print the pack schema.

Errors a person can act on go to stderr as one line each (``file:line:col: code: message``
for packs, the field and value for facts) with exit status 1; usage errors exit 2. No
traceback is ever the interface.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ._annotate import add_annotate_command
from ._calendar_cli import (
    add_calendar_command,
    add_calendar_option,
    add_official_through_option,
    calendar_line,
)
from ._checker import check_pack
from ._decision import Decision
from ._diff_cli import add_diff_command
from ._engine import FACT_DATES_FROM, FACT_DATES_UNTIL
from ._errors import Diagnostic, EcorulesError, FactError, FactProblem, PackError
from ._fact import parse_as_of
from ._ledger import is_ledger, read_json_lines, write_results
from ._ledger_cli import (
    add_ledger_options,
    add_mapping_command,
    check_ledger_output,
    ledger_columns,
    open_ledger,
    paired,
)
from ._model import TIER_NAMES, pack_json_schema
from ._output import atomic_output, check_output, write_atomically, write_text_output
from ._pack import Pack, bundled_names, load_pack
from ._render import display_width, print_diagnostics, sarif
from ._report import RefusedFact, Report
from ._versions import VERSION_ON, version_diagnostics
from ._yamlsrc import MAX_FILE_BYTES, YamlProblem, load_file, load_text

STATUS_NAMES = {
    "pending": "待办",
    "overdue": "逾期",
    "done": "已完成",
    "done_late": "逾期完成",
    "scheduled": "待触发",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    interruption = _Interruption()
    try:
        with interruption.catching():
            return _run_reporting_errors(args)
    except (KeyboardInterrupt, _Terminated):
        return _interrupted(args, interruption)
    except Exception:
        # A library that turns an exception raised inside it into its own (pydantic-core
        # building a schema makes a SchemaError of it) must not turn Ctrl-C or a kill into
        # a traceback: the signal's arrival decides, not the exception that carried it.
        if interruption.signal is None:
            raise
        return _interrupted(args, interruption)


def _interrupted(args: argparse.Namespace, interruption: _Interruption) -> int:
    output = getattr(args, "output", None)
    print("interrupted" + (f": `{output}` was not written" if output else ""), file=sys.stderr)
    return 128 + (interruption.signal or signal.SIGINT)


def _run_reporting_errors(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args))
    except (PackError, FactError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except EcorulesError as exc:  # e.g. no Graphviz for `diagram --format svg`
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # a closed pipe (| head) is not an error of ours
        return 0
    except OSError as exc:
        where = f"`{str(exc.filename)[:200]}`: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C so that a run stops the same clean way."""


class _Interruption:
    """Which signal stopped the run, if one did. Ctrl-C raises ``KeyboardInterrupt`` and a
    kill raises ``_Terminated``, as Python does for Ctrl-C; the signal is also noted, for
    code that catches the exception and raises another in its place."""

    def __init__(self) -> None:
        self.signal: int | None = None

    @contextlib.contextmanager
    def catching(self) -> Iterator[None]:
        def on_interrupt(signum: int, frame: object) -> None:
            self.signal = signum
            raise KeyboardInterrupt

        def on_terminate(signum: int, frame: object) -> None:
            self.signal = signum
            raise _Terminated

        try:
            previous_term = signal.signal(signal.SIGTERM, on_terminate)
        except ValueError:  # not the main thread: leave signals to the host
            yield
            return
        # Only Python's own Ctrl-C handler is replaced: a SIGINT ignored by whoever started
        # the run (a shell's background job) stays ignored.
        previous_int = signal.getsignal(signal.SIGINT)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, on_interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous_term)
            if previous_int is signal.default_int_handler:
                signal.signal(signal.SIGINT, previous_int)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecorules",
        description="Chinese eco-environment supervision policies as executable rules.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    ev = sub.add_parser("evaluate", help="decide the next actions for one fact")
    ev.add_argument("pack", help="a bundled pack name or a pack directory")
    ev.add_argument(
        "fact",
        help="a YAML or JSON file holding one fact, or - for stdin; or a ledger of many "
        "(.jsonl, .csv or .xlsx) to evaluate as a batch",
    )
    ev.add_argument("--as-of", required=True, help="the evaluation date, YYYY-MM-DD")
    ev.add_argument(
        "--format",
        choices=("table", "json", "jsonl", "csv", "xlsx", "ics"),
        default=None,
        help="one fact: table (default) or json; a ledger: jsonl (default), csv (UTF-8 with "
        "a BOM, as Excel reads it), xlsx (the ledger back with its decisions) or ics (due "
        "dates as an iCalendar file), or as the -o file's suffix says",
    )
    ev.add_argument(
        "--columns",
        help="CSV column mapping, e.g. id=编号,source=来源,"
        "events.transferred=移交日期 (default: columns named as the fields)",
    )
    ev.add_argument("--output", "-o", help="write here instead of stdout")
    ev.add_argument("--engine", choices=("native", "durable"), default="native")
    ev.add_argument(
        "--version-on",
        choices=VERSION_ON,
        default="start",
        help="in a pack with versions: decide by the version in force on the case's start "
        "(default) or on as_of",
    )
    ev.add_argument("--pack-version", metavar="VERSION", help="decide by this version of the pack")
    ev.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="a ledger written as jsonl or csv: decide it on N processes (default: every "
        "core for a ledger file of 8 MiB or more, else 1); the output is the same",
    )
    add_ledger_options(ev)
    add_calendar_option(ev)
    add_official_through_option(ev)
    ev.set_defaults(run=_evaluate)

    ex = sub.add_parser("explain", help="why a decision is what it is: rules and due dates")
    ex.add_argument("pack", help="a bundled pack name or a pack directory")
    ex.add_argument("fact", help="a YAML or JSON file holding the fact, or - for stdin")
    ex.add_argument("--as-of", required=True, help="the evaluation date, YYYY-MM-DD")
    ex.add_argument("--format", choices=("text", "json"), default="text")
    add_calendar_option(ex)
    add_official_through_option(ex)
    ex.set_defaults(run=_explain)

    ck = sub.add_parser("check", help="load packs and report every diagnostic")
    ck.add_argument("packs", nargs="*", help="pack names or directories (default: all bundled)")
    ck.add_argument(
        "--format",
        choices=("text", "short", "json", "sarif"),
        default="text",
        help="text: each finding with its line underlined and the fix (default); short: "
        "one line each; json; sarif (SARIF 2.1.0, for CI annotations)",
    )
    ck.add_argument(
        "--assumptions",
        action="store_true",
        help="also list each pack's assumptions (as information)",
    )
    ck.set_defaults(run=_check)

    rp = sub.add_parser("report", help="count a ledger by kind, category, stage and status")
    rp.add_argument("pack", help="a bundled pack name or a pack directory")
    rp.add_argument("ledger", help="JSON Lines (.jsonl), CSV, a JSON array or a YAML list")
    rp.add_argument("--columns", help="CSV column mapping (as for evaluate)")
    rp.add_argument("--as-of", required=True, help="the evaluation date, YYYY-MM-DD")
    rp.add_argument(
        "--format",
        choices=("table", "json", "html"),
        default="table",
        help="html: a self-contained dashboard page (charts, overdue actions; no network)",
    )
    rp.add_argument("-o", "--output", help="write to this file instead of standard output")
    add_ledger_options(rp)
    add_calendar_option(rp)
    add_official_through_option(rp)
    rp.set_defaults(run=_report)

    ts = sub.add_parser("test", help="run packs' YAML cases and summarise")
    ts.add_argument("packs", nargs="*", help="pack names or directories (default: all bundled)")
    ts.add_argument(
        "--coverage",
        action="store_true",
        help="also list the rules, chains and obligations no case exercises",
    )
    add_calendar_option(ts)
    ts.set_defaults(run=_test)

    dg = sub.add_parser("diagram", help="draw a pack's flow: Mermaid, DOT, or SVG (Graphviz)")
    dg.add_argument("pack", help="a bundled pack name or a pack directory")
    dg.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="svg: drawn with Chinese labels and clauses, A4 wide, in parts for large packs "
        "(needs Graphviz's `dot`)",
    )
    dg.add_argument("-o", "--output", help="write to this file instead of standard output")
    dg.set_defaults(run=_diagram)

    sc = sub.add_parser("schema", help="print the JSON Schema of the pack format")
    what = sc.add_mutually_exclusive_group()
    what.add_argument("--fact", metavar="PACK", help="instead: the schema of a fact for PACK")
    what.add_argument("--decision", action="store_true", help="instead: the schema of a decision")
    sc.set_defaults(run=_schema)

    ls = sub.add_parser("packs", help="list the bundled packs")
    ls.set_defaults(run=_packs)

    add_calendar_command(sub)
    add_annotate_command(sub)
    add_diff_command(sub)
    sv = sub.add_parser("serve", help="serve packs over HTTP (needs the `server` extra)")
    sv.add_argument("packs", nargs="*", help="packs, pack directories or directories of packs")
    sv.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--decision-log", metavar="FILE.jsonl", help="append every decision here")
    sv.add_argument(
        "--mask",
        action="append",
        default=[],
        metavar="FIELDS",
        help="fact fields logged as a hash, e.g. id,attrs.owner_unit (repeatable)",
    )
    sv.add_argument("--max-body-bytes", type=int, default=1024 * 1024, metavar="N")
    sv.add_argument(
        "--reload-packs",
        action="store_true",
        help="watch the pack directories and reload a pack when its files change",
    )
    sv.add_argument("--reload-interval", type=float, default=2.0, metavar="SECONDS")
    sv.add_argument("--root-path", default="", help="the path prefix a reverse proxy adds")
    sv.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    sv.add_argument(
        "--http",
        choices=("h11", "httptools"),
        default="h11",
        help="HTTP parser: h11 (default) takes any client; httptools is faster but loses the "
        "body of requests offering an HTTP/2 upgrade (Java's default): use it behind a proxy",
    )
    sv.add_argument(
        "--docs-assets",
        metavar="URL",
        default=None,
        help="where /docs loads Swagger UI (swagger-ui-dist 5) from; default: a public CDN",
    )
    add_calendar_option(sv)
    add_official_through_option(sv)
    sv.set_defaults(run=_serve)
    add_mapping_command(sub)
    return parser


def _read_fact(source: str) -> Any:
    try:
        if source == "-":
            text = sys.stdin.read(MAX_FILE_BYTES + 1)  # bounded: stdin may be endless
            if len(text) > MAX_FILE_BYTES:
                raise FactError([FactProblem("fact", "-", f"over {MAX_FILE_BYTES} characters")])
            located = load_text(text, "<stdin>")
        else:
            path = Path(source)
            if not path.is_file():
                raise FactError([FactProblem("fact", source, "no such file")])
            located = load_file(path)
    except YamlProblem as exc:
        raise FactError([FactProblem("fact", source, str(exc.diagnostic))]) from None
    return located.data


def _evaluate(args: argparse.Namespace) -> int:
    # Every argument is checked before the pack loads and before anything is written.
    as_of = _as_of(args.as_of)
    ledger = is_ledger(args.fact)
    if ledger:
        args.format = check_ledger_output(args.format, args.output)
    if args.split_by and args.format != "ics":
        raise FactError([FactProblem("--split-by", args.split_by, "only with --format ics")])
    columns, aliases = ledger_columns(args)
    output = check_output(args.output, (args.fact,)) if args.output else None
    pack = load_pack(
        args.pack,
        engine=args.engine,
        calendar_notices=args.calendar,
        official_through=args.official_through,
    )
    if ledger:
        workers = _ledger_workers(args)
        # On several processes, a JSON Lines ledger goes out as bytes, parsed by the workers.
        lines = workers > 1 and _is_json_lines(args.fact)
        rows = (
            read_json_lines(args.fact)
            if lines
            else open_ledger(pack, args, args.fact, columns, aliases)
        )
        with contextlib.closing(rows) as facts:  # type: ignore[type-var]
            return _evaluate_ledger(pack, args, as_of, facts, output, workers, lines)
    fact = _read_fact(args.fact)
    decision = pack.evaluate(fact, as_of, version_on=args.version_on, version=args.pack_version)
    with atomic_output(output) if output else contextlib.nullcontext(sys.stdout) as out:
        if args.format == "json":
            out.write(decision.model_dump_json(indent=2) + "\n")
        else:
            render_table(pack, decision, out)
    return 0


def _evaluate_ledger(
    pack: Pack,
    args: argparse.Namespace,
    as_of: date,
    facts: Iterator[Any],
    output: Path | None,
    workers: int = 1,
    lines: bool = False,
) -> int:
    """A ledger through evaluate_many: streamed out as it is read, progress on a terminal.
    A file output appears, complete, only when the run is. With ``workers`` > 1, a jsonl
    or csv output is decided and written on that many processes (``lines``: ``facts``
    are JSON Lines bytes, see ``read_json_lines``)."""
    refused_at: list[str] = []

    def where(result: RefusedFact) -> str:
        if result.sheet:
            return f"{result.sheet}!{result.line}"
        return f"line {result.line}" if result.line else f"#{result.position}"

    def noting(results: Iterable[Decision | RefusedFact]) -> Iterator[Decision | RefusedFact]:
        for result in results:
            if isinstance(result, RefusedFact) and len(refused_at) < 10:
                refused_at.append(where(result))
            yield result

    # Which version of a pack with versions decides each fact (issue 15).
    choice = {"version_on": args.version_on, "version": args.pack_version}
    progress = _Progress() if sys.stderr.isatty() else None
    if args.format == "xlsx":
        assert output is not None  # check_ledger_output made sure
        from ._xlsx import write_xlsx

        def noting_pairs(
            pairs: Iterable[tuple[Any, Decision | RefusedFact]],
        ) -> Iterator[tuple[Any, Decision | RefusedFact]]:
            for count, (row, result) in enumerate(pairs, start=1):
                if isinstance(result, RefusedFact) and len(refused_at) < 10:
                    refused_at.append(where(result))
                if progress is not None:
                    progress(count)
                yield row, result

        decided, refused = write_atomically(
            output,
            lambda path: write_xlsx(
                pack, noting_pairs(paired(pack, facts, as_of, **choice)), path, as_of
            ),
        )
    elif args.format == "ics":
        assert output is not None  # check_ledger_output made sure
        from ._ics import write_ics

        decided, refused, _ = write_ics(
            pack,
            noting(pack.evaluate_many(facts, as_of, **choice)),
            output,
            getattr(args, "split_by", None),
            lambda path, data: write_atomically(path, lambda tmp: tmp.write_bytes(data)),
        )
    else:
        with (
            atomic_output(output, bom=args.format == "csv")
            if output
            else contextlib.nullcontext(sys.stdout) as out
        ):
            if workers > 1:
                from ._parallel import write_in_processes

                def note(result: RefusedFact) -> None:
                    if len(refused_at) < 10:
                        refused_at.append(where(result))

                decided, refused = write_in_processes(
                    pack,
                    facts,
                    as_of,
                    args.version_on,
                    args.pack_version,
                    out,
                    args.format or "jsonl",
                    workers,
                    lines=lines,
                    note=note,
                    progress=progress,
                )
            else:
                results = noting(pack.evaluate_many(facts, as_of, **choice))
                decided, refused = write_results(results, out, args.format or "jsonl", progress)
    if progress is not None:
        progress.done()
    if refused:
        more = ", …" if refused > len(refused_at) else ""
        print(
            f"{refused} of {decided + refused} facts refused (see the output): "
            + ", ".join(refused_at)
            + more,
            file=sys.stderr,
        )
    return 1 if refused else 0


def _workers(text: str) -> int:
    """``--workers``: a whole number of processes, 1 or more (a usage error otherwise)."""
    from ._parallel import check_workers

    try:
        return check_workers(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of processes, 1 or more; not {text!r}"
        ) from None


def _is_json_lines(source: str) -> bool:
    return Path(source).suffix.lower() == ".jsonl"


def _ledger_workers(args: argparse.Namespace) -> int:
    """How many processes decide a ledger: ``--workers``, else every core for a ledger
    file of AUTO_BYTES or more written as jsonl or csv, else one. Excel and iCalendar
    outputs are built by one process whatever the count, so they take one."""
    from ._parallel import AUTO_BYTES, available_cores

    if args.format not in ("jsonl", "csv"):
        return 1
    if args.workers is not None:
        return int(args.workers)
    try:
        large = Path(args.fact).stat().st_size >= AUTO_BYTES
    except OSError:  # read_ledger says what is wrong with the file
        large = False
    return available_cores() if large else 1


class _Progress:
    """A one-line counter on stderr, for long runs at a terminal."""

    def __init__(self) -> None:
        import time

        self._clock = time.perf_counter
        self._start = self._clock()
        self._count = 0

    def __call__(self, count: int) -> None:
        self._count = count
        if count % 5000 == 0:
            rate = count / max(self._clock() - self._start, 1e-9)
            sys.stderr.write(f"\r{count:,} facts ({rate:,.0f}/s)")
            sys.stderr.flush()

    def done(self) -> None:
        if self._count >= 5000:
            sys.stderr.write("\n")


def _as_of(text: str) -> date:
    """``--as-of``, range included: a date every fact would be refused for is the
    argument's fault, said once, not a batch of refusals."""
    as_of = parse_as_of(text)
    if not FACT_DATES_FROM <= as_of <= FACT_DATES_UNTIL:
        raise FactError(
            [
                FactProblem(
                    "--as-of",
                    text,
                    f"dates must fall in {FACT_DATES_FROM.year}–{FACT_DATES_UNTIL.year}",
                )
            ]
        )
    return as_of


def _report(args: argparse.Namespace) -> int:
    # Every argument is checked before the pack loads and before anything is written.
    as_of = _as_of(args.as_of)
    columns, aliases = ledger_columns(args)
    output = check_output(args.output, (args.ledger,)) if args.output else None
    pack = load_pack(
        args.pack, calendar_notices=args.calendar, official_through=args.official_through
    )
    with contextlib.closing(open_ledger(pack, args, args.ledger, columns, aliases)) as facts:
        report = pack.report(facts, as_of)
    if args.format == "json":
        text = report.model_dump_json(indent=2) + "\n"
    elif args.format == "html":
        from ._dashboard import render_dashboard

        text = render_dashboard(pack, report)
    else:
        buffer = io.StringIO()
        render_report(pack, report, buffer)
        text = buffer.getvalue()
    with atomic_output(output) if output else contextlib.nullcontext(sys.stdout) as out:
        out.write(text)
    return 1 if report.refused_count else 0


def _explain(args: argparse.Namespace) -> int:
    pack = load_pack(
        args.pack, calendar_notices=args.calendar, official_through=args.official_through
    )
    decision = pack.evaluate(_read_fact(args.fact), args.as_of, explain=True)
    if args.format == "json":
        print(decision.model_dump_json(indent=2))
        return 0
    render_table(pack, decision, sys.stdout)
    explanation = decision.explanation
    out = sys.stdout
    out.write("\n为何如此 (why)\n")
    for trace in explanation.rules:
        mark = "✓" if trace.applies else "·"
        out.write(f"{mark} {trace.id} [{trace.basis}] 「{trace.quote}」\n")
        out.write(f"    when {trace.condition}\n")
        if not trace.applies:
            out.write(f"    {trace.reason}\n")
    if explanation.due_dates:
        out.write("\n截止日期如何计算 (how each due date was counted)\n")
    for due in explanation.due_dates:
        out.write(
            f"{due.action}: {due.due.isoformat()} — {due.counted} [{due.basis}] 「{due.quote}」\n"
        )
        if due.rest_days:
            out.write("    rest days crossed: " + _date_ranges(due.rest_days) + "\n")
        if due.make_up_days:
            out.write(
                "    make-up workdays (调休上班) crossed: " + _date_ranges(due.make_up_days) + "\n"
            )
    return 0


def _date_ranges(days: Sequence[date]) -> str:
    """2024-10-01..07, 2024-10-13 — runs of consecutive days folded."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].day:02d}"
        for run in runs
    )


def _diagram(args: argparse.Namespace) -> int:
    from ._diagram import dot, mermaid, svg

    model = load_pack(args.pack).model
    draw = {"mermaid": mermaid, "dot": dot, "svg": svg}[args.format]
    write_text_output(draw(model), args.output)
    return 0


def _test(args: argparse.Namespace) -> int:
    from ._cases import coverage, load_cases, run_case

    passed = failed = 0
    unclean = []
    for name in args.packs or bundled_names():
        pack = load_pack(name, calendar_notices=args.calendar)
        # A pack that passes its cases while the checker finds an error in it is not a
        # passing pack: run the checker first, as CI would.
        findings = list(version_diagnostics(pack))
        for part in pack.versions:  # a pack with versions: each is checked and tested
            assert part.located is not None
            findings += check_pack(part.model, part.located, pack_dir=part.path)
        if findings:
            print_diagnostics(findings)
        if any(d.severity == "error" for d in findings):
            unclean.append(pack.name)
        try:
            cases = [c for part in pack.versions for c in load_cases(part.path, part.model)]
        except PackError as exc:
            print_diagnostics(exc.diagnostics)
            unclean.append(pack.name)
            continue
        failures = []
        for loaded in cases:
            result = run_case(pack, loaded)
            if result.passed:
                passed += 1
            else:
                failed += 1
                failures.append(result)
        print(
            f"{pack.name}: {len(cases) - len(failures)} passed"
            + (f", {len(failures)} failed" if failures else "")
        )
        for result in failures:
            print(f"  FAIL {result.loaded.file}:{result.loaded.line}: {result.loaded.case.note}")
            for mismatch in result.mismatches:
                print(f"       {mismatch}")
        if args.coverage:
            exercised, declared = coverage(pack, cases)
            missing = sorted(declared - exercised)
            share = 100 * len(exercised) / len(declared) if declared else 100.0
            print(
                f"  coverage: {share:.0f}% ({len(exercised)}/{len(declared)} rules, chains, "
                "lifecycles, duties and obligations)"
            )
            for item in missing:
                print(f"    not exercised: {item}")
    print(f"{passed} passed, {failed} failed")
    if unclean:
        print(f"`ecorules check` finds errors in: {', '.join(unclean)}")
    return 1 if failed or unclean else 0


def _check(args: argparse.Namespace) -> int:
    names = args.packs or bundled_names()
    diagnostics: list[Diagnostic] = []
    for name in names:
        if name in bundled_names() and Path(name).is_dir():
            diagnostics.append(
                Diagnostic(
                    "bundled_name_shadows_directory",
                    f"`{name}` names the bundled pack, not the directory `{name}/` here",
                    name,
                    severity="warning",
                    help=f"write `./{name}` to check that directory",
                )
            )
        try:
            pack = load_pack(name)
        except PackError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        diagnostics.extend(version_diagnostics(pack))
        for part in pack.versions:  # a pack with versions: each version is a text to check
            if part.located is not None:
                diagnostics.extend(
                    check_pack(
                        part.model, part.located, assumptions=args.assumptions, pack_dir=part.path
                    )
                )
    if args.format == "json":
        print(json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2))
    elif args.format == "sarif":
        print(json.dumps(sarif(diagnostics, _version()), ensure_ascii=False, indent=2))
    else:
        print_diagnostics(diagnostics, rich=args.format == "text")
    return 1 if any(d.severity != "info" for d in diagnostics) else 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecorules")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _schema(args: argparse.Namespace) -> int:
    from ._schemas import decision_json_schema

    if args.fact:
        schema = load_pack(args.fact).fact_json_schema()
    else:
        schema = decision_json_schema() if args.decision else pack_json_schema()
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from ._server import serve
    except ImportError as exc:
        print(
            f"error: `ecorules serve` needs the server extra ({exc.name} is missing): "
            "pip install 'ecorules[server]'",
            file=sys.stderr,
        )
        return 2
    return serve(
        args.packs,
        host=args.host,
        port=args.port,
        decision_log=args.decision_log,
        mask=args.mask,
        max_body=args.max_body_bytes,
        reload_interval=args.reload_interval if args.reload_packs else None,
        root_path=args.root_path,
        log_level=args.log_level,
        http=args.http,
        docs_assets=args.docs_assets,
        calendar=args.calendar,
        official_through=args.official_through,
    )


def _packs(args: argparse.Namespace) -> int:
    from ._pack import packs

    for info in packs():
        print(f"{info.name}\t{info.jurisdiction}\t{info.title}")
    return 0


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _role_name(pack: Pack, role_id: str | None) -> str:
    if role_id is None:
        return ""
    try:
        return pack.role(role_id).name
    except KeyError:
        return role_id


def _term_name(pack: Pack, section: str, term: str | None) -> str:
    if term is None:
        return "(全部)"
    for entry in getattr(pack.model.vocabulary, section):
        if entry.id == term:
            return str(entry.name)
    return term


def render_report(pack: Pack, report: Report, out: TextIO) -> None:
    """The ledger in counts, one row per kind and category, stages as at/reached."""
    out.write(f"{pack.title} — 台账统计 — 截至 {report.as_of.isoformat()}\n")
    rows = [("类型", "类别", "总数", "已销号", "未销号", "逾期", "阶段 (当前/已达到)")]
    for group in report.groups:
        stages = " · ".join(f"{s.title} {s.at}/{s.reached}" for s in group.stages)
        rows.append(
            (
                _term_name(pack, "kinds", group.kind),
                _term_name(pack, "categories", group.category),
                str(group.total),
                str(group.closed),
                str(group.open),
                str(group.overdue),
                stages,
            )
        )
    _write_rows(rows, out)
    if report.refused_count:
        out.write(f"refused: {report.refused_count} facts\n")
        for refused in report.refused[:20]:
            where = f"line {refused.line}" if refused.line else f"#{refused.position}"
            out.write(f"  {where}: {refused.error}\n")
        if report.refused_count > 20:
            out.write(f"  … and {report.refused_count - 20} more\n")
    calendar = calendar_line(report.calendar)
    if calendar:
        out.write(calendar + "\n")


def _write_rows(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        out.write("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")
        if index == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def render_table(pack: Pack, decision: Decision, out: TextIO) -> None:
    """A readable, Chinese-first rendering of a decision for people at a terminal."""
    title = f"{pack.title} — {decision.fact_id or '(no id)'} — 截至 {decision.as_of.isoformat()}"
    out.write(title + "\n")
    if decision.responsible:
        tier = TIER_NAMES.get(decision.responsible_tier or "", "")
        out.write(f"整改责任主体: {_role_name(pack, decision.responsible)} ({tier})\n")
    if decision.version:
        out.write(f"版本 (version): {decision.version}\n")
    if decision.closure_chain:
        marks = " → ".join(
            f"{'✓' if s.done else '·'}{_role_name(pack, s.actor)}" for s in decision.closure_chain
        )
        out.write(f"销号链 {decision.closure_chain_id}: {marks}\n")
        out.write("状态: 已销号\n" if decision.closed else "状态: 未销号\n")
    rows = [("截止日期", "状态", "事项", "责任主体", "层级", "依据")]
    for a in decision.actions:
        rows.append(
            (
                a.due.isoformat() if a.due else "—",
                STATUS_NAMES[a.status],
                a.title,
                _role_name(pack, a.actor)
                + (f" → {_role_name(pack, a.recipient)}" if a.recipient else ""),
                TIER_NAMES[a.tier],
                a.basis,
            )
        )
    _write_rows(rows, out)
    for notice in decision.warnings:
        out.write(f"warning: {notice.code}: {notice.message}\n")
    calendar = calendar_line(decision.calendar)
    if calendar:
        out.write(calendar + "\n")
