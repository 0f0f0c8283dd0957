"""How a ledger's own words become a fact: its column headers and its cell values.

Offices keep ledgers with Chinese headers (来源, 移交日期) and Chinese values (省级移交,
一般性问题) — the very names the pack gives its vocabulary. So, built once per pack before
any row is read (evaluation itself never sees a name):

- a value table: every vocabulary term's id, Chinese ``name`` and pack ``aliases``, plus a
  mapping file's value aliases, compared case-, width- and space-insensitively (NFKC), so
  ``省级移交``, ``ＰＲＯＶＩＮＣＩＡＬ`` and ``provincial`` all read as ``provincial``;
- a header table: field ids, the Chinese labels below and each event's and attribute's name
  (``问题移交``, ``问题移交日期``, ``问题移交时间``) as headers;
- dates as offices write them (2024/9/27, 2024年9月27日, 2024.9.27, an Excel date) as ISO.

A mapping file (``--mapping ledger.yaml``) names columns and value aliases where the
ledger's words are its own; ``ecorules mapping PACK`` prints a starter one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import FactError, FactProblem

if TYPE_CHECKING:
    from ._pack import Pack

FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "id": ("编号", "问题编号", "序号"),
    "kind": ("类型", "记录类型"),
    "source": ("来源", "问题来源"),
    "category": ("类别", "问题类别"),
    "sector": ("行业", "问题行业", "领域"),
    "flags": ("标记", "情形"),
}
"""The Chinese headers each fact field is recognised by (the first is what ``mapping`` prints)."""

_VALUE_FIELDS = ("kind", "source", "category", "sector", "flags")


def norm(text: str) -> str:
    """A word as compared: full-width folded to half-width, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_FROM, _SERIAL_UNTIL = 36526, 73051
"""Excel day numbers of 2000-01-01 and 2100-01-01: a number in between, in a date column,
is a date shown as a number (a plain number there is meaningless anyway)."""

