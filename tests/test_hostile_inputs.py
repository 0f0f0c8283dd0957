"""Hostile inputs found by the adversarial pass of issue 10: each gives a FactError or a
PackError with a position, bounded in time and memory — never another exception."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules import FactError

from .test_engine_features import DEADLINES
from .test_loader import MINIMAL, write_pack

GOOD = {"id": "A", "source": "provincial", "category": "general"}
TRANSFERRED = {"events": {"transferred": "2024-09-27"}}


@pytest.fixture(scope="module")
def deadlines(tmp_path_factory: pytest.TempPathFactory) -> ecorules.Pack:
    return ecorules.load_pack(write_pack(tmp_path_factory.mktemp("d"), DEADLINES))


def refused(pack: ecorules.Pack, fact: Any, as_of: object = "2024-10-25") -> FactError:
    with pytest.raises(FactError) as caught:
        pack.evaluate(fact, as_of)  # type: ignore[arg-type]
    str(caught.value)  # the text itself must not raise either
    return caught.value


def test_a_huge_integer_id_is_named_not_a_crash(shidian: ecorules.Pack) -> None:
    error = refused(shidian, {**GOOD, "id": 10**5000})
    assert str(error) == (
        "`id`: input should be a valid string (got `an integer of about 5000 digits`)"
    )


def test_a_fact_error_text_is_bounded(shidian: ecorules.Pack) -> None:
    flags = [f"flag{i}" for i in range(100_000)]
    error = refused(shidian, {**GOOD, "flags": flags})
    assert len(error.problems) == 100_000
    assert len(str(error)) < 10_000
    assert str(error).endswith("; … and 99980 more problems")


def test_a_long_field_name_is_clipped(shidian: ecorules.Pack) -> None:
    error = refused(shidian, {**GOOD, "events": {"x" * 100_000: "2024-09-27"}})
    assert len(str(error)) < 2_000


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:00:00-12:00",
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))),
    ],
)
def test_aware_datetimes_at_the_ends_of_time(
    shidian: ecorules.Pack, deadlines: ecorules.Pack, moment: object
) -> None:
    assert refused(shidian, {**GOOD, "events": {"transferred": moment}}).field == (
        "events.transferred"
    )
    assert refused(shidian, GOOD, moment).field == "as_of"
    hard = {**GOOD, "flags": ["hard_to_fix_short_term"], "attrs": {"deadline": moment}}
    assert str(refused(deadlines, hard).field).startswith("attrs.deadline")


@pytest.mark.parametrize("text", ["2024-W39-5", "2024-W39-5T10:00:00", "２０２４-09-27"])
def test_iso_week_dates_and_wide_digits_are_not_documented_forms(
    shidian: ecorules.Pack, text: str
) -> None:
    error = refused(shidian, {**GOOD, "events": {"transferred": text}})
    assert "expected an ISO 8601 date" in str(error)
    assert refused(shidian, GOOD, text).field == "as_of"


@pytest.mark.parametrize("attrs", ["", 0, [], False])
def test_falsy_non_mapping_attrs_are_refused_like_for_a_fact(
    shidian: ecorules.Pack, attrs: object
) -> None:
    assert refused(shidian, {**GOOD, "attrs": attrs}).field == "attrs"
    assert refused(shidian, OrderedDict({**GOOD, "attrs": attrs})).field == "attrs"


@pytest.mark.parametrize("deadline", ["9999-12-31", "1900-01-01", date(2051, 1, 1)])
def test_date_attrs_share_the_fact_date_range(deadlines: ecorules.Pack, deadline: object) -> None:
    hard = {**GOOD, "flags": ["hard_to_fix_short_term"], "attrs": {"deadline": deadline}}
    error = refused(deadlines, hard)
    assert error.field == "attrs.deadline"
    assert "dates must fall in 2000–2050" in str(error)


def test_a_due_date_past_the_calendar_is_a_fact_error(tmp_path: Path) -> None:
    """Local holidays to the end of the calendar leave no working day to count to."""
    days = [date(2050, 6, 1) + timedelta(days=i) for i in range(0, 3866)]
    text = MINIMAL.replace(
        "vocabulary:\n",
        "calendar:\n  extra_holidays: [" + ", ".join(d.isoformat() for d in days) + "]\n"
        "vocabulary:\n",
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    error = refused(pack, {**GOOD, "events": {"transferred": "2050-12-01"}}, "2050-12-31")
    assert isinstance(error, ValueError)
    assert "past 2060" in str(error)


def wide_pack_text(n: int) -> str:
    """``n`` sources × ``n`` categories, a rule per source, one chain for one category: the
    shape that made load time and `check` output grow with the product."""
    text = MINIMAL.replace(
        "  sources: [{id: provincial, name: 省级移交}]\n"
        "  categories: [{id: general, name: 一般性问题}]\n",
        "  sources:\n"
        + "".join(f"    - {{id: s{i}, name: 来源{i}}}\n" for i in range(n))
        + "  categories:\n"
        + "".join(f"    - {{id: c{i}, name: 类别{i}}}\n" for i in range(n)),
    ).replace("    - {id: plan_submitted, name: 报送}\n", "    - {id: closed, name: 销号}\n")
    text = text[: text.index("rules:\n")] + (
        "closure_chains:\n"
        "  - id: chain\n    title: 销号\n    basis: 二(一)\n    quote: 10个工作日内报送\n"
        "    when: {category: c0}\n    starts_when: transferred\n    steps:\n"
        "      - {id: close, title: 销号, actor: county_gov, done_when: closed}\n"
        "rules:\n"
    )
    for i in range(n):
        text += (
            f"  - id: r{i}\n    kind: deadline\n    title: 报送\n    basis: 二(一)\n"
            f"    quote: 10个工作日内报送\n    when: {{source: s{i}}}\n    obligations:\n"
            f"      - {{id: o{i}, title: 报送, actor: county_gov, trigger: transferred, "
            "window: {working_days: 10}}\n"
        )
    return text


def test_plans_of_a_wide_vocabulary_are_built_when_first_needed(tmp_path: Path) -> None:
    pack = ecorules.load_pack(write_pack(tmp_path, wide_pack_text(100), "tiny"))
    plans = pack._compiled.plans
    assert len(plans) == 0  # 100 × 100 × 2 combinations: none compiled at load
    fact = {"source": "s5", "category": "c7", "events": {"transferred": "2024-09-27"}}
    decision = pack.evaluate(fact, "2024-10-25")
    assert decision.matched_rules == ("r5",)
    assert decision.actions[0].due == date(2024, 10, 16)
    assert len(plans) == 1
    pack.evaluate(fact, "2024-10-26")
    assert len(plans) == 1


def test_small_packs_still_compile_every_plan_at_load(shidian: ecorules.Pack) -> None:
    assert len(shidian._compiled.plans) > 0


def test_check_summarises_gaps_in_one_diagnostic_per_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecorules._cli import main

    directory = write_pack(tmp_path, wide_pack_text(100), "tiny")
    assert main(["check", "--format", "short", str(directory)]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if ": gap: " in line]
    assert lines == [
        f"{directory}/pack.yaml:11:3: gap: no closure chain or lifecycle covers 9,900 source × "
        "category combinations of problem, e.g. `s0` × `c1`, `s1` × `c1`, `s2` × `c1`, "
        "`s3` × `c1`, `s4` × `c1`"
    ]


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=SECONDLY", "FREQ must be one of YEARLY, MONTHLY, WEEKLY, DAILY"),
        ("FREQ=MINUTELY", "FREQ must be one of"),
        ("FREQ=HOURLY;INTERVAL=24", "FREQ must be one of"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number from 1 to 10000, not `0`"),
        ("FREQ=DAILY;INTERVAL=-3", "not `-3`"),
        ("FREQ=DAILY;BYHOUR=0,1,2;BYMINUTE=0,30", "BYHOUR, BYMINUTE is finer than a day"),
        ("DTSTART:19000101T000000\nRRULE:FREQ=DAILY", "one RRULE line is expected"),
        ("BYMONTHDAY=1", "FREQ is required"),
    ],
)
def test_rrules_finer_than_a_day_are_refused_at_load(tmp_path: Path, rule: str, words: str) -> None:
    text = MINIMAL + (
        "recurring:\n  - id: report\n    title: 报告\n    basis: 二(一)\n"
        f"    quote: 10个工作日内报送\n    actor: county_gov\n    rrule: {json.dumps(rule)}\n"
    )
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, text))
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("invalid_rrule", 37)
    assert words in diagnostic.message


def test_a_daily_rule_is_still_a_rule(tmp_path: Path) -> None:
    text = MINIMAL + (
        "recurring:\n  - id: report\n    title: 报告\n    basis: 二(一)\n"
        "    quote: 10个工作日内报送\n    actor: county_gov\n    rrule: FREQ=DAILY;INTERVAL=2\n"
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text))
    assert pack.evaluate(GOOD, "2024-10-25").action("report").due in (
        date(2024, 10, 25),
        date(2024, 10, 26),
    )


@pytest.mark.parametrize("name", ["a" * 5000, "./" + "a" * 5000])
def test_a_pack_name_too_long_for_the_file_system(name: str) -> None:
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(name)
    assert caught.value.diagnostics[0].code in ("unreadable", "unknown_pack")
    assert len(str(caught.value)) < 2_000


def test_a_document_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    text = MINIMAL.replace("document: source.txt", "document: " + "a" * 5000)
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, text))
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("missing_document", 9)


def test_case_files_must_be_regular_files(tmp_path: Path) -> None:
    """A case file linked to /dev/zero made `ecorules test` read until memory ran out."""
    from ecorules._cli import main

    directory = write_pack(tmp_path, MINIMAL)
    (directory / "cases").mkdir()
    (directory / "cases" / "zero.yaml").symlink_to("/dev/zero")
    with pytest.raises(ecorules.PackError) as caught:
        from ecorules._cases import load_cases

        load_cases(directory)
    assert [d.code for d in caught.value.diagnostics] == ["not_a_file"]
    assert main(["test", str(directory)]) == 1


def test_a_file_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    from ecorules._yamlsrc import MAX_FILE_BYTES, YamlProblem, load_file

    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 10))
    with pytest.raises(YamlProblem) as caught:
        load_file(big)
    assert caught.value.diagnostic.code == "file_too_large"


def test_the_calendar_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecorules import _calendar

    monkeypatch.setattr(_calendar, "CALENDAR_CACHE_SIZE", 2)
    for day in range(1, 5):
        _calendar.build_calendar([date(2030, 1, 1) + timedelta(days=day)])
    assert len(_calendar._cache) == 2


def test_a_slow_calendar_build_does_not_hold_up_other_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building is done outside the cache's lock: while one thread builds a new calendar,
    another gets a cached one at once."""
    import threading

    from ecorules import _calendar

    cached = _calendar.build_calendar()
    started, release = threading.Event(), threading.Event()
    real = _calendar.holidays.country_holidays

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(_calendar.holidays, "country_holidays", slow)
    builder = threading.Thread(target=_calendar.build_calendar, args=([date(2031, 5, 6)],))
    builder.start()
    try:
        assert started.wait(10)
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(_calendar.build_calendar()))
        reader.start()
        reader.join(5)
        assert got == [cached]
    finally:
        release.set()
        builder.join(10)


