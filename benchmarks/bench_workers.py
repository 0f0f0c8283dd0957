"""Every core: facts per second on one process and on several, and the memory they take.

    .venv/bin/python benchmarks/bench_workers.py [--facts 1000000] [--workers 2]

Two measures, each run in a fresh process for workers=1 and workers=N:

* the library: ``deque(pack.evaluate_many(facts, as_of, workers=w), maxlen=0)`` over a
  stream of facts (bench_core's workload, cycled: the stream itself holds no memory);
* the command line: ``ecorules evaluate shidian ledger.jsonl --as-of … -o out.jsonl
  --workers w`` over a JSON Lines ledger of the same facts, written to a file.

With ``--breakdown``, the library path's parts are timed one by one in this process
(CPU time per fact, the best of five, on the same facts; the setup frozen out of the
garbage collector's sight, as in a lean process), and the speed-up they allow
on two cores is printed: the parent and the workers share the cores, so with the parent
deciding nothing itself it is at most 2·T1 / (T1 + every part's cost per fact).

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
from collections.abc import Callable
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
    pack = ecorules.load_pack("shidian", calendar_notices=(), engine={engine!r})
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


def _per_fact(run: Callable[[], object], n: int) -> float:
    """The best of five CPU times of ``run``, in microseconds per fact."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best / n * 1e6


def breakdown() -> None:
    """What the library path on workers costs per fact, part by part (see the docstring)."""
    import gc
    import pickle
    from collections import deque
    from datetime import date

    from ecorules import _parallel as P

    pack = ecorules.load_pack("shidian", calendar_notices=())
    facts = [fact for fact, _ in workload(pack, DISTINCT)]
    day = date.fromisoformat(AS_OF)
    n = len(facts)
    chunks = [facts[i : i + P.LIBRARY_CHUNK_SIZE] for i in range(0, n, P.LIBRARY_CHUNK_SIZE)]
    sent = [pickle.dumps(chunk, protocol=5) for chunk in chunks]
    P._start(P._recipe(pack), day, "start", None, P.INTERN_LIMIT)  # this process as a worker
    evaluate, matcher = P._deciders(pack, "start", None)
    # Two rounds: the first fills the tables, the second is a run under way.
    replies = [P._decide_objects(data)[0] for data in sent + sent]
    # What this process holds (the facts, the replies, two packs) out of the garbage
    # collector's sight, as a worker's or a host's small heap would be: the collector's
    # work grows with the heap, and each part here is then timed as in a lean process.
    gc.collect()
    gc.freeze()

    def decide() -> None:
        for data in sent:
            deque(P._each(pickle.loads(data), False, [0], evaluate, matcher, day), maxlen=0)

    def rebuild(read_ids: bool) -> None:
        decoder = P._Decoder(pack, day)
        for reply, data in zip(replies, sent + sent, strict=True):
            results = decoder.decode(reply, data)[1]
            if read_ids:
                for decision in results:
                    decision.decision_id  # noqa: B018 -- reading it is what is timed
            else:
                deque(results, maxlen=0)

    def one(read_ids: bool) -> None:
        if read_ids:
            for decision in pack.evaluate_many(facts, day):
                decision.decision_id  # noqa: B018
        else:
            deque(pack.evaluate_many(facts, day), maxlen=0)

    t1 = _per_fact(lambda: one(False), n)
    parent_pickle = _per_fact(lambda: [pickle.dumps(c, protocol=5) for c in chunks], n)
    unpickle = _per_fact(lambda: [pickle.loads(data) for data in sent], n)
    decided = _per_fact(decide, n)
    encoded = _per_fact(lambda: [P._decide_objects(data) for data in sent], n)
    rebuilt = _per_fact(lambda: rebuild(False), 2 * n)
    id_one = _per_fact(lambda: one(True), n) - t1
    id_parent = _per_fact(lambda: rebuild(True), 2 * n) - rebuilt
    encode = encoded - decided
    parent = parent_pickle + rebuilt  # per fact a worker decides
    worker = encoded  # unpickling, deciding, encoding
    print("library on workers, part by part (CPU µs per fact, in one process):")
    for name, value in (
        ("one process: evaluate_many (T1)", t1),
        ("parent: pickling the facts", parent_pickle),
        ("worker: unpickling the facts", unpickle),
        ("worker: deciding (unpickling included)", decided),
        ("worker: encoding the decisions", encode),
        ("parent: decoding and building the decisions", rebuilt),
        ("a decision id when read, one process", id_one),
        ("a decision id when read, on workers (parent)", id_parent),
    ):
        print(f"  {name:<46} {value:6.2f}")
    overhead = parent_pickle + unpickle + encode + rebuilt
    share = P._Share(2)  # what evaluate_many chooses from these costs, on two cores
    share.cores = 2
    share.costs = {"here": t1, "back": parent, "worker": worker}
    part = min((i / 20 for i in range(19)), key=share.time_per_fact)
    wall = share.time_per_fact(part)
    print(
        f"  every part beside deciding: {overhead:.2f} µs; bound on 2 cores with the parent "
        f"deciding nothing itself: 2·T1/(T1 + parts) = {2 * t1 / (t1 + overhead):.2f}x;\n"
        f"  with the parent deciding the share that balances the cores ({part:.0%}): "
        f"{t1 / wall:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("library", "cli"))
    parser.add_argument(
        "--engine",
        choices=("native", "durable"),
        default="native",
        help="the library's engine (durable: deciding costs ~10x what sending costs)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="time the library path's parts, then stop"
    )
    args = parser.parse_args()
    if args.breakdown:
        breakdown()
        return
    n = args.facts
    load = os.getloadavg()
    print(f"{n:,} facts; {os.cpu_count()} cores; load average {load[0]:.1f} at the start")
    here = str(Path(__file__).resolve().parent)
    results: dict[str, dict[int, float]] = {}
    if args.only in (None, "library"):
        print("\nlibrary: deque(evaluate_many(stream, as_of, workers=w), maxlen=0)")
        for workers in (1, args.workers):
            code = LIBRARY.format(
                here=here, n=n, distinct=DISTINCT, as_of=AS_OF, workers=workers, engine=args.engine
            )
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
