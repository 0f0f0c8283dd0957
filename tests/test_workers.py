"""Ledgers decided on several processes give what one process gives: the same decisions
and refusals in the same order, the same output bytes, and no process left behind."""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules import BatchError, Decision, EcorulesError, RefusedFact, _parallel
from ecorules._cli import main
from ecorules._decision import Deferred
from ecorules._ledger import read_ledger
from ecorules._parallel import evaluate_in_processes

from .test_batch_integrity import interrupted_run
from .versioning import versioned_shidian

AS_OF = "2024-10-25"
SOURCES = ("provincial", "petition", "municipal", "media")


def fact(n: int) -> dict[str, Any]:
    """A varied fact: sources and transfer dates differ, so decisions do too."""
    return {
        "id": f"F{n}",
        "source": SOURCES[n % 4],
        "category": "general",
        "events": {"transferred": f"2024-{1 + n % 9:02d}-{1 + n % 27:02d}"},
    }


def facts(n: int) -> list[dict[str, Any]]:
    """``n`` facts, every 97th refused (an unknown category) and every 89th refused for
    its date: refusals on both sides of chunk boundaries."""
    out = []
    for i in range(n):
        item = fact(i)
        if i % 97 == 5:
            item["category"] = "nonesuch"
        if i % 89 == 7:
            item["events"] = {"transferred": "2024-13-45"}
        out.append(item)
    return out


def jsonl_ledger(path: Path, n: int = 1500) -> Path:
    """A JSON Lines ledger with a BOM, blank lines, a line that is not JSON, a bad byte,
    an unknown category and a bad date among good rows."""
    lines = [json.dumps(f, ensure_ascii=False).encode() for f in facts(n)]
    lines.insert(3, b"{not json")
    lines.insert(300, b"")
    lines.insert(301, "\u3000 ".encode())  # blank to str.strip(), not to bytes.strip()
    lines.insert(700, b'{"id": "\xff"}')
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    return path


def workers_now() -> set[multiprocessing.process.BaseProcess]:
    """This process's worker processes (the pool's are named after their start method)."""
    return {
        p for p in multiprocessing.active_children() if p.name.startswith(("ForkServer", "Spawn"))
    }


def no_workers_left() -> bool:
    # joined processes leave active_children(); give a killed one a moment to be reaped
    for _ in range(50):
        if not workers_now():
            return True
        time.sleep(0.1)
    return False


def on_two_workers(pack: ecorules.Pack, batch: list[Any], chunk_size: int) -> Iterator[Any]:
    """``evaluate_many(batch, AS_OF, workers=2)`` with chunks of ``chunk_size`` facts."""
    return evaluate_in_processes(
        pack,
        iter(batch),
        AS_OF,
        errors="collect",
        version_on="start",
        version=None,
        workers=2,
        chunk_size=chunk_size,
    )


def decided_on(
    ledger: Path, out: Path, workers: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, bytes]:
    """``ecorules evaluate shidian LEDGER -o OUT --workers N``: exit code, stderr, output."""
    code = main(
        ["evaluate", "shidian", str(ledger), "--as-of", AS_OF, "-o", str(out), "--workers", workers]
    )
    return code, capsys.readouterr().err, out.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_the_command_line_writes_the_same_bytes_on_two_workers(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = jsonl_ledger(tmp_path / "ledger.jsonl")
    runs = [decided_on(ledger, tmp_path / f"out-{w}.{fmt}", w, capsys) for w in ("1", "2")]
    assert runs[0] == runs[1]
    code, err, data = runs[0]
    assert code == 1
    assert err.startswith(
        "35 of 1502 facts refused (see the output): line 4, line 7, line 9, line 98,"
    )
    if fmt == "jsonl":
        refused = [json.loads(x)["refused"] for x in data.splitlines() if b'"refused"' in x]
        # positions count rows, not lines: the two blank lines are no rows
        assert [(r["position"], r["line"]) for r in refused if r["line"] in (4, 701)] == [
            (4, 4),
            (699, 701),
        ]
    else:
        assert data.startswith(b"\xef\xbb\xbffact_id,")


def test_a_csv_ledger_on_two_workers_gives_the_same_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["id,source,category,events.transferred"]
    for item in facts(700):
        rows.append(
            f"{item['id']},{item['source']},{item['category']},{item['events']['transferred']}"
        )
    rows.insert(50, "X1,provincial")  # cells missing: refused with its line
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join(rows) + "\n", encoding="utf-8")
    outputs = [decided_on(ledger, tmp_path / f"out-{w}.jsonl", w, capsys) for w in ("1", "2")]
    assert outputs[0] == outputs[1]
    assert outputs[0][1].startswith(
        "17 of 701 facts refused (see the output): line 7, line 9, line 51,"
    )


