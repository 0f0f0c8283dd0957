"""Pin every direct dependency to the lowest version pyproject.toml allows.

CI installs the newest releases (as the README's command does on a fresh machine); this file
lets a second job install the oldest ones the ranges admit, so both ends of every range are
tested and a lower bound that no longer works is found by CI, not by a user. Transitive
dependencies stay free, as with `uv pip install --resolution lowest-direct`.

    python scripts/lowest_constraints.py test > lowest.txt
    pip install -c lowest.txt -e '.[test]'
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_LOWER = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*([^;]*)")


def lowest_pins(extras: list[str]) -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = _LOWER.match(requirement)
        if match is None:
            continue
        name, spec = match.group(1).lower(), match.group(2)
        lower = re.search(r">=\s*([^,\s]+)", spec)
        if lower and not name.startswith(project["name"]):
            pins[name] = lower.group(1)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


if __name__ == "__main__":
    print("\n".join(lowest_pins(sys.argv[1:])))
