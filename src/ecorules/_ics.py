"""Due dates as calendars (iCalendar, RFC 5545, via the ``icalendar`` package).

The people who must act keep their days in Outlook, WPS or a phone calendar, not in a
ledger. ``evaluate LEDGER --format ics`` (or ``-o dues.ics``) writes one all-day event per
pending or overdue action that has a due date: the summary is the action's title, the
description its basis, quote, responsible body and problem id. Its UID is derived from
(pack, problem id, action id) only, so re-importing next week's file updates the events
instead of duplicating them; a reminder fires at 09:00 on the working day before (the
pack's calendar, so not on a Sunday before a Monday deadline). ``--split-by actor`` writes
one file per responsible body, for each to subscribe to its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import FactError, FactProblem

if TYPE_CHECKING:
    from ._decision import Decision
    from ._pack import Pack
    from ._report import RefusedFact

REMINDER_AT = time(9, 0)
"""When, on the working day before, the reminder fires (China Standard Time)."""


def _icalendar() -> Any:
    try:
        import icalendar
    except ImportError:
        raise FactError(
            [
                FactProblem(
                    "--format",
                    "ics",
                    "calendars need the `ics` extra: pip install 'ecorules[ics]'",
                )
            ]
        ) from None
    return icalendar


def quotes(pack: Pack) -> dict[str, str]:
    """Action id → the verbatim quote it rests on (its own, else its rule's or chain's)."""
    model = pack.model
    found: dict[str, str] = {}
    for rule in model.rules:
        for ob in rule.obligations:
            found.setdefault(ob.id, ob.quote or rule.quote)
    for chain in model.closure_chains:
        for step in chain.steps:
            found.setdefault(step.id, step.quote or chain.quote)
    for duty in model.recurring:
        found.setdefault(duty.id, duty.quote)
    return found


def uid(pack: str, fact_id: str | None, action: str, position: int) -> str:
    """Stable across runs: the same problem's same action is the same event. A fact with no
    id is named by its place in the ledger, which is as stable as the ledger's order."""
    key = f"{pack}\x00{fact_id if fact_id is not None else f'#{position}'}\x00{action}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + "@ecorules"


def write_ics(
    pack: Pack,
    results: Iterable[Decision | RefusedFact],
    output: Path,
    split_by: str | None,
    write: Any,
) -> tuple[int, int, int]:
    """Write the calendar(s); returns (decided, refused, events). ``write(path, bytes)``
    puts a file in place atomically."""
    from ._report import RefusedFact

    ical = _icalendar()
    zone = "Asia/Shanghai"
    calendar = pack.calendar
    said = quotes(pack)
    names: dict[str, str] = {}

    def body(actor: str) -> str:
        if actor not in names:
            try:
                names[actor] = pack.role(actor).name
            except Exception:  # an actor the pack does not name as a role
                names[actor] = actor
        return names[actor]

    books: dict[str, Any] = {}

    def book(key: str) -> Any:
        if key not in books:
            cal = ical.Calendar()
            cal.add("prodid", "-//ecorules//ledger dues//ZH")
            cal.add("version", "2.0")
            cal.add("calscale", "GREGORIAN")
            title = pack.title + (f" — {body(key)}" if key else "")
            cal.add("x-wr-calname", title)
            cal.add("x-wr-timezone", zone)
            books[key] = cal
        return books[key]

    decided = refused = events = 0
    stamp = datetime(2000, 1, 1)  # DTSTAMP fixed: the same decisions give the same bytes
    for position, result in enumerate(results, start=1):
        if isinstance(result, RefusedFact):
            refused += 1
            continue
        decided += 1
        for action in result.actions:
            if action.due is None or action.status not in ("pending", "overdue"):
                continue
            events += 1
            responsible = body(action.actor)
            event = ical.Event()
            event.add("uid", uid(pack.name, result.fact_id, action.id, position))
            event.add("dtstamp", stamp)
            event.add("dtstart", action.due)
            event.add("dtend", action.due + timedelta(days=1))
            status = "【逾期】" if action.status == "overdue" else ""
            event.add("summary", f"{status}{action.title}（{result.fact_id or f'#{position}'}）")
            lines = [
                f"问题：{result.fact_id or f'第 {position} 条'}",
                f"责任主体：{responsible}",
                f"依据：{action.basis}",
            ]
            if action.id in said:
                lines.append(f"原文：「{said[action.id]}」")
            event.add("description", "\n".join(lines))
            event.add("categories", [responsible])
            event.add("transp", "TRANSPARENT")
            reminder_day = previous_working_day(calendar, action.due)
            alarm = ical.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{action.due.isoformat()} 到期：{action.title}")
            alarm.add("trigger", reminder_at(reminder_day))
            alarm["TRIGGER"].params["VALUE"] = "DATE-TIME"  # absolute, as RFC 5545 3.8.6.3
            event.add_component(alarm)
            book(action.actor if split_by == "actor" else "").add_component(event)
    if not books:
        book("")
    for key, cal in books.items():
        path = output if not key else output.with_name(f"{output.stem}-{key}{output.suffix}")
        write(path, cal.to_ical())
    return decided, refused, events


def reminder_at(day: Any) -> datetime:
    """09:00 China Standard Time on ``day``, as an absolute UTC moment (every client reads
    an absolute alarm trigger the same way)."""
    from zoneinfo import ZoneInfo

    local = datetime.combine(day, REMINDER_AT, tzinfo=ZoneInfo("Asia/Shanghai"))
    return local.astimezone(ZoneInfo("UTC"))


def previous_working_day(calendar: Any, day: date) -> date:
    """The working day before ``day`` (the calendar day before, outside the calendar's span)."""
    before = day - timedelta(days=1)
    try:
        for _ in range(40):  # the longest run of days off in China is 8 or 9
            if calendar.is_working_day(before):
                return before
            before -= timedelta(days=1)
    except Exception:  # before the calendar's first year
        pass
    return day - timedelta(days=1)
