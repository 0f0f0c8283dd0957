"""Report throughput, and what the dashboard's figures (``Report.figures``) add to it.

    .venv/bin/python benchmarks/bench_report.py [--facts 100000]

The ledger is examples/shidian_ledger.jsonl repeated (ids made unique) to the size asked;
the report is built once with the figures tallied, as `ecorules report` does, and once with
the tally's per-decision step replaced by a no-op. Prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ecorules
from ecorules._figures import FigureTally

LEDGER = Path(__file__).resolve().parents[1] / "examples" / "shidian_ledger.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=100_000)
    args = parser.parse_args()
    base = [json.loads(line) for line in LEDGER.read_text(encoding="utf-8").splitlines()]
    facts = [{**base[i % len(base)], "id": f"F{i}"} for i in range(args.facts)]
    pack = ecorules.load_pack("shidian")
    pack.report(facts[:1000], "2024-10-25")  # warm up plans and caches

    def timed() -> float:
        start = time.perf_counter()
        pack.report(facts, "2024-10-25")
        return time.perf_counter() - start

    with_figures = min(timed() for _ in range(3))
    add = FigureTally.add
    FigureTally.add = lambda self, decision: None  # type: ignore[method-assign]
    try:
        without = min(timed() for _ in range(3))
    finally:
        FigureTally.add = add  # type: ignore[method-assign]
    print(f"facts: {args.facts:,}")
    print(f"report with figures:    {args.facts / with_figures:,.0f} facts/s")
    print(f"report without figures: {args.facts / without:,.0f} facts/s")
    print(f"figures cost: {100 * (with_figures - without) / without:.1f}% of the report's time")


if __name__ == "__main__":
    main()
