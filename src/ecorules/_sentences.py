"""The document as sentences, each with its clause and what the pack says about it.

A reviewer certifies a pack sentence by sentence, and ``ecorules check`` can only say that a
new clause was forgotten if it knows which sentences the pack accounts for. Both need the
same data: the document cut into sentences (on 。；！？ and line ends), each placed under its
clause (一、 … (一) …, or ¶N for a text without numbering), marked with the decision-relevant
words it holds (a number of days or months, a date 前, 负责, 移交, 约谈, 问责, 督办, a
recurrence), and linked to the pack items that quote it. Data first, rendered afterwards by
``_annotate`` (HTML, Markdown) and by the checker (the untouched, decision-relevant ones).

A sentence's status is ``encoded`` (a rule, obligation, chain, step, lifecycle, stage or
recurring duty quotes it), ``assumption`` (only an assumption quotes it), ``not_encoded``
(the pack lists it as not encoded, quoting it) or ``untouched``. Quotes are matched in the
normalised form of ``_faithfulness`` (simplified characters, punctuation, whitespace).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import _model as M
from ._errors import Diagnostic
from ._faithfulness import normalise, provisions
from ._yamlsrc import Located

Status = Literal["encoded", "assumption", "not_encoded", "untouched"]
STATUSES: tuple[Status, ...] = ("encoded", "assumption", "not_encoded", "untouched")

_NUMERAL = "一二三四五六七八九十"
_SECTION = re.compile(rf"^\s*([{_NUMERAL}]+)、")
_ITEM = re.compile(rf"^\s*[（(]([{_NUMERAL}]+)[）)]")
# A sentence ends after 。；！？ (full-width or ASCII); a line end ends one too.
_END = re.compile(r"(?<=[。；！？;!?])")
_TITLE_LENGTH = 24
_SHORT_TITLE = 12
# A sentence has at least one letter, digit or CJK character (not a stray 。 of a garble).
_WORDS = re.compile(r"[\w\u3400-\u9fff]")

_COUNT = r"(?:\d{1,3}|[一二两三四五六七八九十百半]+)"
# Words that make a sentence decision-relevant: without them it is exhortation or context.
# Each pattern is searched in the normalised (simplified, no whitespace) sentence.
MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "period",
        re.compile(rf"{_COUNT}个?工作日|{_COUNT}个(?:月|季度|星期)|{_COUNT}(?:日|天|周|年)内"),
    ),
    ("date", re.compile(r"\d{1,2}月(?:\d{1,2}日|底|末)?前|[月年]底前|年内")),
    ("recurrence", re.compile(r"每(?:月|季度|半年|年|周)|按(?:月|季度|年)|半月调度")),
    # 负责同志/负责人 name an official, not a duty.
    ("duty", re.compile(r"负责(?!同志|人|股室)")),
    ("transfer", re.compile(r"移交")),
    ("escalation", re.compile(r"约谈|问责|督办")),
)


@dataclass(frozen=True)
class Link:
    """A pack item that quotes (or, for a clause, cites) a sentence."""

    kind: str  # rule, obligation, closure chain, step, lifecycle, stage, recurring, ...
    id: str
    parent: str | None = None  # the rule, chain or lifecycle an obligation/step/stage is in


@dataclass
class Sentence:
    """One sentence of the document with where it is and what accounts for it."""

    index: int
    line: int  # 1-based
    col: int  # 1-based, in characters
    text: str
    clause: str  # 二(一), 二, ¶3, or "" before the first heading
    heading: bool = False  # a section heading (一、…) or an item's title ((一)…。)
    markers: list[tuple[str, str]] = field(default_factory=list)  # (kind, matched words)
    encoded_by: list[Link] = field(default_factory=list)
    assumed_by: list[str] = field(default_factory=list)  # assumption ids
    not_encoded_by: list[int] = field(default_factory=list)  # indexes into not_encoded

    @property
    def relevant(self) -> bool:
        """Whether it carries a deadline, an actor duty or an escalation. A heading names a
        clause; the clause's sentences carry what it decides."""
        return bool(self.markers) and not self.heading

    @property
    def status(self) -> Status:
        if self.encoded_by:
            return "encoded"
        if self.assumed_by:
            return "assumption"
        if self.not_encoded_by:
            return "not_encoded"
        return "untouched"


