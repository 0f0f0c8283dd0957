"""Which text encoding a CSV ledger is in, decided before any row is read.

Excel on Chinese Windows saves "CSV" as GBK (code page 936); Excel elsewhere and most
tools save UTF-8, often with a byte-order mark. A clerk does not know which, and should
not have to: the file is scanned once, line by line, and read as UTF-8 when its non-ASCII
lines are UTF-8, as GB18030 (a superset of GBK and GB2312) when none is UTF-8 and they
are GB18030, and refused, with the first line that is neither, when it is something else.

A file that is mostly one with a few stray lines of the other keeps its majority reading:
the stray rows are refused one by one in their place, and every good row is decided.
``--encoding`` overrides the guess (any codec Python knows).
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ._errors import FactError, FactProblem

UTF8 = "utf-8-sig"
"""UTF-8, with the byte-order mark Excel writes skipped when there is one."""
GB = "gb18030"

_SCAN_LINE_BYTES = 1 << 20


def _decodes(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, declared: str | None = None) -> str:
    """The codec to read ``path`` with: ``declared`` once it is known to be a codec, or the
    one the file's lines are in. A FactError names the file and its first line that is
    neither UTF-8 nor GB18030 when no reading fits."""
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError:
            raise FactError(
                [FactProblem("--encoding", declared, "not an encoding Python knows", ("utf-8", GB))]
            ) from None
    utf8 = gb = other = lines = 0
    first_other = 0
    try:
        with path.open("rb") as handle:
            for raw in iter(lambda: handle.readline(_SCAN_LINE_BYTES), b""):
                lines += 1
                if b"\x00" in raw:  # UTF-16 or a binary file: no line of it is text
                    other += 1
                    first_other = first_other or lines
                    continue
                if raw.isascii():
                    continue
                if _decodes(raw, "utf-8"):
                    utf8 += 1
                elif _decodes(raw, GB):
                    gb += 1
                else:
                    other += 1
                    first_other = first_other or lines
                # Enough evidence either way: a 100 MB ledger need not be read twice whole.
                if utf8 + gb >= 2000 and (utf8 == 0 or gb == 0) and not other:
                    break
    except OSError as exc:
        raise FactError(
            [FactProblem("ledger", str(path), f"cannot read: {exc.strerror}")]
        ) from None
    # A few stray lines are rows to refuse in their place; a file that is mostly neither
    # UTF-8 nor GB18030 (UTF-16, Latin-1, a binary file) is refused whole, said once.
    if other and not (utf8 or gb) and other * 10 >= lines:
        raise FactError(
            [
                FactProblem(
                    f"ledger line {first_other}",
                    str(path),
                    "neither UTF-8 nor GB18030/GBK text: save the file as UTF-8, "
                    "or name its encoding with --encoding",
                )
            ]
        )
    return GB if gb and not utf8 else UTF8


def encoding_label(codec: str) -> str:
    """How a refusal names the encoding a row failed to be in."""
    return {"utf-8-sig": "UTF-8", "utf_8": "UTF-8", "utf-8": "UTF-8", GB: "GB18030/GBK"}.get(
        codec, codec
    )
