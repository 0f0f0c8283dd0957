"""An office-sized Excel ledger read, decided and written back, and the two xlsx readers.

    .venv/bin/python benchmarks/bench_xlsx.py [--rows 100000] [--skip-build]

Builds a 100,000-row .xlsx ledger with Chinese headers and values (Excel dates and text
dates mixed), then runs, each in a fresh process so peak memory is its own:

- ``read``: openpyxl read-only (what ecorules uses) and python-calamine, when installed:
  rows per second and peak RSS, to choose the reader by measurement;
- ``evaluate``: `ecorules evaluate shidian LEDGER.xlsx -o result.xlsx` end to end (read,
  Chinese names to ids, decide, write the ledger back with its decisions and the counts
  sheet): wall time and peak RSS of the whole process.

Prints figures; asserts nothing. Targets (issue 11): under 60 s and 500 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCES = ["省级移交", "国家移交", "市级确定", "举报投诉"]
CATEGORIES = ["一般性问题", "重点突出问题"]


def build(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("台账")
    ws.append(["编号", "来源", "类别", "问题移交日期", "整改完成日期", "备注"])
    start = dt.date(2024, 1, 2)
    for i in range(rows):
        transferred = start + dt.timedelta(days=i % 250)
        when = (
            transferred
            if i % 2
            else f"{transferred.year}年{transferred.month}月{transferred.day}日"
        )
        rectified = transferred + dt.timedelta(days=60) if i % 3 == 0 else None
        ws.append(
            [f"P{i:06d}", SOURCES[i % 4], CATEGORIES[i % 2], when, rectified, "某某乡镇污水处理"]
        )
    book.save(path)


READ = {
    "openpyxl": """
import sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
ws = book.worksheets[0]
ws.reset_dimensions()
n = sum(1 for _ in ws.iter_rows(values_only=True))
print(n)
""",
    "calamine": """
import sys
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
n = sum(1 for _ in book.get_sheet_by_index(0).iter_rows())
print(n)
""",
}


def timed(argv: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    # ru_maxrss of children is the largest of any child so far: each run's own is only
    # reliable when it is the largest yet, so runs go smallest first; say when unsure.
    return elapsed, max(peak, before) / 1024, (done.stdout + done.stderr).strip()[-200:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="keep the files here")
    args = parser.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench_xlsx."))
    work.mkdir(parents=True, exist_ok=True)
    ledger = work / "ledger.xlsx"
    start = time.perf_counter()
    build(ledger, args.rows)
    print(
        f"rows: {args.rows:,}; ledger {ledger.stat().st_size / 1e6:.1f} MB, "
        f"built in {time.perf_counter() - start:.1f} s"
    )
    for name, code in READ.items():
        if name == "calamine":
            try:
                import python_calamine  # noqa: F401
            except ImportError:
                print("read calamine: not installed (pip install python-calamine)")
                continue
        elapsed, peak, out = timed([sys.executable, "-c", code, str(ledger)])
        print(
            f"read {name}: {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s), "
            f"peak RSS ≤ {peak:.0f} MB, rows {out}"
        )
    result = work / "result.xlsx"
    ecorules = [sys.executable, "-m", "ecorules"]
    elapsed, peak, out = timed(
        [*ecorules, "evaluate", "shidian", str(ledger), "--as-of", "2024-10-30", "-o", str(result)]
    )
    print(
        f"evaluate xlsx → xlsx: {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s), "
        f"peak RSS ≤ {peak:.0f} MB (target < 60 s, < 500 MB); result "
        f"{result.stat().st_size / 1e6:.1f} MB; {out}"
    )


if __name__ == "__main__":
    main()