def _timed(text: str) -> bool:
    """Whether it gives a time (a period, a date, a recurrence): a short sentence that does is
    a provision (每月5日前报送。), never a title."""
    norm = normalise(text)
    return any(p.search(norm) for k, p in MARKERS if k in ("period", "date", "recurrence"))


def split(document: str) -> list[Sentence]:
    """The document's sentences, in order, each under the clause it sits in."""
    out: list[Sentence] = []
    section = item = ""
    for number, line in enumerate(document.splitlines(), start=1):
        heading = _SECTION.match(line)
        if heading:
            section, item = heading.group(1), ""
        else:
            sub = _ITEM.match(line)
            if sub and section:
                item = sub.group(1)
        clause = f"{section}({item})" if item else section
        offset = 0
        pieces = _END.split(line)
        first = True
        for position, piece in enumerate(pieces):
            text = piece.strip()
            if _WORDS.search(text):
                col = offset + len(piece) - len(piece.lstrip()) + 1
                # A heading line, or the short title that opens an item: (一)行业系统排查。
                # Some captures garble the item's brackets ((三)强化执纪问责 became
                # 。ㄈ⿵娀瘓…问责。), so a short first sentence followed by more is one too.
                followed = any(_WORDS.search(p) for p in pieces[position + 1 :])
                is_heading = bool(heading) or (
                    first
                    and followed
                    and (
                        (bool(_ITEM.match(text)) and len(text) <= _TITLE_LENGTH)
                        or (len(normalise(text)) <= _SHORT_TITLE and not _timed(text))
                    )
                )
                out.append(Sentence(len(out), number, col, text, clause, is_heading))
                first = False
            offset += len(piece)
    for sentence in out:
        norm = normalise(sentence.text)
        found = sorted(
            (m.start(), kind, m.group(0))
            for kind, pattern in MARKERS
            for m in pattern.finditer(norm)
        )
        sentence.markers = [(kind, text) for _start, kind, text in found]
    return out


# -- linking the pack ---------------------------------------------------------------------


# How the review names what quotes: (section, whether a part of an item) → link kind.
_LINK_KINDS = {
    ("rules", False): "rule",
    ("rules", True): "obligation",
    ("closure_chains", False): "closure chain",
    ("closure_chains", True): "step",
    ("lifecycles", False): "lifecycle",
    ("lifecycles", True): "stage",
    ("recurring", False): "recurring",
}


def _quoting(model: M.PackModel) -> Iterator[tuple[Link, str | None, str]]:
    """(link, basis, quote) for every item that quotes the document as what it encodes."""
    for path, item, parent in provisions(model):
        kind = _LINK_KINDS[(str(path[0]), parent is not None)]
        if parent is None:
            yield Link(kind, item.id), item.basis, item.quote
        elif item.quote:
            yield Link(kind, item.id, parent.id), item.basis or parent.basis, item.quote


class _Index:
    """The normalised document as one string, with each sentence's span in it."""

    def __init__(self, sentences: list[Sentence]):
        self.sentences = sentences
        parts: list[str] = []
        self.starts: list[int] = []
        position = 0
        for sentence in sentences:
            norm = normalise(sentence.text)
            self.starts.append(position)
            parts.append(norm)
            position += len(norm)
        self.starts.append(position)
        self.text = "".join(parts)

    def _covering(self, start: int, end: int) -> list[Sentence]:
        return [
            s
            for s, a, b in zip(self.sentences, self.starts, self.starts[1:], strict=False)
            if a < end and start < b
        ]

    def find(self, quote: str, basis: str | None) -> list[Sentence]:
        """The sentences a quote's fragments fall in. Where a fragment occurs more than once,
        the occurrences under the cited clause win; failing that, every occurrence counts."""
        found: list[Sentence] = []
        for fragment in quote.split("…"):
            target = normalise(fragment)
            if not target:
                continue
            hits: list[list[Sentence]] = []
            at = self.text.find(target)
            while at >= 0:
                hits.append(self._covering(at, at + len(target)))
                at = self.text.find(target, at + 1)
            preferred = [h for h in hits if basis and any(_under(s.clause, basis) for s in h)]
            for hit in preferred or hits:
                found.extend(s for s in hit if s not in found)
        return found


