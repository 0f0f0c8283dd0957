"""The library's wire between workers and the parent: decisions as compact tuples.

``evaluate_many(workers=N)``'s host wants ``Decision`` objects, so every decision a worker
makes is rebuilt in the parent, and that rebuilding is most of what the parent does per
fact. This module makes it as cheap as it has been measured to get (see "Every core" in
the performance docs): a worker's ``_Encoder`` sends each action, chain step, notice,
matched-rule list and shared part once, then by number; the parent's ``_Decoder`` keeps a
table per worker and builds each decision with ``_decision``'s fast constructors as the
host takes it; a decision id stays deferred and is hashed, when read, from the chunk of
facts as it was sent (``_Snapshot``). ``_parallel`` runs the workers; this is only the
format, kept apart so that each can be read on its own.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from datetime import date
from itertools import count
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ._decision import (
    Action,
    ChainStepState,
    Decision,
    Deferred,
    Notice,
    new_action,
    new_chain_step,
    new_decision,
)
from ._fact import read_fact
from ._ledger import LedgerRow
from ._report import RefusedFact
from ._revision import decision_id

if TYPE_CHECKING:
    from ._pack import Pack

_FIELDS = [f.name for f in fields(Decision)]
_PARTS = ("closure_chain", "actions", "warnings")
"""A decision's chain steps, actions and warnings: sent as one number in the table, for
the three tuples, each of numbers in the table (decisions of facts alike share them)."""
_SHARED = ("pack", "as_of", "provenance", "explanation", "calendar", "revision", "version")
"""The same objects in every decision of one pack version in one run: sent as one number."""
_INTERNED = ("matched_rules",)
"""Tuples of strings that repeat: sent once each, by value, then as a number."""
_PART_TYPES = (Action, ChainStepState, Notice)
_PART_FIELDS = tuple(attrgetter(*(f.name for f in fields(cls))) for cls in _PART_TYPES)


def _values(*values: Any) -> tuple[Any, ...]:
    return values


_BUILDERS: tuple[Callable[..., Any], ...] = (new_action, new_chain_step, Notice, _values)
"""How the parent builds each kind of object in the table, from its field values."""
_TUPLE = 3
_TUPLES = 4
"""The kind of a decision's chain steps, actions and warnings: three tuples of numbers."""


def _codec() -> tuple[Callable[..., tuple[Any, ...]], Callable[..., Callable[..., Any]]]:
    """Two functions generated from ``Decision``'s fields, as ``_decision`` generates its
    constructors (one call per decision instead of a loop over its fields):

    * ``encode(d, number, missed, raw_id)``: the decision as a tuple of plain values
      (strings, numbers, None: nothing the parent's garbage collector must keep track
      of): the fields that vary from fact to fact, then the numbers (``number``, or
      ``missed`` the first time) of its chain steps, actions and warnings together, of
      its shared parts and of its matched rules, and its id as read from the slot:
      ``True`` when the id is still deferred (reading the attribute would hash the fact
      there and then). The lookups are inline: this runs for every decision.
    * ``decoder(part, late)``: a function ``decode(v, position)`` giving the decision
      back (a refusal as it is), ``part`` giving each numbered object; a deferred id is
      deferred again, to ``late(position, version)``. One per chunk, used through
      ``map``: no Python frame between decisions but the decision's own.
    """
    vary = [n for n in _FIELDS if n not in (*_PARTS, *_SHARED, *_INTERNED, "decision_id")]
    at = {name: i for i, name in enumerate(vary)}
    refs, shared, interned, ident = range(len(vary), len(vary) + 4)
    encoded = [f"d.{name}" for name in vary] + [
        "p",
        "c",
        "i",
        "True if type(raw) is Deferred else raw",
    ]
    decoded = []
    for name in _FIELDS:
        if name in at:
            decoded.append(f"v[{at[name]}]")
        elif name in _PARTS:
            decoded.append(f"p[{_PARTS.index(name)}]")
        elif name in _SHARED:
            decoded.append(f"c[{_SHARED.index(name)}]")
        elif name in _INTERNED:
            decoded.append(f"part(v[{interned}])")
        else:  # the id
            version = f"c[{_SHARED.index('version')}]"
            decoded.append(
                f"Deferred(late, (position, {version})) if v[{ident}] is True else v[{ident}]"
            )
    source = "\n".join(
        [
            "def encode(d, number, missed, raw_id):",
            f"    chain = d.{_PARTS[0]}",
            f"    actions = d.{_PARTS[1]}",
            f"    warnings = d.{_PARTS[2]}",
            # Warnings by value: the engine makes a new notice for each fact it warns about.
            "    key = (len(chain), *map(id, chain + actions), warnings)",
            "    p = number(key)",
            "    if p is None:",
            "        p = missed(PARTS, key, (chain, actions, warnings))",
            "    shared = get_shared(d)",
            "    key = tuple(map(id, shared))",
            "    c = number(key)",
            "    if c is None:",
            "        c = missed(SHARED, key, shared)",
            f"    key = d.{_INTERNED[0]}",
            "    i = number(key)",
            "    if i is None:",
            "        i = missed(INTERNED, key, key)",
            "    raw = raw_id(d)",
            f"    return ({', '.join(encoded)})",
            "def decoder(part, late):",
            "    def decode(v, position):",
            "        if type(v) is not tuple:",  # a refusal, as it is
            "            return v",
            f"        p = part(v[{refs}])",
            f"        c = part(v[{shared}])",
            f"        return new_decision({', '.join(decoded)})",
            "    return decode",
        ]
    )
    namespace: dict[str, Any] = {
        "new_decision": new_decision,
        "Deferred": Deferred,
        "get_shared": attrgetter(*_SHARED),
        "PARTS": _TUPLES,
        "SHARED": _TUPLE,
        "INTERNED": _TUPLE,
    }
    exec(source, namespace)  # the source is built above from the class's own fields
    return namespace["encode"], namespace["decoder"]


