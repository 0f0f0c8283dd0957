"""Pack revisions and decision ids: what makes a logged decision replayable.

A pack's *revision* is a content hash of its directory (every file, by relative path and
bytes; not times, not where the directory lives), so the same pack text has the same
revision on any machine and an edit of any file gives a new one — as a bundle revision does
for OPA. A *decision id* is derived from the revision (and any calendar notices the host
supplied), the ``as_of`` date and the fact as evaluation read it: re-running a logged fact
offline against a pack of the same revision gives the same id and the same decision. It is
a UUID of version 8 (RFC 9562's "custom" layout), so hosts can store it in a UUID column.

Every decision carries an id, so it is kept cheap: one joined string of the normalised fact
and one BLAKE2b copied from one keyed once per pack, no JSON for the usual fact, no uuid
module objects; and evaluation defers it (``_decision.Deferred``) until a host reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._fact import FactView

REVISION_PREFIX = "sha256:"


def _pack_files(directory: Path) -> list[tuple[str, Path]]:
    """Every regular file under the directory, by POSIX relative path, hidden ones left out
    (editor swap files and VCS metadata are not the pack)."""
    found = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file():
            found.append((relative.as_posix(), path))
    found.sort()
    return found


def pack_revision(directory: Path) -> str:
    """``sha256:`` and the hex SHA-256 over each file's relative path, size and bytes, in
    path order. Independent of modification times and of the directory's own location."""
    digest = hashlib.sha256(b"ecorules-pack-revision/1\n")
    for relative, path in _pack_files(directory):
        data = path.read_bytes()
        name = relative.encode("utf-8")
        digest.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big"))
        digest.update(data)
    return REVISION_PREFIX + digest.hexdigest()


def decision_seed(revision: str, notices: Iterable[object] = ()) -> bytes:
    """The key decision ids of one loaded pack are made with: its revision, plus the
    calendar notices the host supplied (they move due dates, so they are part of what
    decided)."""
    text = revision + "".join("\n" + _notice_text(notice) for notice in notices)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).digest()


def _notice_text(notice: object) -> str:
    # JSON, not repr: a repr may change between pydantic versions, and ids must not.
    dump = getattr(notice, "model_dump_json", None)
    return str(dump()) if callable(dump) else repr(notice)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
# The variant's hex digit (RFC 9562: binary 10xx) for each digit the hash put there.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


@lru_cache(maxsize=64)
def _keyed(seed: bytes) -> Any:
    """A BLAKE2b already keyed with ``seed``: copying it skips hashing the key's block
    again for every id. Each loaded pack has one seed, so the cache holds a few."""
    return hashlib.blake2b(digest_size=16, key=seed)


def decision_id(seed: bytes, fact: FactView, as_of: date) -> str:
    """The id of the decision about ``fact`` as of ``as_of`` under the pack keyed by ``seed``.

    The fact is taken as evaluation read it (dates normalised, attrs typed), so a fact sent
    as a dict, a ``Fact`` or with datetimes instead of dates gets the same id. The text
    hashed is, joined by U+001F: the ``as_of`` day number, the kind, source, category and
    sector (empty when absent), the sorted flags, the sorted events as ``id=day number``,
    the attrs as JSON (only when there are any), and last the fact id (``+id``, empty when
    absent). Kinds, sources, categories, sectors, flags and events were checked against the
    pack's vocabulary before this runs, so they hold no separator; the two free texts are
    JSON-escaped (attrs) or last (the id), so the text reads back one way only.
    """
    events = fact.events
    flags = fact.flags
    attrs = fact.attrs
    text = "\x1f".join(
        (
            str(as_of.toordinal()),
            fact.kind,
            fact.source or "",
            fact.category or "",
            fact.sector or "",
            ",".join(sorted(flags)) if flags else "",
            ",".join([f"{k}={events[k].toordinal()}" for k in sorted(events)]) if events else "",
            # The type is part of the value: attr 1 and attr "1" are different facts.
            _encode(sorted((k, type(v).__name__, v) for k, v in attrs.items())) if attrs else "",
            "" if fact.id is None else "+" + fact.id,
        )
    )
    hasher = _keyed(seed).copy()
    hasher.update(text.encode("utf-8"))
    h = hasher.hexdigest()
    # RFC 9562 layout: version 8 in the 13th hex digit, the variant in the 17th.
    return f"{h[:8]}-{h[8:12]}-8{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
