"""Compiling a checked pack into plans, and evaluating facts against them.

Compilation happens once, at load: every rule, chain and duty is specialised for each
(kind, source, category) a fact can state, so the per-fact work is one dictionary lookup,
the few residual predicates (flags, events, attrs), and O(1) calendar reads. Evaluation is a
pure function of (compiled pack, fact, as_of): nothing here is mutated after construction,
so one compiled pack may serve any number of threads.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import attrgetter
from typing import Any

from . import _conditions as C
from . import _model as M
from ._calendar import Occurrences, WorkingCalendar, add_months, occurrences
from ._decision import (
    Action,
    ActionKind,
    CalendarIdentity,
    ChainStepState,
    Decision,
    Deferred,
    Notice,
    Status,
    new_action,
    new_chain_step,
    new_decision,
)
from ._errors import FactError, FactProblem, did_you_mean
from ._fact import Fact, FactView, read_fact, to_china_date
from ._model import Provenance, Tier
from ._notices import horizon_warning
from ._quality import OrderCheck, event_order
from ._revision import decision_id

FACT_DATES_FROM = date(2000, 1, 1)
FACT_DATES_UNTIL = date(2050, 12, 31)

CACHE_LIMIT = 1024
"""How many actions (or step states) one obligation, step or duty keeps per kind of reuse.

The actions a decision holds are immutable and depend only on a few dates, which a ledger
repeats (every fact done the same week; a nightly job's one ``as_of``), so they are kept
and shared between decisions rather than built again. The limit bounds what a stream of
ever-new dates can make them hold: about 0.3 MB an obligation, 0.2 MB a step or duty, so
at most ~20 MB for Shidian's 37 obligations, 17 steps and 5 duties; past it, actions are
built as before. No lock: two threads racing on a key store equal actions, and a dict's
get and set are atomic."""

WindowFn = Callable[[date], tuple[date, bool]]
"""Trigger date -> (due date, whether the due date depends on the holiday calendar)."""


def compile_window(window: M.Window, calendar: WorkingCalendar) -> WindowFn:
    if window.working_days is not None:
        n = window.working_days
        add = calendar.add_working_days
        return lambda start: (add(start, n), True)
    roll = window.roll is not False
    forward = calendar.roll_forward
    if window.months is not None:
        months = window.months
        if roll:
            return lambda start: (forward(add_months(start, months)), True)
        return lambda start: (add_months(start, months), False)
    delta = timedelta(days=window.days or 0)
    if roll:
        return lambda start: (forward(start + delta), True)
    return lambda start: (start + delta, False)


@dataclass(frozen=True, slots=True)
class CObligation:
    id: str
    title: str
    kind: ActionKind
    rule: str
    actor: str
    tier: Tier
    recipient: str | None
    basis: str
    provenance: Provenance
    trigger_event: str
    """The event starting its clock; empty when none (no event id is empty)."""
    trigger_overdue: str | None
    has_trigger: bool
    window: WindowFn | None
    done_when: str
    """The event completing it; empty when none."""
    due_attr: str = ""
    """A date attr that is its due date (instead of a window); empty when none."""
    extended_until: str = ""
    """A date attr holding an approved extension; empty when none."""
    waiting: Action = field(init=False, repr=False, compare=False)
    """Its action before its trigger: scheduled, or pending when it has no trigger."""
    open_ended: Action = field(init=False, repr=False, compare=False)
    """Its action once triggered when it has no window: pending, with no due date."""
    done_by_day: dict[date, Action] = field(init=False, repr=False, compare=False)
    """Its actions done with no due date, by the day done (see CACHE_LIMIT)."""
    timed_by_key: dict[tuple[date, date | bool], Action] = field(
        init=False, repr=False, compare=False
    )
    """Its actions with a due date, by (due, the day done), or (due, overdue) when not done."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "waiting", self.action(None, "scheduled" if self.has_trigger else "pending", None)
        )
        object.__setattr__(self, "open_ended", self.action(None, "pending", None))
        object.__setattr__(self, "done_by_day", {})
        object.__setattr__(self, "timed_by_key", {})

    def done(self, done_on: date) -> Action:
        """Its action done on ``done_on``, with no due date."""
        found = self.done_by_day.get(done_on)
        if found is None:
            found = self.action(None, "done", done_on)
            if len(self.done_by_day) < CACHE_LIMIT:
                self.done_by_day[done_on] = found
        return found

    def timed(self, due: date, done_on: date | None, as_of: date) -> Action:
        """Its action with a due date: overdue from the day after it, unless done."""
        key = (due, as_of > due if done_on is None else done_on)
        found = self.timed_by_key.get(key)
        if found is None:
            found = _timed(self, due, done_on, as_of)
            if len(self.timed_by_key) < CACHE_LIMIT:
                self.timed_by_key[key] = found
        return found

    def action(self, due: date | None, status: Status, done_on: date | None) -> Action:
        return new_action(
            self.id,
            self.title,
            self.kind,
            self.rule,
            self.actor,
            self.tier,
            self.recipient,
            due,
            status,
            self.basis,
            done_on,
            self.provenance,
        )


