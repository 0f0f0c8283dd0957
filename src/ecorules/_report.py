"""Ledger reports: what a rectification ledger looks like as of a date, in counts.

Provincial offices publish exactly this kind of table — so many cases transferred, so many
closed, so many reached the standard, so many still in progress. A report evaluates every
fact of a ledger and counts, per kind and category: how many, how many closed and open, how
many with an overdue action, by responsible tier, and per lifecycle stage how many are at it
now and how many have reached it. It streams: memory does not grow with the ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ._decision import CalendarIdentity, Decision, _Dumpable
from ._errors import FactProblem
from ._figures import Figures, FigureTally

if TYPE_CHECKING:
    from ._pack import Pack


@dataclass(frozen=True, slots=True)
class StageCount(_Dumpable):
    stage: str
    title: str
    at: int
    """Facts whose furthest recorded stage is this one."""
    reached: int
    """Facts at this stage or beyond it."""


@dataclass(frozen=True, slots=True)
class ReportGroup(_Dumpable):
    """The counts for one kind, and one category of it (``category`` None: all of them)."""

    kind: str
    category: str | None
    total: int
    closed: int
    open: int
    overdue: int
    """Facts with at least one overdue action."""
    tiers: dict[str, int]
    """Facts per responsible tier ("none" where the pack decides none)."""
    stages: tuple[StageCount, ...]


@dataclass(frozen=True, slots=True)
class RefusedFact(_Dumpable):
    fact_id: str | None
    position: int
    """The fact's place in the ledger, counting from 1."""
    error: str
    line: int | None = None
    """The file line the fact's row starts on, when it came from a ledger file (for an
    Excel ledger, its row number in ``sheet``)."""
    problems: tuple[FactProblem, ...] = ()
    """Each thing wrong with the fact, structured (field — the ledger column where there
    is one —, value, message, allowed), as ``error`` lists them in words."""
    sheet: str | None = None
    """The worksheet the row is on, for an Excel ledger."""


@dataclass(frozen=True, slots=True)
class Report(_Dumpable):
    pack: str
    as_of: date
    total: int
    groups: tuple[ReportGroup, ...]
    refused: tuple[RefusedFact, ...]
    """The first refused facts (up to ``max_refused``), each with its position and error."""
    refused_count: int = 0
    """How many facts were refused in all."""
    calendar: CalendarIdentity | None = None
    """The calendar the counts were computed with (overdue-ness depends on it)."""
    figures: Figures | None = None
    """Counts for pictures: per responsible body and tier, due dates by week, closure-chain
    funnels, overdue actions (what ``report --format html`` draws)."""


class _Tally:
    __slots__ = ("closed", "overdue", "reached", "stage_at", "tiers", "total")

    def __init__(self) -> None:
        self.total = self.closed = self.overdue = 0
        self.tiers: Counter[str] = Counter()
        self.stage_at: Counter[str] = Counter()
        self.reached: Counter[str] = Counter()

    def add(self, decision: Decision, reached: tuple[str, ...]) -> None:
        self.total += 1
        self.closed += decision.closed
        self.overdue += any(a.status == "overdue" for a in decision.actions)
        self.tiers[decision.responsible_tier or "none"] += 1
        if decision.stage is not None:
            self.stage_at[decision.stage] += 1
        self.reached.update(reached)


def build_report(
    pack: Pack, facts: Iterable[Any], as_of: date | str, *, max_refused: int = 1000
) -> Report:
    """Evaluate every fact and count. Refused facts are listed (up to ``max_refused``), not
    counted, and do not stop the report."""
    stage_order: dict[str, tuple[int, int]] = {}
    stage_title: dict[str, str] = {}
    upstream: dict[str, tuple[str, ...]] = {}
    # Every version's stages, the newest's first: a case decided by an old version may be
    # at a stage the newest version has dropped.
    lifecycles = [lc for part in reversed(pack.versions) for lc in part.model.lifecycles]
    for li, lifecycle in enumerate(lifecycles):
        ids = [s.id for s in lifecycle.stages]
        for si, stage in enumerate(lifecycle.stages):
            stage_order.setdefault(stage.id, (li, si))
            stage_title.setdefault(stage.id, stage.title)
            upstream.setdefault(stage.id, tuple(ids[: si + 1]))

    from ._fact import parse_as_of

    as_of_date = parse_as_of(as_of)
    figures = FigureTally(pack, as_of_date)
    tallies: dict[tuple[str, str | None], _Tally] = {}
    refused: list[RefusedFact] = []
    total = refused_count = 0
    for result in pack.evaluate_many(facts, as_of):
        if isinstance(result, RefusedFact):
            refused_count += 1
            if len(refused) < max_refused:
                refused.append(result)
            continue
        total += 1
        figures.add(result)
        reached = upstream.get(result.stage, ()) if result.stage else ()
        tallies.setdefault((result.kind, None), _Tally()).add(result, reached)
        if result.category is not None:
            tallies.setdefault((result.kind, result.category), _Tally()).add(result, reached)

    groups = []
    for (kind, category), tally in sorted(
        tallies.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        seen = sorted(set(tally.reached) | set(tally.stage_at), key=lambda s: stage_order[s])
        groups.append(
            ReportGroup(
                kind=kind,
                category=category,
                total=tally.total,
                closed=tally.closed,
                open=tally.total - tally.closed,
                overdue=tally.overdue,
                tiers=dict(tally.tiers),
                stages=tuple(
                    StageCount(s, stage_title[s], tally.stage_at[s], tally.reached[s]) for s in seen
                ),
            )
        )
    return Report(
        pack=pack.name,
        as_of=as_of_date,
        total=total,
        groups=tuple(groups),
        refused=tuple(refused),
        refused_count=refused_count,
        calendar=pack.calendar_identity,
        figures=figures.figures(),
    )
