"""Data-quality warnings: a ledger's dates that cannot all be true.

A plan submitted before the problem was transferred, a closure before the rectification it
closes: the pack already says which event answers which (an obligation is started by one
event and done by another; a closure chain's steps follow its starting event, and its last
step follows every other), so the order is derived once at pack load, and a decision
whose fact has a later event dated before an earlier one carries a warning naming both.
The decision is still made — the dates may be right and the order odd — but nobody reads
it as clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from . import _model as M
from ._decision import Notice


def event_order(pack: M.PackModel) -> dict[str, tuple[str, ...]]:
    """For each event, the events the pack implies come before it — directly (an
    obligation's trigger before what completes it; a chain's start and steps in order) or
    through others (rectified … closed). Orders contradicting each other are left out."""
    direct: dict[str, set[str]] = {}
    for rule in pack.rules:
        for ob in rule.obligations:
            if ob.trigger is not None and ob.trigger.event and ob.done_when:
                direct.setdefault(ob.done_when, set()).add(ob.trigger.event)
    for chain in pack.closure_chains:
        # Steps in between may be recorded in either order (an assessment of measures
        # while rectifying), so only: the start comes before every step, and the last
        # step (closure) after every other.
        last = chain.steps[-1].done_when
        for step in chain.steps:
            direct.setdefault(step.done_when, set()).add(chain.starts_when)
            if step.done_when != last:
                direct.setdefault(last, set()).add(step.done_when)
    before: dict[str, set[str]] = {}

    def ancestors(event: str, seen: frozenset[str]) -> set[str]:
        if event in before:
            return before[event]
        found: set[str] = set()
        for earlier in direct.get(event, ()):
            if earlier in seen:
                continue
            found.add(earlier)
            found |= ancestors(earlier, seen | {event})
        before[event] = found
        return found

    for event in list(direct):
        ancestors(event, frozenset())
    return {
        event: tuple(sorted(e for e in earlier if e != event and event not in before.get(e, ())))
        for event, earlier in before.items()
        if earlier
    }


def out_of_order(
    order: Mapping[str, tuple[str, ...]], events: Mapping[str, date], names: Mapping[str, str]
) -> list[Notice]:
    """A warning for each recorded event dated before one the pack says comes first."""
    found = []
    for later, then in events.items():
        for earlier in order.get(later, ()):
            first = events.get(earlier)
            if first is not None and then < first:
                found.append(
                    Notice(
                        code="event_before_its_cause",
                        message=f"{names.get(later, later)} (`{later}`, {then.isoformat()}) "
                        f"is dated before {names.get(earlier, earlier)} (`{earlier}`, "
                        f"{first.isoformat()}), which comes first: check the ledger's dates",
                    )
                )
    return found


class OrderCheck:
    """``out_of_order`` for one pack, made cheap for the facts of a ledger: the pairs of
    recorded events to compare depend only on which events a fact records (and in what
    order, which orders the warnings), so they are worked out once per such key and kept.

    The cache is bounded: a ledger has a few dozen event histories, but a hostile stream
    could send every subset of the vocabulary, and past the bound the pairs are worked out
    each time instead of kept. No lock: two threads racing on a key store equal tuples.
    """

    LIMIT: Final = 4096

    __slots__ = ("_pairs", "names", "order")

    def __init__(self, order: Mapping[str, tuple[str, ...]], names: Mapping[str, str]):
        self.order = order
        self.names = names
        self._pairs: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.order)

    def warnings(self, events: Mapping[str, date]) -> list[Notice]:
        """The same warnings, in the same order, as ``out_of_order``."""
        key = tuple(events)
        pairs = self._pairs.get(key)
        if pairs is None:
            order = self.order
            pairs = tuple(
                (later, earlier)
                for later in key
                for earlier in order.get(later, ())
                if earlier in events
            )
            if len(self._pairs) < self.LIMIT:
                self._pairs[key] = pairs
        for later, earlier in pairs:
            if events[later] < events[earlier]:
                return out_of_order(self.order, events, self.names)
        return []
