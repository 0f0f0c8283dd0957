"""The pack checker: mistakes a pack can load with but should not ship with.

Loading already refuses what cannot be evaluated (syntax, shape, references). The checker
looks for what evaluates *wrongly*: combinations of source and category that nothing covers,
two rules or chains that can apply to the same fact with no precedence between them, rules
that can never apply, later steps due before earlier ones, chains that descend the tiers,
vocabulary nobody uses. It analyses the pack over its own declared vocabulary, using the same
specialisation as the evaluator, and where a question depends on flags, events, sectors or
attrs it tries every combination of the values the conditions test (small by construction:
conditions name few of them).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from . import _conditions as C
from . import _model as M
from ._errors import Diagnostic, Severity
from ._fact import FactView
from ._faithfulness import faithfulness_diagnostics
from ._loader import pack_references
from ._sentences import coverage_diagnostics
from ._yamlsrc import Located, PathKey

MAX_COMBINATIONS = 4096
MAX_WORK = 5_000_000
"""Combinations × items the applicability analyses may visit: about ten seconds here."""

# Rough calendar length of a window, in days, to compare windows in different units.
_DAYS_PER = {"working_days": 7 / 5, "days": 1.0, "months": 30.4}


class _Item:
    """A rule, chain or lifecycle with where it stands in the file."""

    def __init__(self, model: Any, path: PathKey, section: str):
        self.model = model
        self.path = path
        self.section = section
        self.id: str = model.id
        self.overrides: set[str] = set(model.overrides)


def check_pack(
    model: M.PackModel,
    located: Located,
    *,
    assumptions: bool = False,
    pack_dir: Path | None = None,
) -> list[Diagnostic]:
    """Every finding about a loaded pack, sorted by position. With ``pack_dir``, quotes and
    bases are also checked against the pack's document."""
    checker = _Checker(model, located)
    found = list(checker.run())
    if pack_dir is not None:
        found += faithfulness_diagnostics(model, located, pack_dir)
        found += coverage_diagnostics(model, located, pack_dir)
    if assumptions:
        found += [
            located.diagnostic(
                ("assumptions", i, "id"),
                "assumption",
                f"`{a.id}`: {a.about} — reading: {a.reading}",
                severity="info",
            )
            for i, a in enumerate(model.assumptions)
        ]
    return sorted(found, key=Diagnostic.sort_key)


