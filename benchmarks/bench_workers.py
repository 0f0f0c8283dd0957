"""Every core: facts per second on one process and on several, and the memory they take.

    .venv/bin/python benchmarks/bench_workers.py [--facts 1000000] [--workers 2]

Two measures, each run in a fresh process for workers=1 and workers=N:

* the library: ``deque(pack.evaluate_many(facts, as_of, workers=w), maxlen=0)`` over a
  stream of facts (bench_core's workload, cycled: the stream itself holds no memory);
* the command line: ``ecorules evaluate shidian ledger.jsonl --as-of … -o out.jsonl
  --workers w`` over a JSON Lines ledger of the same facts, written to a file.

Peak memory is the high-water RSS (VmHWM) of the measured process and of every process
under it (the workers, and the forkserver they are forked from), sampled from /proc every
50 ms: the sum of those peaks bounds the peak of the whole run from above. Linux only.
Prints figures; asserts nothing. On a shared machine the figures move with its load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import ecorules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import workload

AS_OF = "2024-10-25"
DISTINCT = 20_000
"""Distinct facts in the stream; the stream cycles through them."""

LIBRARY = """
import sys, time
from collections import deque
sys.path.insert(0, {here!r})
from bench_core import workload
import ecorules

def main():
    pack = ecorules.load_pack("shidian", calendar_notices=())
    distinct = [fact for fact, _ in workload(pack, {distinct})]
    stream = (distinct[i % len(distinct)] for i in range({n}))
    start = time.perf_counter()
    deque(pack.evaluate_many(stream, {as_of!r}, workers={workers}), maxlen=0)
    print(time.perf_counter() - start)

if __name__ == "__main__":
    main()
"""


def _children(pid: int) -> list[int]:
    """Every process under ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(command: list[str]) -> tuple[float, str, float, float, float, float]:
    """Runs ``command``: wall seconds, its stdout, its own peak RSS (MB), the sum of the
    peaks of everything under it (MB), the CPU seconds of all of them and of ``command``'s
    own process (as last sampled: a process's last 50 ms may be missed)."""
    peaks: dict[int, int] = {}
    cpu: dict[int, float] = {}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in [process.pid, *_children(process.pid)]:
                peaks[pid] = max(peaks.get(pid, 0), _hwm_kb(pid))
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_seconds(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command} failed with {process.returncode}")
    own = peaks.pop(process.pid, 0) / 1024
    return wall, out, own, own + sum(peaks.values()) / 1024, sum(cpu.values()), cpu[process.pid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("library", "cli"))
    args = parser.parse_args()
    n = args.facts
    load = os.getloadavg()
    print(f"{n:,} facts; {os.cpu_count()} cores; load average {load[0]:.1f} at the start")
    here = str(Path(__file__).resolve().parent)
    results: dict[str, dict[int, float]] = {}
    if args.only in (None, "library"):
        print("\nlibrary: deque(evaluate_many(stream, as_of, workers=w), maxlen=0)")
        for workers in (1, args.workers):
            code = LIBRARY.format(here=here, n=n, distinct=DISTINCT, as_of=AS_OF, workers=workers)
            _, out, own, total, cpu, parent = measured([sys.executable, "-c", code])
            seconds = float(out)
            results.setdefault("library", {})[workers] = seconds
            print(
                f"  workers={workers}: {n / seconds:>9,.0f} facts/s ({seconds:.1f} s; CPU "
                f"{cpu:.1f} s in all processes, {parent:.1f} s in the parent); peak RSS "
                f"{own:.0f} MB in the parent, {total:.0f} MB with its workers"
            )
    if args.only in (None, "cli"):
        print("\ncommand line: ecorules evaluate shidian ledger.jsonl -o out.jsonl --workers w")
        pack = ecorules.load_pack("shidian", calendar_notices=())
        distinct = [
            json.dumps(fact, ensure_ascii=False).encode() + b"\n"
            for fact, _ in workload(pack, DISTINCT)
        ]
        with tempfile.TemporaryDirectory() as tmp:
            ledger = Path(tmp) / "ledger.jsonl"
            with ledger.open("wb") as handle:
                for i in range(n):
                    handle.write(distinct[i % DISTINCT])
            size = ledger.stat().st_size
            for workers in (1, args.workers):
                out = Path(tmp) / "out.jsonl"
                command = [sys.executable, "-m", "ecorules", "evaluate", "shidian", str(ledger)]
                command += ["--as-of", AS_OF, "-o", str(out), "--workers", str(workers)]
                seconds, _, own, total, cpu, _ = measured(command)
                written = out.stat().st_size
                out.unlink()
                results.setdefault("cli", {})[workers] = seconds
                print(
                    f"  workers={workers}: {n / seconds:>9,.0f} facts/s ({seconds:.1f} s; CPU "
                    f"{cpu:.1f} s; {size / 2**20:.0f} MB in, {written / 2**20:,.0f} MB out); "
                    f"peak RSS {own:.0f} MB in the parent, {total:.0f} MB with its workers"
                )
    print()
    for name, runs in results.items():
        print(f"speed-up, {name}: {runs[1] / runs[args.workers]:.2f}x on {args.workers} workers")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