def _under(clause: str, basis: str) -> bool:
    """Whether a sentence in ``clause`` is under ``basis`` (二 holds 二(一))."""
    return clause == basis or (clause.startswith(basis + "(") and "(" not in basis)


def _number_paragraphs(sentences: list[Sentence], model: M.PackModel, index: _Index) -> None:
    """A text without numbering is cited by paragraph (¶N, numbered by the inventory, not
    by the text). Each line takes the ¶ that the items quoting it cite most often, and
    lines that nothing cites stay unnumbered."""
    if any(s.clause for s in sentences):
        return
    votes: dict[int, dict[str, int]] = {}
    citing = [(basis, quote) for _link, basis, quote in _quoting(model)]
    citing += [(n.basis, quote) for n in model.not_encoded for quote in n.quotes]
    for basis, quote in citing:
        if basis and basis.startswith("¶"):
            for sentence in index.find(quote, None):
                tally = votes.setdefault(sentence.line, {})
                tally[basis] = tally.get(basis, 0) + 1
    for sentence in sentences:
        cited = votes.get(sentence.line, {})
        if cited:
            sentence.clause = max(sorted(cited), key=lambda b: cited[b])


def annotate(model: M.PackModel, document: str) -> list[Sentence]:
    """The document's sentences, each linked to the pack items that account for it."""
    sentences = split(document)
    index = _Index(sentences)
    _number_paragraphs(sentences, model, index)
    for link, basis, quote in _quoting(model):
        for sentence in index.find(quote, basis):
            sentence.encoded_by.append(link)
    for assumption in model.assumptions:
        for quote in assumption.quotes:
            for sentence in index.find(quote, None):
                if assumption.id not in sentence.assumed_by:
                    sentence.assumed_by.append(assumption.id)
    for i, entry in enumerate(model.not_encoded):
        for quote in entry.quotes:
            for sentence in index.find(quote, entry.basis):
                if i not in sentence.not_encoded_by:
                    sentence.not_encoded_by.append(i)
    return sentences


def annotate_pack(model: M.PackModel, pack_dir: Path) -> list[Sentence]:
    """:func:`annotate` for a pack on disk."""
    document = (pack_dir / model.metadata.document).read_text(encoding="utf-8")
    return annotate(model, document)


def figures(sentences: list[Sentence]) -> dict[str, int]:
    """How many sentences have each status, and how many untouched ones are relevant."""
    counts: dict[str, int] = {status: 0 for status in STATUSES}
    for sentence in sentences:
        if not sentence.heading:
            counts[sentence.status] += 1
    counts["untouched_relevant"] = sum(
        1 for s in sentences if s.status == "untouched" and s.relevant
    )
    counts["total"] = sum(1 for s in sentences if not s.heading)
    return counts


# -- text coverage: the checker's view --------------------------------------------------


def _said(markers: list[tuple[str, str]]) -> str:
    words: list[str] = []
    for _kind, text in markers:
        if text not in words:
            words.append(text)
    return "、".join(words)


def coverage_diagnostics(model: M.PackModel, located: Located, pack_dir: Path) -> list[Diagnostic]:
    """A warning at every sentence that carries a deadline, an actor duty or an escalation
    and that nothing in the pack accounts for, so a clause added to the document cannot be
    forgotten."""
    document_path = pack_dir / model.metadata.document
    try:
        document = document_path.read_text(encoding="utf-8")
    except (OSError, UnicodeError):
        return []  # the loader and the faithfulness check report an unreadable document
    file = str(Path(located.file).parent / model.metadata.document) if located.file else ""
    found = []
    for sentence in annotate(model, document):
        if sentence.status != "untouched" or not sentence.relevant:
            continue
        shown = sentence.text if len(sentence.text) <= 60 else sentence.text[:60] + "…"
        where = f" ({sentence.clause})" if sentence.clause else ""
        found.append(
            Diagnostic(
                code="untouched_sentence",
                message=f"a sentence{where} holds {_said(sentence.markers)} but nothing in the "
                f"pack quotes it: `{shown}`",
                file=file or str(document_path),
                line=sentence.line,
                col=sentence.col,
                end_line=sentence.line,
                end_col=sentence.col + len(sentence.text),
                severity="warning",
                help="encode it (a rule, obligation or step quoting it), list it under "
                "`not_encoded` with its `quotes` and why, or state an assumption that quotes it",
            )
        )
    return found
