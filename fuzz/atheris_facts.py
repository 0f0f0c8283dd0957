"""Coverage-guided fuzzing of evaluation with atheris, for long runs.

    pip install atheris
    python fuzz/atheris_facts.py -max_total_time=3600

Each input is read as JSON (or, failing that, as structured data drawn from the bytes) and
evaluated against every bundled pack on a date drawn from it: the result must be a Decision
or a FactError. Anything else escaping, a hang or a crash is a finding.
"""

from __future__ import annotations

import json
import sys

import atheris

with atheris.instrument_imports():
    import ecorules
    from ecorules._pack import bundled_names

PACKS = [ecorules.load_pack(name) for name in bundled_names()]
FIELDS = ["id", "kind", "source", "category", "sector", "flags", "events", "attrs"]


def _value(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> object:
    choice = fdp.ConsumeIntInRange(0, 7 if depth < 3 else 4)
    if choice == 0:
        return None
    if choice == 1:
        return fdp.ConsumeBool()
    if choice == 2:
        return fdp.ConsumeInt(8)
    if choice == 3:
        return fdp.ConsumeUnicodeNoSurrogates(24)
    if choice == 4:
        return f"20{fdp.ConsumeIntInRange(0, 99):02d}-{fdp.ConsumeIntInRange(0, 13):02d}-" \
               f"{fdp.ConsumeIntInRange(0, 32):02d}"
    if choice == 5:
        return [_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    return {fdp.ConsumeUnicodeNoSurrogates(10): _value(fdp, depth + 1)
            for _ in range(fdp.ConsumeIntInRange(0, 4))}


def test_one_input(data: bytes) -> None:
    try:
        fact = json.loads(data)
        as_of: object = "2024-10-15"
    except (ValueError, UnicodeDecodeError):
        fdp = atheris.FuzzedDataProvider(data)
        fact = {fdp.PickValueInList(FIELDS): _value(fdp) for _ in range(fdp.ConsumeIntInRange(0, 8))}
        as_of = _value(fdp)
    for pack in PACKS:
        try:
            pack.evaluate(fact, as_of)  # type: ignore[arg-type]
        except ecorules.FactError:
            pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
