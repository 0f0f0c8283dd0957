"""Fuzzing the batch path: random ledgers of good rows and every kind of bad one, through
``evaluate_many`` and the command line. Whatever the bad rows hold, every good row must be
in the output exactly once, in order, and every bad row refused with its own file line."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecorules import Decision, Pack, RefusedFact
from ecorules._cli import main
from ecorules._ledger import read_ledger

from .conftest import load

FUZZ_EXAMPLES = int(os.environ.get("ECORULES_FUZZ_EXAMPLES", "300")) // 3
AS_OF = "2024-10-25"

_junk_text = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30).filter(
    lambda t: t.strip() != ""
)


@st.composite
def bad_jsonl(draw: st.DrawFn) -> bytes:
    """One line (no newline) that is not a fact the pack accepts."""
    kind = draw(st.sampled_from(["junk", "bytes", "number", "deep", "dup", "fact", "scalar"]))
    if kind == "junk":
        text = draw(_junk_text)
        try:
            json.loads(text)
        except ValueError:
            return text.encode()
        return b"{" + text.encode()
    if kind == "bytes":
        return b'{"id": "' + draw(st.binary(min_size=1, max_size=8)).replace(b"\n", b"") + b'\xff"}'
    if kind == "number":
        return b'{"id": 1' + b"7" * draw(st.integers(4300, 6000)) + b"}"
    if kind == "deep":
        depth = draw(st.integers(2_000, 50_000))
        return b"[" * depth + b"]" * depth
    if kind == "dup":
        return b'{"id": "D", "source": "provincial", "source": "provincial"}'
    if kind == "scalar":
        return draw(st.sampled_from([b"1", b'"text"', b"null", b"[]", b"true"]))
    fact = {"id": "bad", "source": draw(st.sampled_from(["nowhere", 7, None, ""]))}
    return json.dumps(fact).encode()


def good_fact(n: int) -> dict[str, object]:
    return {
        "id": f"good-{n}",
        "source": "provincial",
        "category": "general",
        "events": {"transferred": "2024-09-27"},
    }


@st.composite
def jsonl_ledger(draw: st.DrawFn) -> tuple[bytes, list[str], list[int]]:
    """(file bytes, good ids in order, lines of the bad rows)."""
    rows = draw(st.lists(st.booleans(), min_size=1, max_size=30))
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    content = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    good: list[str] = []
    bad: list[int] = []
    number = 0
    for is_good in rows:
        for _ in range(draw(st.integers(0, 2))):  # blank lines are counted, not rows
            content += draw(st.sampled_from([b"", b"  ", b"\t"])) + newline
            number += 1
        number += 1
        if is_good:
            good.append(f"good-{len(good)}")
            content += json.dumps(good_fact(len(good) - 1)).encode() + newline
        else:
            bad.append(number)
            content += draw(bad_jsonl()) + newline
    return content, good, bad


def check(results: list[Decision | RefusedFact], good: list[str], bad: list[int]) -> None:
    assert [r.fact_id for r in results if isinstance(r, Decision)] == good
    assert [r.line for r in results if isinstance(r, RefusedFact)] == bad
    assert len(results) == len(good) + len(bad)
    refused_at = [i for i, r in enumerate(results, start=1) if isinstance(r, RefusedFact)]
    assert [r.position for r in results if isinstance(r, RefusedFact)] == refused_at


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledger=jsonl_ledger())
def test_jsonl_ledgers_lose_no_good_row(
    ledger: tuple[bytes, list[str], list[int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    content, good, bad = ledger
    path = tmp_path_factory.mktemp("l") / "ledger.jsonl"
    path.write_bytes(content)
    pack: Pack = load("shidian")
    check(list(pack.evaluate_many(read_ledger(str(path)), AS_OF)), good, bad)

    out = path.with_name("out.jsonl")
    code = main(["evaluate", "shidian", str(path), "--as-of", AS_OF, "-o", str(out)])
    assert code == (1 if bad else 0)
    # JSON Lines are split on "\n" only: str.splitlines() would also split inside a string
    # holding U+0085 or U+2028, which JSON leaves unescaped.
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").split("\n") if x]
    assert [x["fact_id"] for x in lines if "refused" not in x] == good
    assert [x["refused"]["line"] for x in lines if "refused" in x] == bad


@st.composite
def csv_ledger(draw: st.DrawFn) -> tuple[bytes, list[str], list[int]]:
    header = "id,source,category,events.transferred"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(header + "\n")
    number = 1
    good: list[str] = []
    bad: list[int] = []
    chunks: list[bytes] = []
    for is_good in draw(st.lists(st.booleans(), min_size=1, max_size=30)):
        if draw(st.booleans()):
            out.write("\n")  # a blank line
            number += 1
        start = number + 1
        if is_good:
            # ids with quoted newlines, commas and quotes: a row spans several lines
            ident = f"good-{len(good)}" + draw(st.sampled_from(["", "\n二", ",x", '"q"', "\r\n"]))
            writer.writerow([ident, "provincial", "general", "2024-09-27"])
            good.append(ident.replace("\r\n", "\n").strip())  # cells are read stripped
        else:
            bad.append(start)
            kind = draw(st.sampled_from(["ragged", "short", "bytes", "unknown", "huge", "quote"]))
            if kind == "ragged":
                writer.writerow(["B", "provincial", "general", "2024-09-27", "extra"])
            elif kind == "short":
                writer.writerow(["B", "provincial"])
            elif kind == "unknown":
                writer.writerow(["B", "nowhere", "general", "2024-09-27"])
            elif kind == "quote":  # an unclosed quote: the parser reads on into later rows
                out.write('"B,provincial,general,2024-09-27\n')
            elif kind == "huge":
                writer.writerow(["B", "provincial", "x" * 140_000, "2024-09-27"])
            else:
                chunks.append(out.getvalue().encode() + b"B,provinci\xe4l,general,2024-09-27\n")
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\n")
        number = (b"".join(chunks) + out.getvalue().encode()).count(b"\n")
    return b"".join(chunks) + out.getvalue().encode(), good, bad


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledger=csv_ledger())
def test_csv_ledgers_lose_no_good_row(
    ledger: tuple[bytes, list[str], list[int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    content, good, bad = ledger
    path = tmp_path_factory.mktemp("l") / "ledger.csv"
    path.write_bytes(content)
    pack: Pack = load("shidian")
    check(list(pack.evaluate_many(read_ledger(str(path)), AS_OF)), good, bad)

    out = path.with_name("out.csv")
    code = main(
        ["evaluate", "shidian", str(path), "--as-of", AS_OF, "-o", str(out), "--format", "csv"]
    )
    assert code == (1 if bad else 0)
    # a CSV file written for Excel begins with a byte-order mark (docs/ledgers.md)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    decided = [r["fact_id"] for r in rows if not r["error"]]
    assert list(dict.fromkeys(decided)) == good  # one row per action, each fact once
    assert len([r for r in rows if r["error"]]) == len(bad)
