"""Faithfulness to the document: quotes that are in it, clauses that exist in it.

A pack is only as good as its fidelity to the text, and the cheapest mistakes to make are an
invented or paraphrased quote and a clause cited in the wrong form. These checks used to live
in the repository's own tests, so they guarded the bundled packs only; they belong to
``ecorules check``, which every author runs on every pack.

Quotes are compared with the document in simplified characters (several documents are web
captures in traditional characters, the inventories quote them simplified), without the pinyin
glosses some captures carry (責(zé)), and modulo full-width/ASCII punctuation and whitespace.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from . import _model as M
from ._errors import Diagnostic
from ._yamlsrc import Located, PathKey

_PINYIN_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
_PUNCTUATION = str.maketrans(
    {"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "“": '"', "”": '"'}
)
_SENTENCE_END = re.compile(r"(?<=[。；！？;!?\n])")

_NUMERAL = "一二三四五六七八九十百"
_NUMBERED_BASIS = re.compile(rf"^([{_NUMERAL}]+)(?:\(([{_NUMERAL}]+)\))?$")
_PARAGRAPH_BASIS = re.compile(r"^¶[1-9]\d*$")
_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "　": "", " ": ""})


@cache
def _to_simplified() -> Any:
    # Imported on first use: only checking needs it, and its dictionaries take a moment.
    from opencc import OpenCC  # type: ignore[import-untyped]

    return OpenCC("t2s")


def normalise(text: str) -> str:
    """The form in which a quote is looked for in its document."""
    text = _to_simplified().convert(_PINYIN_GLOSS.sub("", text))
    return re.sub(r"\s+", "", text.translate(_PUNCTUATION))


_SECTIONS = (
    ("rules", "obligations"),
    ("closure_chains", "steps"),
    ("lifecycles", "stages"),
    ("recurring", None),
)


def provisions(model: M.PackModel) -> Iterator[tuple[PathKey, Any, Any]]:
    """Every rule, chain, lifecycle and duty, each followed by its parts:
    (path in the pack file, the item, the item a part belongs to or None)."""
    for section, parts in _SECTIONS:
        for i, item in enumerate(getattr(model, section)):
            yield (section, i), item, None
            for j, part in enumerate(getattr(item, parts) if parts else ()):
                yield (section, i, parts, j), part, item


def quoted_items(model: M.PackModel) -> Iterator[tuple[PathKey, str, str]]:
    """(path of the quote in the pack file, item id, quote) for everything that quotes."""
    for path, item, _ in provisions(model):
        if item.quote:
            yield (*path, "quote"), item.id, item.quote
    for i, assumption in enumerate(model.assumptions):
        for j, quote in enumerate(assumption.quotes):
            yield ("assumptions", i, "quotes", j), assumption.id, quote
    for i, entry in enumerate(model.not_encoded):
        for j, quote in enumerate(entry.quotes):
            yield ("not_encoded", i, "quotes", j), f"not_encoded[{i}]", quote


def cited_bases(model: M.PackModel) -> Iterator[tuple[PathKey, str]]:
    """(path of the basis in the pack file, basis) for every basis the pack gives."""
    for path, item, _ in provisions(model):
        if item.basis:
            yield (*path, "basis"), item.basis


def faithfulness_diagnostics(
    model: M.PackModel, located: Located, pack_dir: Path
) -> list[Diagnostic]:
    """Quotes not found in the document, and bases not in the document's numbering."""
    document_name = model.metadata.document
    try:
        document = (pack_dir / document_name).read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        # The loader refuses a pack whose document is missing; an unreadable one is its
        # finding too. Nothing to compare against here.
        return []
    found: list[Diagnostic] = []
    searched = normalise(document)
    sentences = _sentences(document)
    for path, item_id, quote in quoted_items(model):
        missing = [part for part in quote.split("…") if normalise(part) not in searched]
        if missing:
            found.append(
                located.diagnostic(
                    path,
                    "quote_not_in_source",
                    f"the quote of `{item_id}` is not in `{document_name}`: `{missing[0].strip()}`",
                    help=_nearest_help(missing[0], sentences, document_name),
                )
            )
    headings = _headings(document)
    for path, basis in cited_bases(model):
        found.extend(_basis_findings(located, path, basis, headings, document_name))
    return found


