"""Errors and diagnostics: what a person sees when a pack or a fact is wrong.

Exception tree::

    EcorulesError
    ├── PackError            a pack could not be loaded; carries every Diagnostic found
    │   └── UnknownPackError a pack name that is neither bundled nor a directory
    └── FactError(ValueError)  a fact (or as_of) that the pack cannot evaluate

Diagnostics are values with a stable ``code`` so that tools and tests can match on them;
their text follows one shape, ``file:line:col: code: message``, lowercase, no final period,
user input in backticks, with a "did you mean" where a near name exists.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a pack file, pinned to a position when one is known."""

    code: str
    message: str
    file: str = ""
    line: int = 0
    col: int = 0
    severity: Severity = "error"
    help: str | None = None
    end_line: int = 0
    """Where the span ends (exclusive), when the finding is about one item; 0 = a point."""
    end_col: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else (self.file or "<pack>")
        text = f"{where}: {self.code}: {self.message}"
        if self.help:
            text += f" ({self.help})"
        return text

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.code, self.message)

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "help": self.help,
            "end_line": self.end_line,
            "end_col": self.end_col,
        }


class EcorulesError(Exception):
    """Base class of every error ecorules raises on purpose."""


class PackError(EcorulesError):
    """A pack failed to load. ``diagnostics`` holds every problem found, sorted by place."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=Diagnostic.sort_key)
        )
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UnknownPackError(PackError):
    """A pack name that is neither bundled nor a path to a pack directory."""


@dataclass(frozen=True, slots=True)
class FactProblem:
    """One reason a fact was refused: the field, the value given and what is allowed."""

    field: str
    value: object
    message: str
    allowed: tuple[str, ...] = dataclass_field(default=())

    def __str__(self) -> str:
        text = f"`{_clip(self.field)}`: {self.message}"
        if self.value is not None:
            text += f" (got `{shown(self.value)}`)"
        if self.allowed:
            listed = ", ".join(_clip(a) for a in self.allowed[:MAX_ALLOWED_SHOWN])
            more = len(self.allowed) - MAX_ALLOWED_SHOWN
            text += "; allowed: " + listed + (f", … ({more} more)" if more > 0 else "")
        return text


MAX_SHOWN = 80
"""Characters of a field or value an error message repeats: enough to recognise it."""
MAX_ALLOWED_SHOWN = 50
MAX_PROBLEMS_SHOWN = 20
"""A FactError's text lists this many problems and counts the rest (``problems`` has all)."""

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = MAX_SHOWN
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 10


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def shown(value: object) -> str:
    """A value as an error message quotes it: bounded, whatever it is (a 5,000-digit
    integer cannot even be turned into text; a list of 100,000 flags must not be)."""
    if isinstance(value, str):
        return _clip(value)
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    try:
        return _clip(_REPR.repr(value))
    except Exception:  # a host object whose repr fails must not hide the real problem
        return f"a {type(value).__name__}"


class FactError(EcorulesError, ValueError):
    """A fact or an ``as_of`` the pack cannot evaluate. Nothing was decided, nothing mutated."""

    def __init__(self, problems: Sequence[FactProblem], fact_id: object = None):
        self.problems: tuple[FactProblem, ...] = tuple(problems)
        self.fact_id = fact_id
        first = self.problems[0] if self.problems else None
        self.field: str | None = first.field if first else None
        self.value: object = first.value if first else None
        prefix = f"fact `{shown(fact_id)}`: " if fact_id is not None else ""
        listed = "; ".join(str(p) for p in self.problems[:MAX_PROBLEMS_SHOWN])
        more = len(self.problems) - MAX_PROBLEMS_SHOWN
        if more > 0:
            listed += f"; … and {more} more problems"
        super().__init__(prefix + listed)


class BatchError(EcorulesError, ValueError):
    """Facts of a batch were refused (``evaluate_many(..., errors="raise")``); raised after
    every other fact was decided. ``refused`` lists each with its position and error."""

    def __init__(self, refused: Sequence[Any]):
        self.refused = tuple(refused)
        lines = [
            f"{f'line {r.line}' if r.line else f'#{r.position}'}: {r.error}"
            for r in self.refused[:20]
        ]
        more = len(self.refused) - len(lines)
        super().__init__(
            f"{len(self.refused)} facts refused:\n"
            + "\n".join(lines)
            + (f"\n… and {more} more" if more > 0 else "")
        )


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean" hint for a near name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None
