"""Mutation testing of the core modules with mutmut, sampled so it finishes on a small machine.

    .venv/bin/pip install mutmut==3.8.1
    .venv/bin/python scripts/mutation.py                 # 40 mutants per module, seed 20
    .venv/bin/python scripts/mutation.py --sample 0      # every mutant (hours on 2 cores)
    .venv/bin/python scripts/mutation.py --modules _calendar --sample 100

Which modules are mutated and which tests run is configured in pyproject.toml
(`[tool.mutmut]`: the quick suite, `-m "not slow"`); mutmut itself runs, for each mutant, only
the tests that reached the mutated function. This script adds what mutmut lacks: a seeded
sample per module (recorded in mutants/sample.json, which --report and --resume reuse), and a
per-module table of the outcome (printed, and written as JSON to mutants/summary.json) in the
form docs/reliability.md records. Surviving mutants are listed by
name; `mutmut show NAME` prints the diff. It is opt-in: .ci/run does not call it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ["_calendar", "_engine", "_conditions", "_fact", "_checker", "_loader"]


def mutmut(*args: str) -> None:
    exe = Path(sys.executable).with_name("mutmut")
    subprocess.run([str(exe), *args], cwd=ROOT, check=True)


def meta(module: str) -> dict[str, int | None]:
    path = ROOT / "mutants" / "src" / "ecorules" / f"{module}.py.meta"
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(data["exit_code_by_key"])


def outcome(code: int | None) -> str:
    """mutmut's own reading of a worker's exit code: killed, survived, timeout, no tests..."""
    from mutmut.stats import status_by_exit_code

    return str(status_by_exit_code[code])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=40, help="mutants per module; 0 = all")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--modules", nargs="+", default=CORE, choices=CORE)
    parser.add_argument("--max-children", default="2")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first")
    parser.add_argument(
        "--report", action="store_true", help="run nothing: summarise the sample's results so far"
    )
    parser.add_argument(
        "--resume", action="store_true", help="run only the sampled mutants not yet run"
    )
    args = parser.parse_args()

    if args.fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    if not args.report and not args.resume:
        # Generate every mutant and collect which tests reach which function, running just one
        # cheap mutant (mutmut refuses a name that matches none), so the sample can be drawn.
        mutmut(
            "run", "--max-children", args.max_children, "ecorules._calendar.x_add_months__mutmut_1"
        )

    # The sample a run drew is recorded, and --report and --resume read it back: drawing
    # again later can name other mutants if mutmut has rewritten a module's list meanwhile.
    recorded_path = ROOT / "mutants" / "sample.json"
    recorded: dict[str, object] = {}
    if (args.report or args.resume) and recorded_path.is_file():
        recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
    same_draw = recorded.get("seed") == args.seed and recorded.get("sample") == args.sample
    same_draw = same_draw and recorded.get("modules_order") == args.modules
    chosen: dict[str, list[str]] = {}
    rng = random.Random(args.seed)
    for module in args.modules:
        names = sorted(meta(module))
        chosen[module] = (
            names if args.sample == 0 else sorted(rng.sample(names, min(args.sample, len(names))))
        )
    if same_draw:
        chosen = {m: list(recorded["modules"][m]) for m in args.modules}  # type: ignore[index]
    elif not args.report and not args.resume:
        recorded_path.write_text(
            json.dumps(
                {
                    "seed": args.seed,
                    "sample": args.sample,
                    "modules_order": args.modules,
                    "modules": chosen,
                },
                indent=2,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    to_run = [n for module, ns in chosen.items() for n in ns]
    if args.resume:
        to_run = [n for n in to_run if meta(n.split(".")[1]).get(n) is None]
    if to_run and not args.report:
        mutmut("run", "--max-children", args.max_children, *to_run)

    summary: dict[str, dict[str, object]] = {}
    columns = ("killed", "timeout", "survived", "not checked")
    table = [
        "| module | generated | sampled | " + " | ".join(columns) + " |",
        "|---|---:|---:|" + "---:|" * len(columns),
    ]
    print(
        f"\n{'module':<12} {'generated':>9} {'sampled':>7} " + " ".join(f"{c:>11}" for c in columns)
    )
    totals = dict.fromkeys(("generated", "sampled", *columns), 0)
    for module in args.modules:
        codes = meta(module)
        counts: dict[str, int] = {}
        alive = []
        for name in chosen[module]:
            result = outcome(codes.get(name))
            counts[result] = counts.get(result, 0) + 1
            if result not in ("killed", "timeout"):
                alive.append(f"{name}: {result}")
        summary[module] = {
            "generated": len(codes),
            "sampled": len(chosen[module]),
            "outcomes": counts,
            "not_killed": alive,
        }
        row = {"generated": len(codes), "sampled": len(chosen[module])}
        row |= {c: counts.get(c, 0) for c in columns}
        for key, value in row.items():
            totals[key] += value
        print(
            f"{module:<12} {row['generated']:>9} {row['sampled']:>7} "
            + " ".join(f"{row[c]:>11}" for c in columns)
        )
        table.append(f"| `{module}` | " + " | ".join(f"{v:,}" for v in row.values()) + " |")
    table.append("| **total** | " + " | ".join(f"**{v:,}**" for v in totals.values()) + " |")
    print(
        f"{'total':<12} {totals['generated']:>9} {totals['sampled']:>7} "
        + " ".join(f"{totals[c]:>11}" for c in columns)
    )
    print(
        "(a timeout: the mutant made a test hang, or made the tests fail to import or collect —"
        " mutmut files both as timeouts; detected, so counted killed)"
    )
    for module, data in summary.items():
        for line in data["not_killed"]:  # type: ignore[attr-defined]
            if not line.endswith("not checked"):
                print(f"  {module}: {line}")
    out = ROOT / "mutants" / "summary.json"
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    # The same table as Markdown, in the form docs/reliability.md records each run in
    # (with the survivors, each to be killed by a test or shown equivalent there).
    survivors = [
        f"- `{line}`"
        for data in summary.values()
        for line in data["not_killed"]  # type: ignore[attr-defined]
        if not line.endswith("not checked")
    ]
    markdown = ROOT / "mutants" / "summary.md"
    markdown.write_text(
        f"seed {args.seed}, {args.sample or 'every'} mutants per module\n\n"
        + "\n".join(table)
        + "\n\nnot killed:\n\n"
        + ("\n".join(survivors) if survivors else "- none")
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten: {out.relative_to(ROOT)}, {markdown.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
