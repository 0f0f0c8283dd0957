"""What a revision changes: two packs compared in the author's terms, and on a ledger.

A policy office drafting a revision wants to know, before it is issued, what it changes:
which provisions appear or go, which windows move ("10 → 7 working days"), which actors,
tiers, chains and assumptions change — and, on its own ledger, which problems would gain or
lose actions, see due dates move, become overdue or change tier. This is OpenFisca's reform
run side by side with the baseline: both packs evaluate the same facts as of the same date;
neither is changed.

Everything here is a value (``Comparison``) with a JSON form and a table rendering, and is
symmetric by construction: ``compare(b, a)`` is ``compare(a, b).mirrored()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic_core import to_jsonable_python

from . import _model as M
from ._decision import Action, Decision, _Dumpable
from ._errors import FactError
from ._fact import Fact, parse_as_of
from ._ledger import LedgerRow

if TYPE_CHECKING:
    from ._pack import Pack
    from ._versions import VersionOn

ChangeKind = Literal["added", "removed", "changed"]
_MIRROR: dict[str, str] = {"added": "removed", "removed": "added", "changed": "changed"}


@dataclass(frozen=True, slots=True)
class PackChange(_Dumpable):
    """One structural difference: an item added or removed, or one of its fields changed
    (``old`` → ``new``, each in the author's terms)."""

    section: str
    """rule, obligation, chain, step, lifecycle, stage, duty, role, assumption, not_encoded,
    metadata, calendar or a vocabulary section (source, category, …)."""
    id: str
    change: ChangeKind
    field: str | None = None
    old: str | None = None
    new: str | None = None
    within: str | None = None
    """The rule, chain or lifecycle an obligation, step or stage belongs to."""

    @property
    def text(self) -> str:
        where = f" (in {self.within})" if self.within else ""
        if self.change != "changed":
            return f"{self.section} `{self.id}`{where} {self.change}"
        if self.section in ("metadata", "calendar"):
            return f"{self.section} {self.field}: {_arrow(self.old, self.new)}"
        return f"{self.section} `{self.id}`{where}: {self.field} {_arrow(self.old, self.new)}"

    def mirrored(self) -> PackChange:
        return replace(self, change=_MIRROR[self.change], old=self.new, new=self.old)  # type: ignore[arg-type]


def _arrow(old: str | None, new: str | None) -> str:
    """``10 working days → 7 working days`` said as ``10 → 7 working days``."""
    old_s, new_s = old or "none", new or "none"
    old_n, _, old_unit = old_s.partition(" ")
    new_n, _, new_unit = new_s.partition(" ")
    if old_unit and old_unit == new_unit and old_n.isdigit() and new_n.isdigit():
        return f"{old_n} → {new_n} {old_unit}"
    return f"{old_s} → {new_s}"


# -- structural diff ------------------------------------------------------------------------


def _window(window: M.Window | None) -> str | None:
    if window is None:
        return None
    for name, unit in (("working_days", "working days"), ("days", "days"), ("months", "months")):
        value = getattr(window, name)
        if value is not None:
            roll = "" if window.roll is None else (", rolled" if window.roll else ", not rolled")
            return f"{value} {unit}{roll}"
    return None  # pragma: no cover - a window has exactly one length


def _json(value: Any) -> str | None:
    if value is None or value == []:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    value = to_jsonable_python(value, by_alias=True, exclude_none=True)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _trigger(trigger: M.Trigger | None) -> str | None:
    if trigger is None:
        return None
    return trigger.event if trigger.event else f"{trigger.overdue} overdue"


_Render = Callable[[Any, Mapping[str, M.Role]], str | None]


def _role(value: Any, roles: Mapping[str, M.Role]) -> str | None:
    if not isinstance(value, str):
        return _json(value)
    role = roles.get(value)
    return f"{value} ({role.tier})" if role is not None else value


_PLAIN: _Render = lambda value, roles: _json(value)  # noqa: E731

# Per section: the fields compared, each with how it is said.
_FIELDS: dict[str, dict[str, _Render]] = {
    "rule": {
        "kind": _PLAIN,
        "title": _PLAIN,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "when": _PLAIN,
        "responsible": _role,
        "overrides": _PLAIN,
        "provenance": _PLAIN,
        "assumptions": _PLAIN,
    },
    "obligation": {
        "title": _PLAIN,
        "actor": _role,
        "recipient": _role,
        "trigger": lambda v, r: _trigger(v),
        "window": lambda v, r: _window(v),
        "done_when": _PLAIN,
        "due_attr": _PLAIN,
        "extended_until": _PLAIN,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "assumptions": _PLAIN,
    },
    "chain": {
        "title": _PLAIN,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "when": _PLAIN,
        "starts_when": _PLAIN,
        "overrides": _PLAIN,
        "provenance": _PLAIN,
        "assumptions": _PLAIN,
    },
    "step": {
        "title": _PLAIN,
        "actor": _role,
        "recipient": _role,
        "done_when": _PLAIN,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "assumptions": _PLAIN,
    },
    "lifecycle": {
        "title": _PLAIN,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "when": _PLAIN,
        "overrides": _PLAIN,
        "provenance": _PLAIN,
        "assumptions": _PLAIN,
    },
    "stage": {
        "title": _PLAIN,
        "entered_when": _PLAIN,
        "actor": _role,
        "recipient": _role,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "assumptions": _PLAIN,
    },
    "duty": {
        "title": _PLAIN,
        "basis": _PLAIN,
        "quote": _PLAIN,
        "actor": _role,
        "recipient": _role,
        "rrule": _PLAIN,
        "when": _PLAIN,
        "provenance": _PLAIN,
        "assumptions": _PLAIN,
    },
    "role": {"name": _PLAIN, "tier": _PLAIN, "beside": _PLAIN},
    "assumption": {"about": _PLAIN, "reading": _PLAIN, "alternatives": _PLAIN},
    "not_encoded": {"rows": _PLAIN, "reason": _PLAIN},
    "term": {"name": _PLAIN, "requires": _PLAIN, "type": _PLAIN, "values": _PLAIN},
}

_VOCABULARY = {
    "kinds": "kind",
    "sources": "source",
    "categories": "category",
    "sectors": "sector",
    "flags": "flag",
    "events": "event",
    "attrs": "attr",
}
_METADATA = (
    "title",
    "issuer",
    "published",
    "jurisdiction",
    "tier",
    "valid_from",
    "valid_until",
    "supersedes",
    "succeeded_by",
    "case_starts",
    "document_kind",
)


def _items(model: M.PackModel) -> Iterator[tuple[str, str, str | None, Any]]:
    """Every item the diff matches by id: (section, id, within, the item)."""
    for term_section, section in _VOCABULARY.items():
        for term in getattr(model.vocabulary, term_section):
            yield section, term.id, None, term
    for role in model.roles:
        yield "role", role.id, None, role
    for rule in model.rules:
        yield "rule", rule.id, None, rule
        for ob in rule.obligations:
            yield "obligation", ob.id, rule.id, ob
    for chain in model.closure_chains:
        yield "chain", chain.id, None, chain
        for step in chain.steps:
            yield "step", step.id, chain.id, step
    for lifecycle in model.lifecycles:
        yield "lifecycle", lifecycle.id, None, lifecycle
        for stage in lifecycle.stages:
            yield "stage", stage.id, lifecycle.id, stage
    for duty in model.recurring:
        yield "duty", duty.id, None, duty
    for assumption in model.assumptions:
        yield "assumption", assumption.id, None, assumption
    for entry in model.not_encoded:
        yield "not_encoded", entry.basis, None, entry


def structural_changes(old: M.PackModel, new: M.PackModel) -> list[PackChange]:
    """The differences between two pack texts, item by item, in a stable order."""
    changes: list[PackChange] = []
    meta_old, meta_new = old.metadata, new.metadata
    for name in _METADATA:
        a, b = _json(getattr(meta_old, name)), _json(getattr(meta_new, name))
        if a != b:
            changes.append(PackChange("metadata", name, "changed", name, a, b))
    for name in ("extra_holidays", "extra_workdays"):
        a, b = _json(getattr(old.calendar, name)), _json(getattr(new.calendar, name))
        if a != b:
            changes.append(PackChange("calendar", name, "changed", name, a, b))
    roles_old = {r.id: r for r in old.roles}
    roles_new = {r.id: r for r in new.roles}
    before = {(s, i): (w, item) for s, i, w, item in _items(old)}
    after = {(s, i): (w, item) for s, i, w, item in _items(new)}
    for key in sorted(before.keys() | after.keys()):
        section, item_id = key
        if key not in after:
            changes.append(PackChange(section, item_id, "removed", within=before[key][0]))
            continue
        if key not in before:
            changes.append(PackChange(section, item_id, "added", within=after[key][0]))
            continue
        (within_a, a), (within_b, b) = before[key], after[key]
        if within_a != within_b:
            changes.append(PackChange(section, item_id, "changed", "within", within_a, within_b))
        fields = _FIELDS.get(section, _FIELDS["term"])
        for name, render in fields.items():
            if not hasattr(a, name):
                continue
            # Rendered before comparing: an actor whose role moved tier reads differently.
            sa, sb = render(getattr(a, name), roles_old), render(getattr(b, name), roles_new)
            if sa != sb:
                changes.append(PackChange(section, item_id, "changed", name, sa, sb, within_b))
        for order_of in ("steps", "stages"):
            ids_a = [x.id for x in getattr(a, order_of, [])]
            ids_b = [x.id for x in getattr(b, order_of, [])]
            if ids_a != ids_b and set(ids_a) == set(ids_b):
                changes.append(
                    PackChange(
                        section,
                        item_id,
                        "changed",
                        f"order of {order_of}",
                        " → ".join(ids_a),
                        " → ".join(ids_b),
                    )
                )
    return changes


# -- per problem ------------------------------------------------------------------------------

FactChangeKind = Literal[
    "appears",
    "disappears",
    "due_moved",
    "status_changed",
    "actor_changed",
    "tier_changed",
    "responsible_changed",
    "responsible_tier_changed",
    "closure_chain_changed",
    "closing_tier_changed",
    "closed_changed",
    "refused_changed",
]
_FACT_MIRROR = {"appears": "disappears", "disappears": "appears"}


@dataclass(frozen=True, slots=True)
class FactChange(_Dumpable):
    """One thing a fact's decision does differently under the new pack."""

    change: FactChangeKind
    action: str | None = None
    old: str | None = None
    new: str | None = None

    @property
    def text(self) -> str:
        what = self.change.replace("_", " ")
        subject = f"`{self.action}` " if self.action else ""
        if self.change in ("appears", "disappears"):
            return f"{subject}{what}" + (
                f" ({self.new or self.old})" if self.new or self.old else ""
            )
        return f"{subject}{what}: {self.old or 'none'} → {self.new or 'none'}"

    def mirrored(self) -> FactChange:
        kind = _FACT_MIRROR.get(self.change, self.change)
        return FactChange(kind, self.action, self.new, self.old)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ComparedFact(_Dumpable):
    """A fact whose decision differs between the two packs, and how."""

    position: int
    """Its place in the facts, counting from 1."""
    fact_id: str | None
    changes: tuple[FactChange, ...]
    overdue_before: bool
    overdue_after: bool

    def mirrored(self) -> ComparedFact:
        return ComparedFact(
            self.position,
            self.fact_id,
            tuple(sorted((c.mirrored() for c in self.changes), key=_change_key)),
            self.overdue_after,
            self.overdue_before,
        )


def _change_key(c: FactChange) -> tuple[str, str]:
    return (c.action or "", c.change)


@dataclass(frozen=True, slots=True)
class ComparisonSummary(_Dumpable):
    """Counts over the compared facts."""

    facts: int
    changed: int
    become_overdue: int
    no_longer_overdue: int
    actions_appear: int
    actions_disappear: int
    due_earlier: int
    due_later: int
    responsible_tier_changes: int
    closing_tier_changes: int
    refused_before_only: int
    refused_after_only: int

    def mirrored(self) -> ComparisonSummary:
        return replace(
            self,
            become_overdue=self.no_longer_overdue,
            no_longer_overdue=self.become_overdue,
            actions_appear=self.actions_disappear,
            actions_disappear=self.actions_appear,
            due_earlier=self.due_later,
            due_later=self.due_earlier,
            refused_before_only=self.refused_after_only,
            refused_after_only=self.refused_before_only,
        )

    @property
    def text(self) -> str:
        parts = [f"{self.changed} of {self.facts} problems change"]
        for count, said in (
            (self.become_overdue, "become overdue"),
            (self.no_longer_overdue, "are no longer overdue"),
            (self.due_earlier, "have a due date move earlier"),
            (self.due_later, "have a due date move later"),
            (self.actions_appear, "gain an action"),
            (self.actions_disappear, "lose an action"),
            (self.responsible_tier_changes, "change responsible tier"),
            (self.closing_tier_changes, "change closing tier"),
            (self.refused_before_only, "were refused and are now decided"),
            (self.refused_after_only, "are now refused"),
        ):
            if count:
                parts.append(f"{count} {said}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Comparison(_Dumpable):
    """What replacing pack ``old`` by pack ``new`` changes (see ``Pack.compare``)."""

    old: str
    new: str
    old_revision: str
    new_revision: str
    as_of: date | None
    changes: tuple[PackChange, ...]
    facts: tuple[ComparedFact, ...] = ()
    """Only the facts whose decision differs, in their order."""
    summary: ComparisonSummary | None = None
    """Counts over the facts; None when no facts were compared."""

    @property
    def empty(self) -> bool:
        """No structural change and no fact decided differently."""
        return not self.changes and not self.facts

    def mirrored(self) -> Comparison:
        """The comparison the other way round: ``new`` replaced by ``old``."""
        return Comparison(
            self.new,
            self.old,
            self.new_revision,
            self.old_revision,
            self.as_of,
            tuple(sorted((c.mirrored() for c in self.changes), key=_structural_key)),
            tuple(f.mirrored() for f in self.facts),
            self.summary.mirrored() if self.summary is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["changes"] = [{**c.model_dump(mode="json"), "text": c.text} for c in self.changes]
        if self.summary is not None:
            data["summary"]["text"] = self.summary.text
        return data

    def table(self) -> str:
        """A plain-text rendering: the structural changes, then the changed facts, then the
        summary."""
        lines = [
            f"{self.old} ({_short(self.old_revision)}) → {self.new} ({_short(self.new_revision)})"
        ]
        if not self.changes:
            lines.append("no structural change")
        else:
            lines.append(f"{len(self.changes)} structural changes:")
            lines += [f"  {c.text}" for c in self.changes]
        if self.summary is not None:
            lines.append(f"as of {self.as_of}:")
            for fact in self.facts:
                name = fact.fact_id or f"#{fact.position}"
                lines.append(f"  {name}:")
                lines += [f"    {c.text}" for c in fact.changes]
            lines.append(self.summary.text)
        return "\n".join(lines)


def _short(revision: str) -> str:
    return revision.removeprefix("sha256:")[:12]


def _structural_key(c: PackChange) -> tuple[int, str, str, str]:
    return (0 if c.section in ("metadata", "calendar") else 1, c.section, c.id, c.field or "")


def _chain_end_tier(d: Decision) -> str | None:
    return d.closure_chain[-1].tier if d.closure_chain else None


def _overdue(d: Decision) -> bool:
    return any(a.status == "overdue" for a in d.actions)


def _action_changes(a: Action, b: Action) -> Iterator[FactChange]:
    if a.due != b.due:
        yield FactChange("due_moved", a.id, _iso(a.due), _iso(b.due))
    if a.status != b.status:
        yield FactChange("status_changed", a.id, a.status, b.status)
    if a.actor != b.actor:
        yield FactChange("actor_changed", a.id, a.actor, b.actor)
    if a.tier != b.tier:
        yield FactChange("tier_changed", a.id, a.tier, b.tier)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def fact_changes(old: Decision | None, new: Decision | None) -> list[FactChange]:
    """How ``new`` differs from ``old`` (None: the fact was refused)."""
    if old is None or new is None:
        if old is None and new is None:
            return []
        return [
            FactChange(
                "refused_changed",
                None,
                "refused" if old is None else "decided",
                "refused" if new is None else "decided",
            )
        ]
    # Which version decided is not compared: two texts differ by name anyway, and what
    # matters is whether what they decide differs.
    out: list[FactChange] = []
    if old.responsible != new.responsible:
        out.append(FactChange("responsible_changed", None, old.responsible, new.responsible))
    if old.responsible_tier != new.responsible_tier:
        out.append(
            FactChange("responsible_tier_changed", None, old.responsible_tier, new.responsible_tier)
        )
    if old.closure_chain_id != new.closure_chain_id:
        out.append(
            FactChange("closure_chain_changed", None, old.closure_chain_id, new.closure_chain_id)
        )
    if _chain_end_tier(old) != _chain_end_tier(new):
        out.append(
            FactChange("closing_tier_changed", None, _chain_end_tier(old), _chain_end_tier(new))
        )
    if old.closed != new.closed:
        out.append(FactChange("closed_changed", None, str(old.closed), str(new.closed)))
    before = {a.id: a for a in old.actions}
    after = {a.id: a for a in new.actions}
    for action_id in sorted(before.keys() | after.keys()):
        a, b = before.get(action_id), after.get(action_id)
        if b is None:
            assert a is not None
            out.append(FactChange("disappears", action_id, _iso(a.due), None))
        elif a is None:
            out.append(FactChange("appears", action_id, None, _iso(b.due)))
        else:
            out += _action_changes(a, b)
    return sorted(out, key=_change_key)


def compare(
    old: Pack,
    new: Pack,
    facts: Iterable[Fact | Mapping[str, Any] | LedgerRow] | None = None,
    as_of: date | str | None = None,
    *,
    version_on: VersionOn = "as_of",
) -> Comparison:
    """See ``Pack.compare``."""
    if facts is not None and as_of is None:
        raise ValueError("comparing decisions needs `as_of`, the date to decide them on")
    changes = tuple(sorted(structural_changes(old.model, new.model), key=_structural_key))
    day = parse_as_of(as_of) if as_of is not None else None
    compared: list[ComparedFact] = []
    counts = dict.fromkeys(ComparisonSummary.__dataclass_fields__, 0)
    summary = None
    if day is not None and facts is not None:
        for position, fact in enumerate(facts, start=1):
            if isinstance(fact, LedgerRow):
                if fact.error is not None:  # unreadable under either pack: no difference
                    counts["facts"] += 1
                    continue
                fact = fact.fact
            counts["facts"] += 1
            a, fact_id = _decide(old, fact, day, version_on)
            b, _ = _decide(new, fact, day, version_on)
            found = fact_changes(a, b)
            if not found:
                continue
            _count(counts, found, a, b)
            compared.append(
                ComparedFact(
                    position,
                    fact_id,
                    tuple(found),
                    a is not None and _overdue(a),
                    b is not None and _overdue(b),
                )
            )
        summary = ComparisonSummary(**counts)
    return Comparison(
        old.name, new.name, old.revision, new.revision, day, changes, tuple(compared), summary
    )


def _decide(
    pack: Pack, fact: Any, day: date, version_on: VersionOn
) -> tuple[Decision | None, str | None]:
    try:
        decision = pack.evaluate(fact, day, version_on=version_on)
    except FactError as exc:
        return None, exc.fact_id if isinstance(exc.fact_id, str) else None
    return decision, decision.fact_id


def _count(
    counts: dict[str, int], found: Sequence[FactChange], a: Decision | None, b: Decision | None
) -> None:
    counts["changed"] += 1
    if a is None:
        counts["refused_before_only"] += 1
        return
    if b is None:
        counts["refused_after_only"] += 1
        return
    overdue_a, overdue_b = _overdue(a), _overdue(b)
    counts["become_overdue"] += overdue_b and not overdue_a
    counts["no_longer_overdue"] += overdue_a and not overdue_b
    kinds = [c.change for c in found]
    counts["actions_appear"] += "appears" in kinds
    counts["actions_disappear"] += "disappears" in kinds
    moved = [c for c in found if c.change == "due_moved" and c.old and c.new]
    counts["due_earlier"] += any(c.new < c.old for c in moved if c.new and c.old)
    counts["due_later"] += any(c.new > c.old for c in moved if c.new and c.old)
    counts["responsible_tier_changes"] += "responsible_tier_changed" in kinds
    counts["closing_tier_changes"] += "closing_tier_changed" in kinds
