"""The figures a ledger's pictures are drawn from: who is late, what falls due, where cases wait.

The report's counts per kind answer "how many"; people looking at a ledger ask "which bodies
are overdue, what falls due in the coming weeks, at which closure step do cases stand".
These figures answer that, tallied in the same single pass as the report (memory stays flat:
only the overdue-action table is kept, and only its earliest ``max_overdue`` rows). They
travel in ``Report.figures``, so the dashboard (``_dashboard.py``) draws exactly what
``report --format json`` says.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ._decision import Action, Decision, _Dumpable
from ._model import TIER_RANK

if TYPE_CHECKING:
    from ._pack import Pack

DUE_SOON_DAYS = 14
"""An action is due soon when it is pending and falls due within two weeks of as-of."""
WEEKS = 8
"""The due-date timeline covers the eight weeks from as-of."""


@dataclass(frozen=True, slots=True)
class BodyCount(_Dumpable):
    """Open facts per responsible body (the role owning rectification)."""

    role: str | None
    """The role id; None for facts the pack names no responsible body for."""
    name: str
    tier: str
    """The role's tier, or "none"."""
    open: int
    overdue: int
    """Open facts with at least one overdue action."""
    due_soon: int
    """Open facts with at least one pending action due within ``due_soon_days``."""


@dataclass(frozen=True, slots=True)
class TierCount(_Dumpable):
    """The same counts per responsible tier."""

    tier: str
    open: int
    overdue: int
    due_soon: int


@dataclass(frozen=True, slots=True)
class WeekCount(_Dumpable):
    """Pending actions falling due in one week, ``start`` to ``end`` inclusive."""

    start: date
    end: date
    due: int


@dataclass(frozen=True, slots=True)
class StepCount(_Dumpable):
    """One closure-chain step: how many facts have it done, how many stand at it."""

    step: str
    title: str
    actor: str
    """The acting body's name."""
    tier: str
    done: int
    waiting: int
    """Open facts whose first step not yet done is this one."""


@dataclass(frozen=True, slots=True)
class ChainFunnel(_Dumpable):
    """How the facts on one closure chain stand, step by step (a funnel)."""

    chain: str
    title: str
    basis: str
    total: int
    closed: int
    steps: tuple[StepCount, ...]


@dataclass(frozen=True, slots=True)
class OverdueAction(_Dumpable):
    """One overdue action of one fact, with the clause it comes from."""

    fact_id: str | None
    position: int
    """The fact's place among the decided facts, from 1 (for facts without an id)."""
    action: str
    title: str
    actor: str
    """The acting body's name."""
    tier: str
    due: date
    days_overdue: int
    rule: str
    basis: str


@dataclass(frozen=True, slots=True)
class Figures(_Dumpable):
    """Everything the ledger dashboard draws, as numbers."""

    due_soon_days: int
    bodies: tuple[BodyCount, ...]
    """Bodies with any open fact, most overdue first."""
    tiers: tuple[TierCount, ...]
    """Tiers from the highest down; "none" last."""
    weeks: tuple[WeekCount, ...]
    chains: tuple[ChainFunnel, ...]
    """Closure chains in pack order, each with any fact on it."""
    overdue_actions: tuple[OverdueAction, ...]
    """The longest-overdue actions (up to ``max_overdue``), longest first."""
    overdue_actions_total: int
    """How many overdue actions there are in all."""


class _ChainTally:
    __slots__ = ("closed", "done", "total", "waiting")

    def __init__(self, steps: int) -> None:
        self.total = self.closed = 0
        self.done = [0] * steps
        self.waiting = [0] * steps