def _basis_findings(
    located: Located,
    path: PathKey,
    basis: str,
    headings: dict[str, set[str]],
    document_name: str,
) -> Iterator[Diagnostic]:
    ascii_form = basis.translate(_FULL_WIDTH)
    if ascii_form != basis:
        yield located.diagnostic(
            path,
            "basis_format",
            f"basis `{basis}` uses full-width parentheses or spaces",
            help=f"write `{ascii_form}`: the document's numbering with ASCII parentheses",
        )
    numbered = _NUMBERED_BASIS.match(ascii_form)
    if numbered is None or not headings:
        # ¶N (a text without numbering), or a named part such as 文头: nothing to look up.
        if numbered is None and not _PARAGRAPH_BASIS.match(ascii_form) and "(" in ascii_form:
            yield located.diagnostic(
                path,
                "basis_format",
                f"basis `{basis}` is not in the form 二 or 二(一)",
                help="cite the document's own numbering, e.g. `二(一)`, or `¶3` for a "
                "paragraph of a text without numbering",
            )
        return
    section, subsection = numbered.groups()
    if section not in headings:
        yield located.diagnostic(
            path,
            "basis_not_in_source",
            f"`{document_name}` has no section `{section}、`",
            help=_known_sections_help(headings),
            severity="warning",
        )
    elif subsection and _complete(headings[section]) and subsection not in headings[section]:
        known = "".join(f"({s})" for s in _ordered(headings[section])) or "none"
        yield located.diagnostic(
            path,
            "basis_not_in_source",
            f"section `{section}、` of `{document_name}` has no item `({subsection})`",
            help=f"its items are {known}",
            severity="warning",
        )


_SECTION_HEADING = re.compile(rf"^\s*([{_NUMERAL}]+)、", re.M)
_ITEM_HEADING = re.compile(rf"[（(]([{_NUMERAL}]+)[）)]")


def _headings(document: str) -> dict[str, set[str]]:
    """Section numeral → the item numerals that appear under it (一、 … （一） …)."""
    starts = [(m.start(), m.group(1)) for m in _SECTION_HEADING.finditer(document)]
    headings: dict[str, set[str]] = {}
    for index, (start, numeral) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(document)
        items = headings.setdefault(numeral, set())
        items.update(m.group(1) for m in _ITEM_HEADING.finditer(document, start, end))
    return headings


def _complete(items: set[str]) -> bool:
    """Whether a section's items read (一), (二), … without a hole: some captures garble
    the full-width brackets (（一） became 。ㄒ唬), and a numbering seen only in part cannot
    tell a wrong citation from a garbled heading."""
    return bool(items) and set(_ordered(items)) == set(_CHINESE_NUMBERS[: len(items)])


_CHINESE_NUMBERS = [
    *"一二三四五六七八九十",
    *(f"十{n}" for n in "一二三四五六七八九"),
    *(f"{t}十{n}" for t in "二三" for n in ["", *"一二三四五六七八九"]),
]


def _ordered(numerals: set[str]) -> list[str]:
    rank = {n: i for i, n in enumerate(_CHINESE_NUMBERS)}
    return sorted(numerals, key=lambda n: (rank.get(n, len(rank)), n))


def _known_sections_help(headings: dict[str, set[str]]) -> str:
    return "its sections are " + " ".join(f"{s}、" for s in _ordered(set(headings)))


def _sentences(document: str) -> list[tuple[int, str]]:
    """(line number, sentence) for every sentence of the document."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(document.splitlines(), start=1):
        out.extend((number, s.strip()) for s in _SENTENCE_END.split(line) if s.strip())
    return out


def _nearest_help(quote: str, sentences: list[tuple[int, str]], document_name: str) -> str:
    target = normalise(quote)
    best: tuple[float, int, str] | None = None
    for number, sentence in sentences:
        matcher = difflib.SequenceMatcher(None, target, normalise(sentence), autojunk=False)
        score = matcher.find_longest_match().size / max(len(target), 1)
        if best is None or score > best[0]:
            best = (score, number, sentence)
    if best is None or best[0] < 0.3:
        return f"copy the words from `{document_name}` exactly; `…` joins two fragments"
    shown = best[2] if len(best[2]) <= 80 else best[2][:80] + "…"
    return f"nearest in `{document_name}`, line {best[1]}: `{shown}`"