class _Checker:
    def __init__(self, model: M.PackModel, located: Located):
        self.model = model
        self.located = located
        self.tiers = {r.id: r.tier for r in model.roles}
        self.rules = [_Item(r, ("rules", i), "rules") for i, r in enumerate(model.rules)]
        self.chains = [
            _Item(c, ("closure_chains", i), "closure_chains")
            for i, c in enumerate(model.closure_chains)
        ]
        self.lifecycles = [
            _Item(c, ("lifecycles", i), "lifecycles") for i, c in enumerate(model.lifecycles)
        ]
        vocab = model.vocabulary
        # Sources (categories) that no condition names behave alike: one of them stands for
        # all, so the analysis grows with what the conditions name, not with the vocabulary
        # (400 sources × 400 categories would otherwise be 320,000 keys to analyse).
        named = {
            what: {name for field, name, _ in pack_references(model) if field == what}
            for what in ("source", "category")
        }
        self.alike: dict[tuple[str, str], list[str]] = {}
        """(field, representative) → the values it stands for, itself first."""

        def values(what: str, terms: list[M.Term]) -> list[str]:
            out = []
            for term in terms:
                if term.id in named[what]:
                    out.append(term.id)
                    continue
                unnamed = self.alike.setdefault((what, ""), [])
                if not unnamed:
                    out.append(term.id)
                unnamed.append(term.id)
            if self.alike.get((what, "")):
                members = self.alike.pop((what, ""))
                self.alike[(what, members[0])] = members
            return out

        sources, categories = values("source", vocab.sources), values("category", vocab.categories)
        self.keys: list[C.StaticKey] = [
            (kind.id, source, category, any_flag)
            for kind in vocab.kinds
            for source in (sources if "source" in kind.requires else [None, *sources])
            for category in (categories if "category" in kind.requires else [None, *categories])
            for any_flag in ((False, True) if vocab.flags else (False,))
        ]

    def diag(
        self,
        path: PathKey,
        code: str,
        message: str,
        severity: Severity = "warning",
        help: str | None = None,
    ) -> Diagnostic:
        return self.located.diagnostic(path, code, message, severity=severity, help=help)

    def run(self) -> Iterator[Diagnostic]:
        work = len(self.keys) * (len(self.rules) + len(self.chains) + len(self.lifecycles))
        if work > MAX_WORK:
            # Every condition names its own source and category: the analysis would take
            # hours. Say so, and check what does not depend on the combinations.
            yield self.diag(
                ("vocabulary",),
                "check_limited",
                f"{len(self.keys):,} kind × source × category combinations, each against "
                f"{work // max(len(self.keys), 1):,} rules, chains and lifecycles, are too many "
                "to analyse: gaps, conflicts and unreachable rules were not checked",
            )
            yield from self._window_order()
            yield from self._unused()
            return
        yield from self._gaps()
        yield from self._responsibility_gaps()
        yield from self._conflicts(
            self.chains, "conflict_chain", "closure chains", lambda a, b: True
        )
        yield from self._conflicts(
            self.lifecycles, "conflict_lifecycle", "lifecycles", lambda a, b: True
        )
        yield from self._conflicts(
            [r for r in self.rules if r.model.responsible is not None],
            "conflict_responsible",
            "rules naming a responsible role",
            lambda a, b: a.model.responsible != b.model.responsible,
        )
        yield from self._never_apply()
        yield from self._window_order()
        yield from self._chain_tiers()
        yield from self._unused()

    # -- applicability ------------------------------------------------------------------

    def _residuals(self, items: list[_Item], key: C.StaticKey) -> list[tuple[_Item, Any]]:
        out = []
        for item in items:
            residual = C.specialise(item.model.when, key)
            if residual is not False:
                out.append((item, residual))
        return out

    def _gaps(self) -> Iterator[Diagnostic]:
        """A kind × source × category that no closure chain (or lifecycle) covers; one
        diagnostic per kind, however many combinations it leaves uncovered."""
        if not self.chains and not self.lifecycles:
            return
        uncovered: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
        for key in self.keys:
            kind = key[0]
            spec = next(k for k in self.model.vocabulary.kinds if k.id == kind)
            if not {"source", "category"} <= set(spec.requires):
                continue
            covering = self._residuals(self.chains, key) + self._residuals(self.lifecycles, key)
            if covering or key[1:3] in uncovered[kind]:
                continue
            uncovered[kind].append(key[1:3])
        kinds = [k.id for k in self.model.vocabulary.kinds]
        for kind, pairs in uncovered.items():
            if not pairs:
                continue
            count = sum(
                len(self.alike.get(("source", str(s)), [s]))
                * len(self.alike.get(("category", str(c)), [c]))
                for s, c in pairs
            )
            if count == 1:
                message = (
                    f"no closure chain or lifecycle covers {kind} × source "
                    f"`{pairs[0][0]}` × category `{pairs[0][1]}`"
                )
            else:
                shown = ", ".join(f"`{s}` × `{c}`" for s, c in pairs[:5])
                message = (
                    f"no closure chain or lifecycle covers {count:,} source × category "
                    f"combinations of {kind}, e.g. {shown}"
                )
            yield self.diag(("vocabulary", "kinds", kinds.index(kind), "id"), "gap", message)

    def _responsibility_gaps(self) -> Iterator[Diagnostic]:
        """A kind × source × category (with flags, events, sector and attrs as its conditions
        test them) where no applying rule names the responsible role or says why not."""
        declaring = {r.id for r in self.rules if r.model.responsible is not None}
        # Rules that can displace a declaring one matter too: overriding drops its answer.
        relevant = [r for r in self.rules if r.id in declaring or r.overrides & declaring]
        all_flags = {t.id for t in self.model.vocabulary.flags}
        # A source or category that a kind may omit and no relevant condition tests cannot
        # change the answer: "no source" stands for every source then.
        tested = {f for r in relevant for f, _, _ in C.references(r.model.when)}
        requires = {k.id: set(k.requires) for k in self.model.vocabulary.kinds}
        reported: set[tuple[str, str | None, str | None]] = set()
        for key in self.keys:
            if key[:3] in reported or any(
                value is not None and name not in requires[key[0]] and name not in tested
                for name, value in (("source", key[1]), ("category", key[2]))
            ):
                continue
            applying = self._residuals(relevant, key)
            counter = self._undeclared_world(applying, declaring, key, all_flags)
            if counter is None:
                continue
            reported.add(key[:3])
            yield self.diag(
                self._key_path(key),
                "responsibility_gap",
                f"no rule names who is responsible for {self._describe_terms(key, tested)} "
                f"or says why not (`responsible: {{unspecified: …}}` or "
                f"`{{needs_attr: …}}`), e.g. {_fact_text(key, counter)}",
            )

    def _undeclared_world(
        self,
        applying: list[tuple[_Item, Any]],
        declaring: set[str],
        key: C.StaticKey,
        all_flags: set[str],
    ) -> FactView | None:
        """A fact (flags, events, sector, attrs) of this key that no declaring rule decides."""
        conds = [residual for _, residual in applying]
        worlds = _worlds(conds)
        if worlds is None:
            return None  # too many combinations to try; not reported rather than guessed
        atoms = _atoms(conds)
        spare = all_flags - set(atoms["flags"])
        # An attr value no condition names exists only if the attr allows one.
        closed = {
            a.id
            for a in self.model.vocabulary.attrs
            if a.values is not None and set(a.values) <= atoms["attrs"].get(a.id, set())
        }
        for world in worlds:
            if key[3] and not world.flags and not spare:
                continue  # some flag is set, yet every flag is among those tested: impossible
            if any(isinstance(v, _Other) for a, v in world.attrs.items() if a in closed):
                continue
            held = [item for item, residual in applying if _holds(residual, world)]
            displaced = {target for item in held for target in item.overrides}
            if any(i.id in declaring and i.id not in displaced for i in held):
                continue
            flags = world.flags or (frozenset({min(spare)}) if key[3] else frozenset())
            attrs = {a: self._untested_value(a, v, atoms) for a, v in world.attrs.items()}
            return FactView(None, key[0], key[1], key[2], world.sector, flags, world.events, attrs)
        return None

    def _untested_value(self, attr: str, value: Any, atoms: dict[str, Any]) -> Any:
        """A declared value in place of "a value no test names", where there is one."""
        if not isinstance(value, _Other):
            return value
        spec = next(a for a in self.model.vocabulary.attrs if a.id == attr)
        untested = [v for v in spec.values or () if v not in atoms["attrs"][attr]]
        return untested[0] if untested else value

    def _key_path(self, key: C.StaticKey) -> PathKey:
        vocab = self.model.vocabulary
        if key[1] is not None:
            return ("vocabulary", "sources", [t.id for t in vocab.sources].index(key[1]), "id")
        if key[2] is not None:
            index = [t.id for t in vocab.categories].index(key[2])
            return ("vocabulary", "categories", index, "id")
        return ("vocabulary", "kinds", [k.id for k in vocab.kinds].index(key[0]), "id")

    def _describe_terms(self, key: C.StaticKey, tested: set[str]) -> str:
        vocab = self.model.vocabulary
        names = {
            "source": {t.id: t.name for t in vocab.sources},
            "category": {t.id: t.name for t in vocab.categories},
        }
        kind_name = next(k.name for k in vocab.kinds if k.id == key[0])
        parts = [f"{key[0]} ({kind_name})"]
        for field, value in (("source", key[1]), ("category", key[2])):
            if value is not None:
                part = f"{field} `{value}` ({names[field][value]})"
                others = self.alike.get((field, value), [value])[1:]
                if others:  # it stands for every value no condition names
                    part += f" (or {', '.join(f'`{o}`' for o in others[:5])}"
                    part += f" and {len(others) - 5} more)" if len(others) > 5 else ")"
                parts.append(part)
            else:
                parts.append(f"{'no' if field in tested else 'any'} {field}")
        return " × ".join(parts)

    def _conflicts(
        self, items: list[_Item], code: str, what: str, differ: Any
    ) -> Iterator[Diagnostic]:
        """Two items that can apply to one fact, decide differently, and have no precedence."""
        reported: set[tuple[str, str]] = set()
        for key in self.keys:
            applying = self._residuals(items, key)
            for (a, ra), (b, rb) in itertools.combinations(applying, 2):
                pair = (a.id, b.id)
                if pair in reported or a.id in b.overrides or b.id in a.overrides:
                    continue
                if not differ(a, b) or not _can_both_hold(ra, rb):
                    continue
                reported.add(pair)
                yield self.diag(
                    (*b.path, "id"),
                    code,
                    f"`{a.id}` and `{b.id}` can both apply (e.g. to {_describe_key(key)}) "
                    f"and no `overrides` ranks them",
                    severity="error",
                    help=f"if the text makes `{b.id}` the more specific provision, add "
                    f"`overrides: [{a.id}]` to it (or `overrides: [{b.id}]` to `{a.id}`); "
                    "if they cannot meet, make their `when` conditions exclusive",
                )

    def _never_apply(self) -> Iterator[Diagnostic]:
        """Rules, chains and lifecycles no fact can reach, or that are always displaced."""
        for items in (self.rules, self.chains, self.lifecycles):
            for item in items:
                reachable = False
                displaced_everywhere = True
                for key in self.keys:
                    residual = C.specialise(item.model.when, key)
                    if residual is False or not _satisfiable(residual):
                        continue
                    reachable = True
                    if not self._always_displaced(item, items, key, residual):
                        displaced_everywhere = False
                        break
                if not reachable:
                    yield self.diag(
                        (*item.path, "id"),
                        "never_applies",
                        f"`{item.id}` applies to no fact the vocabulary allows",
                    )
                elif displaced_everywhere:
                    yield self.diag(
                        (*item.path, "id"),
                        "shadowed",
                        f"`{item.id}` never takes effect: wherever it applies, an "
                        "item that overrides it applies too",
                    )

    def _always_displaced(
        self, item: _Item, items: list[_Item], key: C.StaticKey, residual: Any
    ) -> bool:
        winners = [other for other in items if item.id in other.overrides]
        for other in winners:
            other_residual = C.specialise(other.model.when, key)
            if other_residual is True or (
                other_residual is not False and _implies(residual, other_residual)
            ):
                return True
        return False

    # -- windows and chains ---------------------------------------------------------------

    def _window_order(self) -> Iterator[Diagnostic]:
        """Within a rule, a later obligation on the same trigger due before an earlier one."""
        for rule in self.rules:
            obligations = rule.model.obligations
            for (_, a), (j, b) in itertools.combinations(enumerate(obligations), 2):
                if a.window is None or b.window is None or a.trigger != b.trigger:
                    continue
                if _length(b.window) < _length(a.window):
                    yield self.diag(
                        (*rule.path, "obligations", j, "window"),
                        "window_order",
                        f"`{b.id}` is due before `{a.id}`, which comes first, on the same "
                        f"trigger (`{_window_text(b.window)}` < `{_window_text(a.window)}`)",
                    )

    def _chain_tiers(self) -> Iterator[Diagnostic]:
        for chain in self.chains:
            ranks = [M.TIER_RANK[self.tiers[s.actor]] for s in chain.model.steps]
            for k in range(1, len(ranks)):
                if ranks[k] < ranks[k - 1]:
                    step = chain.model.steps[k]
                    yield self.diag(
                        (*chain.path, "steps", k, "actor"),
                        "chain_descends",
                        f"step `{step.id}` ({self.tiers[step.actor]}) comes after a "
                        f"{self.tiers[chain.model.steps[k - 1].actor]} step: a closure chain "
                        "climbs the tiers",
                        severity="error",
                    )
            last_rank = ranks[-1]
            for key in self.keys:
                if not self._residuals([chain], key):
                    continue
                naming = [r for r in self.rules if r.model.responsible_role]
                for rule, _ in self._residuals(naming, key):
                    tier = self.tiers[rule.model.responsible_role]
                    if M.TIER_RANK[tier] > last_rank:
                        yield self.diag(
                            (*chain.path, "steps", len(ranks) - 1, "actor"),
                            "chain_below_responsible",
                            f"`{chain.id}` closes at the {M.TIERS[last_rank]} tier, below "
                            f"the {tier} body `{rule.model.responsible_role}` that "
                            f"`{rule.id}` makes responsible",
                        )
                        return

    # -- vocabulary -----------------------------------------------------------------------

    def _unused(self) -> Iterator[Diagnostic]:
        used = _used_names(self.model)
        vocab = self.model.vocabulary
        # Sectors and attrs describe a fact for the ledger; flags and events exist to be
        # decided on, so one that nothing uses is a likely mistake.
        sections: list[tuple[str, str, list[Any]]] = [
            ("flag", "flags", vocab.flags),
            ("event", "events", vocab.events),
        ]
        for kind, section, entries in sections:
            for i, entry in enumerate(entries):
                if entry.id not in used[kind] and not entry.informative:
                    yield self.diag(
                        ("vocabulary", section, i, "id"),
                        f"unused_{kind}",
                        f"{kind} `{entry.id}` is declared but no rule, chain, "
                        "lifecycle or duty uses it",
                    )
        for i, role in enumerate(self.model.roles):
            if role.id not in used["role"]:
                yield self.diag(
                    ("roles", i, "id"),
                    "unused_role",
                    f"role `{role.id}` is declared but nothing names it",
                )
        for i, assumption in enumerate(self.model.assumptions):
            if assumption.id not in used["assumption"] and not assumption.rows:
                yield self.diag(
                    ("assumptions", i, "id"),
                    "unused_assumption",
                    f"assumption `{assumption.id}` is cited by nothing and names no inventory rows",
                )