@dataclass(frozen=True, slots=True)
class CRule:
    id: str
    overridden_by: frozenset[str]
    responsible: str | None
    responsible_tier: Tier | None
    obligations: tuple[CObligation, ...]
    unassigned: Notice | None = None
    """Its warning where it says why no role is responsible (or which attr names it)."""
    declares: str | None = None
    """What it says about responsibility, comparable across rules; None: nothing."""


_UNDECLARED = Notice(
    code="responsible_undeclared",
    message="the pack names no responsible body for this fact and does not say why "
    "(`ecorules check` reports this as a responsibility_gap)",
)


def _unassigned_notice(rule: M.Rule, attrs: Mapping[str, M.AttrSpec]) -> Notice | None:
    """The warning a decision carries where this rule decides that no role is responsible."""
    spec = rule.responsible
    if not isinstance(spec, M.Unassigned):
        return None
    where = f"{rule.basis}, rule `{rule.id}`"
    if spec.needs_attr is not None:
        named = []
        for attr in (attrs[a] for a in spec.attrs):
            values = ", ".join(attr.values) if attr.values else f"any {attr.type}"
            named.append(f"`{attr.id}` ({attr.name}; {values})")
        return Notice(
            code="responsible_needs_attr",
            message="the responsible body is named by "
            + " or ".join(named)
            + f", which the fact does not give ({where})",
        )
    return Notice(code="responsible_unspecified", message=f"{spec.unspecified} ({where})")


def _declares(rule: M.Rule) -> str | None:
    spec = rule.responsible
    if isinstance(spec, M.Unassigned):
        if spec.needs_attr is not None:
            return "attr:" + ",".join(spec.attrs)
        return f"unspecified:{spec.unspecified}"
    return spec