def test_evaluate_many_on_two_workers_equals_one(shidian: ecorules.Pack, tmp_path: Path) -> None:
    batch: list[Any] = facts(1200)
    batch[10] = "not a mapping"
    one = list(shidian.evaluate_many(batch, AS_OF))
    two = list(shidian.evaluate_many(batch, AS_OF, workers=2))
    assert two == one
    assert sum(isinstance(r, RefusedFact) for r in two) == 28
    # ledger rows: refusals name the line, unreadable rows are refused in their place
    ledger = jsonl_ledger(tmp_path / "ledger.jsonl", 600)
    one = list(shidian.evaluate_many(read_ledger(str(ledger)), AS_OF))
    two = list(shidian.evaluate_many(read_ledger(str(ledger)), AS_OF, workers=2))
    assert two == one
    assert [(r.position, r.line) for r in two if isinstance(r, RefusedFact)][:3] == [
        (4, 4),
        (7, 7),
        (9, 9),
    ]


def test_errors_raise_on_two_workers_raises_every_refusal_at_the_end(
    shidian: ecorules.Pack,
) -> None:
    batch = facts(500)

    def run(workers: int) -> tuple[list[Decision], list[RefusedFact]]:
        decided: list[Decision] = []
        with pytest.raises(BatchError) as caught:
            for result in shidian.evaluate_many(batch, AS_OF, errors="raise", workers=workers):
                assert isinstance(result, Decision)
                decided.append(result)
        return decided, caught.value.refused

    one, two = run(1), run(2)
    assert two == one
    assert len(two[0]) == 488
    assert [r.position for r in two[1]] == [6, 8, 97, 103, 186, 200, 275, 297, 364, 394, 453, 491]


@pytest.mark.parametrize("version_on", ["start", "as_of"])
def test_a_pack_with_versions_decides_the_same_on_two_workers(
    tmp_path: Path, version_on: Any
) -> None:
    pack = ecorules.load_pack(versioned_shidian(tmp_path, starts="2024-06-01"))
    batch = facts(400)
    one = list(pack.evaluate_many(batch, AS_OF, version_on=version_on))
    two = list(pack.evaluate_many(batch, AS_OF, version_on=version_on, workers=2))
    assert two == one
    versions = {r.version for r in two if isinstance(r, Decision)}
    assert versions == ({"2023", "2026-test"} if version_on == "start" else {"2026-test"})


def test_order_is_kept_across_chunk_boundaries(shidian: ecorules.Pack) -> None:
    batch = facts(1001)
    one = list(shidian.evaluate_many(batch, AS_OF))
    results = list(on_two_workers(shidian, batch, chunk_size=7))
    assert results == one
    ids = [r.fact_id if isinstance(r, Decision) else r.position for r in results]
    assert ids[:8] == ["F0", "F1", "F2", "F3", "F4", 6, "F6", 8]
    assert ids[-1] == "F1000"


def raw_id(decision: Decision) -> object:
    """The id's slot as it is, without computing a deferred id (which reading would)."""
    return type(decision).__dict__["decision_id"].slot.__get__(decision)


def test_decision_ids_on_two_workers_are_computed_when_read_from_the_facts_as_decided(
    shidian: ecorules.Pack,
) -> None:
    batch = facts(900)
    kept = copy.deepcopy(batch)
    two = list(shidian.evaluate_many(batch, AS_OF, workers=2))
    decided = [r for r in two if isinstance(r, Decision)]
    # still deferred, as with one process: a host that never reads ids does not pay
    assert all(type(raw_id(d)) is Deferred for d in decided)
    # the host changes its dicts after the call (ids, dates, categories)...
    for item in batch:
        item["id"] = "changed"
        item["events"]["transferred"] = "2024-01-02"
        item["category"] = "nonesuch"
    # ...and reads the ids only now: those of the facts as they were decided
    one = list(shidian.evaluate_many(kept, AS_OF))
    assert [d.decision_id for d in decided] == [
        r.decision_id for r in one if isinstance(r, Decision)
    ]
    assert two == one
    assert len({d.decision_id for d in decided}) == len(decided)


