"""The decision log: one JSON line per decision (or refused fact) the service answered.

After OPA's decision log: each line has the time, the decision id, the pack and its
revision, the request path and id, ``as_of``, the fact as sent and the decision (or the
problems) — enough to replay it offline against a pack of the same revision. Fields named
by ``--mask`` (``id``, ``source``, ``attrs.owner``, ``events.rectified`` …) are replaced by
a SHA-256 of their JSON value, in the fact, in the decision fields that echo the fact
(``fact_id``, ``kind``, ``source``, ``category``) and in refused facts' problems; each line
lists what it masked as JSON pointers (``masked``). A hash is pseudonymous, not anonymous:
a value from a small set can be found by hashing every candidate.

No torn lines: the file is opened for appending and each request's lines go out in one
``write``, so a crash leaves whole lines only; should the last line be torn anyway (a
power loss, a full disk), opening the log cuts it off and says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._decision import Decision
    from ._pack import Pack

log = logging.getLogger("ecorules.server")

# Fact field → the decision field that echoes it.
ECHOED = {"id": "fact_id", "kind": "kind", "source": "source", "category": "category"}


def masked_value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_masks(specs: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """``--mask id,attrs.owner --mask events.x`` → (("id",), ("attrs", "owner"), …)."""
    out = []
    for spec in specs:
        for item in spec.split(","):
            item = item.strip()
            if item:
                out.append(tuple(item.split(".")))
    return tuple(out)


def repair(path: Path) -> int:
    """Cut a torn last line off the log; how many bytes were cut."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    if size == 0:
        return 0
    with open(path, "r+b") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            chunk = handle.read(end - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        handle.truncate(keep)
        return size - keep


class DecisionLog:
    """An append-only JSON Lines file of decisions; safe to share across threads."""

    def __init__(self, path: Path, mask: Sequence[str] = ()):
        self.path = path
        self.masks = parse_masks(mask)
        cut = repair(path)
        if cut:
            log.warning("decision log %s: cut a torn last line (%d bytes)", path, cut)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    def decided(
        self,
        where: tuple[str, str],
        pack: Pack,
        facts: Sequence[Any],
        decisions: Sequence[Decision],
        answered: Sequence[str] | None = None,
    ) -> None:
        """Log decisions; ``answered``, if given, is each decision's JSON as already sent."""
        lines = []
        time = _now()
        for index, (fact, decision) in enumerate(zip(facts, decisions, strict=True)):
            shown, masked = self._mask_fact(fact)
            echoed = [name for name in masked if name in ECHOED]
            if echoed or decision.explanation is not None:
                dumped = decision.model_dump(mode="json")
                dumped["explanation"] = None  # reproducible by a replay with explain
                for name in echoed:
                    if dumped.get(ECHOED[name]) is not None:
                        dumped[ECHOED[name]] = masked_value(dumped[ECHOED[name]])
                body = _encode(dumped)
            else:
                # The common case: pydantic's own JSON, several times faster than a dict.
                body = decision.model_dump_json() if answered is None else answered[index]
            head = {
                "time": time,
                "decision_id": decision.decision_id,
                "req_id": where[1],
                "path": where[0],
                "pack": pack.name,
                "revision": pack.revision,
                "as_of": decision.as_of.isoformat(),
                "fact": shown,
                "masked": _pointers(masked, dumped_echo=True),
            }
            lines.append(_encode(head)[:-1] + ',"decision":' + body + "}")
        self._append(lines)

    def refused(
        self,
        where: tuple[str, str],
        pack: Pack,
        fact: Any,
        as_of: Any,
        errors: list[dict[str, Any]],
    ) -> None:
        shown, masked = self._mask_fact(fact)
        hidden = {".".join(m) for m in self.masks}
        errors = [
            {**e, "value": masked_value(e["value"])} if e.get("field") in hidden else e
            for e in errors
        ]
        self._append(
            [
                _encode(
                    {
                        "time": _now(),
                        "decision_id": None,
                        "req_id": where[1],
                        "path": where[0],
                        "pack": pack.name,
                        "revision": pack.revision,
                        "as_of": as_of if isinstance(as_of, str) else None,
                        "fact": shown,
                        "error": {"type": "fact-refused", "errors": errors},
                        "masked": _pointers(masked, dumped_echo=False),
                    }
                )
            ]
        )

    def _mask_fact(self, fact: Any) -> tuple[Any, list[str]]:
        from ._server import jsonable

        shown = jsonable(fact)
        masked: list[str] = []
        if not isinstance(shown, dict):
            return shown, masked
        for path in self.masks:
            holder: Any = shown
            for key in path[:-1]:
                holder = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(holder, dict) and path[-1] in holder:
                holder[path[-1]] = masked_value(holder[path[-1]])
                masked.append(".".join(path))
        return shown, masked

    def _append(self, lines: list[str]) -> None:
        text = "\n".join(lines) + "\n"
        if "\u2028" in text or "\u2029" in text or "\x85" in text:  # rare; translate is slow
            text = text.translate(_LINE_BREAKS)
        data = text.encode("utf-8")
        fd = self._fd
        if fd is None:
            return
        # One write per request: with O_APPEND the kernel places it whole at the end.
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# JSON leaves these unescaped, but many line readers (Python's str.splitlines among them)
# break lines at them: escaped, a line of the log is a line for every reader.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _pointers(masked: list[str], *, dumped_echo: bool) -> list[str]:
    pointers = ["/fact/" + name.replace(".", "/") for name in masked]
    if dumped_echo:
        pointers += [f"/decision/{ECHOED[name]}" for name in masked if name in ECHOED]
    return pointers


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
