"""Hypothesis strategies built from a pack's own vocabulary, so every pack gets the same
properties without anyone listing its sources, flags or events by hand."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

import ecorules

EARLIEST = date(2023, 1, 1)
LATEST = date(2026, 12, 31)


def dates(lo: date = EARLIEST, hi: date = LATEST) -> st.SearchStrategy[date]:
    return st.dates(min_value=lo, max_value=hi)


def facts(pack: ecorules.Pack, *, with_events: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """JSON-like facts a pack must accept: declared values only, dates as ISO strings."""
    vocab = pack.model.vocabulary
    triggers = {
        ob.trigger.event
        for rule in pack.model.rules
        for ob in rule.obligations
        if ob.trigger is not None and ob.trigger.event is not None
    }

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        kind = draw(st.sampled_from(vocab.kinds))
        fact: dict[str, Any] = {
            "id": draw(st.text("ABC-0123456789", min_size=1, max_size=8)),
            "kind": kind.id,
        }
        for name, terms in (
            ("source", vocab.sources),
            ("category", vocab.categories),
            ("sector", vocab.sectors),
        ):
            if not terms:
                continue
            if name in kind.requires or draw(st.booleans()):
                fact[name] = draw(st.sampled_from(terms)).id
        if vocab.flags:
            fact["flags"] = sorted(
                draw(st.sets(st.sampled_from([f.id for f in vocab.flags]), max_size=3))
            )
        if with_events and vocab.events:
            # Events cluster within a few months so that windows, due dates and as_of meet.
            base = draw(dates(EARLIEST, LATEST - timedelta(days=120)))
            # Triggers are drawn more often than completions, so that windows run.
            fact["events"] = {
                e.id: (base + timedelta(days=draw(st.integers(0, 60)))).isoformat()
                for e in vocab.events
                if draw(st.integers(0, 9)) < (8 if e.id in triggers else 4)
            }
        attrs = {}
        for spec in vocab.attrs:
            if not draw(st.booleans()):
                continue
            if spec.values:
                attrs[spec.id] = draw(st.sampled_from(spec.values))
            elif spec.type == "integer":
                attrs[spec.id] = draw(st.integers(0, 10_000))
            elif spec.type == "boolean":
                attrs[spec.id] = draw(st.booleans())
            elif spec.type == "date":
                attrs[spec.id] = draw(dates()).isoformat()
            else:
                attrs[spec.id] = draw(st.text(max_size=10))
        if attrs:
            fact["attrs"] = attrs
        return fact

    return build()


@st.composite
def facts_as_of(draw: st.DrawFn, pack: ecorules.Pack) -> tuple[dict[str, Any], date]:
    """A fact and an as_of near its events (before, among or after them)."""
    fact = draw(facts(pack))
    days = [date.fromisoformat(d) for d in fact.get("events", {}).values()]
    anchor = min(days) if days else draw(dates())
    offset = draw(st.one_of(st.integers(-5, 25), st.integers(-10, 120)))
    as_of = anchor + timedelta(days=offset)
    return fact, min(max(as_of, EARLIEST), LATEST)
