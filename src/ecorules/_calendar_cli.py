"""``ecorules calendar``: show a year's working-day calendar, check a notice file, start one.

Kept apart from ``_cli.py`` because it is its own small tool: the yearly routine of writing
down the State Council's holiday notice before the ``holidays`` data ships it. The help text
here *is* that routine, so a clerk at a terminal finds it where they are.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from typing import Any

from ._calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    WorkingCalendar,
    build_calendar,
    check_official_through,
    holidays_version,
)
from ._decision import CalendarIdentity
from ._errors import Diagnostic
from ._notices import (
    ENV_VAR,
    CalendarError,
    notice_sha256,
    parse_notice_file,
    resolve_notices,
    statutory_festivals,
)
from ._render import count, print_diagnostics

ROUTINE = f"""\
The yearly routine: when the State Council publishes next year's holiday notice
(国务院办公厅关于YYYY年部分节假日安排的通知, usually in October-November):

  1. ecorules calendar template 2027 > notice-2027.yaml
       a starter file with 2027's statutory festivals; it is NOT the notice
  2. edit notice-2027.yaml from the notice: `source` (title and number), every day
     off under `holidays` (dates or ranges 2027-02-05..2027-02-11), every make-up
     workday (调休上班) under `workdays`; delete the line `draft: true`
  3. ecorules calendar check notice-2027.yaml
       refused with file:line:col if a day is outside 2027, a make-up workday is not
       a Saturday or Sunday, a day is both, or a year is given twice
  4. ecorules calendar show 2027 --calendar notice-2027.yaml
       compare month by month with the notice
  5. use it everywhere dates are computed:
       ecorules evaluate|explain|report|test ... --calendar notice-2027.yaml
       export {ENV_VAR}=/etc/ecorules/notice-2027.yaml   (every entry point)
       load_pack(name, calendar_notices="notice-2027.yaml")   (Python)
     Decisions then name the notice (source, sha256) in `calendar`, and 2027's
     dates lose the calendar_beyond_horizon warning.
  6. when a holidays release carries 2027, drop the file (check warns that the
     data already has the year).
