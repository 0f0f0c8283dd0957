"""Diagnostics as people and tools read them: a compiler's excerpt, SARIF for CI annotations.

A ``file:line:col`` alone sends the author hunting; rustc, Elm and Cedar show the line itself
with the mistake underlined and the fix beneath. Columns count characters, but a Chinese
character takes two cells on a terminal, so the underline is drawn by display width.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import Diagnostic
from ._pack import policies_dir

SourceLine = Callable[[str, int], str | None]
"""(file as the diagnostic names it, 1-based line) → the line's text, or None."""


def display_width(text: str) -> int:
    """Terminal cells: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render(diagnostic: Diagnostic, source_line: SourceLine) -> str:
    """The diagnostic as a compiler prints it: ``severity[code]: message``, then
    ``--> file:line:col``, the source line with the span underlined, and ``= help:`` with the
    fix (tests/checker_corpus/faithfulness/rendered.txt shows it whole)."""
    head = f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    if not diagnostic.file:
        return head + (f"\n  = help: {diagnostic.help}" if diagnostic.help else "")
    where = diagnostic.file
    if diagnostic.line:
        where += f":{diagnostic.line}:{diagnostic.col}"
    lines = [head, f"  --> {where}"]
    text = source_line(diagnostic.file, diagnostic.line) if diagnostic.line else None
    gutter = " " * len(str(diagnostic.line))
    if text is not None:
        text = text.rstrip("\r\n").expandtabs(1)
        start = max(diagnostic.col - 1, 0)
        if diagnostic.end_line == diagnostic.line and diagnostic.end_col > diagnostic.col:
            end = diagnostic.end_col - 1
        elif diagnostic.end_line > diagnostic.line:
            end = len(text.rstrip())  # a span over several lines: underline this one's rest
        else:
            end = start + 1
        end = max(min(end, len(text)), start + 1)
        marks = "^" * max(display_width(text[start:end]), 1)
        lines += [
            f"{gutter} |",
            f"{diagnostic.line} | {text}",
            f"{gutter} | {' ' * display_width(text[:start])}{marks}",
        ]
    if diagnostic.help:
        lines.append(f"{gutter} = help: {diagnostic.help}")
    return "\n".join(lines)


def file_lines(candidates: Callable[[str], Iterable[Path]]) -> SourceLine:
    """A SourceLine reading the first existing file among ``candidates(name)``, each once."""

    @cache
    def read(name: str) -> tuple[str, ...]:
        for path in candidates(name):
            try:
                return tuple(path.read_text(encoding="utf-8").splitlines())
            except (OSError, UnicodeError):
                continue
        return ()

    def line(name: str, number: int) -> str | None:
        text = read(name)
        return text[number - 1] if 0 < number <= len(text) else None

    return line


def sarif(diagnostics: Sequence[Diagnostic], version: str) -> dict[str, Any]:
    """SARIF 2.1.0, the format CI systems (GitHub code scanning among them) annotate from."""
    codes = sorted({d.code for d in diagnostics})
    level = {"error": "error", "warning": "warning", "info": "note"}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": codes.index(d.code),
            "level": level[d.severity],
            "message": {"text": d.message + (f" (help: {d.help})" if d.help else "")},
        }
        if d.file:
            location: dict[str, Any] = {"artifactLocation": {"uri": d.file}}
            if d.line:
                region = {"startLine": d.line, "startColumn": d.col}
                if d.end_line:
                    region |= {"endLine": d.end_line, "endColumn": d.end_col}
                location["region"] = region
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ecorules",
                        "version": version,
                        "rules": [{"id": code, "name": code} for code in codes],
                    }
                },
                "results": results,
            }
        ],
    }


def print_diagnostics(diagnostics: Sequence[Diagnostic], *, rich: bool = True) -> None:
    """To stderr: each with its source line and fix (``rich``), or one line each."""
    if not rich:
        for diagnostic in diagnostics:
            print(diagnostic, file=sys.stderr)
        return
    source_line = file_lines(lambda name: (Path(name), policies_dir() / name))
    for diagnostic in diagnostics:
        print(render(diagnostic, source_line) + "\n", file=sys.stderr)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    if errors or warnings:
        print(f"{count(errors, 'error')}, {count(warnings, 'warning')}", file=sys.stderr)


def count(n: int, noun: str) -> str:
    """`1 error`, `2 errors`."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
