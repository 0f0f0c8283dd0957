"""Reading a pack directory into a checked PackModel, reporting every error at once.

Three passes, each only if the one before succeeded for the file: YAML (syntax, duplicate
keys), shape (the pydantic models; their error paths are mapped back to YAML positions), and
references (every role, event, flag, source and id a rule names must be declared). Each
error is a Diagnostic; the caller gets all of them together in one PackError.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import _conditions as C
from . import _model as M
from ._calendar import occurrences
from ._errors import Diagnostic, PackError, did_you_mean, shown
from ._yamlsrc import Located, PathKey, YamlProblem, load_file

PACK_FILE = "pack.yaml"


def _all_field_names() -> frozenset[str]:
    names: set[str] = set()
    seen: set[type] = set()
    stack: list[type] = [
        M.PackModel,
        C.AllOf,
        C.AnyOf,
        C.Not,
        C.KindIs,
        C.SourceIs,
        C.CategoryIs,
        C.SectorIs,
        C.FlagSet,
        C.EventPresent,
        C.AttrIs,
        C.AttrTest,
    ]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            names.add(info.alias or name)
            for arg in _types_in(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    stack.append(arg)
    return frozenset(names)


def _types_in(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _types_in(arg)


_FIELD_NAMES = _all_field_names()


def _places() -> dict[tuple[str, ...], frozenset[str]]:
    """Each place in a pack file where a model stands (``rules[].obligations[]``) and the keys
    valid there: a suggestion for an unknown key comes from these only, and a key valid
    elsewhere is told where it belongs."""
    places: dict[tuple[str, ...], frozenset[str]] = {}

    def visit(model: type[BaseModel], place: tuple[str, ...]) -> None:
        if place in places:
            return
        places[place] = frozenset(info.alias or name for name, info in model.model_fields.items())
        for name, info in model.model_fields.items():
            types = list(_types_in(info.annotation))
            listed = any(getattr(t, "__origin__", None) in (list, tuple) for t in types)
            for sub in types:
                # Inside a condition the keys depend on which form it takes: not a place.
                model_here = isinstance(sub, type) and issubclass(sub, BaseModel)
                if model_here and sub.__module__ != C.__name__:
                    visit(sub, (*place, info.alias or name, *(("[]",) if listed else ())))

    visit(M.PackModel, ())
    return places


_PLACES = _places()


def _place_of(path: PathKey) -> tuple[str, ...]:
    return tuple("[]" if isinstance(part, int) else str(part) for part in path)


def _show_place(place: tuple[str, ...]) -> str:
    return "".join(part if part == "[]" else f".{part}" for part in place).lstrip(".") or "top"


def _unknown_key_help(name: str, parent: PathKey) -> str | None:
    valid_here = _PLACES.get(_place_of(parent))
    if valid_here is None:  # inside a condition, or a case file: any key of the format
        return did_you_mean(name, _FIELD_NAMES)
    elsewhere = sorted(_show_place(place) for place, keys in _PLACES.items() if name in keys)
    if elsewhere:
        return f"`{name}` belongs in `{'`, `'.join(elsewhere[:3])}`: check its indentation"
    return did_you_mean(name, valid_here) or (
        f"the keys here are {', '.join(f'`{k}`' for k in sorted(valid_here))}"
    )


def _named_term(data: Any, value: object) -> str | None:
    """The id of the role or vocabulary term whose Chinese ``name`` is ``value``."""
    if not isinstance(value, str) or not isinstance(data, dict):
        return None
    terms: list[tuple[str, Any]] = [("role", item) for item in data.get("roles") or []]
    vocabulary = data.get("vocabulary")
    if isinstance(vocabulary, dict):
        for section, items in vocabulary.items():
            if isinstance(items, list):
                terms += [(str(section).rstrip("s"), item) for item in items]
    named = [
        (what, item["id"], item["name"])
        for what, item in terms
        if isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and isinstance(item.get("name"), str)
    ]
    for what, term_id, name in named:
        if name == value:
            return f"`{value}` is the name of {what} `{term_id}`: write its id, `{term_id}`"
    partly = [(what, term_id, name) for what, term_id, name in named if value in name]
    if len(partly) == 1:
        what, term_id, name = partly[0]
        return f"did you mean {what} `{term_id}` ({name})? write its id"
    return None


def _type_help(value: object) -> str | None:
    if isinstance(value, bool):
        return (
            "YAML reads `true`/`false`, `yes`/`no` and `on`/`off` as booleans, not numbers: "
            "write the number"
        )
    if isinstance(value, str) and value.strip().isdigit():
        return f'`"{value}"` is quoted, so it is text: write {value.strip()} without quotes'
    return None


def _yaml_path(data: Any, loc: tuple[int | str, ...]) -> PathKey:
    """Follow a pydantic error location through the data, skipping union tags."""
    path: list[str | int] = []
    node: Any = data
    for part in loc:
        in_mapping = isinstance(node, dict) and part in node
        in_sequence = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_sequence:
            path.append(part)
            node = node[part]
    return tuple(path)


_INVALID_VALUE = frozenset(
    {
        "value_error",
        "literal_error",
        "string_pattern_mismatch",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
        "enum",
        "date_from_datetime_inexact",
    }
)


def shape_diagnostics(
    located: Located, exc: ValidationError, field_names: frozenset[str] | None = None
) -> list[Diagnostic]:
    """Pydantic errors as positioned diagnostics in our wording (packs and case files)."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _yaml_path(located.data, loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            name = str(loc[-1])
            hint = (
                did_you_mean(name, field_names)
                if field_names is not None
                else _unknown_key_help(name, path[:-1])
            )
            out.append(
                located.diagnostic(
                    path, "unknown_key", f"unknown key `{name}`", key=True, help=hint
                )
            )
            continue
        if kind == "missing":
            name = str(loc[-1])
            out.append(located.diagnostic(path, "missing_key", f"missing required key `{name}`"))
            continue
        message = err["msg"].removeprefix("Value error, ")
        message = message[0].lower() + message[1:]
        where = ".".join(str(p) for p in path)
        if kind == "condition_shape":
            code = "invalid_condition"
        else:
            code = "invalid_value" if kind in _INVALID_VALUE else "wrong_type"
        value = err.get("input")
        help = None
        if kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == M.ID_PATTERN:
            message = f"`{value}` is not an id (ids are lower_snake_case: a-z, 0-9 and _)"
            help = _named_term(located.data, value)
        if kind in ("int_type", "int_parsing"):
            message, help = f"`{loc[-1]}` takes a whole number", _type_help(value)
        elif kind == "bool_type":
            message = f"`{loc[-1]}` takes `true` or `false`"
        out.append(
            located.diagnostic(
                path, code, f"{message} at `{where}`" if where else message, help=help
            )
        )
    return out


