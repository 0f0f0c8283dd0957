"""The host developers' page shows what the service does: its Java example is run against a
live server (when a JDK is installed), and the page is in the site's navigation."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO
from .live_server import LiveServer, start_server

PAGE = REPO / "docs" / "service.md"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("docs"), "shidian", "--log-level", "warning")
    yield live
    live.stop()


def _block(language: str) -> str:
    [block] = re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    return block


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="no JDK on this machine")
def test_the_java_example_runs_against_the_service(server: LiveServer, tmp_path: Path) -> None:
    source = tmp_path / "Evaluate.java"
    source.write_text(_block("java"), encoding="utf-8")
    run = subprocess.run(
        ["java", str(source), server.url], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("decided "), run.stdout
    assert '"b_submit_township_plan"' in run.stdout and '"due":"2024-10-16"' in run.stdout


def test_the_page_is_in_the_nav_and_names_every_endpoint() -> None:
    assert "service.md" in (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    text = PAGE.read_text(encoding="utf-8")
    for endpoint in (
        "/healthz",
        "/readyz",
        "/packs",
        "/packs/{name}/schema/fact",
        "/packs/{name}/evaluate",
        "/openapi.json",
        "/docs",
    ):
        assert f"`{endpoint}" in text or f" {endpoint}`" in text, endpoint
