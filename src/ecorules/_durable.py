"""The durable_rules engine: a pack's conditions as a Rete ruleset.

``load_pack(name, engine="durable")`` translates every rule's, chain's, lifecycle's and
duty's ``when`` — the same condition objects the native engine compiles — into one
durable_rules JSON ruleset, and lets the Rete network decide which apply to a fact. All that
follows (precedence, due dates, statuses, chains, warnings) is the native engine's code, so
the two engines can differ only in matching, which the differential tests compare.

We drive durable_rules' C core directly rather than through ``durable.engine.Host``: the Host
starts a background dispatcher thread that can run a rule's action in another thread
while we wait for it. Each fact is asserted as a durable *fact* (events are consumed by the
first rule that matches, so only one would fire), its matches collected, and its session
deleted at once, so sessions never accumulate (the C core holds at most 1,024) and an error
leaves no state behind. One lock per ruleset serialises calls: the core is not re-entrant.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import weakref
from datetime import date
from typing import Any

from . import _conditions as C
from . import _model as M
from ._errors import EcorulesError
from ._fact import FactView

MAX_PROPERTIES = 255
"""durable_rules' limit on properties per message."""

_NONE = ""
"""How a missing kind, source, category, sector or attr value travels in a message: durable
compares only present properties, so every property is always sent."""


class DurableUnavailable(EcorulesError, ImportError):
    """durable_rules is not installed."""


def _engine_module() -> Any:
    try:
        import durable_rules_engine  # type: ignore[import-not-found]
    except ImportError as exc:
        raise DurableUnavailable(
            "the durable engine needs durable_rules: pip install 'ecorules[durable]'"
        ) from exc
    return durable_rules_engine


def _scalar(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Translate:
    """Condition → durable JSON. durable has no general negation, so ``not`` is pushed to the
    leaves (De Morgan), where $neq and 0/1 properties express it."""

    def __call__(self, cond: C.Condition, negate: bool = False) -> dict[str, Any]:
        if isinstance(cond, C.AllOf | C.AnyOf):
            parts = [self(c, negate) for c in (cond.all if isinstance(cond, C.AllOf) else cond.any)]
            conjunction = isinstance(cond, C.AllOf) != negate
            return {"$and" if conjunction else "$or": parts}
        if isinstance(cond, C.Not):
            return self(cond.not_, not negate)
        if isinstance(cond, C.KindIs | C.SourceIs | C.CategoryIs | C.SectorIs):
            field = C._MODEL_TAGS[type(cond)]
            names = C._names(getattr(cond, field))
            return self._one_of(field, list(names), negate)
        if isinstance(cond, C.FlagSet):
            return {f"f_{cond.flag}": 0 if negate else 1}
        if isinstance(cond, C.EventPresent):
            return {f"e_{cond.event}": 0 if negate else 1}
        if isinstance(cond, C.AttrIs):
            test = cond.attr
            present = f"p_{test.id}"
            if test.present is not None:
                return {present: 1 if test.present != negate else 0}
            values = [test.equals] if test.equals is not None else list(test.in_ or [])
            equal = self._one_of(f"a_{test.id}", [_scalar(v) for v in values], negate)
            if negate:
                return {"$or": [{present: 0}, equal]}
            return {"$and": [{present: 1}, equal]}
        raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover

    @staticmethod
    def _one_of(field: str, values: list[Any], negate: bool) -> dict[str, Any]:
        if negate:
            return {"$and": [{"$neq": {field: v}} for v in values]}
        return {"$or": [{field: v} for v in values]}


class DurableMatcher:
    """Which of a pack's rules, chains, lifecycles and duties apply to a fact, by Rete."""

    def __init__(self, model: M.PackModel):
        self._engine = _engine_module()
        vocab = model.vocabulary
        self._flags = [t.id for t in vocab.flags]
        self._events = [t.id for t in vocab.events]
        self._attrs = [a.id for a in vocab.attrs]
        properties = 6 + len(self._flags) + len(self._events) + 2 * len(self._attrs)
        if properties > MAX_PROPERTIES:
            raise EcorulesError(
                f"pack `{model.id}` needs {properties} properties per message; durable_rules "
                f"allows {MAX_PROPERTIES}: use the native engine"
            )
        items: list[Any] = [
            *model.rules,
            *model.closure_chains,
            *model.lifecycles,
            *model.recurring,
        ]
        translate = _Translate()
        self.always = frozenset(item.id for item in items if item.when is None)
        self.definition = {
            item.id: {"all": [{"m": translate(item.when)}]}
            for item in items
            if item.when is not None
        }
        self._name = f"ecorules_{model.id}_{id(self)}"
        self._definition_json = json.dumps(self.definition, ensure_ascii=False)
        # One ruleset per thread: durable_rules keeps one session per ruleset, and matching
        # is several calls on it. A shared ruleset needed a lock around them, and a lock
        # held across calls convoys: every evaluator queued behind whichever thread the
        # interpreter paused, and a thread loading packs made that 2-7× slower. Each call
        # holds the GIL (the extension never releases it), so separate rulesets need none.
        self._local = threading.local()
        self._rules = bool(self.definition)
        if self._rules:
            self._new_handle()  # now, so that a definition durable_rules refuses fails the load
        self._ids = itertools.count(1)

    def _new_handle(self) -> Any:
        handle = self._engine.create_ruleset(
            f"{self._name}_{threading.get_ident()}", self._definition_json
        )
        holder = _Handle(handle)
        # Free the C ruleset with its thread's holder (or at exit), never from a
        # half-torn-down interpreter as __del__ might.
        weakref.finalize(holder, self._engine.delete_ruleset, handle)
        self._local.holder = holder
        return handle

    def _thread_handle(self) -> Any:
        holder = getattr(self._local, "holder", None)
        return holder.handle if holder is not None else self._new_handle()

    def message(self, view: FactView) -> dict[str, Any]:
        events = view.events
        attrs = view.attrs
        message: dict[str, Any] = {
            "sid": "0",
            "kind": view.kind,
            "source": view.source or _NONE,
            "category": view.category or _NONE,
            "sector": view.sector or _NONE,
        }
        for flag in self._flags:
            message[f"f_{flag}"] = 1 if flag in view.flags else 0
        for event in self._events:
            message[f"e_{event}"] = 1 if event in events else 0
        for attr in self._attrs:
            present = attr in attrs
            message[f"p_{attr}"] = 1 if present else 0
            message[f"a_{attr}"] = _scalar(attrs[attr]) if present else _NONE
        return message

    def __call__(self, view: FactView) -> frozenset[str]:
        if not self._rules:
            return self.always
        message = self.message(view)
        engine = self._engine
        handle = self._thread_handle()
        fired: set[str] = set()
        message["id"] = next(self._ids)
        try:
            result = engine.assert_fact(handle, json.dumps(message, ensure_ascii=False))
            state_handle = result[1]
            started = engine.start_action_for_state(handle, state_handle)
            while started:
                state, matches = started[0], json.loads(started[1])
                fired.update(matches)
                engine.update_state(handle, state)
                following = engine.complete_and_start_action(handle, state_handle)
                started = (state, following) if following else None
        finally:
            with contextlib.suppress(Exception):
                engine.delete_state(handle, "0")
        return frozenset(fired) | self.always


class _Handle:
    """A thread's durable_rules ruleset; the ruleset is deleted when this is collected."""

    __slots__ = ("__weakref__", "handle")

    def __init__(self, handle: Any):
        self.handle = handle
