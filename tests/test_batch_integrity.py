"""Nothing lost, nothing half-written: a ledger's bad rows are refused in their place, with
their file line, and never cost the good ones; output files appear complete or not at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ecorules
from ecorules import Decision, RefusedFact
from ecorules._cli import main
from ecorules._ledger import MAX_ROW_BYTES, read_ledger

AS_OF = "2024-10-25"
COMMAND = (sys.executable, "-m", "ecorules", "evaluate", "shidian")


def good(n: int) -> dict[str, object]:
    return {
        "id": f"G{n}",
        "source": "provincial",
        "category": "general",
        "events": {"transferred": "2024-09-27"},
    }


def line(n: int) -> bytes:
    return json.dumps(good(n)).encode() + b"\n"


BAD_LINES = {
    "not json": b"{not json\n",
    "huge number": b'{"id": "X", "n": ' + b"9" * 5000 + b"}\n",
    "deep": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "not utf-8": b'{"id": "\xff\xfe"}\n',
    "duplicate key": b'{"id": "X", "source": "provincial", "source": "hotline_12345"}\n',
    "too long": b'{"id": "' + b"x" * (MAX_ROW_BYTES + 5) + b'"}\n',
    "refused fact": b'{"id": "R", "source": "nowhere", "category": "general"}\n',
}


def run_ledger(shidian: ecorules.Pack, path: Path) -> list[Decision | RefusedFact]:
    return list(shidian.evaluate_many(read_ledger(str(path)), AS_OF))


def test_every_good_row_of_a_jsonl_ledger_is_decided_whatever_the_bad_ones_hold(
    shidian: ecorules.Pack, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    content = b"\xef\xbb\xbf" + line(0) + b"\n"  # a BOM, then a blank line (line 2)
    expected_bad: dict[int, str] = {}
    number, count = 2, 1
    for name, bad in BAD_LINES.items():
        content += line(count) + bad
        number += 2
        expected_bad[number] = name
        count += 1
    content += line(count)
    ledger.write_bytes(content)
    results = run_ledger(shidian, ledger)
    decided = [r.fact_id for r in results if isinstance(r, Decision)]
    assert decided == [f"G{i}" for i in range(count + 1)]
    refused = {r.line: r for r in results if isinstance(r, RefusedFact)}
    assert sorted(refused) == sorted(expected_bad)
    words = {
        "not json": "not JSON: Expecting property name",
        "huge number": "Exceeds the limit (4300 digits)",
        "deep": "nested too deeply",
        "not utf-8": "not UTF-8",
        "duplicate key": "the key `source` appears more than once",
        "too long": f"longer than {MAX_ROW_BYTES} bytes",
        "refused fact": "unknown source",
    }
    for number, name in expected_bad.items():
        assert words[name] in refused[number].error, name
        assert len(refused[number].error) < 1_000


def test_csv_rows_are_refused_alone_and_lines_count_quoted_newlines(
    shidian: ecorules.Pack, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.csv"
    rows = [
        b"id,source,category,events.transferred",  # 1
        b"A,provincial,general,2024-09-27",  # 2
        b"",  # 3: blank
        b'"B\nstill B",provincial,general,2024-09-27',  # 4-5: a quoted newline
        b"C,provincial,general,2024-09-27,extra",  # 6: ragged
        b'D,provincial,"' + b"x" * 200_000 + b'",2024-09-27',  # 7: a cell over csv's limit
        b"E,provincial,g\xffneral,2024-09-27",  # 8: not UTF-8
        b"F,provincial,general",  # 9: a cell short
        b"G,provincial,general,2024-09-27,,",  # 10: trailing empty cells are harmless
        b"H,provincial,general,2024-09-27",  # 11
    ]
    ledger.write_bytes(b"\n".join(rows) + b"\n")
    results = run_ledger(shidian, ledger)
    assert [r.fact_id for r in results if isinstance(r, Decision)] == ["A", "B\nstill B", "G", "H"]
    refused = {r.line: r.error for r in results if isinstance(r, RefusedFact)}
    assert sorted(refused) == [6, 7, 8, 9]
    assert "5 cells where the header has 4" in refused[6]
    assert "field larger than field limit" in refused[7]
    assert "not UTF-8" in refused[8]
    assert "3 cells where the header has 4" in refused[9]


def test_a_duplicated_csv_header_is_refused_with_its_line(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("id,source,category,source\nA,provincial,general,hotline\n", "utf-8")
    with pytest.raises(ecorules.FactError, match=r"`ledger line 1`: a column named in the header"):
        read_ledger(str(ledger))


def test_a_ledger_must_be_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    with pytest.raises(ecorules.FactError, match="not a regular file"):
        read_ledger(str(tmp_path / "zero.jsonl"))


def test_raise_mode_names_lines(shidian: ecorules.Pack, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_bytes(line(1) + b"{oops\n" + line(2))
    with pytest.raises(ecorules.BatchError) as caught:
        list(shidian.evaluate_many(read_ledger(str(ledger)), AS_OF, errors="raise"))
    assert str(caught.value).startswith("1 facts refused:\nline 2: `row`: not JSON")


def test_report_counts_every_refused_fact(
    shidian: ecorules.Pack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_bytes(line(0) + b"{bad\n" * 1301 + line(1))
    report = shidian.report(read_ledger(str(ledger)), AS_OF)
    assert (report.total, report.refused_count, len(report.refused)) == (2, 1301, 1000)
    assert main(["report", "shidian", str(ledger), "--as-of", AS_OF]) == 1
    out = capsys.readouterr().out
    assert "refused: 1301 facts\n  line 2: `row`: not JSON" in out
    assert "  … and 1281 more\n" in out


# -- the command line: arguments, output files, interruptions ---------------------------


def ledger_file(tmp_path: Path, rows: int = 3) -> Path:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_bytes(b"".join(line(i) for i in range(rows)))
    return ledger


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["evaluate", "shidian", *args])
    return code, capsys.readouterr().err


def test_output_naming_the_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = ledger_file(tmp_path)
    before = ledger.read_bytes()
    code, err = cli(str(ledger), "--as-of", AS_OF, "-o", str(ledger), capsys=capsys)
    assert code == 1
    assert err == f"error: `{ledger}` is the input `{ledger}`: it would be lost\n"
    assert ledger.read_bytes() == before
    (tmp_path / "link.jsonl").symlink_to(ledger)
    code, _ = cli(str(tmp_path / "link.jsonl"), "--as-of", AS_OF, "-o", str(ledger), capsys=capsys)
    assert code == 1 and ledger.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ["--as-of", "2024-13-01"],
        ["--as-of", "1999-12-31"],
        ["--as-of", AS_OF, "--format", "table"],
        ["--as-of", AS_OF, "--columns", "id"],
        ["--as-of", AS_OF, "--engine", "native", "PLACEHOLDER_MISSING_LEDGER"],
    ],
)
def test_an_existing_output_is_untouched_when_an_argument_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    out = tmp_path / "yesterday.jsonl"
    out.write_text("yesterday's decisions\n", encoding="utf-8")
    source = str(ledger_file(tmp_path))
    if args[-1] == "PLACEHOLDER_MISSING_LEDGER":
        args, source = args[:-1], str(tmp_path / "missing.jsonl")
    code, err = cli(source, *args, "-o", str(out), capsys=capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "yesterday's decisions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.jsonl", "yesterday.jsonl"]


@pytest.mark.parametrize(
    ("target", "words"),
    [("missing/dir/out.jsonl", "no such directory"), (".", "is a directory")],
)
def test_an_output_path_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, words: str
) -> None:
    code, err = cli(
        str(ledger_file(tmp_path)), "--as-of", AS_OF, "-o", str(tmp_path / target), capsys=capsys
    )
    assert code == 1
    assert err.startswith("error: ") and words in err and err.count("\n") == 1


def test_output_is_complete_and_keeps_no_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    code, _ = cli(str(ledger_file(tmp_path, 5)), "--as-of", AS_OF, "-o", str(out), capsys=capsys)
    assert code == 0
    assert [json.loads(x)["fact_id"] for x in out.read_text().splitlines()] == [
        f"G{i}" for i in range(5)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.jsonl", "out.jsonl"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_an_exception_mid_run_leaves_the_old_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    ledger = ledger_file(tmp_path, 5)
    real = ecorules.Pack.evaluate_many

    def interrupted(self, facts, as_of, **kw):  # type: ignore[no-untyped-def]
        for n, result in enumerate(real(self, facts, as_of, **kw)):
            if n == 3:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(ecorules.Pack, "evaluate_many", interrupted)
    code, err = cli(str(ledger), "--as-of", AS_OF, "-o", str(out), capsys=capsys)
    assert (code, err) == (130, f"interrupted: `{out}` was not written\n")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.jsonl", "out.jsonl"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_a_library_wraps_in_its_own_error_still_stops_the_run_cleanly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sig: int,
    code: int,
) -> None:
    """pydantic-core, building a schema when the signal lands, makes a SchemaError of the
    interrupt (seen in CI): the run must still end as interrupted, not with a traceback."""
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    ledger = ledger_file(tmp_path, 5)
    real = ecorules.Pack.evaluate_many

    def wrapping(self, facts, as_of, **kw):  # type: ignore[no-untyped-def]
        for n, result in enumerate(real(self, facts, as_of, **kw)):
            if n == 3:
                try:
                    os.kill(os.getpid(), sig)
                    time.sleep(5)  # the handler runs before this returns
                except BaseException as exc:
                    raise RuntimeError(f"Error building validator: {exc!r}") from None
            yield result

    monkeypatch.setattr(ecorules.Pack, "evaluate_many", wrapping)
    # Ctrl-C as a terminal gives it, whatever the suite inherited from the shell that ran it
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    term_before = signal.getsignal(signal.SIGTERM)
    try:
        result = cli(str(ledger), "--as-of", AS_OF, "-o", str(out), capsys=capsys)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result == (code, f"interrupted: `{out}` was not written\n")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.jsonl", "out.jsonl"]
    assert signal.getsignal(signal.SIGTERM) is term_before  # the run's handler is gone


def test_an_unrelated_error_is_not_taken_for_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, facts, as_of, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug of ours")
        yield

    monkeypatch.setattr(ecorules.Pack, "evaluate_many", broken)
    with pytest.raises(RuntimeError, match="a bug of ours"):
        main(["evaluate", "shidian", str(ledger_file(tmp_path, 2)), "--as-of", AS_OF])


def interrupted_run(ledger: Path, sig: int, *options: str, settle: float = 0.0) -> tuple[int, str]:
    """``evaluate shidian LEDGER -o out.jsonl`` (beside the ledger, over an old output) sent
    ``sig`` once it writes its temporary file, and ``settle`` seconds later: its exit code
    and stderr, after checking that the old output is kept and nothing is left behind."""
    folder = ledger.parent
    out = folder / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")
    process = subprocess.Popen(
        [*COMMAND, str(ledger), "--as-of", AS_OF, "-o", str(out), *options],
        stderr=subprocess.PIPE,
        # A suite started in the background by a shell without job control inherits SIGINT
        # ignored, and so would the run: give it the default a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for _ in range(100):  # until the run is writing its temporary file
        time.sleep(0.1)
        if any(p.name.endswith(".partial") for p in folder.iterdir()):
            break
    time.sleep(settle)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    said = f"exit {process.returncode}: {err.decode()}"
    assert out.read_text(encoding="utf-8") == "old\n", said
    assert sorted(p.name for p in folder.iterdir()) == [ledger.name, "out.jsonl"], said
    return process.returncode, err.decode()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_run_cleanly(tmp_path: Path, sig: int, code: int) -> None:
    """Ctrl-C or a kill mid-run: one line, no traceback, the old output kept, no debris."""
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_bytes(line(0) * 400_000)
    out = tmp_path / "out.jsonl"
    assert interrupted_run(ledger, sig) == (code, f"interrupted: `{out}` was not written\n")


def test_a_single_fact_from_an_endless_stdin_is_refused() -> None:
    with open("/dev/zero", "rb") as zeros:
        run = subprocess.run(
            [*COMMAND, "-", "--as-of", AS_OF],
            stdin=zeros,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert run.stderr.startswith("`fact`: over 2097152 characters")


def test_csv_output_names_the_line_of_an_unreadable_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_bytes(line(0) + b"{oops\n")
    out = tmp_path / "out.csv"
    code, err = cli(str(ledger), "--as-of", AS_OF, "-o", str(out), "--format", "csv", capsys=capsys)
    assert code == 1
    assert err == "1 of 2 facts refused (see the output): line 2\n"
    last = out.read_text(encoding="utf-8").splitlines()[-1]
    assert last.startswith("line 2,,,,,,,,,,,,,`row`: not JSON")


def test_an_output_that_is_a_link_is_written_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    code, _ = cli(str(ledger_file(tmp_path, 2)), "--as-of", AS_OF, "-o", str(link), capsys=capsys)
    assert code == 0
    assert link.is_symlink()
    assert len(target.read_text(encoding="utf-8").splitlines()) == 2


def test_a_stray_quote_costs_its_own_row_only(shidian: ecorules.Pack, tmp_path: Path) -> None:
    """An unclosed quote made the parser read the rest of the file into one cell."""
    ledger = tmp_path / "ledger.csv"
    rows = ["id,source,category,events.transferred", "A,provincial,general,2024-09-27"]
    rows += ['B,"provincial,general,2024-09-27']
    rows += [f"C{i},provincial,general,2024-09-27" for i in range(50)]
    ledger.write_text("\n".join(rows) + "\n", encoding="utf-8")
    results = run_ledger(shidian, ledger)
    assert [r.fact_id for r in results if isinstance(r, Decision)] == ["A"] + [
        f"C{i}" for i in range(50)
    ]
    (refused,) = [r for r in results if isinstance(r, RefusedFact)]
    assert refused.line == 3
    assert refused.error == (
        '`row`: not CSV: unexpected end of data (got `B,"provincial,general,2024-09-27`)'
    )
