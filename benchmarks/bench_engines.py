"""Engines side by side on one generated Shidian workload, in one run, on one core: the
hand-written yardstick (shidian_yardstick.py, which returns the engine's whole decision and
is held equal to it by tests/test_yardstick.py), the native engine's evaluate and
evaluate_many, and the durable_rules engine; the ratios the targets are stated in; load_pack
per pack; peak memory of evaluate_many over 1,000,000 facts. Prints figures; asserts only
that the yardstick and the engine agree on the facts it times.

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
from collections.abc import Callable, Iterable
from datetime import date

sys.path.insert(0, os.path.dirname(__file__))

from bench_core import workload

import ecorules
from ecorules._pack import bundled_names
from ecorules._revision import decision_id

Run = Callable[[int, int], None]
"""Evaluates the workload's facts[start:stop]."""

CHUNK = 1_000


def chunk_times(
    runs: dict[str, tuple[Run, int]], n: int, rounds: int
) -> dict[str, dict[int, float]]:
    """Seconds each run takes on each chunk of the workload, the least over ``rounds``.

    The runs take turns chunk by chunk (a chunk is a fraction of a second), so a busy spell
    on a shared machine falls on all of them alike, and ratios are taken chunk for chunk. A
    run given ``every=k`` times only every k-th chunk (the durable engine, which is slow)."""
    best: dict[str, dict[int, float]] = {name: {} for name in runs}
    for _ in range(rounds):
        for index, start in enumerate(range(0, n, CHUNK)):
            stop = min(n, start + CHUNK)
            for name, (run, every) in runs.items():
                if index % every:
                    continue
                began = time.perf_counter()
                run(start, stop)
                took = time.perf_counter() - began
                best[name][start] = min(best[name].get(start, took), took)
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--durable-every", type=int, default=5, help="time durable on every k-th chunk"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; one thread; ecorules {ecorules.__version__}"
    )

    # Memory first, while this process is small: on Linux a child's peak RSS (ru_maxrss)
    # starts from its parent's at fork and survives exec, so a parent holding the workloads
    # below would inflate the child's figure.
    script = MEMORY_SCRIPT.format(bench=os.path.dirname(__file__), n=args.memory_facts)
    peak, before, speed = map(
        float, subprocess.check_output([sys.executable, "-c", script], text=True).split()
    )

    import shidian_yardstick as yardstick

    native = ecorules.load_pack("shidian")
    durable = ecorules.load_pack("shidian", engine="durable")
    # One as_of for every fact, as in a nightly ledger job, so all rows face one workload.
    as_of_fixed = date(2024, 12, 31)
    facts = [(fact, as_of_fixed) for fact, _ in workload(native, args.facts)]
    # The ratio means something only while both decide alike: check what is timed (the
    # test suite checks the same on the varied as_of workload and on generated facts).
    for fact, as_of in facts:
        if yardstick.evaluate(fact, as_of) != native.evaluate(fact, as_of):
            sys.exit(f"the yardstick and the engine disagree on {fact} as of {as_of}")

    def run_yardstick(start: int, stop: int) -> None:
        evaluate = yardstick.evaluate
        for fact, as_of in facts[start:stop]:
            evaluate(fact, as_of)

    def run_native(start: int, stop: int) -> None:
        evaluate = native.evaluate
        for fact, as_of in facts[start:stop]:
            evaluate(fact, as_of)

    def run_durable(start: int, stop: int) -> None:
        evaluate = durable.evaluate
        for fact, as_of in facts[start:stop]:
            evaluate(fact, as_of)

    def run_many(start: int, stop: int) -> None:
        deque(native.evaluate_many((f for f, _ in facts[start:stop]), as_of_fixed), maxlen=0)

    # The floor under any evaluator that returns this decision with today's output types:
    # building the Decision and its id from parts already decided (actions, chain and
    # warnings reused, not built).
    decided = [(yardstick.read(fact), yardstick.evaluate(fact, as_of)) for fact, as_of in facts]

    def run_floor(start: int, stop: int) -> None:
        make, seed = ecorules.Decision, yardstick.SEED
        for read, d in decided[start:stop]:
            make(
                fact_id=d.fact_id,
                pack=d.pack,
                as_of=d.as_of,
                kind=d.kind,
                source=d.source,
                category=d.category,
                responsible=d.responsible,
                responsible_tier=d.responsible_tier,
                closure_chain_id=d.closure_chain_id,
                closure_chain=d.closure_chain,
                closed=d.closed,
                actions=d.actions,
                matched_rules=d.matched_rules,
                warnings=d.warnings,
                provenance=d.provenance,
                calendar=d.calendar,
                decision_id=decision_id(seed, read, d.as_of),  # type: ignore[arg-type]
                revision=d.revision,
            )

    every = max(1, args.durable_every)
    timed = chunk_times(
        {
            "output floor (Decision+id)": (run_floor, 1),
            "yardstick (hand-written)": (run_yardstick, 1),
            "native evaluate": (run_native, 1),
            "native evaluate_many": (run_many, 1),
            "durable evaluate": (run_durable, every),
        },
        len(facts),
        args.rounds,
    )

    def per_fact(name: str, chunks: Iterable[int]) -> float:
        """Microseconds a fact over these chunks."""
        chunks = list(chunks)
        count = sum(min(CHUNK, len(facts) - c) for c in chunks)
        return sum(timed[name][c] for c in chunks) / count * 1e6

    all_chunks = timed["native evaluate"].keys()
    durable_chunks = timed["durable evaluate"].keys()
    print(
        f"\nShidian, {len(facts):,} mixed facts, as_of {as_of_fixed} (durable: every "
        f"{every}th chunk of {CHUNK:,}); least time per chunk over {args.rounds} rounds, "
        "engines taking turns chunk by chunk"
    )
    for name in timed:
        us = per_fact(name, durable_chunks if name == "durable evaluate" else all_chunks)
        print(f"  {name:28} {1e6 / us:10,.0f} facts/s  {us:7.1f} µs/fact")
    yard = per_fact("yardstick (hand-written)", all_chunks)
    nat = per_fact("native evaluate", all_chunks)
    many = per_fact("native evaluate_many", all_chunks)
    # Against durable, on the chunks durable ran, so both ratios compare the same facts.
    nat_d = per_fact("native evaluate", durable_chunks)
    dur = per_fact("durable evaluate", durable_chunks)
    floor = per_fact("output floor (Decision+id)", durable_chunks)
    print(f"  native / yardstick           {yard / nat:10.2f}×   (target ≥ 0.5)")
    print(f"  native / durable             {dur / nat_d:10.1f}×   (target ≥ 15)")
    print(f"  evaluate_many / yardstick    {yard / many:10.2f}×")
    # durable = durable_rules' matching + the same decision building as native, so even a
    # native engine that did nothing but build the decision could be only this much faster:
    matching = dur - nat_d
    print(
        f"  native / durable if native cost only the output floor: "
        f"{(matching + floor) / floor:.1f}× (durable_rules' own share ≈ {matching:.0f} µs)"
    )

    print("\nload_pack, warm (median of 10), ms")
    for name in bundled_names():
        for engine in ("native", "durable"):
            times = []
            for _ in range(10):
                start = time.perf_counter()
                ecorules.load_pack(name, engine=engine)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            print(f"  {name:10} {engine:8} {times[len(times) // 2]:6.1f}")

    print(
        f"\nevaluate_many over {args.memory_facts:,} facts: peak RSS {peak:.0f} MB "
        f"(process before the run: {before:.0f} MB), {speed:,.0f} facts/s"
    )


if __name__ == "__main__":
    main()