def read_pack(
    directory: Path, display_root: Path | None = None, pack_id: str | None = None
) -> tuple[M.PackModel, Located]:
    """Load and check ``directory/pack.yaml``; raise PackError with every diagnostic.
    ``pack_id``: the id the pack must have (a version's directory is named by the version,
    not the pack)."""
    pack_file = directory / PACK_FILE
    display = _display(pack_file, display_root)
    if not directory.is_dir():
        raise PackError([Diagnostic("not_a_pack", f"`{directory}` is not a directory", display)])
    if not pack_file.is_file():
        raise PackError(
            [Diagnostic("no_pack_file", f"the directory has no `{PACK_FILE}`", display)]
        )
    try:
        located = load_file(pack_file, display)
    except YamlProblem as problem:
        raise PackError([problem.diagnostic]) from None
    if not isinstance(located.data, dict):
        raise PackError(
            [located.diagnostic((), "not_a_mapping", "a pack file is a YAML mapping of sections")]
        )
    try:
        model = M.PackModel.model_validate(located.data)
    except ValidationError as exc:
        raise PackError(shape_diagnostics(located, exc)) from None
    problems = list(_reference_diagnostics(model, located, directory))
    if model.id != (pack_id or directory.name):
        problems.append(
            located.diagnostic(
                ("id",),
                "pack_id_mismatch",
                f"the pack id `{model.id}` differs from its directory "
                f"`{pack_id or directory.name}`",
            )
        )
    if problems:
        raise PackError(problems)
    return model, located


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)


