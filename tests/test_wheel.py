"""The bundled packs ship inside the wheel: an installed ecorules loads them with no checkout.

Builds the wheel, installs it (without dependencies) into a fresh virtual environment, and
runs it from outside the repository, borrowing only the third-party packages of this
environment through PYTHONPATH (.pth files there are not read, so the editable checkout
cannot leak in).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_installed_wheel_loads_bundled_pack(tmp_path: Path) -> None:
    pytest.importorskip("build")
    pytest.importorskip("hatchling")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("ecorules-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = (
        "import ecorules, json;"
        "p = ecorules.load_pack('shidian');"
        "d = p.evaluate({'source': 'provincial', 'category': 'general',"
        " 'events': {'transferred': '2024-09-27'}}, '2024-10-15');"
        "print(json.dumps({'file': ecorules.__file__, 'pack': str(p.path),"
        " 'due': d.action('b_submit_township_plan').due.isoformat()}))"
    )
    run = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"},
    )
    out = json.loads(run.stdout)
    assert out["file"].startswith(str(env_dir))
    assert out["pack"].startswith(str(env_dir))
    assert out["due"] == "2024-10-16"
