"""Explanations: why a decision is what it is, for the people who must stand behind it.

An explanation is worked out after the decision, on the slow path, from the pack's model: for
every rule, closure chain, lifecycle and duty, whether it applied and, if not, why (the fact's
kind, source or category rules it out, a condition on flags, events or attrs is not met, or a
more specific item overrides it); and for every dated action, how its due date was counted —
the trigger and its date, the window, the rest days and make-up workdays crossed, a roll past
a holiday, an extension — each with the clause and quote it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from . import _conditions as C
from . import _model as M
from ._calendar import add_months
from ._decision import Decision, _Dumpable

if TYPE_CHECKING:
    from ._fact import FactView
    from ._pack import Pack


@dataclass(frozen=True, slots=True)
class RuleTrace(_Dumpable):
    id: str
    section: str
    """rules, closure_chains, lifecycles or recurring."""
    basis: str
    quote: str
    condition: str
    applies: bool
    reason: str


@dataclass(frozen=True, slots=True)
class DueTrace(_Dumpable):
    action: str
    due: date
    counted: str
    """How the due date was reached, in words."""
    trigger_event: str | None
    trigger_date: date | None
    rest_days: tuple[date, ...]
    """Rest days (weekends and holidays) inside the window."""
    make_up_days: tuple[date, ...]
    """Weekend days inside the window that were working days (调休上班)."""
    basis: str
    quote: str


@dataclass(frozen=True, slots=True)
class Explanation(_Dumpable):
    rules: tuple[RuleTrace, ...]
    due_dates: tuple[DueTrace, ...]


def explain(pack: Pack, fact: FactView, decision: Decision) -> Explanation:
    model = pack.model
    key: C.StaticKey = (fact.kind, fact.source, fact.category, bool(fact.flags))
    applied = set(decision.matched_rules)
    sections: list[tuple[str, list[Any]]] = [
        ("rules", list(model.rules)),
        ("closure_chains", list(model.closure_chains)),
        ("lifecycles", list(model.lifecycles)),
        ("recurring", list(model.recurring)),
    ]
    traces = []
    for section, items in sections:
        by_id = {item.id: item for item in items}
        for item in items:
            applies = item.id in applied
            traces.append(
                RuleTrace(
                    id=item.id,
                    section=section,
                    basis=item.basis,
                    quote=item.quote,
                    condition=C.describe(item.when),
                    applies=applies,
                    reason="applies" if applies else _why_not(item, by_id, key, fact, applied),
                )
            )
    return Explanation(rules=tuple(traces), due_dates=tuple(_due_traces(pack, fact, decision)))


def _why_not(
    item: Any, by_id: dict[str, Any], key: C.StaticKey, fact: FactView, applied: set[str]
) -> str:
    residual = C.specialise(item.when, key)
    if residual is False and not key[3] and C.specialise(item.when, (*key[:3], True)) is not False:
        return f"needs a flag the fact does not have: {C.describe(item.when)}"
    if residual is False:
        return (
            f"not for {key[0]} from source {key[1] or '—'}, category {key[2] or '—'}: "
            f"needs {C.describe(item.when)}"
        )
    if residual is not True and not C.compile_predicate(residual)(fact):
        return f"condition not met: {C.describe(residual)}"
    winners = [
        other
        for other in by_id.values()
        if item.id in getattr(other, "overrides", ()) and other.id in applied
    ]
    if winners:
        return (
            "overridden by "
            + ", ".join(f"`{w.id}` ({w.basis})" for w in winners)
            + ": the more specific provision wins"
        )
    return "another item applies and was chosen first"


def _due_traces(pack: Pack, fact: FactView, decision: Decision) -> list[DueTrace]:
    obligations = {ob.id: (rule, ob) for rule in pack.model.rules for ob in rule.obligations}
    duties = {d.id: d for d in pack.model.recurring}
    calendar = pack.calendar
    traces = []
    for action in decision.actions:
        if action.due is None:
            continue
        if action.id in duties:
            duty = duties[action.id]
            traces.append(
                DueTrace(
                    action=action.id,
                    due=action.due,
                    counted=f"the next occurrence on or after {decision.as_of.isoformat()} of "
                    f"`{duty.rrule}` (a fixed date: no roll)",
                    trigger_event=None,
                    trigger_date=None,
                    rest_days=(),
                    make_up_days=(),
                    basis=duty.basis,
                    quote=duty.quote,
                )
            )
            continue
        if action.id not in obligations:
            continue
        rule, ob = obligations[action.id]
        quote = ob.quote or rule.quote
        trigger_event = ob.trigger.event if ob.trigger else None
        trigger_date = fact.events.get(trigger_event) if trigger_event else None
        if ob.trigger is not None and ob.trigger.overdue is not None:
            counted = f"escalation: the day after `{ob.trigger.overdue}` fell due undone"
        elif ob.window is not None and trigger_date is not None:
            counted = _window_words(ob.window, trigger_event or "", trigger_date, calendar)
        elif ob.due_attr is not None:
            counted = f"the date the ledger records in attr `{ob.due_attr}`"
        else:
            counted = "as computed"
        if ob.extended_until is not None and ob.extended_until in fact.attrs:
            counted += (
                f"; extension `{ob.extended_until}` = {fact.attrs[ob.extended_until]} "
                "(an extension only moves a deadline later)"
            )
        start = trigger_date or decision.as_of
        rest = tuple(calendar.rest_days_between(start, action.due)) if trigger_date else ()
        make_up = tuple(calendar.make_up_days_between(start, action.due)) if trigger_date else ()
        if action.due > calendar.horizon and ob.window is not None:
            counted += (
                f"; past {calendar.horizon.isoformat()}, the last official holiday "
                "notice: an estimate"
            )
        traces.append(
            DueTrace(
                action=action.id,
                due=action.due,
                counted=counted,
                trigger_event=trigger_event,
                trigger_date=trigger_date,
                rest_days=rest,
                make_up_days=make_up,
                basis=ob.basis or rule.basis,
                quote=quote,
            )
        )
    return traces


def _window_words(window: M.Window, event: str, start: date, calendar: Any) -> str:
    if window.working_days is not None:
        return (
            f"{window.working_days} working days after `{event}` on {start.isoformat()} "
            "(that day not counted)"
        )
    if window.months is not None:
        end = add_months(start, window.months)
        text = f"{window.months} calendar months after `{event}` on {start.isoformat()}: {end}"
    else:
        end = start + timedelta(days=window.days or 0)
        text = f"{window.days} calendar days after `{event}` on {start.isoformat()}: {end}"
    if window.roll is not False and not calendar.is_working_day(end):
        text += f", a rest day, rolled to the next working day {calendar.roll_forward(end)}"
    return text
