"""The ``ecorules`` command line: evaluate a fact, check packs, print the pack schema.

Errors a person can act on go to stderr as one line each (``file:line:col: code: message``
for packs, the field and value for facts) with exit status 1; usage errors exit 2. No
traceback is ever the interface.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from ._checker import check_pack
from ._decision import Decision
from ._engine import FACT_DATES_FROM, FACT_DATES_UNTIL
from ._errors import Diagnostic, EcorulesError, FactError, FactProblem, PackError
from ._fact import parse_as_of
from ._ledger import parse_columns, read_ledger, write_results
from ._model import TIER_NAMES, pack_json_schema
from ._output import atomic_output, check_output
from ._pack import Pack, bundled_names, load_pack
from ._report import RefusedFact, Report
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
    try:
        with _terminate_as_interrupt():
            return int(args.run(args))
    except (PackError, FactError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except EcorulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # a closed pipe (| head) is not an error of ours
        return 0
    except OSError as exc:
        where = f"`{str(exc.filename)[:200]}`: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminated) as exc:
        output = getattr(args, "output", None)
        print(
            "interrupted" + (f": `{output}` was not written" if output else ""),
            file=sys.stderr,
        )
        return 143 if isinstance(exc, _Terminated) else 130


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C so that a run stops the same clean way."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals to the host
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecorules",
        description="Chinese eco-environment supervision policies as executable rules.",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    ev = sub.add_parser("evaluate", help="decide the next actions for one fact")
    ev.add_argument("pack", help="a bundled pack name or a pack directory")
    ev.add_argument(
        "fact",
        help="a YAML or JSON file holding one fact, or - for stdin; or a ledger of many "
        "(.jsonl or .csv) to evaluate as a batch",
    )
    ev.add_argument("--as-of", required=True, help="the evaluation date, YYYY-MM-DD")
    ev.add_argument(
        "--format",
        choices=("table", "json", "jsonl", "csv"),
        default=None,
        help="one fact: table (default) or json; a ledger: jsonl (default) or csv",
    )
    ev.add_argument(
        "--columns",
        help="CSV column mapping, e.g. id=编号,source=来源,"
        "events.transferred=移交日期 (default: columns named as the fields)",
    )
    ev.add_argument("--output", "-o", help="write here instead of stdout")
    ev.add_argument("--engine", choices=("native", "durable"), default="native")
    ev.set_defaults(run=_evaluate)

    ex = sub.add_parser("explain", help="why a decision is what it is: rules and due dates")
    ex.add_argument("pack", help="a bundled pack name or a pack directory")
    ex.add_argument("fact", help="a YAML or JSON file holding the fact, or - for stdin")
    ex.add_argument("--as-of", required=True, help="the evaluation date, YYYY-MM-DD")
    ex.add_argument("--format", choices=("text", "json"), default="text")
    ex.set_defaults(run=_explain)

    ck = sub.add_parser("check", help="load packs and report every diagnostic")
    ck.add_argument("packs", nargs="*", help="pack names or directories (default: all bundled)")
    ck.add_argument("--format", choices=("text", "json"), default="text")
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
    rp.add_argument("--format", choices=("table", "json"), default="table")
    rp.set_defaults(run=_report)

    ts = sub.add_parser("test", help="run packs' YAML cases and summarise")
    ts.add_argument("packs", nargs="*", help="pack names or directories (default: all bundled)")
    ts.add_argument(
        "--coverage",
        action="store_true",
        help="also list the rules, chains and obligations no case exercises",
    )
    ts.set_defaults(run=_test)

    dg = sub.add_parser("diagram", help="draw a pack's flow as Mermaid or Graphviz DOT text")
    dg.add_argument("pack", help="a bundled pack name or a pack directory")
    dg.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    dg.set_defaults(run=_diagram)

    sc = sub.add_parser("schema", help="print the JSON Schema of the pack format")
    sc.set_defaults(run=_schema)

    ls = sub.add_parser("packs", help="list the bundled packs")
    ls.set_defaults(run=_packs)
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
    ledger = Path(args.fact).suffix in (".jsonl", ".csv")
    if ledger and (args.format or "jsonl") not in ("jsonl", "csv"):
        raise FactError(
            [FactProblem("--format", args.format, "a ledger is written as", ("jsonl", "csv"))]
        )
    columns = parse_columns(args.columns)
    output = check_output(args.output, (args.fact,)) if args.output else None
    pack = load_pack(args.pack, engine=args.engine)
    if ledger:
        return _evaluate_ledger(pack, args, as_of, columns, output)
    fact = _read_fact(args.fact)
    decision = pack.evaluate(fact, as_of)
    with atomic_output(output) if output else contextlib.nullcontext(sys.stdout) as out:
        if args.format == "json":
            out.write(decision.model_dump_json(indent=2) + "\n")
        else:
            render_table(pack, decision, out)
    return 0


def _evaluate_ledger(
    pack: Pack, args: argparse.Namespace, as_of: date, columns: dict[str, str], output: Path | None
) -> int:
    """A ledger through evaluate_many: streamed out as it is read, progress on a terminal.
    A file output appears, complete, only when the run is."""
    facts = read_ledger(args.fact, columns)
    refused_at: list[str] = []

    def noting(results: Iterable[Decision | RefusedFact]) -> Iterator[Decision | RefusedFact]:
        for result in results:
            if isinstance(result, RefusedFact) and len(refused_at) < 10:
                refused_at.append(f"line {result.line}" if result.line else f"#{result.position}")
            yield result

    results = noting(pack.evaluate_many(facts, as_of))
    progress = _Progress() if sys.stderr.isatty() else None
    with atomic_output(output) if output else contextlib.nullcontext(sys.stdout) as out:
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
    as_of = _as_of(args.as_of)
    columns = parse_columns(args.columns)
    pack = load_pack(args.pack)
    report = pack.report(read_ledger(args.ledger, columns), as_of)
    if args.format == "json":
        print(report.model_dump_json(indent=2))
    else:
        render_report(pack, report, sys.stdout)
    return 1 if report.refused_count else 0


def _explain(args: argparse.Namespace) -> int:
    pack = load_pack(args.pack)
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
    from ._diagram import dot, mermaid

    model = load_pack(args.pack).model
    sys.stdout.write(mermaid(model) if args.format == "mermaid" else dot(model))
    return 0


def _test(args: argparse.Namespace) -> int:
    from ._cases import coverage, load_cases, run_case

    passed = failed = 0
    for name in args.packs or bundled_names():
        pack = load_pack(name)
        cases = load_cases(pack.path)
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
    return 1 if failed else 0


def _check(args: argparse.Namespace) -> int:
    names = args.packs or bundled_names()
    diagnostics: list[Diagnostic] = []
    for name in names:
        try:
            pack = load_pack(name)
        except PackError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        if pack.located is not None:
            diagnostics.extend(check_pack(pack.model, pack.located, assumptions=args.assumptions))
    if args.format == "json":
        print(json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2))
    else:
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)
    return 1 if any(d.severity != "info" for d in diagnostics) else 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(pack_json_schema(), ensure_ascii=False, indent=2))
    return 0


def _packs(args: argparse.Namespace) -> int:
    from ._pack import packs

    for info in packs():
        print(f"{info.name}\t{info.jurisdiction}\t{info.title}")
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


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


def _write_rows(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
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
