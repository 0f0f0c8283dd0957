"""Spark figures: `ecorules.spark.decide` over a generated Shidian ledger in local mode, the
decisions and actions written to Parquet. Prints figures; it asserts nothing.

    .venv/bin/pip install -e '.[spark]'
    .venv/bin/python benchmarks/bench_spark.py [--facts 1000000] [--master local[2]]

The facts are bench_core's workload (every source and category, a fifth with flags, event
histories at every stage), laid out as a ledger table (one column per field and per event,
events as DateType) and written to Parquet first, in eight files so that each core has
several tasks; that step is timed apart. The timed part is a nightly job's: read the
Parquet, decide every row as of one date, persist, write the decisions and the actions to
Parquet. Each executor process loads the pack once, which the figure includes.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import pyarrow as pa
import pyarrow.parquet as pq
from bench_core import workload

import ecorules

FILES = 8
AS_OF = "2024-12-31"


def write_facts(pack: ecorules.Pack, n: int, folder: Path) -> None:
    events = [e.id for e in pack.model.vocabulary.events]
    columns: dict[str, list[object]] = {
        name: [] for name in ("id", "kind", "source", "category", "flags", *events)
    }
    for fact, _ in workload(pack, n):
        columns["id"].append(fact["id"])
        columns["kind"].append(fact["kind"])
        columns["source"].append(fact.get("source"))
        columns["category"].append(fact.get("category"))
        columns["flags"].append(fact.get("flags"))
        history = fact["events"]
        for event in events:
            day = history.get(event)
            columns[event].append(None if day is None else _date(day))
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("kind", pa.string()),
            ("source", pa.string()),
            ("category", pa.string()),
            ("flags", pa.list_(pa.string())),
            *((event, pa.date32()) for event in events),
        ]
    )
    table = pa.Table.from_pydict(columns, schema=schema)
    size = -(-n // FILES)
    for i in range(FILES):
        pq.write_table(table.slice(i * size, size), folder / f"part-{i}.parquet")


def _date(text: str) -> object:
    from datetime import date

    return date.fromisoformat(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--no-json", action="store_true", help="leave out the decision JSON")
    args = parser.parse_args()

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from ecorules.spark import decide

    pack = ecorules.load_pack("shidian")
    work = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    try:
        facts = work / "facts"
        facts.mkdir()
        start = time.perf_counter()
        write_facts(pack, args.facts, facts)
        print(f"{args.facts:,} facts generated and written to Parquet "
              f"in {time.perf_counter() - start:.1f} s (not in the figure below)")  # fmt: skip

        spark = (
            SparkSession.builder.master(args.master)
            .appName("ecorules-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "4g")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        spark.range(1).count()  # the JVM is up before the clock starts

        start = time.perf_counter()
        df = spark.read.parquet(str(facts))
        result = decide(df, AS_OF, pack="shidian", with_json=not args.no_json).persist()
        result.decisions.write.parquet(str(work / "decisions"))
        result.actions.write.parquet(str(work / "actions"))
        wall = time.perf_counter() - start
        decided = result.decisions.filter("error IS NULL").count()
        actions = spark.read.parquet(str(work / "actions")).count()
        partitions = df.rdd.getNumPartitions()
        result.unpersist()
        spark.stop()

        def size(name: str) -> float:
            return sum(p.stat().st_size for p in (work / name).rglob("*.parquet")) / 1e6

        print(f"\necorules.spark.decide, {args.master}, {partitions} input partitions, "
              f"as_of {AS_OF}, decision JSON {'off' if args.no_json else 'on'}")  # fmt: skip
        print(f"  facts decided           {decided:,} of {args.facts:,}")
        print(f"  actions                 {actions:,}")
        print(f"  wall time               {wall:.1f} s  (decide + persist + both writes)")
        print(f"  throughput              {args.facts / wall:,.0f} facts/s")
        print(f"  Parquet written         decisions {size('decisions'):.0f} MB, "
              f"actions {size('actions'):.0f} MB")  # fmt: skip
        print(f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