_encode_decision, _decoder = _codec()
_read_raw_id = Decision.__dict__["decision_id"].slot.__get__


class _Encoder:
    """A worker's side of the wire for decisions (``_parallel._decide_objects`` uses it).

    A decision goes as a tuple of plain values (see ``_codec``), its other parts as
    numbers in a table both sides keep: an object the worker has not sent before goes
    once, as its kind and field values, and gets the next number. The worker knows
    objects by identity, so it holds them (an id is unique only while its object lives).
    When the table is full both sides empty it, the worker saying so in the chunk that
    starts afresh: the parent reads one worker's chunks in the order it wrote them (in
    input order, which is the order the worker took them in)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.token = os.urandom(8)
        self.numbers: dict[Any, int] = {}
        self.kept: list[Any] = []

    def encode(self, results: Iterable[Decision | RefusedFact], rows: list[int]) -> bytes:
        fresh = len(self.kept) >= self.limit
        if fresh:
            self.numbers.clear()
            self.kept.clear()
        numbers, kept = self.numbers, self.kept
        number = numbers.get
        new: list[tuple[int, tuple[Any, ...]]] = []

        def each(parts: tuple[Any, ...]) -> tuple[int, ...]:
            for part in parts:
                if id(part) not in numbers:
                    kind = _PART_TYPES.index(type(part))
                    numbers[id(part)] = len(kept)
                    kept.append(part)  # its id stays its own while it is kept
                    new.append((kind, _PART_FIELDS[kind](part)))
            return tuple([numbers[id(part)] for part in parts])

        def missed(kind: int, key: Any, values: tuple[Any, ...]) -> int:
            """The number of something not sent before, sent now: a decision's chain
            steps, actions and warnings as numbers (sending each one not sent before),
            or values that are sent as they are (kept: the key holds their ids)."""
            sent = tuple(map(each, values)) if kind == _TUPLES else values
            numbers[key] = len(kept)
            kept.append(None if kind == _TUPLES else values)
            new.append((kind, sent))
            return len(kept) - 1

        encode, raw_id = _encode_decision, _read_raw_id
        # Each decision encoded as soon as it is made: none outlives its fact.
        out = [
            encode(result, number, missed, raw_id) if type(result) is Decision else result
            for result in results
        ]
        return pickle.dumps((self.token, fresh, new, rows[0], out), protocol=5)


class _Snapshot:
    """A chunk of facts as the parent sent it (its pickle): what a deferred decision id
    is computed from when the host first reads it. The id is of the fact as it was when
    it was decided, whatever the host has done to its own dicts since, as with one
    process (where the id is hashed from a private, normalised copy)."""

    __slots__ = ("data", "day", "facts", "pack")

    def __init__(self, data: bytes, pack: Pack, day: date):
        self.data = data
        self.pack = pack
        self.day = day
        self.facts: list[Any] | None = None

    def decision_id(self, position: int, version: str | None) -> str:
        """The id, as the deciding pack's engine hashes it (see ``Pack.evaluate``)."""
        facts = self.facts
        if facts is None:  # read once per chunk; two threads may both read it: the same
            facts = self.facts = pickle.loads(self.data)
        fact = facts[position]
        if isinstance(fact, LedgerRow):
            fact = fact.fact
        target = self.pack
        if version is not None:
            target = next(v for v in self.pack._versions if v.version == version)
        engine = target._compiled
        return decision_id(engine.seed, engine.check_fact(read_fact(fact)), self.day)


class _Decoder:
    """The parent's side: a table per worker, rebuilt as ``_Encoder`` says."""

    def __init__(self, pack: Pack, day: date) -> None:
        self.tables: dict[bytes, list[Any]] = {}
        self.pack = pack
        self.day = day

    def decode(
        self, data: bytes, sent: bytes
    ) -> tuple[list[int], Iterator[Decision | RefusedFact]]:
        """The rows of a chunk and its results, each decision built as it is taken (so
        that none outlives the host's use of it: a chunk's worth of objects alive at
        once would each survive a garbage collection, and make the next ones longer).
        ``sent`` is the chunk of facts as it was sent."""
        token, fresh, new, rows, out = pickle.loads(data)
        table = self.tables.get(token)
        if table is None or fresh:
            table = self.tables[token] = []
        builders, get = _BUILDERS, table.__getitem__
        for kind, values in new:
            if kind == _TUPLES:
                table.append(tuple([tuple(map(get, numbers)) for numbers in values]))
            else:
                table.append(builders[kind](*values))
        return [rows], self._results(out, table.__getitem__, _Snapshot(sent, self.pack, self.day))

    @staticmethod
    def _results(
        out: list[Any], part: Callable[[int], Any], snapshot: _Snapshot
    ) -> Iterator[Decision | RefusedFact]:
        return map(_decoder(part, snapshot.decision_id), out, count())
