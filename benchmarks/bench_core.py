"""Core figures: load_pack time per bundled pack, and evaluate() throughput on a mixed
workload, input validation included. Prints figures; it asserts nothing.

    .venv/bin/python benchmarks/bench_core.py [--facts 200000]

The workload is generated from each pack's vocabulary with a fixed seed: every source and
category, a few flags, and event histories at different stages (just transferred, plan
submitted, rectified, part way up the closure chain, closed), with as_of spread over 2024.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

import ecorules
from ecorules._pack import bundled_names

STAGES = [
    [],
    ["transferred"],
    ["transferred", "upper_plan_issued"],
    ["transferred", "plan_submitted"],
    ["transferred", "plan_submitted", "county_plan_submitted", "plan_issued"],
    ["transferred", "plan_submitted", "plan_issued", "rectified"],
    ["transferred", "plan_issued", "rectified", "self_checked", "accepted_by_municipal"],
    ["transferred", "plan_issued", "rectified", "self_checked", "signed_off", "closed"],
]


def workload(
    pack: ecorules.Pack, n: int, seed: int = 20241015
) -> list[tuple[dict[str, Any], date]]:
    rng = random.Random(seed)
    vocab = pack.model.vocabulary
    events = {e.id for e in vocab.events}
    flags = [f.id for f in vocab.flags]
    out = []
    for i in range(n):
        kind = rng.choice(vocab.kinds)
        start = date(2024, 1, 2) + timedelta(days=rng.randrange(330))
        fact: dict[str, Any] = {"id": f"F-{i}", "kind": kind.id}
        if vocab.sources:
            fact["source"] = rng.choice(vocab.sources).id
        if vocab.categories:
            fact["category"] = rng.choice(vocab.categories).id
        if flags and rng.random() < 0.2:
            fact["flags"] = [rng.choice(flags)]
        stage = [e for e in rng.choice(STAGES) if e in events]
        day = start
        history = {}
        for event in stage:
            history[event] = day.isoformat()
            day += timedelta(days=rng.randrange(1, 20))
        fact["events"] = history
        out.append((fact, day + timedelta(days=rng.randrange(0, 30))))
    return out


def _in_new_process(code: str) -> float:
    runs = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)
    ]
    return min(runs)


def holidays_import_ms() -> float:
    """The one-time cost of importing holidays' country data (every country's module)."""
    return _in_new_process(
        "import time; t = time.perf_counter(); import holidays.countries; "
        "print((time.perf_counter() - t) * 1000)"
    )


def cold_load_ms(name: str) -> float:
    """First load in a new process, holidays' data already imported: our own costs."""
    return _in_new_process(
        "import time, ecorules, holidays.countries; t = time.perf_counter(); "
        f"ecorules.load_pack({name!r}); print((time.perf_counter() - t) * 1000)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=200_000)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python "
        f"{platform.python_version()}; ecorules {ecorules.__version__}"
    )
    print(f"\nimporting holidays' country data (once per process): {holidays_import_ms():.1f} ms")
    print(
        "load_pack (ms): cold = first load in a process (lays out the shared calendar); "
        "warm = again"
    )
    for name in bundled_names():
        warm = []
        for _ in range(20):
            t = time.perf_counter()
            ecorules.load_pack(name)
            warm.append((time.perf_counter() - t) * 1000)
        print(
            f"  {name:12} cold {cold_load_ms(name):7.1f}   warm median "
            f"{statistics.median(warm):6.1f}"
        )

    print(
        f"\nevaluate, {args.facts} mixed facts, one thread (JSON-like dicts, validation included)"
    )
    for name in bundled_names():
        pack = ecorules.load_pack(name)
        facts = workload(pack, args.facts)
        for fact, as_of in facts[:1000]:
            pack.evaluate(fact, as_of)
        best = best_with_id = 0.0
        for _ in range(3):
            t = time.perf_counter()
            for fact, as_of in facts:
                pack.evaluate(fact, as_of)
            best = max(best, len(facts) / (time.perf_counter() - t))
            # The decision id is hashed when first read: a host logging it pays this.
            t = time.perf_counter()
            for fact, as_of in facts:
                pack.evaluate(fact, as_of).decision_id  # noqa: B018
            best_with_id = max(best_with_id, len(facts) / (time.perf_counter() - t))
        print(
            f"  {name:12} {best:10,.0f} facts/s; {best_with_id:10,.0f} with decision_id read "
            "(best of 3)"
        )


if __name__ == "__main__":
    main()
