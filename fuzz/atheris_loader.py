"""Coverage-guided fuzzing of the pack loader with atheris (libFuzzer), for long runs.

    pip install atheris
    python fuzz/atheris_loader.py -max_total_time=3600 fuzz/corpus/loader

Every input is written as a pack.yaml and loaded: it must load or raise PackError. Any other
exception, a hang (-timeout) or a crash is a finding; libFuzzer saves the input as crash-*.
The seed corpus is the bundled packs, so mutations start from real structure.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import ecorules

WORK = Path(tempfile.mkdtemp(prefix="ecorules-fuzz-")) / "pack"
WORK.mkdir()
(WORK / "source.txt").write_text("原文", encoding="utf-8")


def test_one_input(data: bytes) -> None:
    (WORK / "pack.yaml").write_bytes(data)
    try:
        ecorules.load_pack(WORK)
    except ecorules.PackError:
        pass


def seed_corpus(directory: Path) -> None:
    from ecorules._pack import bundled_names, policies_dir

    directory.mkdir(parents=True, exist_ok=True)
    for name in bundled_names():
        target = directory / f"{name}.yaml"
        if not target.exists():
            target.write_bytes((policies_dir() / name / "pack.yaml").read_bytes())


if __name__ == "__main__":
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