def _reference_diagnostics(
    pack: M.PackModel, located: Located, directory: Path
) -> Iterator[Diagnostic]:
    vocab = pack.vocabulary
    declared: dict[str, set[str]] = {
        "kind": {k.id for k in vocab.kinds},
        "source": {t.id for t in vocab.sources},
        "category": {t.id for t in vocab.categories},
        "sector": {t.id for t in vocab.sectors},
        "flag": {t.id for t in vocab.flags},
        "event": {t.id for t in vocab.events},
        "attr": {a.id for a in vocab.attrs},
        "role": {r.id for r in pack.roles},
        "assumption": {a.id for a in pack.assumptions},
        "rule": {r.id for r in pack.rules},
        "chain": {c.id for c in pack.closure_chains},
        "lifecycle": {c.id for c in pack.lifecycles},
        "obligation": {o.id for r in pack.rules for o in r.obligations},
    }
    date_attrs = {a.id for a in vocab.attrs if a.type == "date"}

    def date_attr(name: str | None, path: PathKey) -> Iterator[Diagnostic]:
        if name is None:
            return
        if name not in declared["attr"]:
            yield from ref("attr", name, path)
        elif name not in date_attrs:
            yield located.diagnostic(
                path,
                "attr_type_mismatch",
                f"attr `{name}` holds a due date, so its type must be date",
            )

    def ref(kind: str, name: str | None, path: PathKey) -> Iterator[Diagnostic]:
        if name is not None and name not in declared[kind]:
            yield located.diagnostic(
                path,
                f"undeclared_{kind}",
                f"undeclared {kind} `{name}`",
                help=did_you_mean(name, declared[kind]),
            )

    yield from _duplicates(
        located,
        [
            (("vocabulary", section, i, "id"), t.id)
            for section in ("kinds", "sources", "categories", "sectors", "flags", "events", "attrs")
            for i, t in enumerate(getattr(vocab, section))
        ],
        scope_of=lambda path: str(path[1]),
    )
    yield from _duplicates(located, [(("roles", i, "id"), r.id) for i, r in enumerate(pack.roles)])
    yield from _duplicates(
        located, [(("assumptions", i, "id"), a.id) for i, a in enumerate(pack.assumptions)]
    )
    yield from _duplicates(located, list(_decision_ids(pack)))

    try:
        document_found = (directory / pack.metadata.document).is_file()
    except OSError:  # a name too long for the file system is not in the pack either
        document_found = False
    if not document_found:
        yield located.diagnostic(
            ("metadata", "document"),
            "missing_document",
            f"the document file `{shown(pack.metadata.document)}` is not in the pack",
        )

    for kind, name, path in pack_references(pack):
        if kind == "date_attr":
            yield from date_attr(name, path)
        else:
            yield from ref(kind, name, path)
    laid_out: dict[str, int] = {}
    for i, duty in enumerate(pack.recurring):
        base: PathKey = ("recurring", i)
        try:
            count = laid_out.setdefault(duty.rrule, len(occurrences(duty.rrule)))
            if not count:
                yield located.diagnostic(
                    (*base, "rrule"),
                    "invalid_rrule",
                    f"`{duty.rrule}` never occurs in the calendar's span",
                )
            elif sum(laid_out.values()) > MAX_OCCURRENCES:
                # Each rule is at most daily, but thousands of distinct daily rules would
                # still take minutes to lay out: the pack's total is bounded too.
                yield located.diagnostic(
                    (*base, "rrule"),
                    "invalid_rrule",
                    f"the recurring duties up to here fall due on more than {MAX_OCCURRENCES:,} "
                    "dates in all; a pack's duties are a few a month, not every day",
                )
                break
        except (ValueError, TypeError) as exc:
            yield located.diagnostic(
                (*base, "rrule"), "invalid_rrule", f"`{duty.rrule}` is not a recurrence rule: {exc}"
            )
    yield from _escalation_cycles(pack, located)
    yield from _attr_test_values(pack, located)
    yield from _calendar_days_in_span(pack, located)


MAX_OCCURRENCES = 200_000
"""Dates a pack's recurring duties may lay out in all: nine daily duties, or 270 monthly."""