def _used_names(model: M.PackModel) -> dict[str, set[str]]:
    used: dict[str, set[str]] = defaultdict(set)
    for what, name, _ in pack_references(model):
        used["attr" if what == "date_attr" else what].add(name)
    return used


# -- small satisfiability over the atoms a residual condition tests --------------------------


def _atoms(conds: Iterable[Any]) -> dict[str, Any]:
    flags: set[str] = set()
    events: set[str] = set()
    sectors: set[str | None] = {None}
    attrs: dict[str, set[object]] = {}
    for cond in conds:
        if cond is True or cond is False:
            continue
        for field, name, _ in C.references(cond):
            if field == "flag":
                flags.add(name)
            elif field == "event":
                events.add(name)
            elif field == "sector":
                sectors.add(name)
        for test, _ in C.attr_tests(cond):
            values = attrs.setdefault(test.id, {None})
            if test.equals is not None:
                values.add(test.equals)
            values.update(test.in_ or [])
            values.add(_Other())
    return {
        "flags": sorted(flags),
        "events": sorted(events),
        "sectors": list(sectors),
        "attrs": attrs,
    }


class _Other:
    """An attr value that no test names."""


def _worlds(conds: list[Any]) -> Iterator[FactView] | None:
    atoms = _atoms(conds)
    attr_ids = sorted(atoms["attrs"])
    choices: list[list[Any]] = [[False, True]] * (len(atoms["flags"]) + len(atoms["events"]))
    choices += [atoms["sectors"]] + [list(atoms["attrs"][a]) for a in attr_ids]
    total = 1
    for options in choices:
        total *= len(options)
    if total > MAX_COMBINATIONS:
        return None

    def generate() -> Iterator[FactView]:
        n_flags, n_events = len(atoms["flags"]), len(atoms["events"])
        for combo in itertools.product(*choices):
            flags = frozenset(
                f for f, on in zip(atoms["flags"], combo[:n_flags], strict=True) if on
            )
            events = {
                e: date(2024, 1, 1)
                for e, on in zip(atoms["events"], combo[n_flags : n_flags + n_events], strict=True)
                if on
            }
            sector = combo[n_flags + n_events]
            attrs = {
                a: v
                for a, v in zip(attr_ids, combo[n_flags + n_events + 1 :], strict=True)
                if v is not None
            }
            yield FactView(None, "", None, None, sector, flags, events, attrs)

    return generate()


