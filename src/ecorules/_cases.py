"""Pack test cases: YAML files under ``policies/<pack>/cases/``, each case named by a note.

A case gives a fact, an ``as_of`` and exactly one expectation: ``want`` (parts of the
decision) or ``want_error`` (the fact is refused, naming a field). A case that expects
nothing is itself an error. Expectations are partial on purpose — a case says what its note
is about — but what it says is compared exactly::

    cases:
      - note: route B plan due 10 working days after transfer, across National Day
        as_of: 2024-10-15
        fact: {source: provincial, category: general, events: {transferred: 2024-09-27}}
        want:
          responsible_tier: township
          actions:
            b_submit_township_plan: {due: 2024-10-16, status: pending}
          absent: [a_submit_county_plan]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ._decision import Decision
from ._errors import Diagnostic, FactError, PackError, did_you_mean
from ._loader import shape_diagnostics
from ._model import PackModel, Tier
from ._yamlsrc import Located, PathKey, YamlProblem, load_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WantAction(_Strict):
    due: date | None = None
    status: Literal["pending", "overdue", "done", "done_late", "scheduled"] | None = None
    actor: str | None = None
    tier: Tier | None = None
    recipient: str | None = None
    basis: str | None = None
    kind: str | None = None
    no_due: bool = Field(default=False, description="assert that the action has no due date")


class Want(_Strict):
    responsible: str | None = None
    responsible_tier: Tier | Literal["none"] | None = None
    closure_chain_id: str | Literal["none"] | None = None
    closed: bool | None = None
    chain: list[str] | None = Field(default=None, description="the chain's step ids, in order")
    chain_done: list[str] | None = Field(default=None, description="exactly the steps done")
    actions: dict[str, WantAction] = Field(default_factory=dict)
    absent: list[str] = Field(default_factory=list, description="action ids that must not appear")
    matched: list[str] = Field(default_factory=list, description="rule ids that must apply")
    not_matched: list[str] = Field(default_factory=list)
    warnings: list[str] | None = Field(default=None, description="exactly these warning codes")
    version: str | None = Field(
        default=None, description="in a pack with versions: the version that decides"
    )

    @model_validator(mode="after")
    def _asserts_something(self) -> Want:
        if not any(getattr(self, name) not in (None, [], {}) for name in type(self).model_fields):
            raise ValueError("`want` asserts nothing")
        return self


class WantError(_Strict):
    field: str = Field(description="the field the FactError names first")
    message_contains: str | None = None


class Case(_Strict):
    note: str = Field(min_length=3)
    as_of: date | str
    fact: dict[str, Any]
    want: Want | None = None
    want_error: WantError | None = None
    official_through: int | None = Field(
        default=None,
        description="the last year of holiday notices the case was written against: later "
        "years are predicted when it runs, whatever notices a newer holidays release carries",
    )

    @model_validator(mode="after")
    def _one_expectation(self) -> Case:
        if (self.want is None) == (self.want_error is None):
            raise ValueError("a case has exactly one of `want`, `want_error`")
        return self


class CaseFile(_Strict):
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    file: str
    line: int

    @property
    def name(self) -> str:
        return f"{Path(self.file).stem}: {self.case.note}"


@dataclass
class CaseResult:
    loaded: LoadedCase
    mismatches: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


_CASE_FIELD_NAMES = {
    name for model in (CaseFile, Case, Want, WantAction, WantError) for name in model.model_fields
}


def load_cases(pack_dir: Path, model: PackModel | None = None) -> list[LoadedCase]:
    """Every case of a pack, in file and document order; PackError for malformed files and,
    given the pack's ``model``, for cases naming ids the pack does not have (such a case
    would pass whatever the pack does: an action that does not exist is always absent)."""
    out: list[LoadedCase] = []
    problems: list[Diagnostic] = []
    for path in sorted((pack_dir / "cases").glob("*.yaml")):
        display = str(path)
        try:
            located = load_file(path, display)
            parsed = CaseFile.model_validate(located.data)
        except YamlProblem as exc:
            problems.append(exc.diagnostic)
            continue
        except ValidationError as exc:
            problems.extend(shape_diagnostics(located, exc, frozenset(_CASE_FIELD_NAMES)))
            continue
        if model is not None:
            problems.extend(_unknown_ids(model, located, parsed))
        for i, case in enumerate(parsed.cases):
            line, _ = located.position(("cases", i))
            out.append(LoadedCase(case, display, line))
    if problems:
        raise PackError(problems)
    return out


PROVISION = "rule, chain, lifecycle or duty"


def _unknown_ids(model: PackModel, located: Located, parsed: CaseFile) -> Iterator[Diagnostic]:
    actions = {ob.id for rule in model.rules for ob in rule.obligations}
    actions |= {step.id for chain in model.closure_chains for step in chain.steps}
    actions |= {stage.id for lifecycle in model.lifecycles for stage in lifecycle.stages}
    actions |= {duty.id for duty in model.recurring}
    steps = {step.id for chain in model.closure_chains for step in chain.steps}
    known = {
        "action": actions,
        # matched_rules names every provision that applied: rules, chains, lifecycles, duties
        PROVISION: {rule.id for rule in model.rules}
        | {chain.id for chain in model.closure_chains}
        | {lifecycle.id for lifecycle in model.lifecycles}
        | {duty.id for duty in model.recurring},
        "closure chain": {chain.id for chain in model.closure_chains} | {"none"},
        "chain step": steps,
        "role": {role.id for role in model.roles},
    }
    for i, case in enumerate(parsed.cases):
        want = case.want
        if want is None:
            continue
        named: list[tuple[PathKey, str, str, bool]] = [
            (("actions", action_id), action_id, "action", True) for action_id in want.actions
        ]
        named += [(("absent", k), v, "action", False) for k, v in enumerate(want.absent)]
        named += [(("matched", k), v, PROVISION, False) for k, v in enumerate(want.matched)]
        named += [(("not_matched", k), v, PROVISION, False) for k, v in enumerate(want.not_matched)]
        for group in ("chain", "chain_done"):
            ids = getattr(want, group) or []
            named += [((group, k), v, "chain step", False) for k, v in enumerate(ids)]
        if want.closure_chain_id is not None:
            named.append((("closure_chain_id",), want.closure_chain_id, "closure chain", False))
        if want.responsible is not None:
            named.append((("responsible",), want.responsible, "role", False))
        for path, name, what, is_key in named:
            if name not in known[what]:
                yield located.diagnostic(
                    ("cases", i, "want", *path),
                    "unknown_id",
                    f"the pack has no {what} `{name}`",
                    key=is_key,
                    help=did_you_mean(name, known[what]),
                )


def run_case(pack: Any, loaded: LoadedCase) -> CaseResult:
    """Evaluate one case and list every way the decision differs from what it wants."""
    case = loaded.case
    result = CaseResult(loaded)
    if case.official_through is not None and case.official_through != (
        pack.calendar.official_through
    ):
        try:
            pack = _with_data_through(pack, case.official_through)
        except ValueError as exc:  # the installed data ends before the case's year
            result.mismatches.append(f"official_through: {exc}; upgrade holidays")
            return result
    try:
        decision = pack.evaluate(case.fact, case.as_of)
    except FactError as exc:
        if case.want_error is None:
            result.mismatches.append(f"unexpected error: {exc}")
        else:
            _check_error(case.want_error, exc, result.mismatches)
        return result
    if case.want_error is not None:
        result.mismatches.append(
            f"expected an error naming `{case.want_error.field}`, got a decision"
        )
        return result
    assert case.want is not None
    _check_want(case.want, decision, result.mismatches)
    return result


@lru_cache(maxsize=8)
def _with_data_through(pack: Any, year: int) -> Any:
    """``pack`` loaded again with the holidays data's notices only up to ``year``: for the
    cases written before a later year's notice was in the data (loaded once per pack and
    year, as a case run has few of them)."""
    from ._pack import load_pack

    return load_pack(
        pack.path, engine=pack.engine, calendar_notices=pack.notices, official_through=year
    )


def _check_error(want: WantError, exc: FactError, out: list[str]) -> None:
    fields = [p.field for p in exc.problems]
    if want.field not in fields:
        out.append(f"error fields: want `{want.field}`, got {fields}")
    if want.message_contains and want.message_contains not in str(exc):
        out.append(f"error message lacks `{want.message_contains}`: {exc}")


def _differ(out: list[str], what: str, want: object, got: object) -> None:
    if want != got:
        out.append(f"{what}: want {_show(want)}, got {_show(got)}")


def _show(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if value is not None else "none"


def _check_want(want: Want, d: Decision, out: list[str]) -> None:
    if want.version is not None:
        _differ(out, "version", want.version, d.version)
    # Scalar expectations; "none" in a case means the decision leaves the value empty.
    for name in ("responsible", "responsible_tier", "closure_chain_id", "closed"):
        wanted = getattr(want, name)
        if wanted is not None:
            _differ(out, name, None if wanted == "none" else wanted, getattr(d, name))
    if want.chain is not None:
        _differ(out, "chain", want.chain, [s.id for s in d.closure_chain])
    if want.chain_done is not None:
        _differ(out, "chain_done", want.chain_done, [s.id for s in d.closure_chain if s.done])
    by_id = {a.id: a for a in d.actions}
    for action_id, expected in want.actions.items():
        got = by_id.get(action_id)
        if got is None:
            out.append(f"action `{action_id}`: missing (actions: {', '.join(by_id) or 'none'})")
            continue
        for name in ("due", "status", "actor", "tier", "recipient", "basis", "kind"):
            wanted = getattr(expected, name)
            if wanted is not None:
                _differ(out, f"action `{action_id}` {name}", wanted, getattr(got, name))
        if expected.no_due and got.due is not None:
            out.append(f"action `{action_id}` due: want none, got {got.due.isoformat()}")
    for action_id in want.absent:
        if action_id in by_id:
            out.append(f"action `{action_id}`: want absent, got {by_id[action_id].status}")
    for rule_id in want.matched:
        if rule_id not in d.matched_rules:
            out.append(f"rule `{rule_id}`: want matched, matched were {list(d.matched_rules)}")
    for rule_id in want.not_matched:
        if rule_id in d.matched_rules:
            out.append(f"rule `{rule_id}`: want not matched")
    if want.warnings is not None:
        _differ(out, "warnings", sorted(want.warnings), sorted(d.warning_codes))


def coverage(pack: Any, loaded: list[LoadedCase]) -> tuple[set[str], set[str]]:
    """(exercised, declared): the rules, chains, lifecycles, duties and obligations that the
    pack's `want` cases reach, against all the pack declares."""
    model = pack.model
    declared = {r.id for r in model.rules} | {c.id for c in model.closure_chains}
    declared |= {lc.id for lc in model.lifecycles} | {d.id for d in model.recurring}
    declared |= {ob.id for r in model.rules for ob in r.obligations}
    exercised: set[str] = set()
    for item in loaded:
        if item.case.want is None:
            continue
        try:
            decision = pack.evaluate(item.case.fact, item.case.as_of)
        except FactError:
            continue
        exercised.update(decision.matched_rules)
        exercised.update(a.id for a in decision.actions)
    return exercised & declared, declared
