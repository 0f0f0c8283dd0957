"""Both ends of every dependency range are tested: CI installs the newest releases and, from
`scripts/lowest_constraints.py`, the lowest ones. That only means something if every direct
dependency states a lower bound, and the script pins each of them to it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from .conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRAS = PROJECT["optional-dependencies"]
REQUIREMENTS = [*PROJECT["dependencies"], *EXTRAS["test"], *EXTRAS["server"]]


def name_of(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return match.group(0).lower()


def test_every_direct_dependency_has_a_lower_bound() -> None:
    unbounded = [
        r for r in REQUIREMENTS if ">=" not in r and r != "tzdata; sys_platform == 'win32'"
    ]
    unbounded = [r for r in unbounded if not r.startswith("ecorules[")]
    assert unbounded == []


def test_the_lowest_constraints_pin_every_lower_bound() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "lowest_constraints.py"), "test", "server"],
        capture_output=True,
        text=True,
        check=True,
    )
    pins = dict(line.split("==") for line in run.stdout.split())
    for requirement in REQUIREMENTS:
        lower = re.search(r">=\s*([^,;\s]+)", requirement)
        if lower:
            assert pins[name_of(requirement)] == lower.group(1), requirement
    assert pins["pyyaml"] == "6.0"  # the oldest PyYAML whose deep-nesting path we test


def test_ci_runs_the_suite_on_the_lowest_versions() -> None:
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/lowest_constraints.py test server" in script
    assert re.search(r'pip" install -q -c "\$lowest/constraints.txt"', script)