def _holds(cond: Any, world: FactView) -> bool:
    return cond is True or (cond is not False and C.compile_predicate(cond)(world))


def _satisfiable(cond: Any) -> bool:
    if cond is True:
        return True
    worlds = _worlds([cond])
    return True if worlds is None else any(_holds(cond, w) for w in worlds)


def _can_both_hold(a: Any, b: Any) -> bool:
    worlds = _worlds([a, b])
    return True if worlds is None else any(_holds(a, w) and _holds(b, w) for w in worlds)


def _implies(a: Any, b: Any) -> bool:
    worlds = _worlds([a, b])
    return False if worlds is None else all(_holds(b, w) for w in worlds if _holds(a, w))


def _length(window: M.Window) -> float:
    for unit, factor in _DAYS_PER.items():
        value = getattr(window, unit)
        if value is not None:
            return float(value) * factor
    return 0.0


def _window_text(window: M.Window) -> str:
    for unit in _DAYS_PER:
        value = getattr(window, unit)
        if value is not None:
            return f"{unit}: {value}"
    return "?"


def _fact_text(key: C.StaticKey, fact: FactView) -> str:
    """A counter-example fact in the shape a case file writes it."""
    parts = [f"kind: {key[0]}"]
    parts += [f"{name}: {value}" for name, value in (("source", key[1]), ("category", key[2]))]
    if fact.sector is not None:
        parts.append(f"sector: {fact.sector}")
    if fact.flags:
        parts.append(f"flags: [{', '.join(sorted(fact.flags))}]")
    if fact.events:
        dated = ", ".join(f"{e}: {d.isoformat()}" for e, d in sorted(fact.events.items()))
        parts.append(f"events: {{{dated}}}")
    if fact.attrs:
        attrs = ", ".join(
            f"{a}: {'<another value>' if isinstance(v, _Other) else v}"
            for a, v in sorted(fact.attrs.items())
        )
        parts.append(f"attrs: {{{attrs}}}")
    return "{" + ", ".join(p for p in parts if not p.endswith(": None")) + "}"


def _describe_key(key: C.StaticKey) -> str:
    parts = [key[0]] + [
        f"{name} {value}"
        for name, value in (("source", key[1]), ("category", key[2]))
        if value is not None
    ]
    return " ".join(parts)