@dataclass(frozen=True, slots=True)
class CStep:
    """A closure-chain step or a lifecycle stage: done (entered) when its event is recorded."""

    id: str
    title: str
    actor: str
    tier: Tier
    recipient: str | None
    basis: str
    event: str
    provenance: Provenance
    parent: str
    """The chain or lifecycle it belongs to."""
    kind: ActionKind
    """closure_step or stage: the kind of the action that names it as the next thing to do."""
    open_state: ChainStepState = field(init=False, repr=False, compare=False)
    as_next: tuple[Action, Action] = field(init=False, repr=False, compare=False)
    """Its action as the next step: (chain not started: scheduled, started: pending)."""
    done_by_day: dict[date, ChainStepState] = field(init=False, repr=False, compare=False)
    """Its states done, by the day done (see CACHE_LIMIT)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "open_state", self.state(None))
        object.__setattr__(self, "as_next", (self.action("scheduled"), self.action("pending")))
        object.__setattr__(self, "done_by_day", {})

    def done(self, done_on: date) -> ChainStepState:
        found = self.done_by_day.get(done_on)
        if found is None:
            found = self.state(done_on)
            if len(self.done_by_day) < CACHE_LIMIT:
                self.done_by_day[done_on] = found
        return found

    def action(self, status: Status) -> Action:
        return Action(
            self.id,
            self.title,
            self.kind,
            self.parent,
            self.actor,
            self.tier,
            self.recipient,
            None,
            status,
            self.basis,
            None,
            self.provenance,
        )

    def state(self, done_on: date | None) -> ChainStepState:
        return new_chain_step(
            self.id,
            self.title,
            self.actor,
            self.tier,
            self.recipient,
            self.basis,
            done_on is not None,
            done_on,
        )


@dataclass(frozen=True, slots=True)
class CChain:
    id: str
    overridden_by: frozenset[str]
    starts_when: str
    steps: tuple[CStep, ...]
    step_events: frozenset[str] = field(init=False, repr=False, compare=False)
    all_open: tuple[ChainStepState, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "step_events", frozenset(s.event for s in self.steps))
        object.__setattr__(self, "all_open", tuple(s.open_state for s in self.steps))


@dataclass(frozen=True, slots=True)
class CLifecycle:
    id: str
    overridden_by: frozenset[str]
    stages: tuple[CStep, ...]


@dataclass(frozen=True, slots=True)
class CDuty:
    id: str
    title: str
    actor: str
    tier: Tier
    recipient: str | None
    basis: str
    provenance: Provenance
    occurrences: Occurrences
    by_occurrence: tuple[Action, ...] = field(init=False, repr=False, compare=False)
    """One action per occurrence, then one with no due date for "none left", so that the
    index of the next occurrence always names an action."""
    by_as_of: dict[date, Action] = field(init=False, repr=False, compare=False)
    """Its next occurrence's action by ``as_of`` (see CACHE_LIMIT)."""

    def __post_init__(self) -> None:
        actions = (*(self.action(day) for day in self.occurrences.dates()), self.action(None))
        object.__setattr__(self, "by_occurrence", actions)
        object.__setattr__(self, "by_as_of", {})

    def next_on_or_after(self, as_of: date) -> Action:
        found = self.by_occurrence[self.occurrences.index_on_or_after(as_of)]
        if len(self.by_as_of) < CACHE_LIMIT:
            self.by_as_of[as_of] = found
        return found

    def action(self, due: date | None) -> Action:
        return Action(
            self.id,
            self.title,
            "recurring",
            self.id,
            self.actor,
            self.tier,
            self.recipient,
            due,
            "scheduled",
            self.basis,
            None,
            self.provenance,
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """Items of which one applies to a fact (closure chains, lifecycles): the first that
    applies after `overrides`; several left is a pack ambiguity the decision warns about."""

    items: tuple[tuple[Any, C.Predicate | None], ...]
    overrides: bool
    static: tuple[Any, ...] | None
    """When no item has a predicate left, those that apply (after overrides), precomputed."""
    settled: bool = False
    """Whether ``static`` holds at most one item: then it is the choice, with no warning."""

    @classmethod
    def of(cls, items: tuple[tuple[Any, C.Predicate | None], ...]) -> Choice:
        ids = {item.id for item, _ in items}
        remaining = tuple(item for item, _ in items if not (item.overridden_by & ids))
        static = remaining if all(pred is None for _, pred in items) else None
        return cls(
            items=items,
            overrides=any(item.overridden_by & ids for item, _ in items),
            static=static,
            settled=static is not None and len(static) <= 1,
        )

    def applying(self, view: C.FactLike) -> Sequence[Any]:
        if self.static is not None:
            return self.static
        found = [item for item, pred in self.items if pred is None or pred(view)]
        if self.overrides and len(found) > 1:
            present = {item.id for item in found}
            found = [item for item in found if not (item.overridden_by & present)]
        return found


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything that can apply to facts of one (kind, source, category)."""

    rules: tuple[tuple[CRule, C.Predicate | None], ...]
    chains: Choice
    lifecycles: Choice
    duties: tuple[tuple[CDuty, C.Predicate | None], ...]
    obligation_order: tuple[tuple[str, CObligation], ...] | None
    """Obligations in escalation order, where escalations apply; None: rule by rule."""
    rules_override: bool
    static_rule_ids: tuple[str, ...] | None
    static_rules: tuple[CRule, ...]
    """When nothing is left to test, the matched rule ids (after overrides), precomputed."""
    static_responsibility: Responsibility | None = None
    """When nothing is left to test, who is responsible, precomputed."""
    static_obligations: tuple[CObligation, ...] = ()
    """When nothing is left to test, the matched rules' obligations in order, in one tuple."""


Responsibility = tuple[str | None, Tier | None, tuple[Notice, ...]]
"""The responsible role, its tier, and the warnings saying why none or which of several."""


def _responsibility(matched_rules: Iterable[CRule]) -> Responsibility:
    """Who is responsible: a role, or a stated reason why none can be named; never silence."""
    decided: CRule | None = None
    deciding: list[str] = []
    for rule in matched_rules:
        if rule.declares is not None:
            if decided is None:
                decided = rule
            elif rule.declares != decided.declares:
                deciding.append(rule.id)
    if decided is None:
        return None, None, (_UNDECLARED,)
    responsible, responsible_tier = decided.responsible, decided.responsible_tier
    notices: tuple[Notice, ...] = () if decided.unassigned is None else (decided.unassigned,)
    if deciding:
        notices += (
            Notice(
                code="ambiguous_responsible",
                message="rules name different responsible roles with no precedence between "
                f"them: {', '.join(deciding)} differ from the first; "
                f"`{responsible or decided.id}` was used",
            ),
        )
    return responsible, responsible_tier, notices


def _overridden_by(items: list[Any]) -> dict[str, frozenset[str]]:
    by: dict[str, set[str]] = {item.id: set() for item in items}
    for item in items:
        for target in item.overrides:
            by[target].add(item.id)
    return {k: frozenset(v) for k, v in by.items()}


def _obligation_order(pack: M.PackModel) -> dict[str, int]:
    """Escalations after the obligations whose overdue state triggers them."""
    after = {
        ob.id: ob.trigger.overdue
        for r in pack.rules
        for ob in r.obligations
        if ob.trigger is not None and ob.trigger.overdue is not None
    }
    order: dict[str, int] = {}

    def depth(ob_id: str) -> int:
        d, node = 0, ob_id
        while node in after:
            node, d = after[node], d + 1
        return d

    for index, ob in enumerate(ob for r in pack.rules for ob in r.obligations):
        order[ob.id] = depth(ob.id) * 100_000 + index
    return order


class CompiledPack:
    """A pack ready to evaluate: vocabulary sets, plans per static key, the calendar."""

    def __init__(
        self,
        pack: M.PackModel,
        calendar: WorkingCalendar,
        calendar_identity: CalendarIdentity | None = None,
    ):
        self.pack_id = pack.id
        self.calendar = calendar
        self.calendar_identity = calendar_identity
        self.horizon_warning = horizon_warning(calendar)
        # Set by Pack once it knows the revision (see _revision): what decision ids are keyed on.
        self.revision: str | None = None
        self.seed: bytes = b""
        # Set by Pack for one version of a pack with versions (see _versions).
        self.version: str | None = None
        meta = pack.metadata
        self.valid_from = meta.valid_from
        self.valid_until = meta.valid_until
        self.succeeded_by = meta.succeeded_by
        self.provenance: Provenance = "reported" if meta.document_kind == "report" else "provision"
        vocab = pack.vocabulary
        self.kinds = {k.id: frozenset(k.requires) for k in vocab.kinds}
        self.sources = frozenset(t.id for t in vocab.sources)
        self.categories = frozenset(t.id for t in vocab.categories)
        self.sectors = frozenset(t.id for t in vocab.sectors)
        self.flags = frozenset(t.id for t in vocab.flags)
        self.events = frozenset(t.id for t in vocab.events)
        self.attrs = {a.id: a for a in vocab.attrs}
        # Which events must not be dated before which (data-quality warnings, _quality).
        self.event_order = event_order(pack)
        self.event_names = {t.id: t.name for t in vocab.events}
        self.order_check = OrderCheck(self.event_order, self.event_names)
        tiers = {r.id: r.tier for r in pack.roles}
        # Per kind, the values each static field admits (None where the kind may omit it).
        self._admits = {
            kind: tuple(
                allowed | ({None} if name not in requires else set())
                for name, allowed in (
                    ("source", self.sources),
                    ("category", self.categories),
                    ("sector", self.sectors),
                )
            )
            for kind, requires in self.kinds.items()
        }

        rule_over = _overridden_by(pack.rules)
        chain_over = _overridden_by(pack.closure_chains)
        order = _obligation_order(pack)
        rules = []
        for rule in pack.rules:
            obligations = tuple(
                CObligation(
                    id=ob.id,
                    title=ob.title,
                    kind=rule.kind,
                    rule=rule.id,
                    actor=ob.actor,
                    tier=tiers[ob.actor],
                    recipient=ob.recipient,
                    basis=ob.basis or rule.basis,
                    provenance=rule.provenance,
                    trigger_event=(ob.trigger.event or "") if ob.trigger else "",
                    trigger_overdue=ob.trigger.overdue if ob.trigger else None,
                    has_trigger=ob.trigger is not None,
                    window=compile_window(ob.window, calendar) if ob.window else None,
                    done_when=ob.done_when or "",
                    due_attr=ob.due_attr or "",
                    extended_until=ob.extended_until or "",
                )
                for ob in rule.obligations
            )
            rules.append(
                (
                    rule,
                    CRule(
                        id=rule.id,
                        overridden_by=rule_over[rule.id],
                        responsible=rule.responsible_role,
                        responsible_tier=(
                            tiers[rule.responsible_role] if rule.responsible_role else None
                        ),
                        obligations=obligations,
                        unassigned=_unassigned_notice(rule, self.attrs),
                        declares=_declares(rule),
                    ),
                )
            )

        def steps(
            parent: Any, items: list[Any], kind: ActionKind, event_field: str
        ) -> tuple[CStep, ...]:
            return tuple(
                CStep(
                    id=s.id,
                    title=s.title,
                    actor=s.actor,
                    tier=tiers[s.actor],
                    recipient=s.recipient,
                    basis=s.basis or parent.basis,
                    event=getattr(s, event_field),
                    provenance=parent.provenance,
                    parent=parent.id,
                    kind=kind,
                )
                for s in items
            )

        chains = [
            (
                chain,
                CChain(
                    id=chain.id,
                    overridden_by=chain_over[chain.id],
                    starts_when=chain.starts_when,
                    steps=steps(chain, chain.steps, "closure_step", "done_when"),
                ),
            )
            for chain in pack.closure_chains
        ]
        lifecycle_over = _overridden_by(pack.lifecycles)
        lifecycles = [
            (
                lifecycle,
                CLifecycle(
                    id=lifecycle.id,
                    overridden_by=lifecycle_over[lifecycle.id],
                    stages=steps(lifecycle, lifecycle.stages, "stage", "entered_when"),
                ),
            )
            for lifecycle in pack.lifecycles
        ]
        duties = [
            (
                duty,
                CDuty(
                    id=duty.id,
                    title=duty.title,
                    actor=duty.actor,
                    tier=tiers[duty.actor],
                    recipient=duty.recipient,
                    basis=duty.basis,
                    provenance=duty.provenance,
                    occurrences=occurrences(duty.rrule),
                ),
            )
            for duty in pack.recurring
        ]

        # One plan per (kind, source, category, any flag) a fact can state: a field the kind
        # requires is never None. Residual conditions repeat across plans; compile each once.
        self._predicates: dict[int, tuple[Any, C.Predicate]] = {}
        combinations = sum(
            (len(self.sources) + ("source" not in requires))
            * (len(self.categories) + ("category" not in requires))
            * 2
            for requires in self.kinds.values()
        )
        # Real packs have tens of combinations: all are compiled now, off the hot path. A
        # vocabulary of hundreds of sources × categories would take minutes and gigabytes,
        # so past EAGER_PLANS each plan is compiled when a fact first needs it.
        # (A plain dict when complete: lookups on an exact dict are the interpreter's fastest.)
        self.plans: dict[C.StaticKey, Plan]
        if combinations <= EAGER_PLANS:
            self.plans = {
                (kind, source, category, any_flag): self._plan(
                    (kind, source, category, any_flag), rules, chains, lifecycles, duties, order
                )
                for kind, requires in sorted(self.kinds.items())
                for source, category, any_flag in itertools.product(
                    sorted(self.sources) + ([] if "source" in requires else [None]),
                    sorted(self.categories) + ([] if "category" in requires else [None]),
                    (False, True),
                )
            }
        else:
            self.plans = _Plans(
                lambda key: self._plan(key, rules, chains, lifecycles, duties, order)
            )
        self.whole_plan = self._plan(None, rules, chains, lifecycles, duties, order)
        """Every item, each applying when another engine (durable_rules) says it does."""

    def _predicate(self, residual: Any) -> C.Predicate:
        cached = self._predicates.get(id(residual))
        if cached is None:
            # The residual is kept in the entry so that its id is not reused.
            cached = self._predicates[id(residual)] = (residual, C.compile_predicate(residual))
        return cached[1]

    def _plan(
        self,
        key: C.StaticKey | None,
        rules: list[tuple[M.Rule, CRule]],
        chains: list[tuple[M.ClosureChain, CChain]],
        lifecycles: list[tuple[M.Lifecycle, CLifecycle]],
        duties: list[tuple[M.RecurringDuty, CDuty]],
        order: dict[str, int],
    ) -> Plan:
        def guard(items: list[tuple[Any, Any]]) -> tuple[tuple[Any, C.Predicate | None], ...]:
            out: list[tuple[Any, C.Predicate | None]] = []
            for model, compiled in items:
                if key is None:  # the whole plan: another engine decides what applies
                    out.append((compiled, _matched_by_other_engine(compiled.id)))
                    continue
                residual = C.specialise(model.when, key)
                if residual is False:
                    continue
                out.append((compiled, None if residual is True else self._predicate(residual)))
            return tuple(out)

        plan_rules = guard(rules)
        rule_ids = {r.id for r, _ in plan_rules}
        rules_override = any(r.overridden_by & rule_ids for r, _ in plan_rules)
        static_ids: tuple[str, ...] | None = None
        if all(p is None for _, p in plan_rules):
            static_ids = tuple(r.id for r, _ in plan_rules if not (r.overridden_by & rule_ids))
        escalates = any(ob.trigger_overdue for r, _ in plan_rules for ob in r.obligations)
        obligations = (
            tuple(
                sorted(
                    ((r.id, ob) for r, _ in plan_rules for ob in r.obligations),
                    key=lambda pair: order[pair[1].id],
                )
            )
            if escalates
            else None
        )
        static_rules = tuple(r for r, _ in plan_rules if r.id in (static_ids or ()))
        return Plan(
            rules=plan_rules,
            chains=Choice.of(guard(chains)),
            lifecycles=Choice.of(guard(lifecycles)),
            duties=guard(duties),
            obligation_order=obligations,
            rules_override=rules_override,
            static_rule_ids=static_ids,
            static_rules=static_rules,
            static_responsibility=(
                _responsibility(static_rules) if static_ids is not None else None
            ),
            static_obligations=tuple(ob for r in static_rules for ob in r.obligations),
        )

    def _escalating(
        self,
        plan: Plan,
        matched: set[str],
        events: Mapping[str, date],
        attrs: Mapping[str, object],
        as_of: date,
        dated: list[Action],
        undated: list[Action],
    ) -> bool:
        """Obligations in escalation order: an escalation fires the day after its target
        obligation falls due undone. Returns whether a due date passed the horizon."""
        horizon = self.calendar.horizon
        beyond_horizon = False
        outcome: dict[str, tuple[date | None, date | None]] = {}
        for rule_id, ob in plan.obligation_order or ():
            if rule_id not in matched:
                continue
            triggered_on: date | None
            if ob.trigger_overdue is not None:
                target_due, target_done = outcome.get(ob.trigger_overdue, (None, None))
                if target_due is None or (target_done or as_of) <= target_due:
                    continue
                triggered_on = target_due + timedelta(days=1)
            else:
                triggered_on = events.get(ob.trigger_event)
            done_on = events.get(ob.done_when)
            if ob.window is not None and triggered_on is not None:
                due, on_calendar = ob.window(triggered_on)
                if on_calendar and due > horizon:
                    beyond_horizon = True
            elif ob.due_attr and ob.due_attr in attrs:
                due = attrs[ob.due_attr]  # type: ignore[assignment]
            else:
                outcome[ob.id] = (None, done_on)
                undated.append(_untimed(ob, triggered_on, done_on))
                continue
            if ob.extended_until:
                due = _extended(due, attrs.get(ob.extended_until))
            outcome[ob.id] = (due, done_on)
            dated.append(ob.timed(due, done_on, as_of))
        return beyond_horizon

    @staticmethod
    def _chain_progress(
        chain: CChain,
        events: Mapping[str, date],
        started: bool,
        undated: list[Action],
        warnings: list[Notice],
    ) -> tuple[list[ChainStepState], bool]:
        """The chain's steps with those done, and its next step as an action."""
        steps: list[ChainStepState] = []
        next_step: CStep | None = None
        for step in chain.steps:
            done_on = events.get(step.event)
            if done_on is None:
                if next_step is None:
                    next_step = step
                steps.append(step.open_state)
            else:
                steps.append(step.done_by_day.get(done_on) or step.done(done_on))
        closed = steps[-1].done
        if closed and next_step is not None:
            warnings.append(
                Notice(
                    code="closed_with_open_steps",
                    message=f"`{chain.steps[-1].event}` is recorded but earlier steps of "
                    f"`{chain.id}` are not, first `{next_step.id}`",
                )
            )
        if next_step is not None and not closed:
            undated.append(next_step.as_next[started])
        return steps, closed

    # -- intake ---------------------------------------------------------------------------

    def check_fact(self, fact: FactView) -> FactView:
        """Vocabulary and range checks; raises FactError listing every problem. Returns the
        fact with its date attrs as dates."""
        # The common case, a valid fact, in a handful of set lookups; the details are
        # worked out below only when something is wrong.
        admits = self._admits.get(fact.kind)
        events = fact.events
        if (
            admits is not None
            and fact.source in admits[0]
            and fact.category in admits[1]
            and fact.sector in admits[2]
            and fact.flags <= self.flags
            and self.events.issuperset(events)
            and not fact.attrs
            and (
                not events
                or (
                    min(events.values()) >= FACT_DATES_FROM
                    and max(events.values()) <= FACT_DATES_UNTIL
                )
            )
        ):
            return fact
        return self._check_slowly(fact)

    def _check_slowly(self, fact: FactView) -> FactView:
        """Every problem with the fact, named; or the fact with date attrs made dates."""
        problems: list[FactProblem] = []
        converted: dict[str, bool | int | str | date] = {}
        requires = self.kinds.get(fact.kind)
        if requires is None:
            problems.append(
                FactProblem("kind", fact.kind, "unknown kind", tuple(sorted(self.kinds)))
            )
            requires = frozenset()
        for name, value, allowed in (
            ("source", fact.source, self.sources),
            ("category", fact.category, self.categories),
            ("sector", fact.sector, self.sectors),
        ):
            if value is None:
                if name in requires:
                    problems.append(
                        FactProblem(
                            name, None, f"a {fact.kind} needs a {name}", tuple(sorted(allowed))
                        )
                    )
            elif value not in allowed:
                problems.append(
                    FactProblem(name, value, _unknown(name, value, allowed), tuple(sorted(allowed)))
                )
        if not fact.flags <= self.flags:
            known_flags = tuple(sorted(self.flags))
            for flag in sorted(fact.flags - self.flags):
                problems.append(
                    FactProblem("flags", flag, _unknown("flag", flag, self.flags), known_flags)
                )
        for event, day in fact.events.items():
            if event not in self.events:
                # The key is what is wrong, not its date: name it, and the nearest event.
                problems.append(
                    FactProblem(
                        f"events.{event}",
                        event,
                        _unknown("event", event, self.events),
                        tuple(sorted(self.events)),
                    )
                )
            elif not FACT_DATES_FROM <= day <= FACT_DATES_UNTIL:
                problems.append(
                    FactProblem(
                        f"events.{event}",
                        day.isoformat(),
                        f"dates must fall in {FACT_DATES_FROM.year}–{FACT_DATES_UNTIL.year}",
                    )
                )
        for name, attr_value in fact.attrs.items():
            spec = self.attrs.get(name)
            if spec is None:
                problems.append(
                    FactProblem(
                        f"attrs.{name}",
                        name,
                        _unknown("attribute", name, self.attrs),
                        tuple(sorted(self.attrs)),
                    )
                )
            elif spec.type == "date":
                try:
                    day = converted[name] = to_china_date(attr_value)
                except ValueError as exc:
                    problems.append(FactProblem(f"attrs.{name}", attr_value, str(exc)))
                else:
                    if not FACT_DATES_FROM <= day <= FACT_DATES_UNTIL:
                        problems.append(
                            FactProblem(
                                f"attrs.{name}",
                                day.isoformat(),
                                f"dates must fall in {FACT_DATES_FROM.year}–"
                                f"{FACT_DATES_UNTIL.year}",
                            )
                        )
            elif not _attr_type_ok(spec, attr_value):
                problems.append(FactProblem(f"attrs.{name}", attr_value, f"expected {spec.type}"))
            elif spec.values is not None and attr_value not in spec.values:
                problems.append(
                    FactProblem(
                        f"attrs.{name}", attr_value, "not an allowed value", tuple(spec.values)
                    )
                )
        if problems:
            raise FactError(problems, fact.id)
        return fact.with_attrs({**fact.attrs, **converted}) if converted else fact

    # -- evaluation -----------------------------------------------------------------------

    def evaluate(
        self,
        data: Fact | Mapping[str, Any],
        as_of: date,
        matcher: Callable[[FactView], frozenset[str]] | None = None,
        in_force_on: tuple[date, str] | None = None,
    ) -> Decision:
        """The decision; ``matcher``, if given, decides which rules, chains, lifecycles and
        duties apply (the durable_rules engine), and everything else is computed here.
        ``in_force_on`` is the date (and what it is) the pack's validity is checked on, when
        it is not ``as_of``: a version of a pack decides cases by the date they started."""
        fact = self.check_fact(read_fact(data))
        if not FACT_DATES_FROM <= as_of <= FACT_DATES_UNTIL:
            raise FactError(
                [
                    FactProblem(
                        "as_of",
                        as_of.isoformat(),
                        f"dates must fall in {FACT_DATES_FROM.year}–{FACT_DATES_UNTIL.year}",
                    )
                ],
                fact.id,
            )
        warnings: list[Notice] = []
        events = fact.events
        view = fact
        if len(events) > 1 and self.event_order:
            warnings.extend(self.order_check.warnings(events))
        if events and max(events.values()) > as_of:
            future = sorted(k for k, day in events.items() if day > as_of)
            events = {k: day for k, day in events.items() if day <= as_of}
            view = fact.with_events(events)
            warnings.append(
                Notice(
                    code="event_after_as_of",
                    message="events dated after as_of are treated as not yet happened: "
                    + ", ".join(future),
                )
            )
        if matcher is None:
            plan = self.plans[(fact.kind, fact.source, fact.category, bool(fact.flags))]
        else:
            view = view.with_matched(matcher(view))
            plan = self.whole_plan

        # Rules, with declared precedence (specific over general) applied.
        if plan.static_rule_ids is not None:
            matched_ids: list[str] = [*plan.static_rule_ids]
            obligations: Iterable[CObligation] = plan.static_obligations
            responsible, responsible_tier, notices = plan.static_responsibility  # type: ignore[misc]
        else:
            matched_rules = [r for r, pred in plan.rules if pred is None or pred(view)]
            if plan.rules_override:
                present = {r.id for r in matched_rules}
                matched_rules = [r for r in matched_rules if not (r.overridden_by & present)]
            matched_ids = [r.id for r in matched_rules]
            obligations = [ob for r in matched_rules for ob in r.obligations]
            responsible, responsible_tier, notices = _responsibility(matched_rules)
        if notices:
            warnings.extend(notices)

        beyond_horizon = False
        # Dated and undated actions are kept apart so each sorts on C-level keys.
        dated: list[Action] = []
        undated: list[Action] = []
        if plan.obligation_order is None:
            horizon = self.calendar.horizon
            get = events.get
            for ob in obligations:
                done_on = get(ob.done_when)
                triggered_on = get(ob.trigger_event)
                if ob.window is not None and triggered_on is not None:
                    due, on_calendar = ob.window(triggered_on)
                    if on_calendar and due > horizon:
                        beyond_horizon = True
                elif ob.due_attr and ob.due_attr in fact.attrs:
                    due = fact.attrs[ob.due_attr]  # type: ignore[assignment]
                else:
                    # _untimed, inlined: this line runs for most obligations of most facts.
                    if done_on is None:
                        undated.append(ob.waiting if triggered_on is None else ob.open_ended)
                    else:
                        undated.append(ob.done_by_day.get(done_on) or ob.done(done_on))
                    continue
                if ob.extended_until:
                    due = _extended(due, fact.attrs.get(ob.extended_until))
                dated.append(ob.timed(due, done_on, as_of))
        else:
            beyond_horizon = self._escalating(
                plan, set(matched_ids), events, fact.attrs, as_of, dated, undated
            )

        # The closure chain and the lifecycle: the most specific that applies.
        choice = plan.chains
        if choice.settled:
            chain = choice.static[0] if choice.static else None
        else:
            chain = _only(choice.applying(view), "closure chains", "ambiguous_chain", warnings)
        steps: Sequence[ChainStepState] = ()
        closed = False
        if chain is not None:
            matched_ids.append(chain.id)
            started = chain.starts_when in events
            if chain.step_events.isdisjoint(events):
                steps = chain.all_open
                undated.append(chain.steps[0].as_next[started])
            else:
                steps, closed = self._chain_progress(chain, events, started, undated, warnings)

        choice = plan.lifecycles
        if choice.settled:
            lifecycle = choice.static[0] if choice.static else None
        else:
            lifecycle = _only(choice.applying(view), "lifecycles", "ambiguous_lifecycle", warnings)
        stage = None
        if lifecycle is not None:
            matched_ids.append(lifecycle.id)
            stage, reached_end = _stage(lifecycle, events, undated, warnings)
            if chain is None:
                closed = reached_end

        for duty, pred in plan.duties:
            if pred is not None and not pred(view):
                continue
            matched_ids.append(duty.id)
            occurrence = duty.by_as_of.get(as_of) or duty.next_on_or_after(as_of)
            (undated if occurrence.due is None else dated).append(occurrence)

        if len(dated) > 1:
            dated.sort(key=_BY_DUE_THEN_ID)
        if len(undated) > 1:
            undated.sort(key=_BY_ID)
        if beyond_horizon:
            warnings.append(self.horizon_warning)
        on, what = (as_of, "as_of") if in_force_on is None else in_force_on
        if (self.valid_from and on < self.valid_from) or (
            self.valid_until and on > self.valid_until
        ):
            message = f"{what} {on.isoformat()} is outside the pack's validity"
            if self.succeeded_by:
                message += f"; it is succeeded by `{self.succeeded_by}`"
            warnings.append(Notice(code="pack_not_in_force", message=message))
        if len(warnings) > 1:
            warnings.sort(key=_BY_CODE)
        # Positionally, in the order of Decision's fields (see new_decision).
        return new_decision(
            fact.id,
            self.pack_id,
            as_of,
            fact.kind,
            fact.source,
            fact.category,
            responsible,
            responsible_tier,
            chain.id if chain else None,
            tuple(steps),
            closed,
            (*dated, *undated),
            tuple(matched_ids),
            tuple(warnings),
            self.provenance,
            lifecycle.id if lifecycle else None,
            stage,
            None,
            self.calendar_identity,
            # Hashed when first read: most hosts of a batch never read it.
            Deferred(decision_id, (self.seed, fact, as_of)) if self.seed else None,
            self.revision,
            self.version,
        )


EAGER_PLANS = 2048


class _Plans(dict):  # type: ignore[type-arg]
    """Plans by static key, each compiled the first time a fact needs it.

    No lock: compiling is pure, so two threads racing on a new key build equal plans and
    ``setdefault`` (atomic on a dict) keeps the first. Keys are checked against the
    vocabulary before they get here, so the dict holds at most one plan per combination.
    """

    def __init__(self, build: Callable[[C.StaticKey], Plan]):
        super().__init__()
        self._build = build

    def __missing__(self, key: C.StaticKey) -> Plan:
        return self.setdefault(key, self._build(key))  # type: ignore[no-any-return]


def _matched_by_other_engine(item_id: str) -> C.Predicate:
    return lambda view: item_id in view.matched  # type: ignore[attr-defined]


def _only(found: Sequence[Any], what: str, code: str, warnings: list[Notice]) -> Any:
    """The one item that applies; several is a pack ambiguity, reported, first one used."""
    if len(found) > 1:
        warnings.append(
            Notice(
                code=code,
                message=f"several {what} apply with no precedence between them: "
                + ", ".join(item.id for item in found)
                + f"; `{found[0].id}` was used",
            )
        )
    return found[0] if found else None


def _stage(
    lifecycle: CLifecycle,
    events: Mapping[str, date],
    undated: list[Action],
    warnings: list[Notice],
) -> tuple[str | None, bool]:
    """The furthest stage entered, its successor as the next action; whether it is the end."""
    stages = lifecycle.stages
    furthest = -1
    for index in range(len(stages) - 1, -1, -1):
        if stages[index].event in events:
            furthest = index
            break
    skipped = [s.id for s in stages[: max(furthest, 0)] if s.event not in events]
    if skipped:
        warnings.append(
            Notice(
                code="stage_skipped",
                message=f"`{stages[furthest].id}` is recorded but earlier stages of "
                f"`{lifecycle.id}` are not: {', '.join(skipped)}",
            )
        )
    if furthest + 1 < len(stages):
        undated.append(stages[furthest + 1].as_next[1])
    return (stages[furthest].id if furthest >= 0 else None), furthest == len(stages) - 1


def _extended(due: date, extension: object) -> date:
    """An approved extension moves a due date later, never earlier."""
    return extension if isinstance(extension, date) and extension > due else due


def _timed(ob: CObligation, due: date, done_on: date | None, as_of: date) -> Action:
    """An obligation with a due date: overdue from the day after it, unless done."""
    if done_on is None:
        return ob.action(due, "overdue" if as_of > due else "pending", None)
    return ob.action(due, "done" if done_on <= due else "done_late", done_on)


def _untimed(ob: CObligation, triggered_on: date | None, done_on: date | None) -> Action:
    """An obligation without a due date: done, waiting for its trigger, or open."""
    if done_on is not None:
        return ob.action(None, "done", done_on)
    return ob.waiting if triggered_on is None else ob.open_ended


_BY_DUE_THEN_ID = attrgetter("due", "id")
_BY_ID = attrgetter("id")
_BY_CODE = attrgetter("code")


def _attr_type_ok(spec: M.AttrSpec, value: object) -> bool:
    if spec.type == "boolean":
        return isinstance(value, bool)
    if spec.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _unknown(what: str, value: object, allowed: Iterable[str]) -> str:
    """``unknown event``, with the nearest allowed name when one is close (error path only)."""
    near = did_you_mean(value, allowed) if isinstance(value, str) else None
    return f"unknown {what}; {near}" if near else f"unknown {what}"
