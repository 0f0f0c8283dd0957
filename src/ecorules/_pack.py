"""Finding, loading and holding packs: the host's entry point.

Bundled packs live in ``policies/`` at the top of the repository; the wheel carries them
inside the package as ``ecorules/policies``. A name finds a bundled pack; a path finds any
pack directory, so jurisdictions can keep their packs outside the library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import _model as M
from ._calendar import CalendarNotice, WorkingCalendar, build_calendar, check_official_through
from ._decision import CalendarIdentity, Decision
from ._engine import CompiledPack
from ._errors import (
    BatchError,
    Diagnostic,
    FactError,
    PackError,
    UnknownPackError,
    did_you_mean,
    shown,
)
from ._fact import Fact, parse_as_of, read_fact
from ._ledger import LedgerRow, refusal
from ._loader import PACK_FILE, read_pack
from ._notices import NoticeSource, calendar_identity, resolve_notices
from ._report import RefusedFact, Report, build_report

if TYPE_CHECKING:
    from ._diff import Comparison
from ._revision import decision_seed, pack_revision
from ._versions import VERSIONS_DIR, VersionOn, choose, is_versioned, version_dirs
from ._yamlsrc import Located

Engine = Literal["native", "durable"]
ENGINES: tuple[Engine, ...] = ("native", "durable")


@cache
def policies_dir() -> Path:
    """Where the bundled packs are: inside the installed package, or the checkout's root."""
    inside = Path(__file__).resolve().parent / "policies"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parents[2] / "policies"


def bundled_names() -> list[str]:
    root = policies_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / PACK_FILE).is_file() or is_versioned(p))


@dataclass(frozen=True)
class PackInfo:
    """A bundled pack as ``ecorules.packs()`` lists it."""

    name: str
    title: str
    jurisdiction: str
    valid_from: date | None
    valid_until: date | None
    document_kind: str


def packs() -> list[PackInfo]:
    """The bundled packs, with their titles and validity."""
    out = []
    for name in bundled_names():
        meta = load_pack(name, calendar_notices=()).model.metadata
        out.append(
            PackInfo(
                name,
                meta.title,
                meta.jurisdiction,
                meta.valid_from,
                meta.valid_until,
                meta.document_kind,
            )
        )
    return out


def resolve_pack_dir(name_or_path: str | Path) -> Path:
    """A bundled pack's directory, or the given directory; UnknownPackError otherwise."""
    text = str(name_or_path)
    candidate = Path(text)
    bundled = bundled_names()
    # A bare name means a bundled pack, even if a directory of that name is nearby: what
    # loads must not depend on the working directory. Write ./name for a local pack.
    looks_like_path = (
        isinstance(name_or_path, Path) or "/" in text or "\\" in text or text in (".", "..")
    )
    if not looks_like_path and text in bundled:
        return policies_dir() / text
    if looks_like_path or candidate.exists():
        return candidate
    hint = did_you_mean(text, bundled)
    raise UnknownPackError(
        [
            Diagnostic(
                "unknown_pack",
                f"no bundled pack or directory named `{text}`",
                text,
                help=(hint + "; " if hint else "") + "bundled packs: " + ", ".join(bundled),
            )
        ]
    )