def test_local_calendar_days_outside_the_calendar_are_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "vocabulary:\n", "calendar:\n  extra_holidays: [2024-10-08, 2061-01-03]\nvocabulary:\n"
    )
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, text))
    assert [f"{d.line}:{d.col}: {d.code}: {d.message}" for d in caught.value.diagnostics] == [
        "11:32: invalid_value: `2061-01-03` is outside the calendar (2000–2060)"
    ]


def test_the_dates_all_recurring_duties_lay_out_are_bounded(tmp_path: Path) -> None:
    duties = "".join(
        f"  - id: report{i}\n    title: 报告\n    basis: 二(一)\n    quote: 10个工作日内报送\n"
        f"    actor: county_gov\n    rrule: FREQ=DAILY;BYMONTH={i % 12 + 1},{(i + 1) % 12 + 1}"
        f",{(i + 2) % 12 + 1},{(i + 3) % 12 + 1},{(i + 4) % 12 + 1};BYMONTHDAY=1,2,3,4,5,6,7,8,9,"
        f"10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,{i}\n"
        for i in range(1, 31)
    )
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write_pack(tmp_path, MINIMAL + "recurring:\n" + duties))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "invalid_rrule"
    assert "more than 200,000 dates in all" in diagnostic.message


def test_plans_built_on_first_use_are_the_same_from_any_thread(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    text = wide_pack_text(60)
    lazy = ecorules.load_pack(write_pack(tmp_path, text, "tiny"))
    facts = [
        {"id": f"{s}-{c}", "source": f"s{s}", "category": f"c{c}"}
        | {"events": {"transferred": "2024-09-27"}}
        for s in range(0, 60, 7)
        for c in range(0, 60, 5)
    ]
    with ThreadPoolExecutor(8) as pool:
        racing = list(pool.map(lambda f: lazy.evaluate(f, "2024-10-25"), facts * 4))
    (tmp_path / "again").mkdir()
    fresh = ecorules.load_pack(write_pack(tmp_path / "again", text, "tiny"))
    assert racing == [fresh.evaluate(f, "2024-10-25") for f in facts * 4]
    assert len(lazy._compiled.plans) == len(facts)


def test_check_says_when_a_pack_has_too_many_combinations_to_analyse(tmp_path: Path) -> None:
    """Conditions naming every source and every category leave nothing to merge."""
    from ecorules._checker import check_pack

    text = wide_pack_text(150).replace(
        "closure_chains:\n",
        "closure_chains:\n"
        + "".join(
            f"  - id: chain{i}\n    title: 销号\n    basis: 二(一)\n    quote: 10个工作日内报送\n"
            f"    when: {{category: c{i}}}\n    starts_when: transferred\n    steps:\n"
            f"      - {{id: close{i}, title: 销号, actor: county_gov, done_when: closed}}\n"
            for i in range(1, 150)
        ),
    )
    pack = ecorules.load_pack(write_pack(tmp_path, text, "tiny"))
    found = check_pack(pack.model, pack.located)  # type: ignore[arg-type]
    assert [d.code for d in found] == ["check_limited"]
    assert found[0].message.startswith("22,500 kind × source × category combinations")


def test_durable_matching_takes_no_lock_and_frees_each_threads_ruleset() -> None:
    """Each thread matches on its own durable_rules ruleset: no lock for evaluators to queue
    on behind a paused thread, and a thread's ruleset goes with the thread."""
    import gc
    import threading

    pytest.importorskip("durable_rules_engine")
    pack = ecorules.load_pack("shidian", engine="durable")
    matcher: Any = pack._matcher
    assert not any(isinstance(v, type(threading.Lock())) for v in vars(matcher).values())
    calls: list[str] = []
    real = matcher._engine

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def create_ruleset(self, *args: Any) -> Any:
            calls.append("create")
            return real.create_ruleset(*args)

        def delete_ruleset(self, handle: Any) -> Any:
            calls.append("delete")
            return real.delete_ruleset(handle)

    matcher._engine = Counting()
    fact = {**GOOD, "events": {"transferred": "2024-09-27"}}
    expected = ecorules.load_pack("shidian").evaluate(fact, "2024-10-25")
    seen: list[object] = []
    for _ in range(5):  # short-lived threads, one after another
        worker = threading.Thread(target=lambda: seen.append(pack.evaluate(fact, "2024-10-25")))
        worker.start()
        worker.join()
    gc.collect()
    assert seen == [expected] * 5
    assert calls == ["create", "delete"] * 5