_DATE = re.compile(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?$")


def office_date(value: object) -> object:
    """A date cell as ISO text when it is written as offices write dates; else unchanged
    (the fact check then refuses it, naming the forms it takes)."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (_SERIAL_FROM <= value < _SERIAL_UNTIL)
    ):
        # a date typed into a cell formatted as a number: Excel's day count (1900 system)
        return (_EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        match = _DATE.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
        if len(text) == 8 and text.isdigit():  # 20240927
            return f"{text[:4]}-{text[4:6]}-{text[6:]}"
        return text
    return value


@dataclass(frozen=True)
class LedgerVocabulary:
    """A pack's words for a ledger: header → field, and per field normalised word → id."""

    headers: Mapping[str, str]
    """normalised header → field"""
    values: Mapping[str, Mapping[str, str]]
    """field → normalised word → id"""
    labels: Mapping[str, str] = field(default_factory=dict)
    """field → the Chinese header ``mapping`` prints for it"""
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """field (``events`` for every event) → id → the pack's Chinese name, for refusals"""

    @classmethod
    def of(
        cls, pack: Pack, aliases: Mapping[str, Mapping[str, str]] | None = None
    ) -> LedgerVocabulary:
        vocab = pack.model.vocabulary
        headers: dict[str, str] = {}
        labels: dict[str, str] = {}
        values: dict[str, dict[str, str]] = {}
        for name, texts in FIELD_LABELS.items():
            labels[name] = texts[0]
            for text in (name, *texts):
                headers.setdefault(norm(text), name)
        groups: dict[str, Sequence[Any]] = {
            "kind": vocab.kinds,
            "source": vocab.sources,
            "category": vocab.categories,
            "sector": vocab.sectors,
            "flags": vocab.flags,
        }
        names = {name: {t.id: t.name for t in terms} for name, terms in groups.items()}
        names["events"] = {t.id: t.name for t in vocab.events}
        for name, terms in groups.items():
            table = values.setdefault(name, {})
            for term in terms:
                for word in (term.id, term.name, *term.aliases):
                    table.setdefault(norm(word), term.id)
        for event in vocab.events:
            key = f"events.{event.id}"
            labels[key] = f"{event.name}日期"
            for text in (key, event.id, event.name, f"{event.name}日期", f"{event.name}时间"):
                headers.setdefault(norm(text), key)
        for attr in vocab.attrs:
            key = f"attrs.{attr.id}"
            labels[key] = attr.name
            for text in (key, attr.id, attr.name):
                headers.setdefault(norm(text), key)
            if attr.values:
                values[key] = {norm(v): v for v in attr.values}
        for name, words in (aliases or {}).items():
            table = values.setdefault(name, {})
            for word, target in words.items():
                table[norm(str(word))] = str(target)
        return cls(headers, values, labels, names)

    def value(self, name: str, cell: str) -> str:
        table = self.values.get(name)
        return table.get(norm(cell), cell) if table else cell


@dataclass(frozen=True)
class LedgerMapping:
    """A mapping file: field → column header, and per field word → id."""

    columns: dict[str, str]
    values: dict[str, dict[str, str]]


def read_mapping(source: str) -> LedgerMapping:
    from ._yamlsrc import YamlProblem, load_file

    try:
        data = load_file(Path(source)).data
    except (YamlProblem, OSError) as exc:
        text = str(exc.diagnostic) if isinstance(exc, YamlProblem) else str(exc.strerror)
        raise FactError([FactProblem("--mapping", source, text)]) from None
    if not isinstance(data, dict) or not set(data) <= {"columns", "values"}:
        raise FactError(
            [
                FactProblem(
                    "--mapping",
                    source,
                    "a mapping has `columns` and `values`",
                    ("columns", "values"),
                )
            ]
        )
    columns = data.get("columns") or {}
    values = data.get("values") or {}
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise FactError([FactProblem("--mapping", source, "`columns` maps FIELD: 列名")])
    if not isinstance(values, dict) or not all(
        isinstance(k, str) and isinstance(v, dict | None) for k, v in values.items()
    ):
        raise FactError([FactProblem("--mapping", source, "`values` maps FIELD: {词: id}")])
    return LedgerMapping(
        dict(columns),
        {k: {str(w): str(t) for w, t in (v or {}).items()} for k, v in values.items()},
    )


def columns_for(
    header: Sequence[str],
    given: Mapping[str, str],
    words: LedgerVocabulary | None,
    where: str,
) -> dict[str, str]:
    """field → header for a ledger whose header row is ``header``: the given columns, each
    of which must be there, plus every other header the pack's words recognise. One
    FactError, before any row, when a given column is missing or no header is recognised,
    listing the headers found and the nearest matches."""
    present = [h for h in header if h]
    missing = [c for c in given.values() if c not in header]
    if missing:
        nearest = [
            f"{c} → {', '.join(m)}"
            for c in missing
            if (m := difflib.get_close_matches(c, present, n=2, cutoff=0.3))
        ]
        raise FactError(
            [
                FactProblem(
                    "columns",
                    ", ".join(missing),
                    f"not in the {where} header"
                    + (f" (nearest: {'; '.join(nearest)})" if nearest else ""),
                    tuple(present),
                )
            ]
        )
    by_field = dict(given)
    taken = set(given.values())
    for name in present:
        if name in taken:
            continue
        target = words.headers.get(norm(name)) if words else None
        if target is None and (words is None or "." in name or name in FIELD_LABELS):
            target = name  # named as the field itself (source, events.transferred)
        if target is not None and target not in by_field:
            by_field[target] = name
    if present and not by_field:
        known = sorted(words.headers) if words else sorted(FIELD_LABELS)
        nearest = [
            f"{h} → {m[0]}"
            for h in present
            if (m := difflib.get_close_matches(norm(h), known, n=1, cutoff=0.4))
        ]
        raise FactError(
            [
                FactProblem(
                    "columns",
                    None,
                    f"no {where} header names a fact field; map them with --columns or "
                    "--mapping (`ecorules mapping PACK` prints a starter)"
                    + (f"; nearest: {'; '.join(nearest)}" if nearest else ""),
                    tuple(present),
                )
            ]
        )
    return by_field


def starter_mapping(pack: Pack) -> str:
    """A mapping file to fill in: every field with its Chinese header, every allowed value
    with its Chinese name (which a ledger may use as it is)."""
    words = LedgerVocabulary.of(pack)
    vocab = pack.model.vocabulary
    lines = [
        f"# 台账映射 — {pack.title}（{pack.name}）",
        "# columns: 字段: 台账列名（按台账实际列名修改；需要的字段去掉行首 #）",
        "# values: 字段: {台账中的写法: 取值}；下列取值的中文名称本身无需映射即可使用",
        "columns:",
    ]
    # Only the fields every problem needs are on; a column named here must be in the
    # ledger, so the rest wait, commented, for the ledger's own header to be written in.
    for name in ("id", "kind", "source", "category", "sector", "flags"):
        on = "" if name in ("id", "source", "category") else "# "
        lines.append(f"  {on}{name}: {words.labels[name]}")
    for event in vocab.events:
        lines.append(f"  # events.{event.id}: {event.name}日期")
    for attr in vocab.attrs:
        lines.append(f"  # attrs.{attr.id}: {attr.name}")
    lines.append("values:")
    groups: list[tuple[str, Sequence[Any]]] = [
        ("kind", vocab.kinds),
        ("source", vocab.sources),
        ("category", vocab.categories),
        ("sector", vocab.sectors),
        ("flags", vocab.flags),
    ]
    for name, terms in groups:
        if not terms:
            continue
        lines.append(f"  {name}:")
        lines.append(f"    # 可用取值：{'；'.join(f'{t.name}（{t.id}）' for t in terms)}")
        first = terms[0]
        lines.append(f"    # 例：{first.name}: {first.id}")
    return "\n".join(lines) + "\n"