class Pack:
    """A loaded, checked and compiled policy pack. Immutable; safe to share across threads."""

    def __init__(
        self,
        model: M.PackModel,
        path: Path,
        calendar: WorkingCalendar,
        notices: Sequence[CalendarNotice] = (),
        located: Located | None = None,
        engine: Engine = "native",
        calendar_identity: CalendarIdentity | None = None,
        revision: str | None = None,
        *,
        version: str | None = None,
        versions: Sequence[Pack] = (),
    ):
        self.model = model
        """The pack's text; in a pack with versions, the newest version's."""
        self.version = version
        """In one version of a pack with versions, its id (the directory's name)."""
        self._versions = tuple(versions)
        self.engine = engine
        self.located = located
        """Where each part of pack.yaml stood, for tools that report on the pack."""
        self.path = path
        self.calendar = calendar
        self.notices = tuple(notices)
        self.calendar_identity = calendar_identity or _identity(calendar, self.notices)
        """Which calendar the pack's dates come from; every decision carries it."""
        self.revision: str = revision if revision is not None else pack_revision(path)
        """A content hash of the pack directory; every decision carries it (see _revision)."""
        self._compiled = CompiledPack(model, calendar, self.calendar_identity)
        self._compiled.revision = self.revision
        self._compiled.seed = decision_seed(self.revision, self.notices)
        self._compiled.version = version
        self._matcher = None
        if engine == "durable":
            from ._durable import DurableMatcher

            self._matcher = DurableMatcher(model)

    @property
    def name(self) -> str:
        return self.model.id

    @property
    def versions(self) -> tuple[Pack, ...]:
        """Each version of the pack as a Pack of its own, oldest first (by ``valid_from``);
        a pack without versions is its only version."""
        return self._versions or (self,)

    @property
    def case_starts(self) -> tuple[str, ...]:
        """The events that start a case (the newest version's ``metadata.case_starts``)."""
        return tuple(self.versions[-1].model.metadata.case_starts)

    def compare(
        self,
        other: Pack,
        facts: Iterable[Fact | Mapping[str, Any] | LedgerRow] | None = None,
        as_of: date | str | None = None,
        *,
        version_on: VersionOn = "as_of",
    ) -> Comparison:
        """What replacing this pack (the old text) by ``other`` (a revision) changes: the
        structural differences in the author's terms, and, given facts and ``as_of``, each
        fact's decision under both with what moved. Neither pack is changed. Decisions are
        taken by the version in force on ``as_of`` by default (a what-if applies the
        revision to every case); ``version_on="start"`` keeps cases on their start's."""
        from ._diff import compare

        return compare(self, other, facts, as_of, version_on=version_on)

    @property
    def title(self) -> str:
        return self.model.metadata.title

    @property
    def assumptions(self) -> list[M.Assumption]:
        return list(self.model.assumptions)

    def role(self, role_id: str) -> M.Role:
        """The role with this id; in a pack with versions, as the newest version that has
        it declares it (a case decided by an old version may name a role since removed)."""
        for part in reversed(self.versions):
            for role in part.model.roles:
                if role.id == role_id:
                    return role
        raise KeyError(role_id)

    def fact_json_schema(self) -> dict[str, Any]:
        """The JSON Schema of a fact this pack accepts: its kinds, sources, categories,
        sectors, flags, events and attrs as enums, with their Chinese names."""
        from ._schemas import fact_json_schema

        return fact_json_schema(self.model)

    def evaluate(
        self,
        fact: Fact | Mapping[str, Any],
        as_of: date | str,
        *,
        explain: bool = False,
        version_on: VersionOn = "start",
        version: str | None = None,
    ) -> Decision:
        """Decide what must happen next for ``fact`` as of ``as_of``.

        Pure and deterministic: the fact is never mutated. An invalid fact or date raises
        FactError (a ValueError) naming the field, the value and what is allowed. With
        ``explain=True`` the decision carries an ``Explanation``: every rule, chain,
        lifecycle and duty with whether it applied and why, and how each due date was counted.

        In a pack with versions, the version in force on the case's start (the earliest of
        the pack's ``case_starts`` events) decides, else the one in force on ``as_of``;
        ``version_on="as_of"`` takes the one in force on ``as_of``, ``version`` names one.
        The decision names its ``version`` and that version's ``revision``.
        """
        day = parse_as_of(as_of)
        target, in_force_on = self, None
        if self._versions or version is not None or version_on != "start":
            target, in_force_on = choose(self, fact, day, version_on, version)
        decision = target._compiled.evaluate(fact, day, target._matcher, in_force_on)
        if not explain:
            return decision
        from ._explain import explain as explain_decision

        view = target._compiled.check_fact(read_fact(fact))
        events = {k: v for k, v in view.events.items() if v <= decision.as_of}
        return dataclasses.replace(
            decision, explanation=explain_decision(target, view.with_events(events), decision)
        )

    def evaluate_many(
        self,
        facts: Iterable[Fact | Mapping[str, Any] | LedgerRow],
        as_of: date | str,
        *,
        errors: Literal["collect", "raise"] = "collect",
        version_on: VersionOn = "start",
        version: str | None = None,
        workers: int = 1,
    ) -> Iterator[Decision | RefusedFact]:
        """Decide a stream of facts as of one date, lazily: memory stays flat however long
        the ledger. A refused fact does not stop the batch. With ``errors="collect"`` (the
        default) it is yielded in its place as a ``RefusedFact`` (its position from 1, its
        id, the error); with ``errors="raise"`` only decisions are yielded, and a
        ``BatchError`` listing every refused fact is raised once the stream is done.

        The rows of a ledger file (as the command line reads them) carry their file line:
        a refusal names it, and a row that could not be read at all is refused in its place
        like any other. Nothing a fact holds ends the batch; an exception raised by the
        ``facts`` iterable itself does.

        ``workers=N`` decides on N worker processes and this one, which takes a measured
        share of the chunks (see "Every core" in the performance docs): the same results
        in the same order, facts read ahead in chunks. ValueError (when iteration starts)
        unless N is a whole number ≥ 1."""
        if workers != 1:
            from ._parallel import evaluate_in_processes

            yield from evaluate_in_processes(
                self,
                facts,
                as_of,
                errors=errors,
                version_on=version_on,
                version=version,
                workers=workers,
            )
            return
        day = parse_as_of(as_of)
        evaluate: Callable[..., Decision] = self._compiled.evaluate
        matcher = self._matcher
        if self._versions or version is not None or version_on != "start":
            # Each fact picks its version; the plain path above stays as lean as before.
            evaluate = partial(_by_version, self, version_on=version_on, version=version)

        refused: list[RefusedFact] = []
        for position, fact in enumerate(facts, start=1):
            row = None
            if isinstance(fact, LedgerRow):  # a row of a ledger file: refusals name its line
                row = fact
                if fact.error is not None:
                    failure = RefusedFact(None, position, fact.error, fact.line, sheet=fact.sheet)
                    if errors == "raise":
                        refused.append(failure)
                    else:
                        yield failure
                    continue
                fact = fact.fact
            try:
                yield evaluate(fact, day, matcher)
            except FactError as exc:
                failure = refusal(exc, position, row)
                if errors == "raise":
                    refused.append(failure)
                else:
                    yield failure
        if refused:
            raise BatchError(refused)

    def report(
        self, facts: Iterable[Fact | Mapping[str, Any] | LedgerRow], as_of: date | str
    ) -> Report:
        """Counts over a ledger as of a date: per kind and category, closed and open,
        overdue, per responsible tier and lifecycle stage. Refused facts are listed in
        ``Report.refused`` with their position and error, not counted; they do not stop it."""
        return build_report(self, facts, as_of)

    def __repr__(self) -> str:
        return f"<Pack {self.name!r} {self.title!r}>"


