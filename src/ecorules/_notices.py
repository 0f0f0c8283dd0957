"""Notice files: next year's State Council holiday notice, written down once, read everywhere.

The State Council publishes each year's holiday notice in the autumn, months before the
``holidays`` library ships it, and until then every due date in that year is an estimate. A
person copies the notice into a small YAML or JSON file; this module reads that file (with
``file:line:col`` for every problem), refuses one that cannot be a notice, and tells a
decision which notices its calendar holds. The CLI's ``--calendar``, the
``ECORULES_CALENDAR`` variable, a server's option and ``load_pack(calendar_notices=...)`` all
come through ``resolve_notices`` so that they accept and refuse the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from ._calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    CalendarNotice,
    WorkingCalendar,
    holidays_version,
    official_horizon_year,
)
from ._decision import CalendarIdentity, Notice, NoticeIdentity
from ._errors import Diagnostic, PackError, Severity, did_you_mean
from ._yamlsrc import Located, PathKey, YamlProblem, load_file

ENV_VAR = "ECORULES_CALENDAR"
"""Notice files for every entry point that is not told otherwise (``os.pathsep``-separated)."""

FIELDS = ("year", "source", "holidays", "workdays", "draft")
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2}|\d{2}-\d{2}|\d{2})\s*$")

NoticeSource = CalendarNotice | str | os.PathLike[str]
"""What ``load_pack(calendar_notices=...)`` accepts: notices, notice files, or a mix."""


class CalendarError(PackError):
    """A calendar notice (or notice file) that cannot be used; ``diagnostics`` says where."""


@cache
def notice_sha256(notice: CalendarNotice) -> str:
    """The content hash of a notice: its year and its sorted days off and make-up workdays.

    The source text is not part of it: a corrected title is the same calendar."""
    canonical = {
        "year": notice.year,
        "holidays": sorted({d.isoformat() for d in notice.holidays}),
        "workdays": sorted({d.isoformat() for d in notice.workdays}),
    }
    text = json.dumps(canonical, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass
class _Entry:
    """One notice as written, with where each of its days stood (for positioned checks)."""

    year: int
    source: str | None
    holidays: list[tuple[date, PathKey]] = field(default_factory=list)
    workdays: list[tuple[date, PathKey]] = field(default_factory=list)
    path: PathKey = ()
    located: Located | None = None

    @property
    def file(self) -> str | None:
        return self.located.file if self.located is not None else None

    def diagnostic(
        self,
        path: PathKey,
        code: str,
        message: str,
        severity: Severity = "error",
        *,
        key: bool = False,
    ) -> Diagnostic:
        if self.located is not None:
            return self.located.diagnostic(path, code, message, severity=severity, key=key)
        return Diagnostic(code, message, "<calendar_notices>", severity=severity)

    def notice(self) -> CalendarNotice:
        return CalendarNotice(
            year=self.year,
            holidays=tuple(sorted({d for d, _ in self.holidays})),
            workdays=tuple(sorted({d for d, _ in self.workdays})),
            source=self.source,
        )


@dataclass(frozen=True)
class NoticeFile:
    """A notice file as read: its notices, and every diagnostic (errors included)."""

    file: str
    notices: tuple[CalendarNotice, ...]
    diagnostics: tuple[Diagnostic, ...]
    entries: tuple[_Entry, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def parse_notice_file(path: str | os.PathLike[str]) -> NoticeFile:
    """Read a notice file and check it on its own; never raises for a bad file."""
    name = os.fspath(path)
    try:
        located = load_file(Path(name), name)
    except YamlProblem as exc:
        return NoticeFile(name, (), (exc.diagnostic,))
    diagnostics: list[Diagnostic] = []
    entries = _read_entries(located, diagnostics)
    diagnostics.extend(check_entries(entries))
    notices = tuple(e.notice() for e in entries)
    return NoticeFile(
        name, notices, tuple(sorted(diagnostics, key=Diagnostic.sort_key)), tuple(entries)
    )


def read_calendar_notices(path: str | os.PathLike[str]) -> tuple[CalendarNotice, ...]:
    """The notices of a notice file (YAML or JSON); CalendarError with positions if it is
    wrong. A server can call this at start-up to refuse a bad file before serving."""
    parsed = parse_notice_file(path)
    if not parsed.ok:
        raise CalendarError(d for d in parsed.diagnostics if d.severity == "error")
    return parsed.notices


def _read_entries(located: Located, out: list[Diagnostic]) -> list[_Entry]:
    data = located.data
    report = located.diagnostic
    if isinstance(data, dict):
        out.append(
            report(
                (),
                "notice_file_not_list",
                "a notice file is a list of notices, one per year",
                help="start the notice with `- year: ...`",
            )
        )
        return []
    if not isinstance(data, list):
        out.append(report((), "notice_file_not_list", "a notice file is a list of notices"))
        return []
    entries = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            out.append(report((i,), "notice_not_mapping", "a notice is a mapping with `year`"))
            continue
        before = len(out)
        for key in item:
            if key not in FIELDS:
                hint = did_you_mean(str(key), FIELDS)
                out.append(
                    report((i, key), "unknown_key", f"unknown key `{key}`", key=True, help=hint)
                )
        if item.get("draft") is not None and item.get("draft") is not False:
            out.append(
                report(
                    (i, "draft"),
                    "notice_is_draft",
                    "this is a template, not the notice: complete it from the State Council's "
                    "notice, then delete `draft`",
                    key=True,
                )
            )
        year = item.get("year")
        if "year" not in item:
            out.append(report((i,), "missing_key", "a notice needs `year`"))
        elif isinstance(year, bool) or not isinstance(year, int):
            out.append(report((i, "year"), "invalid_value", f"`year` must be a year, not `{year}`"))
        elif not FIRST_YEAR <= year <= LAST_YEAR:
            out.append(
                report(
                    (i, "year"),
                    "invalid_value",
                    f"year {year} is outside the calendar ({FIRST_YEAR}–{LAST_YEAR})",
                )
            )
        source = item.get("source")
        if source is not None and not isinstance(source, str):
            out.append(report((i, "source"), "invalid_value", "`source` must be text"))
        elif not (source or "").strip():
            out.append(
                report(
                    (i, "source") if "source" in item else (i,),
                    "notice_source_missing",
                    "a notice file names the notice it copies in `source` (its title and "
                    "number, e.g. 国办发明电〔2026〕N号)",
                )
            )
        if "holidays" not in item:
            out.append(report((i,), "missing_key", "a notice needs `holidays`, its days off"))
        holidays = _read_days(located, item.get("holidays"), (i, "holidays"), out)
        workdays = _read_days(located, item.get("workdays"), (i, "workdays"), out)
        if len(out) > before or not isinstance(year, int):
            # A broken notice is not checked further: its findings would be noise.
            continue
        entries.append(
            _Entry(
                year,
                source.strip() if isinstance(source, str) else None,
                holidays,
                workdays,
                (i,),
                located,
            )
        )
    return entries


def _read_days(
    located: Located, value: Any, path: PathKey, out: list[Diagnostic]
) -> list[tuple[date, PathKey]]:
    if value is None:
        return []
    if not isinstance(value, list):
        out.append(
            located.diagnostic(path, "invalid_value", "a list of dates or ranges is expected")
        )
        return []
    days: list[tuple[date, PathKey]] = []
    for j, item in enumerate(value):
        where = (*path, j)
        try:
            days.extend((d, where) for d in parse_days(item))
        except ValueError as exc:
            out.append(located.diagnostic(where, "invalid_date", str(exc)))
    return days


def parse_days(item: object) -> list[date]:
    """A date, or a range ``2027-02-05..2027-02-11`` (also ``..02-11`` or ``..11``)."""
    if isinstance(item, date):
        return [item]
    if not isinstance(item, str):
        raise ValueError(f"`{item}` is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)")
    text = item.strip()
    match = _RANGE.match(text)
    try:
        if match is None:
            return [date.fromisoformat(text)]
        start = date.fromisoformat(match[1])
        end_text = match[2]
        if len(end_text) == 2:
            end_text = f"{match[1][:8]}{end_text}"
        elif len(end_text) == 5:
            end_text = f"{match[1][:5]}{end_text}"
        end = date.fromisoformat(end_text)
    except ValueError:
        raise ValueError(
            f"`{text}` is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)"
        ) from None
    if end < start:
        raise ValueError(f"the range `{text}` ends before it starts")
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


def check_entries(entries: Sequence[_Entry]) -> list[Diagnostic]:
    """What makes a notice impossible, and what makes one suspicious (as warnings)."""
    out: list[Diagnostic] = []
    official = official_horizon_year()
    first_at: dict[int, _Entry] = {}
    for entry in entries:
        year_path = (*entry.path, "year")
        if entry.year in first_at:
            first = first_at[entry.year]
            elsewhere = f" in {first.file}" if first.file and first.file != entry.file else ""
            out.append(
                entry.diagnostic(
                    year_path,
                    "duplicate_year",
                    f"the notice for {entry.year} is given twice (first{elsewhere} at "
                    f"{_line(first)}); a year has one notice",
                )
            )
        else:
            first_at[entry.year] = entry
        if not entry.holidays:
            out.append(
                entry.diagnostic(
                    entry.path, "notice_without_holidays", "a notice gives at least one day off"
                )
            )
        off = {d for d, _ in entry.holidays}
        for kind, days in (("day off", entry.holidays), ("make-up workday", entry.workdays)):
            for day, where in days:
                if day.year != entry.year:
                    out.append(
                        entry.diagnostic(
                            where,
                            "day_outside_year",
                            f"{kind} {day.isoformat()} is not in {entry.year}, the notice's year",
                        )
                    )
        for day, where in entry.workdays:
            if day.weekday() < 5:
                out.append(
                    entry.diagnostic(
                        where,
                        "workday_not_weekend",
                        f"make-up workday {day.isoformat()} is a {day.strftime('%A')}: make-up "
                        "workdays (调休上班) are Saturdays or Sundays",
                    )
                )
            if day in off:
                out.append(
                    entry.diagnostic(
                        where,
                        "day_both_off_and_workday",
                        f"{day.isoformat()} is listed both as a day off and as a make-up workday",
                    )
                )
        if entry.year <= official:
            out.append(
                entry.diagnostic(
                    year_path,
                    "notice_replaces_data",
                    f"the holidays data ({holidays_version()}) already has the notice for "
                    f"{entry.year}; this one replaces it",
                    severity="warning",
                )
            )
        else:
            for day, name in statutory_festivals(entry.year):
                if day.weekday() < 5 and day not in off:
                    out.append(
                        entry.diagnostic(
                            (*entry.path, "holidays"),
                            "festival_not_off",
                            f"{day.isoformat()} ({name}) is a statutory festival on a weekday "
                            "but not listed as a day off",
                            severity="warning",
                            key=True,
                        )
                    )
    # The horizon is the last year with a notice: a skipped year would pass as official.
    for entry in entries:
        missing = [y for y in range(official + 1, entry.year) if y not in first_at]
        if missing:
            out.append(
                entry.diagnostic(
                    (*entry.path, "year"),
                    "notice_year_gap",
                    f"a notice for {entry.year} but none for {', '.join(map(str, missing))}: "
                    "supply the notices in order, so no year is taken as official unread",
                )
            )
    return out


def _line(entry: _Entry) -> str:
    if entry.located is None:
        return "a notice passed in Python"
    return f"line {entry.located.position((*entry.path, 'year'))[0]}"


@dataclass(frozen=True)
class ResolvedNotices:
    notices: tuple[CalendarNotice, ...]
    identities: tuple[NoticeIdentity, ...]


def resolve_notices(
    given: Iterable[NoticeSource] | str | os.PathLike[str] | None,
) -> ResolvedNotices:
    """Notices from what an entry point was given: notices, notice files, or None for the
    ``ECORULES_CALENDAR`` variable. Every problem across all of them raises one
    CalendarError."""
    if given is None:
        env = os.environ.get(ENV_VAR, "")
        items: list[NoticeSource] = [p for p in env.split(os.pathsep) if p.strip()]
    elif isinstance(given, str | os.PathLike):
        items = [given]
    else:
        items = list(given)
    entries: list[_Entry] = []
    errors: list[Diagnostic] = []
    for item in items:
        if isinstance(item, CalendarNotice):
            entries.append(
                _Entry(
                    item.year,
                    item.source,
                    [(d, ()) for d in item.holidays],
                    [(d, ()) for d in item.workdays],
                )
            )
            continue
        parsed = parse_notice_file(item)
        errors.extend(d for d in parsed.diagnostics if d.severity == "error")
        entries.extend(parsed.entries)
    if not errors:
        # Files were checked alone; across them a year may still be given twice or skipped,
        # and notices passed in Python are checked here for the first time.
        errors = [d for d in check_entries(entries) if d.severity == "error"]
    if errors:
        raise CalendarError(dict.fromkeys(errors))
    notices = tuple(e.notice() for e in entries)
    identities = tuple(
        sorted(
            (
                NoticeIdentity(n.year, n.source, notice_sha256(n), e.file)
                for n, e in zip(notices, entries, strict=True)
            ),
            key=lambda i: i.year,
        )
    )
    return ResolvedNotices(notices, identities)


def calendar_identity(
    calendar: WorkingCalendar, identities: Sequence[NoticeIdentity] = ()
) -> CalendarIdentity:
    return CalendarIdentity(
        holidays_version=holidays_version(),
        official_through=calendar.official_through,
        horizon=calendar.horizon,
        notices=tuple(identities),
    )


def horizon_warning(calendar: WorkingCalendar) -> Notice:
    """The warning for a due date past the horizon: which year is missing, how to add it.

    Built once per pack, so a decision only points at it."""
    horizon = calendar.horizon
    missing = calendar.horizon_year + 1
    data = holidays_version()
    if calendar.official_through < official_horizon_year():
        data += f", used through {calendar.official_through}"
    return Notice(
        code="calendar_beyond_horizon",
        message=f"a due date falls after {horizon.isoformat()}: no State Council holiday "
        f"notice for {missing} (or later) is in the holidays data ({data}) or a "
        f"notice file, so it is an estimate; once the {missing} notice is published, write it "
        f"down (`ecorules calendar template {missing}`) and supply it with `--calendar FILE`, "
        f"{ENV_VAR}=FILE or load_pack(..., calendar_notices=FILE)",
    )


def statutory_festivals(year: int) -> list[tuple[date, str]]:
    """The festival days the law fixes (《全国年节及纪念日放假办法》), as ``holidays`` computes
    them for ``year`` — without the bridging days and make-up workdays only a notice gives."""
    import holidays

    zh = holidays.country_holidays("CN", years=year, observed=False, language="zh_CN")
    en = holidays.country_holidays("CN", years=year, observed=False, language="en_US")
    out = []
    for day in sorted(zh):
        english = en.get(day) or ""
        if english.startswith("Day off"):  # a notice's bridging day, not a festival
            continue
        out.append((day, f"{zh[day]} {english}".strip()))
    return out