def _calendar_days_in_span(pack: M.PackModel, located: Located) -> Iterator[Diagnostic]:
    """Local days the calendar cannot hold: outside its span they would be dropped silently."""
    from ._calendar import SPAN_END, SPAN_START

    for section in ("extra_holidays", "extra_workdays"):
        for i, day in enumerate(getattr(pack.calendar, section)):
            if not SPAN_START <= day <= SPAN_END:
                yield located.diagnostic(
                    ("calendar", section, i),
                    "invalid_value",
                    f"`{day.isoformat()}` is outside the calendar "
                    f"({SPAN_START.year}–{SPAN_END.year})",
                )


def pack_references(pack: M.PackModel) -> Iterator[tuple[str, str, PathKey]]:
    """Every name the pack refers to: (what it names, the name, where it stands).

    ``what`` is a vocabulary section (kind, source, category, sector, flag, event, attr),
    ``date_attr`` for attrs that hold a due date, role, assumption, rule, chain, lifecycle
    or obligation. The loader checks each is declared; the checker finds declared names
    that nothing refers to.
    """

    def condition(cond: C.Condition | None, base: PathKey) -> Iterator[tuple[str, str, PathKey]]:
        for field, name, path in C.references(cond):
            yield field, name, (*base, *path)

    def named(what: str, name: str | None, path: PathKey) -> Iterator[tuple[str, str, PathKey]]:
        if name is not None:
            yield what, name, path

    def assumptions(ids: list[str], base: PathKey) -> Iterator[tuple[str, str, PathKey]]:
        for j, name in enumerate(ids):
            yield "assumption", name, (*base, "assumptions", j)

    def item(base: PathKey, model: Any, section: str) -> Iterator[tuple[str, str, PathKey]]:
        yield from condition(model.when, (*base, "when"))
        for j, target in enumerate(getattr(model, "overrides", [])):
            yield section, target, (*base, "overrides", j)
        yield from assumptions(model.assumptions, base)

    for i, event in enumerate(pack.metadata.case_starts):
        yield "event", event, ("metadata", "case_starts", i)
    for i, rule in enumerate(pack.rules):
        base: PathKey = ("rules", i)
        yield from item(base, rule, "rule")
        if isinstance(rule.responsible, M.Unassigned):
            needs = rule.responsible.needs_attr
            at: PathKey = (*base, "responsible", "needs_attr")
            for j, attr in enumerate(rule.responsible.attrs):
                yield from named("attr", attr, at if isinstance(needs, str) else (*at, j))
        else:
            yield from named("role", rule.responsible, (*base, "responsible"))
        for k, ob in enumerate(rule.obligations):
            obp: PathKey = (*base, "obligations", k)
            yield from named("role", ob.actor, (*obp, "actor"))
            yield from named("role", ob.recipient, (*obp, "recipient"))
            yield from named("event", ob.done_when, (*obp, "done_when"))
            yield from named("date_attr", ob.due_attr, (*obp, "due_attr"))
            yield from named("date_attr", ob.extended_until, (*obp, "extended_until"))
            if ob.trigger is not None:
                yield from named("event", ob.trigger.event, (*obp, "trigger"))
                yield from named("obligation", ob.trigger.overdue, (*obp, "trigger", "overdue"))
            yield from assumptions(ob.assumptions, obp)
    for i, chain in enumerate(pack.closure_chains):
        base = ("closure_chains", i)
        yield from item(base, chain, "chain")
        yield from named("event", chain.starts_when, (*base, "starts_when"))
        for k, step in enumerate(chain.steps):
            sp: PathKey = (*base, "steps", k)
            yield from named("role", step.actor, (*sp, "actor"))
            yield from named("role", step.recipient, (*sp, "recipient"))
            yield from named("event", step.done_when, (*sp, "done_when"))
            yield from assumptions(step.assumptions, sp)
    for i, lifecycle in enumerate(pack.lifecycles):
        base = ("lifecycles", i)
        yield from item(base, lifecycle, "lifecycle")
        for k, stage in enumerate(lifecycle.stages):
            sp = (*base, "stages", k)
            yield from named("event", stage.entered_when, (*sp, "entered_when"))
            yield from named("role", stage.actor, (*sp, "actor"))
            yield from named("role", stage.recipient, (*sp, "recipient"))
            yield from assumptions(stage.assumptions, sp)
    for i, duty in enumerate(pack.recurring):
        base = ("recurring", i)
        yield from item(base, duty, "duty")
        yield from named("role", duty.actor, (*base, "actor"))
        yield from named("role", duty.recipient, (*base, "recipient"))