def load_pack(
    name_or_path: str | Path,
    *,
    engine: Engine = "native",
    calendar_notices: Iterable[NoticeSource] | str | PathLike[str] | None = None,
    official_through: int | None = None,
) -> Pack:
    """Load a bundled pack by name, or a pack directory by path.

    ``engine="durable"`` decides which rules apply with the durable_rules Rete engine (the
    ``durable`` extra) instead of the native compiled plans; decisions are the same.
    ``calendar_notices`` adds State Council holiday notices the installed ``holidays`` data
    does not have yet (a new year's), moving the calendar horizon: ``CalendarNotice`` values,
    notice files (YAML or JSON, see ``ecorules calendar --help``), or a mix. Left out (None),
    the files named by the ``ECORULES_CALENDAR`` environment variable are used, if any; pass
    ``()`` for none. ``official_through`` (a year) uses the ``holidays`` data's notices only
    up to that year and predicts the years after, as the data stood before their notices: to
    replay a decision whose ``calendar.official_through`` was that year, or to keep tests
    written then exact (ValueError for a year the data does not reach). Raises PackError
    with every diagnostic when the pack is wrong, and CalendarError (a PackError) with
    positions when a notice is.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine `{engine}`; available: {', '.join(ENGINES)}")
    if official_through is not None:
        check_official_through(official_through)  # before reading anything
    try:
        directory = resolve_pack_dir(name_or_path)
        root = policies_dir() if directory.parent == policies_dir() else None
        # Hashed before reading: an edit landing in between gives a revision older than the
        # text, which a reload sees as a change and loads again, never the other way round.
        revision = pack_revision(directory) if directory.is_dir() else None
        if directory.is_dir() and is_versioned(directory):
            return _load_versions(
                directory, root, engine, calendar_notices, revision, official_through
            )
        model, located = read_pack(directory, root)
    except OSError as exc:  # a name too long, a loop of links: the path, not the pack
        raise PackError(
            [Diagnostic("unreadable", f"cannot read the pack: {exc.strerror}", shown(name_or_path))]
        ) from None
    resolved = resolve_notices(calendar_notices)
    notices = resolved.notices
    calendar = build_calendar(
        model.calendar.extra_holidays, model.calendar.extra_workdays, notices, official_through
    )
    identity = calendar_identity(calendar, resolved.identities)
    return Pack(model, directory, calendar, notices, located, engine, identity, revision)


def _by_version(
    pack: Pack,
    fact: Any,
    day: date,
    _matcher: object,
    *,
    version_on: VersionOn,
    version: str | None,
) -> Decision:
    return pack.evaluate(fact, day, version_on=version_on, version=version)


def _load_versions(
    directory: Path,
    root: Path | None,
    engine: Engine,
    calendar_notices: Iterable[NoticeSource] | str | PathLike[str] | None,
    revision: str | None,
    official_through: int | None,
) -> Pack:
    """A pack laid out by version (see _versions): every version loaded and checked, all
    diagnostics together; the Pack holds each version and decides by the right one."""
    from ._versions import in_order, read_version_id

    problems: list[Diagnostic] = []
    read: list[tuple[str, M.PackModel, Located]] = []
    for path in version_dirs(directory):
        version = read_version_id(path)
        if version is None:
            problems.append(
                Diagnostic(
                    "invalid_version_id",
                    f"`{path.name}` is not a version id (letters, digits, `.`, `_`, `-`)",
                    str(path),
                )
            )
            continue
        try:
            model, located = read_pack(path, root, pack_id=directory.name)
        except PackError as exc:
            problems.extend(exc.diagnostics)
            continue
        read.append((version, model, located))
    if not read and not problems:
        problems.append(
            Diagnostic("no_pack_file", "the pack's `versions/` holds no version", str(directory))
        )
    if problems:
        raise PackError(problems)
    resolved = resolve_notices(calendar_notices)
    notices = resolved.notices
    parts = []
    for version, model, located in read:
        calendar = build_calendar(
            model.calendar.extra_holidays, model.calendar.extra_workdays, notices, official_through
        )
        identity = calendar_identity(calendar, resolved.identities)
        parts.append(
            Pack(
                model,
                directory / VERSIONS_DIR / version,
                calendar,
                notices,
                located,
                engine,
                identity,
                version=version,
            )
        )
    versions = in_order(parts)
    newest = versions[-1]
    return Pack(
        newest.model,
        directory,
        newest.calendar,
        notices,
        newest.located,
        engine,
        newest.calendar_identity,
        revision,
        versions=versions,
    )


def _identity(calendar: WorkingCalendar, notices: Sequence[CalendarNotice]) -> CalendarIdentity:
    """For a Pack built by hand from notices without files."""
    return calendar_identity(calendar, resolve_notices(notices).identities)