"""


def add_calendar_option(parser: argparse.ArgumentParser) -> None:
    """``--calendar FILE`` for a command that computes dates."""
    parser.add_argument(
        "--calendar",
        action="append",
        metavar="FILE",
        help="a holiday notice file (YAML or JSON) for a year the holidays data lacks; "
        f"repeatable; default: the files in ${ENV_VAR} (see `ecorules calendar --help`)",
    )


def add_official_through_option(parser: argparse.ArgumentParser) -> None:
    """``--official-through YEAR``: the calendar as the holidays data stood (to replay)."""
    parser.add_argument(
        "--official-through",
        type=_official_through,
        metavar="YEAR",
        help="use the holidays data's notices only up to YEAR and predict the years after, "
        "as before later notices were in the data: to replay a decision whose "
        "calendar.official_through is YEAR",
    )


def _official_through(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a year") from None
    try:
        return check_official_through(year)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_calendar_command(sub: Any) -> None:
    cal = sub.add_parser(
        "calendar",
        help="show the working-day calendar of a year; check or start a holiday notice file",
        description="The working-day calendar: days off and make-up workdays (调休上班), where "
        "each comes from, and the notice files that add a year the holidays data lacks.",
        epilog=ROUTINE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = cal.add_subparsers(required=True, metavar="ACTION")

    show = commands.add_parser(
        "show", help="each month's days off and make-up workdays of YEAR, and their source"
    )
    show.add_argument("year", type=int, help="the year, e.g. 2027")
    show.add_argument("--pack", help="include this pack's local days off and workdays")
    add_calendar_option(show)
    add_official_through_option(show)
    show.set_defaults(run=_show)

    check = commands.add_parser("check", help="check notice files; exit 1 if one is refused")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=_check)

    template = commands.add_parser(
        "template", help="a starter notice file for YEAR (statutory festivals; NOT the notice)"
    )
    template.add_argument("year", type=int, help="the year, e.g. 2027")
    template.set_defaults(run=_template)


def _year(value: int) -> int:
    if not FIRST_YEAR <= value <= LAST_YEAR:
        print(
            f"ecorules calendar: year {value} is outside the calendar ({FIRST_YEAR}–{LAST_YEAR})",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return value


def _check(args: argparse.Namespace) -> int:
    diagnostics: list[Diagnostic] = []
    summaries: list[dict[str, Any]] = []
    parsed = [parse_notice_file(file) for file in args.files]
    for result in parsed:
        diagnostics.extend(result.diagnostics)
    if all(result.ok for result in parsed) and len(parsed) > 1:
        # Across files a year may still be given twice or skipped.
        try:
            resolve_notices([result.file for result in parsed])
        except CalendarError as exc:
            diagnostics.extend(exc.diagnostics)
    for result in parsed:
        if not result.ok:
            continue
        for notice in result.notices:
            summaries.append(
                {
                    "file": result.file,
                    "year": notice.year,
                    "source": notice.source,
                    "days_off": len(notice.holidays),
                    "make_up_workdays": len(notice.workdays),
                    "sha256": notice_sha256(notice),
                }
            )
    failed = any(d.severity == "error" for d in diagnostics)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": not failed,
                    "diagnostics": [d.to_json() for d in diagnostics],
                    "notices": [] if failed else summaries,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 1 if failed else 0
    print_diagnostics(diagnostics)
    if failed:
        return 1
    for s in summaries:
        print(
            f"{s['file']}: {s['year']}: {count(s['days_off'], 'day')} off, "
            f"{count(s['make_up_workdays'], 'make-up workday')} — {s['source']} — "
            f"sha256 {s['sha256']}"
        )
    return 0


def _template(args: argparse.Namespace) -> int:
    sys.stdout.write(template(_year(args.year)))
    return 0


def template(year: int) -> str:
    """A starter notice file: the statutory festivals of ``year``, marked as a draft."""
    version = holidays_version()
    lines = [
        f"# Holiday notice for {year} — A TEMPLATE, NOT THE NOTICE.",
        "#",
        f"# Written by `ecorules calendar template {year}` from the statutory festivals",
        f"# (法定节假日) that the holidays library {version} computes for {year}. The State",
        f"# Council's notice (国务院办公厅关于{year}年部分节假日安排的通知) decides which days",
        "# are actually off, the bridging days around each festival, and the make-up",
        "# workdays (调休上班); none of that is below. ecorules refuses this file until",
        "# it is completed from the notice and the line `draft: true` is deleted.",
        "#",
        "# 1. `source`: the notice's title and number",
        "# 2. `holidays`: every day off the notice gives, as dates or ranges",
        f"#    ({year}-10-01..{year}-10-07); weekend days may be listed or left out",
        "# 3. `workdays`: every make-up workday, each a Saturday or a Sunday",
        "# 4. delete `draft: true`",
        f"# 5. ecorules calendar check FILE; ecorules calendar show {year} --calendar FILE",
        f"- year: {year}",
        "  draft: true",
        '  source: ""',
        "  holidays:",
    ]
    for day, name in statutory_festivals(year):
        lines.append(f"    - {day.isoformat()}  # {day.strftime('%a')} {name}")
    lines.append("  workdays: []")
    return "\n".join(lines) + "\n"


def _show(args: argparse.Namespace) -> int:
    year = _year(args.year)
    resolved = resolve_notices(args.calendar)
    local: set[date] = set()
    if args.pack:
        from ._pack import load_pack

        pack = load_pack(
            args.pack, calendar_notices=args.calendar, official_through=args.official_through
        )
        calendar, identity = pack.calendar, pack.calendar_identity
        local = {
            d
            for d in (*pack.model.calendar.extra_holidays, *pack.model.calendar.extra_workdays)
            if d.year == year
        }
        origin_local = f"* a local day of pack `{pack.name}`\n" if local else ""
    else:
        from ._notices import calendar_identity

        calendar = build_calendar(notices=resolved.notices, official_through=args.official_through)
        identity = calendar_identity(calendar, resolved.identities)
        origin_local = ""
    sys.stdout.write(render_year(year, calendar, identity, local) + origin_local)
    return 0


def render_year(
    year: int, calendar: WorkingCalendar, identity: CalendarIdentity, local: set[date]
) -> str:
    """A year month by month: runs of days off (with names where known), make-up workdays."""
    import holidays

    by_year = {n.year: n for n in identity.notices}
    noticed = by_year.get(year)
    names: dict[date, str] = {}
    if noticed is not None:
        where = f"notice file {noticed.file}" if noticed.file else "a notice passed by the host"
        origin = f"from {where}: {noticed.source or '(no source given)'} (sha256 {noticed.sha256})"
    else:
        names = dict(holidays.country_holidays("CN", years=year, language="zh_CN"))
        if year <= identity.official_through:
            origin = (
                f"from the holidays data {identity.holidays_version}: the State Council notice "
                f"for {year}"
            )
        else:
            origin = (
                f"PREDICTED by the holidays library {identity.holidays_version} from the "
                f"statutory festivals: no notice for {year} is in the data or a notice file, "
                "so these days are an estimate"
            )
    out = [
        f"{year} — {origin}",
        f"horizon: {identity.horizon.isoformat()} (official data through "
        f"{identity.official_through}"
        + (", notices for " + ", ".join(str(y) for y in sorted(by_year)) if by_year else "")
        + ")",
    ]
    day = date(year, 1, 1)
    last = date(year, 12, 31)
    for month in range(1, 13):
        runs: list[list[date]] = []
        make_up: list[date] = []
        day = date(year, month, 1)
        while day <= last and day.month == month:
            working = calendar.is_working_day(day)
            if not working:
                if runs and (day - runs[-1][-1]).days == 1:
                    runs[-1].append(day)
                else:
                    runs.append([day])
            elif day.weekday() >= 5:
                make_up.append(day)
            day += timedelta(days=1)
        # A plain weekend is not news: keep runs with a weekday off or a named day.
        shown = [r for r in runs if any(d.weekday() < 5 or d in names for d in r)]
        parts = [_run(r, names, local) for r in shown]
        line = f"{month:02d}  days off: " + ("; ".join(parts) if parts else "—")
        if make_up:
            line += "  |  make-up workdays: " + ", ".join(
                f"{d.strftime('%m-%d')} ({d.strftime('%a')}){'*' if d in local else ''}"
                for d in make_up
            )
        out.append(line)
    return "\n".join(out) + "\n"


def calendar_line(identity: CalendarIdentity | None) -> str | None:
    """One line for a decision's table when notices were supplied; None when only the data."""
    if identity is None or not identity.notices:
        return None
    notices = "; ".join(
        f"{n.year} notice: {n.source or '(no source)'} (sha256 {n.sha256[:12]}…)"
        for n in identity.notices
    )
    return f"calendar: holidays {identity.holidays_version} + {notices}"


def _run(run: list[date], names: dict[date, str], local: set[date]) -> str:
    text = run[0].strftime("%m-%d")
    if len(run) > 1:
        text += ".." + run[-1].strftime("%m-%d")
    labels = list(dict.fromkeys(names[d] for d in run if d in names))
    if labels:
        text += " " + "、".join(labels)
    if any(d in local for d in run):
        text += " *"
    return text
