"""Packs with several versions of their document, and which version decides a case.

Policies are revised: a plan for 2021–2025 is replaced by one for 2026–2030. Editing a pack
in place would silently change the decisions of problems that started under the old text.
So a pack may hold its versions side by side, one directory each::

    policies/<name>/versions/<version>/pack.yaml (+ source.txt, cases/)

each with its validity (``metadata.valid_from``/``valid_until``) and the version it
``supersedes``. A version without ``valid_until`` is in force until the next one starts
(as an OpenFisca value holds until the next dated value), so adding a version leaves the
files — and so the revision and decision ids — of the versions before it untouched. A pack
with one version keeps the plain layout (``policies/<name>/pack.yaml``).

Which version decides, as Camunda binds a running case to the decision version it started
with and Drools rules carry effective dates: by default the version in force on the date the
case started — the earliest of the events the pack names in ``metadata.case_starts`` — so a
case keeps the rules it started under; a host may ask for the version in force on ``as_of``
instead, or name a version. Each version has its own revision (the hash of its directory),
so adding a later version changes neither the decisions nor the decision ids of cases that
started before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._errors import Diagnostic, FactError, FactProblem
from ._fact import Fact, read_fact
from ._loader import PACK_FILE

if TYPE_CHECKING:
    from ._pack import Pack

VERSIONS_DIR = "versions"
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VersionOn = Literal["start", "as_of"]
VERSION_ON: tuple[VersionOn, ...] = ("start", "as_of")


def is_versioned(directory: Path) -> bool:
    """A pack directory laid out by version: ``versions/`` and no ``pack.yaml`` of its own."""
    return (directory / VERSIONS_DIR).is_dir() and not (directory / PACK_FILE).is_file()


def version_dirs(directory: Path) -> list[Path]:
    """The version directories (those holding a pack file), by name."""
    root = directory / VERSIONS_DIR
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / PACK_FILE).is_file())


def in_order(versions: Sequence[Pack]) -> list[Pack]:
    """Oldest first: by ``valid_from`` (none first), then by name."""
    return sorted(
        versions, key=lambda p: (p.model.metadata.valid_from or date.min, p.version or "")
    )


def in_force(versions: Sequence[Pack], day: date) -> Pack:
    """The version in force on ``day`` (one without ``valid_until`` runs until the next
    starts); where none is (a gap, before the first, after the
    last), the latest that started by then, else the first. The caller's validity check
    then warns (``pack_not_in_force``). Where versions overlap (``ecorules check`` reports
    it), the one that started later wins."""
    started = [p for p in versions if (p.model.metadata.valid_from or date.min) <= day]
    current = [
        p
        for p in started
        if p.model.metadata.valid_until is None or day <= p.model.metadata.valid_until
    ]
    if current:
        return current[-1]
    return started[-1] if started else versions[0]


def case_start(
    data: Fact | Mapping[str, Any], events: Sequence[str], as_of: date
) -> tuple[date, str] | None:
    """The date a case started: the earliest of ``events`` the fact records by ``as_of``
    (later events are not yet known, as for evaluation), and a description for messages."""
    if not events:
        return None
    recorded = read_fact(data).events
    found = [(recorded[e], e) for e in events if e in recorded and recorded[e] <= as_of]
    if not found:
        return None
    day, event = min(found)
    return day, f"the case's start ({event})"


def choose(
    pack: Pack,
    data: Fact | Mapping[str, Any],
    as_of: date,
    version_on: VersionOn = "start",
    version: str | None = None,
) -> tuple[Pack, tuple[date, str] | None]:
    """The version of ``pack`` that decides ``data``, and the date its validity is checked
    on (None: ``as_of``). A pack without versions decides by itself, as before."""
    if version_on not in VERSION_ON:
        raise FactError(
            [FactProblem("version_on", str(version_on), "one of: " + ", ".join(VERSION_ON))]
        )
    versions = pack.versions
    if version is not None:
        named = [p for p in versions if p.version == version]
        if not named:
            allowed = [p.version for p in versions if p.version is not None]
            raise FactError(
                [
                    FactProblem(
                        "version",
                        str(version),
                        "one of: " + ", ".join(allowed) if allowed else "none: no versions",
                    )
                ]
            )
    if versions == (pack,):  # no versions: the pack decides by itself, as before
        return pack, None
    start = case_start(data, pack.case_starts, as_of) if version_on == "start" else None
    if version is not None:
        return named[0], start
    day = start[0] if start is not None else as_of
    return in_force(versions, day), start


def version_diagnostics(pack: Pack) -> Iterator[Diagnostic]:
    """What ``ecorules check`` reports about a pack's versions taken together: validity that
    overlaps or leaves a gap, a ``supersedes`` chain that does not follow the dates, versions
    that disagree on what starts a case, and vocabulary a version removes while its own
    cases still use it."""
    versions = pack.versions
    if len(versions) < 2:
        return
    for earlier, later in pairwise(versions):
        old, new = earlier.model.metadata, later.model.metadata
        located = later.located
        assert located is not None
        if new.valid_from is None:
            pass  # reported below, once per version
        elif old.valid_until is not None and old.valid_until >= new.valid_from:
            yield located.diagnostic(
                ("metadata", "valid_from"),
                "versions_overlap",
                f"version `{later.version}` starts {new.valid_from} while `{earlier.version}` "
                f"is still in force (until {old.valid_until})",
                help=f"end `{earlier.version}` the day before: valid_until: "
                f"{new.valid_from - timedelta(days=1)}",
            )
        elif old.valid_until is not None and old.valid_until + timedelta(days=1) < new.valid_from:
            yield located.diagnostic(
                ("metadata", "valid_from"),
                "versions_gap",
                f"no version is in force from {old.valid_until + timedelta(days=1)} to "
                f"{new.valid_from - timedelta(days=1)}, between `{earlier.version}` and "
                f"`{later.version}`",
                severity="warning",
            )
        if new.supersedes != earlier.version:
            said = "nothing" if new.supersedes is None else f"`{new.supersedes}`"
            yield located.diagnostic(
                ("metadata", "supersedes") if new.supersedes is not None else ("metadata",),
                "supersedes_mismatch",
                f"version `{later.version}` supersedes {said}, but by its dates it follows "
                f"`{earlier.version}`",
                help=f"supersedes: {earlier.version}",
            )
        if new.case_starts != old.case_starts:
            yield located.diagnostic(
                ("metadata", "case_starts") if new.case_starts else ("metadata",),
                "case_starts_differ",
                f"versions `{earlier.version}` and `{later.version}` name different events as "
                "a case's start; the newest version's are used for every case",
                severity="warning",
            )
        yield from _removed_in_use(earlier, later)
    for i, part in enumerate(versions):
        meta = part.model.metadata
        if meta.valid_from is None and (i > 0 or meta.supersedes is not None):
            assert part.located is not None
            yield part.located.diagnostic(
                ("metadata",),
                "version_without_start",
                f"version `{part.version}` has no `valid_from`: only the first version may "
                "leave it out",
            )
    first = versions[0]
    assert first.located is not None
    if first.model.metadata.supersedes is not None:
        yield first.located.diagnostic(
            ("metadata", "supersedes"),
            "supersedes_mismatch",
            f"the first version `{first.version}` supersedes "
            f"`{first.model.metadata.supersedes}`, which is not a version of the pack",
        )
    if not pack.case_starts:
        last = versions[-1]
        assert last.located is not None
        yield last.located.diagnostic(
            ("metadata",),
            "no_case_start",
            "the pack has versions but names no `case_starts` events: every case is decided "
            "by the version in force on as_of, so a case changes rules when a version starts",
            severity="warning",
        )


_SECTIONS = {
    "sources": "source",
    "categories": "category",
    "sectors": "sector",
    "flags": "flag",
    "events": "event",
    "attrs": "attr",
    "kinds": "kind",
}


def _removed_in_use(earlier: Pack, later: Pack) -> Iterator[Diagnostic]:
    """Terms ``earlier`` declares and ``later`` drops, used by ``later``'s own cases: a case
    started under ``later`` carrying such a term is refused."""
    from ._cases import CaseFile
    from ._yamlsrc import YamlProblem, load_file

    removed: dict[str, set[str]] = {}
    for section, field in _SECTIONS.items():
        before = {t.id for t in getattr(earlier.model.vocabulary, section)}
        after = {t.id for t in getattr(later.model.vocabulary, section)}
        if before - after:
            removed[field] = before - after
    if not removed:
        return
    for path in sorted((later.path / "cases").glob("*.yaml")):
        try:
            located = load_file(path, str(path))
            parsed = CaseFile.model_validate(located.data)
        except (YamlProblem, ValueError):  # the case runner reports a broken file
            continue
        for i, case in enumerate(parsed.cases):
            for field, name in _terms(case.fact):
                if name in removed.get(field, ()):
                    yield located.diagnostic(
                        ("cases", i, "fact"),
                        "removed_vocabulary_in_use",
                        f"{field} `{name}` was removed in version `{later.version}` (it was in "
                        f"`{earlier.version}`), but this case of `{later.version}` uses it",
                        severity="warning",
                        help="a case that starts under the new version may not use it; "
                        "move the case to the old version or drop the term",
                    )


def _terms(fact: Any) -> Iterator[tuple[str, str]]:
    data = fact if isinstance(fact, Mapping) else getattr(fact, "model_dump", dict)()
    for field in ("kind", "source", "category", "sector"):
        if isinstance(data.get(field), str):
            yield field, data[field]
    for field, key in (("flag", "flags"), ("event", "events"), ("attr", "attrs")):
        for name in data.get(key) or ():
            yield field, str(name)


def read_version_id(directory: Path) -> str | None:
    """The version id a version directory stands for, if its name is one."""
    return directory.name if VERSION_PATTERN.match(directory.name) else None
