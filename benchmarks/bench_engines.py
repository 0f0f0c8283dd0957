"""Engines side by side on one generated Shidian workload, in one run, on one core:
the native engine, the durable_rules engine and the hand-written yardstick; evaluate_many;
load_pack per pack; peak memory of evaluate_many over 1,000,000 facts. Prints figures.

    .venv/bin/python benchmarks/bench_engines.py [--facts 100000] [--memory-facts 1000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections import deque
from datetime import date

sys.path.insert(0, os.path.dirname(__file__))

import ecorules  # noqa: E402
from bench_core import workload  # noqa: E402
from ecorules._pack import bundled_names  # noqa: E402


def rate(run, facts) -> float:  # type: ignore[no-untyped-def]
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        run(facts)
        best = max(best, len(facts) / (time.perf_counter() - start))
    return best


MEMORY_SCRIPT = """
import resource, sys, time
sys.path.insert(0, {bench!r})
import ecorules
from bench_core import workload
from collections import deque
pack = ecorules.load_pack("shidian")
sample = workload(pack, 10_000)
def stream(n):
    for i in range(n):
        fact, as_of = sample[i % len(sample)]
        yield dict(fact, id=f"F-{{i}}")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
deque(pack.evaluate_many(stream({n}), "2024-10-15"), maxlen=0)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak / 1024, before / 1024, {n} / elapsed)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--memory-facts", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; one thread")

    import shidian_handwritten

    native = ecorules.load_pack("shidian")
    durable = ecorules.load_pack("shidian", engine="durable")
    # One as_of for every fact, as in a nightly ledger job, so all rows face one workload.
    as_of_fixed = date(2024, 12, 31)
    facts = [(fact, as_of_fixed) for fact, _ in workload(native, args.facts)]

    def run_native(batch):  # type: ignore[no-untyped-def]
        for fact, as_of in batch:
            native.evaluate(fact, as_of)

    def run_durable(batch):  # type: ignore[no-untyped-def]
        for fact, as_of in batch:
            durable.evaluate(fact, as_of)

    def run_reference(batch):  # type: ignore[no-untyped-def]
        for fact, as_of in batch:
            shidian_handwritten.evaluate(fact, as_of)

    def run_many(batch):  # type: ignore[no-untyped-def]
        deque(native.evaluate_many((f for f, _ in batch), as_of_fixed), maxlen=0)

    reference = rate(run_reference, facts)
    figures = {
        "hand-written reference": reference,
        "native evaluate": rate(run_native, facts),
        "native evaluate_many": rate(run_many, facts),
        "durable evaluate": rate(run_durable, facts[: max(1, args.facts // 5)]),
    }
    print(f"\nShidian, {args.facts:,} mixed facts (durable: a fifth of them)")
    for name, value in figures.items():
        print(f"  {name:24} {value:12,.0f} facts/s   {value / reference:5.2f}× reference")
    print(f"  native / durable         {figures['native evaluate'] / figures['durable evaluate']:.1f}×")

    print("\nload_pack, warm (median of 10), ms")
    for name in bundled_names():
        for engine in ("native", "durable"):
            times = []
            for _ in range(10):
                start = time.perf_counter()
                ecorules.load_pack(name, engine=engine)  # type: ignore[arg-type]
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            print(f"  {name:10} {engine:8} {times[len(times) // 2]:6.1f}")

    script = MEMORY_SCRIPT.format(bench=os.path.dirname(__file__), n=args.memory_facts)
    peak, before, speed = map(float, subprocess.check_output(
        [sys.executable, "-c", script], text=True).split())
    print(f"\nevaluate_many over {args.memory_facts:,} facts: peak RSS {peak:.0f} MB "
          f"(process before the run: {before:.0f} MB), {speed:,.0f} facts/s")


if __name__ == "__main__":
    main()
