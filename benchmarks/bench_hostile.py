"""Figures for the bounds of issue 10: what hostile packs, ledgers and threads cost.

    .venv/bin/python benchmarks/bench_hostile.py [--rows 200000]

Prints, and asserts nothing:
- load_pack and `check` on a pack of N sources × N categories (a rule per source, one chain
  for one category) — the shape whose plans used to be compiled all at load;
- load_pack with a FREQ=DAILY duty (the finest rule allowed);
- a JSON Lines ledger of good rows with one bad line in a thousand, through read_ledger,
  evaluate_many and write_results (the CLI's path): rows per second, and the output count;
- 50,000 evaluations on 8 threads, alone and beside 1 and 2 threads calling load_pack in a
  loop, for the native and durable engines.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import ecorules
from ecorules._checker import check_pack
from ecorules._ledger import read_ledger, write_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_hostile_inputs import wide_pack_text
from tests.test_loader import MINIMAL, write_pack

GOOD = {
    "id": "A",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2024-09-27"},
}


def wide(n: int) -> None:
    directory = write_pack(Path(tempfile.mkdtemp()), wide_pack_text(n), "tiny")
    size = (directory / "pack.yaml").stat().st_size
    start = time.perf_counter()
    pack = ecorules.load_pack(directory)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    found = check_pack(pack.model, pack.located)  # type: ignore[arg-type]
    checked = time.perf_counter() - start
    fact = {"source": "s1", "category": "c1", "events": {"transferred": "2024-09-27"}}
    start = time.perf_counter()
    pack.evaluate(fact, "2024-10-25")
    first = time.perf_counter() - start
    print(
        f"wide pack {n}×{n} ({size / 1024:.0f} KB): load {loaded:.2f} s, check {checked:.2f} s "
        f"({len(found)} diagnostics), first evaluate of a new combination {first * 1000:.1f} ms"
    )


def daily() -> None:
    text = MINIMAL + (
        "recurring:\n  - id: report\n    title: 报告\n    basis: 二(一)\n"
        "    quote: 10个工作日内报送\n    actor: county_gov\n    rrule: FREQ=DAILY\n"
    )
    directory = write_pack(Path(tempfile.mkdtemp()), text)
    start = time.perf_counter()
    ecorules.load_pack(directory)
    print(f"a FREQ=DAILY duty: load {time.perf_counter() - start:.2f} s")


def ledger(rows: int) -> None:
    path = Path(tempfile.mkdtemp()) / "ledger.jsonl"
    good = json.dumps(GOOD).encode() + b"\n"
    with path.open("wb") as out:
        for i in range(rows):
            out.write(b"{not json\n" if i % 1000 == 207 else good)
    pack = ecorules.load_pack("shidian")
    sink = _Null()
    start = time.perf_counter()
    read = sum(1 for _ in read_ledger(str(path)))
    reading = time.perf_counter() - start
    start = time.perf_counter()
    decided, refused = write_results(
        pack.evaluate_many(read_ledger(str(path)), "2024-10-25"), sink, "jsonl"
    )
    elapsed = time.perf_counter() - start
    print(
        f"ledger of {rows:,} rows, 1 bad in 1,000: {decided:,} decided, {refused:,} refused, "
        f"{rows / elapsed:,.0f} rows/s (reading alone: {read / reading:,.0f} rows/s)"
    )


class _Null(io.StringIO):
    """Output that keeps nothing: the figure is for the batch, not for memory."""

    def write(self, text: str) -> int:
        return len(text)


def threads(engine: str, loaders: int, facts: int = 50_000) -> float:
    pack = ecorules.load_pack("shidian", engine=engine)  # type: ignore[arg-type]
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            ecorules.load_pack("shidian", engine=engine)  # type: ignore[arg-type]

    def work() -> None:
        for _ in range(facts // 8):
            pack.evaluate(GOOD, "2024-10-25")

    background = [threading.Thread(target=load) for _ in range(loaders)]
    for thread in background:
        thread.start()
    time.sleep(0.2)
    start = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(8)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - start
    stop.set()
    for thread in background:
        thread.join()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    for n in (100, 200, 400):
        wide(n)
    daily()
    ledger(args.rows)
    for engine, facts in (("native", 50_000), ("durable", 20_000)):
        alone = threads(engine, 0, facts)
        figures = ", ".join(
            f"{n} loader{'s' if n > 1 else ''} {threads(engine, n, facts) / alone:.1f}×"
            for n in (1, 2)
        )
        print(f"{facts:,} evaluations on 8 threads ({engine}): alone {alone:.2f} s; {figures}")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