def test_the_chunks_this_process_decides_itself_fit_in_order(
    shidian: ecorules.Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every other chunk decided by evaluate_many's own process, whatever the workers do
    monkeypatch.setattr(_parallel, "FIRST_SHARE", 0.5)
    monkeypatch.setattr(_parallel, "ADAPT", False)
    batch: list[Any] = facts(700)
    batch[3] = "not a mapping"
    one = list(shidian.evaluate_many(batch, AS_OF))
    run = on_two_workers(shidian, batch, chunk_size=9)
    two = list(run)
    assert two == one
    assert [r.position for r in two if isinstance(r, RefusedFact)][:4] == [4, 6, 8, 97]


class Unpicklable(dict):  # type: ignore[type-arg]
    """A fact mapping that will not pickle (as a host's view of a database row may not)."""

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle this row")


def test_facts_that_do_not_pickle_are_decided_in_this_process_in_their_place(
    shidian: ecorules.Pack,
) -> None:
    batch: list[Any] = facts(300)
    batch[130] = Unpicklable(batch[130])
    one = list(shidian.evaluate_many(batch, AS_OF))
    run = on_two_workers(shidian, batch, chunk_size=50)
    assert list(run) == one


def test_the_tables_of_sent_parts_stay_bounded_and_are_emptied_on_both_sides_together(
    shidian: ecorules.Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit, sizes, fresh = 60, [], []

    class Watched(_parallel._Decoder):
        def decode(self, data: bytes, sent: bytes) -> Any:
            fresh.append(pickle.loads(data)[1])
            result = super().decode(data, sent)
            sizes.append(max(len(t) for t in self.tables.values()))
            return result

    monkeypatch.setattr(_parallel, "INTERN_LIMIT", limit)  # the workers get it from here
    monkeypatch.setattr(_parallel, "_Decoder", Watched)
    batch = facts(1500)
    one = list(shidian.evaluate_many(batch, AS_OF))
    two = list(on_two_workers(shidian, batch, chunk_size=16))
    assert two == one
    assert sum(fresh) >= 4  # both workers emptied their tables, more than once
    # at most the limit, plus what one chunk of 16 decisions adds before the next check
    assert max(sizes) < limit + 16 * 25


def test_an_exception_from_the_facts_comes_after_the_results_before_it(
    shidian: ecorules.Pack,
) -> None:
    def ledger() -> Iterator[dict[str, Any]]:
        yield from facts(600)
        raise OSError("the disk went away")

    seen = []
    with pytest.raises(OSError, match="the disk went away"):
        for result in shidian.evaluate_many(ledger(), AS_OF, workers=2):
            seen.append(result)
    assert seen == list(shidian.evaluate_many(facts(600), AS_OF))
    assert no_workers_left()


def test_stopping_early_leaves_no_worker(shidian: ecorules.Pack) -> None:
    results = shidian.evaluate_many(facts(5000), AS_OF, workers=2)
    assert isinstance(next(results), Decision)
    assert len(workers_now()) == 2
    results.close()
    assert no_workers_left()


def test_a_worker_that_dies_ends_the_run_with_an_error_not_a_hang(
    shidian: ecorules.Pack,
) -> None:
    def endless() -> Iterator[dict[str, Any]]:
        n = 0
        while True:
            n += 1
            yield fact(n)

    results = shidian.evaluate_many(endless(), AS_OF, workers=2)
    next(results)
    for child in workers_now():
        os.kill(child.pid or 0, signal.SIGKILL)
    with pytest.raises(EcorulesError, match="a worker process ended abruptly"):
        for _ in results:
            pass
    assert no_workers_left()


@pytest.mark.parametrize("workers", [0, -1, "x", 1.5, None])
def test_workers_must_be_a_whole_number_of_processes(shidian: ecorules.Pack, workers: Any) -> None:
    with pytest.raises(ValueError, match="workers must be a whole number of processes"):
        list(shidian.evaluate_many(facts(3), AS_OF, workers=workers))


@pytest.mark.parametrize("workers", ["0", "-1", "x"])
def test_workers_on_the_command_line_is_a_usage_error_unless_a_count(
    tmp_path: Path, workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = jsonl_ledger(tmp_path / "ledger.jsonl", 3)
    with pytest.raises(SystemExit) as stop:
        main(["evaluate", "shidian", str(ledger), "--as-of", AS_OF, "--workers", workers])
    assert stop.value.code == 2
    assert (
        f"argument --workers: expected a whole number of processes, 1 or more; not '{workers}'"
        in (capsys.readouterr().err)
    )


def test_large_ledgers_use_every_core_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from ecorules import _parallel
    from ecorules._cli import _ledger_workers

    ledger = jsonl_ledger(tmp_path / "ledger.jsonl", 10)
    size = ledger.stat().st_size
    monkeypatch.setattr(_parallel, "available_cores", lambda: 4)

    def workers(fmt: str, given: int | None = None, threshold: int = size) -> int:
        monkeypatch.setattr(_parallel, "AUTO_BYTES", threshold)
        args = argparse.Namespace(format=fmt, workers=given, fact=str(ledger))
        return _ledger_workers(args)

    assert (workers("jsonl"), workers("csv"), workers("jsonl", threshold=size + 1)) == (4, 4, 1)
    assert (workers("jsonl", 1), workers("jsonl", 3), workers("xlsx"), workers("ics")) == (
        1,
        3,
        1,
        1,
    )


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_run_on_two_workers_cleanly(tmp_path: Path, sig: int, code: int) -> None:
    """As tests/test_batch_integrity.py's one-process test: one line, no traceback from any
    process, the old output kept, and the workers gone with the run."""
    ledger = jsonl_ledger(tmp_path / "ledger.jsonl", 200_000)
    out = tmp_path / "out.jsonl"
    # 1.5 s into the run: workers started, chunks in flight
    result = interrupted_run(ledger, sig, "--workers", "2", settle=1.5)
    assert result == (code, f"interrupted: `{out}` was not written\n")


def test_a_signal_while_workers_start_is_raised_once_they_have() -> None:
    """Starting the workers is not interrupted half-way (a child the pool does not know of
    would be left to fail on its own); the Ctrl-C comes right after, not never."""
    from ecorules._parallel import _signals_held

    reached = []
    # Python's own Ctrl-C handler, whatever an earlier test or the shell left on the process
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), _signals_held():
            signal.raise_signal(signal.SIGINT)
            reached.append("the rest of the start-up")
        assert reached == ["the rest of the start-up"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
