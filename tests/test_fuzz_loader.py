"""Fuzzing the pack loader: whatever a file holds, loading ends in a Pack or a PackError with
a position — never another exception, a hang or a crash. Regression tests for what the
fuzzing found sit at the end."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecorules

from .conftest import pack_dir

pytestmark = pytest.mark.slow  # fuzzing: hypothesis and subprocesses

# A modest budget in CI; ECORULES_FUZZ_EXAMPLES=100000 for a long campaign (docs/reliability.md).
FUZZ_EXAMPLES = int(os.environ.get("ECORULES_FUZZ_EXAMPLES", "300"))

BUDGET = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.dates(),
    st.sampled_from(["provincial", "二(一)", "~", "null"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=40,
)
SECTION_NAMES = [
    "format",
    "id",
    "metadata",
    "calendar",
    "vocabulary",
    "roles",
    "rules",
    "closure_chains",
    "lifecycles",
    "recurring",
    "assumptions",
    "not_encoded",
]
PACK_SHAPED = st.dictionaries(st.sampled_from(SECTION_NAMES), VALUES, max_size=8)


def load_or_refuse(directory: Path) -> None:
    """The property: a Pack, or a PackError whose every diagnostic has a code and place."""
    try:
        ecorules.load_pack(directory)
    except ecorules.PackError as exc:
        assert exc.diagnostics
        for diagnostic in exc.diagnostics:
            assert diagnostic.code and diagnostic.message and diagnostic.file


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pack.yaml").write_text(text, encoding="utf-8")
    (directory / "source.txt").write_text("原文", encoding="utf-8")
    return directory


@BUDGET
@given(data=PACK_SHAPED)
def test_random_pack_shaped_documents(tmp_path_factory: pytest.TempPathFactory, data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    load_or_refuse(write(tmp_path_factory.mktemp("fuzz") / "p", text))


@BUDGET
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_random_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    load_or_refuse(write(tmp_path_factory.mktemp("fuzz") / "p", text))


MUTATIONS = ["delete", "duplicate", "swap", "truncate", "insert", "retoken", "indent"]


@BUDGET
@given(
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(["shidian", "qinghai", "yantai"]),
    mutations=st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3),
)
def test_mutated_real_packs(
    tmp_path_factory: pytest.TempPathFactory, seed: int, name: str, mutations: list[str]
) -> None:
    source = pack_dir(name)
    lines = (source / "pack.yaml").read_text(encoding="utf-8").splitlines()
    rng = random.Random(seed)
    for mutation in mutations:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        if mutation == "delete":
            del lines[i]
        elif mutation == "duplicate":
            lines.insert(i, lines[i])
        elif mutation == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif mutation == "truncate":
            lines = lines[:i]
        elif mutation == "insert":
            lines.insert(i, rng.choice(["- ", ": ", "{", "]", "&a x", "*a", "<<: *a", "'", "\t"]))
        elif mutation == "retoken":
            words = lines[i].split(" ")
            words[rng.randrange(len(words))] = rng.choice(["x", "", "[]", "{}", "null", "1"])
            lines[i] = " ".join(words)
        elif mutation == "indent":
            lines[i] = " " + lines[i]
        if not lines:
            lines = [""]
    directory = tmp_path_factory.mktemp("mutant") / name
    directory.mkdir()
    (directory / "pack.yaml").write_text("\n".join(lines), encoding="utf-8")
    (directory / "source.txt").write_bytes((source / "source.txt").read_bytes())
    load_or_refuse(directory)


def test_alias_bomb_is_refused_quickly_and_in_bounded_memory(tmp_path: Path) -> None:
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10)
    )
    started = time.perf_counter()
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(write(tmp_path / "bomb", bomb))
    assert time.perf_counter() - started < 2
    assert [d.code for d in caught.value.diagnostics] == ["yaml_too_large"]


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    directory = write(tmp_path / "big", "id: " + "x" * (3 * 1024 * 1024))
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(directory)
    assert [d.code for d in caught.value.diagnostics] == ["file_too_large"]


def test_python_tags_are_refused(tmp_path: Path) -> None:
    for text in (
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "a: !custom {b: 1}\n",
    ):
        with pytest.raises(ecorules.PackError) as caught:
            ecorules.load_pack(write(tmp_path / "tags", text))
        assert caught.value.diagnostics[0].code in ("yaml_syntax",), text


# Where the first level past the limit (64) opens, counted by hand: the mapping is level 1.
DEEP_DOCUMENTS = {
    # 50,000 brackets: libyaml's recursive composer crashed on this (SIGSEGV); libyaml 0.2.6
    # stops at its own limit (1,000) at column 1003, ahead of the events for level 65.
    "flow, past libyaml's own limit": ("a: " + "[" * 50_000 + "]" * 50_000 + "\n", 1, 67),
    "flow, under libyaml's own limit": ("a: " + "[" * 100 + "]" * 100 + "\n", 1, 67),
    "flow after Chinese text": ("名称: 中文\n键: " + "[" * 5_000 + "]" * 5_000 + "\n", 2, 67),
    "block, by indentation": ("".join(" " * i + f"k{i}:\n" for i in range(1_200)), 65, 65),
}


@pytest.mark.parametrize("loader", ["libyaml", "pure Python"])
@pytest.mark.parametrize("document", DEEP_DOCUMENTS, ids=list(DEEP_DOCUMENTS))
def test_regression_deep_nesting_does_not_crash_the_process(
    tmp_path: Path, loader: str, document: str
) -> None:
    """Found by fuzzing: 50,000 nested brackets overflowed libyaml's recursive composer and
    killed the process (SIGSEGV). Run in a subprocess, so a relapse fails this test rather
    than the test run. Whichever PyYAML reads the file, with or without libyaml, the author is
    told `yaml_too_deep` at the first level past the limit."""
    text, line, col = DEEP_DOCUMENTS[document]
    if loader == "libyaml" and not hasattr(yaml, "CSafeLoader"):
        pytest.skip("this PyYAML was built without libyaml")
    directory = write(tmp_path / "deep", text)
    script = textwrap.dedent(f"""
        import yaml
        if {loader == "pure Python"}:
            del yaml.CSafeLoader  # before ecorules picks its loader
        import ecorules
        try:
            ecorules.load_pack({str(directory)!r})
        except ecorules.PackError as exc:
            print(exc.diagnostics[0].code, exc.diagnostics[0].line, exc.diagnostics[0].col)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.split() == ["yaml_too_deep", str(line), str(col)]


@pytest.mark.parametrize(
    "scalar", ["2024-13-01", "2024-02-30", "2024-00-10", "2024-01-01 25:00:00"]
)
def test_regression_impossible_dates_in_yaml_are_diagnostics(tmp_path: Path, scalar: str) -> None:
    """Found by atheris: an impossible date scalar made PyYAML raise a bare ValueError."""
    text = (
        (pack_dir("shidian") / "pack.yaml")
        .read_text(encoding="utf-8")
        .replace("published: 2023-05-17", f"published: {scalar}")
    )
    directory = write(tmp_path / "shidian", text)
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(directory)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("invalid_value", 14)
    assert diagnostic.message.startswith(f"`{scalar}` is not a valid timestamp")