def _attr_test_values(pack: M.PackModel, located: Located) -> Iterator[Diagnostic]:
    """An attr test's values must be of the attr's type and among its declared values."""
    specs = {a.id: a for a in pack.vocabulary.attrs}
    python_type = {"string": str, "integer": int, "boolean": bool, "date": date}
    conditions = [(("rules", i, "when"), r.when) for i, r in enumerate(pack.rules)]
    conditions += [
        (("closure_chains", i, "when"), c.when) for i, c in enumerate(pack.closure_chains)
    ]
    conditions += [(("recurring", i, "when"), d.when) for i, d in enumerate(pack.recurring)]
    conditions += [(("lifecycles", i, "when"), c.when) for i, c in enumerate(pack.lifecycles)]
    for base, cond in conditions:
        for test, path in C.attr_tests(cond):
            spec = specs.get(test.id)
            if spec is None:
                continue
            values = [test.equals] if test.equals is not None else list(test.in_ or [])
            key = "equals" if test.equals is not None else "in"
            for i, value in enumerate(values):
                where = (*base, *path, key) if key == "equals" else (*base, *path, key, i)
                wanted = python_type[spec.type]
                if type(value) is not wanted:
                    yield located.diagnostic(
                        where,
                        "attr_type_mismatch",
                        f"`{value}` is not of type {spec.type}, the type of attr `{spec.id}`",
                    )
                elif spec.values is not None and value not in spec.values:
                    yield located.diagnostic(
                        where,
                        "undeclared_attr_value",
                        f"`{value}` is not a declared value of attr `{spec.id}`",
                        help=did_you_mean(str(value), spec.values),
                    )


def _decision_ids(pack: M.PackModel) -> Iterator[tuple[PathKey, str]]:
    """Rules, chains, lifecycles, duties, obligations, steps and stages share one id space:
    they name actions and matched rules."""
    for i, rule in enumerate(pack.rules):
        yield ("rules", i, "id"), rule.id
        for k, ob in enumerate(rule.obligations):
            yield ("rules", i, "obligations", k, "id"), ob.id
    for i, chain in enumerate(pack.closure_chains):
        yield ("closure_chains", i, "id"), chain.id
        for k, step in enumerate(chain.steps):
            yield ("closure_chains", i, "steps", k, "id"), step.id
    for i, lifecycle in enumerate(pack.lifecycles):
        yield ("lifecycles", i, "id"), lifecycle.id
        for k, stage in enumerate(lifecycle.stages):
            yield ("lifecycles", i, "stages", k, "id"), stage.id
    for i, duty in enumerate(pack.recurring):
        yield ("recurring", i, "id"), duty.id


def _duplicates(
    located: Located, items: Iterable[tuple[PathKey, str]], scope_of: Any = None
) -> Iterator[Diagnostic]:
    first: dict[tuple[str, str], PathKey] = {}
    for path, name in items:
        scope = scope_of(path) if scope_of else ""
        key = (scope, name)
        if key in first:
            line, _ = located.position(first[key])
            yield located.diagnostic(
                path, "duplicate_id", f"duplicate id `{name}` (first at line {line})"
            )
        else:
            first[key] = path


def _escalation_cycles(pack: M.PackModel, located: Located) -> Iterator[Diagnostic]:
    after: dict[str, str] = {}
    where: dict[str, PathKey] = {}
    for i, rule in enumerate(pack.rules):
        for k, ob in enumerate(rule.obligations):
            if ob.trigger is not None and ob.trigger.overdue is not None:
                after[ob.id] = ob.trigger.overdue
                where[ob.id] = ("rules", i, "obligations", k, "trigger", "overdue")
    reported: set[str] = set()
    for start in after:
        seen = [start]
        node = after.get(start)
        while node is not None and node not in seen:
            seen.append(node)
            node = after.get(node)
        if node is not None and node == start and not reported.intersection(seen):
            reported.update(seen)
            cycle = " → ".join([*seen, start])
            yield located.diagnostic(
                where[start], "escalation_cycle", f"escalations form a cycle: {cycle}"
            )