class FigureTally:
    """Fed every decision of a report, once; ``figures()`` at the end."""

    def __init__(self, pack: Pack, as_of: date, *, max_overdue: int = 500) -> None:
        self._pack = pack
        self._as_of = as_of
        self._soon_end = as_of + timedelta(days=DUE_SOON_DAYS - 1)
        self._week_end = as_of + timedelta(days=7 * WEEKS - 1)
        self._max_overdue = max_overdue
        self._open: Counter[str | None] = Counter()
        self._overdue: Counter[str | None] = Counter()
        self._due_soon: Counter[str | None] = Counter()
        self._weeks = [0] * WEEKS
        self._chains: dict[str, _ChainTally] = {}
        # A max-heap on (due, position) through negation keeps the earliest-due rows.
        self._late: list[tuple[int, int, int, OverdueAction]] = []
        self._late_total = 0
        self._position = 0

    def add(self, decision: Decision) -> None:
        # Lean: this runs once per fact of a ledger of millions.
        self._position += 1
        closed = decision.closed
        steps = decision.closure_chain
        if steps:
            chain = self._chains.get(decision.closure_chain_id or "")
            if chain is None:
                chain = self._chains[decision.closure_chain_id or ""] = _ChainTally(len(steps))
            chain.total += 1
            chain.closed += closed
            waiting = not closed
            done = chain.done
            for index, step in enumerate(steps):
                if step.done:
                    done[index] += 1
                elif waiting:
                    chain.waiting[index] += 1
                    waiting = False
        if closed:
            return
        body = decision.responsible
        self._open[body] += 1
        overdue = due_soon = False
        for action in decision.actions:
            status, due = action.status, action.due
            if due is None:
                continue
            if status == "overdue":
                overdue = True
                self._late_action(decision, action, due)
            elif status == "pending" and self._as_of <= due <= self._week_end:
                if due <= self._soon_end:
                    due_soon = True
                self._weeks[(due - self._as_of).days // 7] += 1
        if overdue:
            self._overdue[body] += 1
        if due_soon:
            self._due_soon[body] += 1

    def _late_action(self, decision: Decision, action: Action, due: date) -> None:
        self._late_total += 1
        key = (-due.toordinal(), -self._position, self._late_total)
        if len(self._late) >= self._max_overdue and key <= self._late[0][:3]:
            return
        row = OverdueAction(
            fact_id=decision.fact_id,
            position=self._position,
            action=action.id,
            title=action.title,
            actor=self._name(action.actor),
            tier=action.tier,
            due=due,
            days_overdue=(self._as_of - due).days,
            rule=action.rule,
            basis=action.basis,
        )
        if len(self._late) >= self._max_overdue:
            heapq.heapreplace(self._late, (*key, row))
        else:
            heapq.heappush(self._late, (*key, row))

    def _name(self, role: str | None) -> str:
        if role is None:
            return "未明确"
        try:
            return self._pack.role(role).name
        except KeyError:
            return role

    def _tier(self, role: str | None) -> str:
        if role is None:
            return "none"
        try:
            return self._pack.role(role).tier
        except KeyError:
            return "none"

    def figures(self) -> Figures:
        bodies = sorted(
            (
                BodyCount(
                    role=role,
                    name=self._name(role),
                    tier=self._tier(role),
                    open=count,
                    overdue=self._overdue[role],
                    due_soon=self._due_soon[role],
                )
                for role, count in self._open.items()
            ),
            key=lambda b: (-b.overdue, -b.due_soon, -b.open, b.role or "~"),
        )
        tiers: dict[str, list[int]] = {}
        for b in bodies:
            row = tiers.setdefault(b.tier, [0, 0, 0])
            row[0] += b.open
            row[1] += b.overdue
            row[2] += b.due_soon
        tier_rows = tuple(
            TierCount(tier, *counts)
            for tier, counts in sorted(tiers.items(), key=lambda kv: -TIER_RANK.get(kv[0], -1))
        )
        weeks = tuple(
            WeekCount(
                self._as_of + timedelta(days=7 * i),
                self._as_of + timedelta(days=7 * i + 6),
                count,
            )
            for i, count in enumerate(self._weeks)
        )
        chains = []
        for c in self._pack.model.closure_chains:
            tally = self._chains.get(c.id)
            if tally is None:
                continue
            chains.append(
                ChainFunnel(
                    chain=c.id,
                    title=c.title,
                    basis=c.basis,
                    total=tally.total,
                    closed=tally.closed,
                    steps=tuple(
                        StepCount(
                            step=s.id,
                            title=s.title,
                            actor=self._name(s.actor),
                            tier=self._tier(s.actor),
                            done=tally.done[i],
                            waiting=tally.waiting[i],
                        )
                        for i, s in enumerate(c.steps)
                    ),
                )
            )
        late = [row for *_, row in sorted(self._late, reverse=True)]
        return Figures(
            due_soon_days=DUE_SOON_DAYS,
            bodies=tuple(bodies),
            tiers=tier_rows,
            weeks=weeks,
            chains=tuple(chains),
            overdue_actions=tuple(late),
            overdue_actions_total=self._late_total,
        )
