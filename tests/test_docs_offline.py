"""The docs site works with no network: every page loads only from the site itself, and each
pack page's flow is drawn (issue 18).

The site is built, served on 127.0.0.1 and loaded page by page in headless Chromium with
every other host blocked. Material draws Mermaid into a closed shadow root, so the test opens
it (an init script) to count the drawn nodes. One screenshot per pack page is kept under
build/docs-offline/ for people to look at.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules._diagram import build

from .browser import ARTEFACTS, browser, offline_page, serve
from .conftest import PACK_NAMES, REPO

OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, {...init, mode: "open"});
};
"""
DRAWN_NODES = """() => [...document.querySelectorAll("div.mermaid")]
  .map(div => div.shadowRoot ? div.shadowRoot.querySelectorAll("svg g.node").length : 0)"""


def _vendor() -> Any:
    path = REPO / "scripts" / "vendor_mermaid.py"
    spec = importlib.util.spec_from_file_location("vendor_mermaid", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_mermaid_is_the_pinned_build() -> None:
    assert _vendor().check() == []


def test_the_site_loads_no_fonts_or_scripts_from_elsewhere() -> None:
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^  font: false$", config, re.M), "Material would load Google Fonts"
    override = (REPO / "docs" / "overrides" / "main.html").read_text(encoding="utf-8")
    assert "assets/vendor/mermaid.min.js" in override


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="no docs extra: pip install -e '.[docs]'")
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(target)],
        cwd=REPO,
        check=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    return target


def _expected_nodes(name: str) -> int:
    nodes, _, clusters = build(ecorules.load_pack(name).model)
    return len(nodes) + sum(len(steps) for _, _, steps in clusters)


@pytest.mark.slow
def test_every_page_loads_offline_and_pack_flows_are_drawn(site: Path) -> None:
    pages = sorted(p.relative_to(site).parent.as_posix() for p in site.rglob("index.html"))
    assert "packs/shidian" in pages
    shots = ARTEFACTS / "docs-offline"
    shots.mkdir(parents=True, exist_ok=True)
    with browser() as chromium, serve(site) as base:
        page, elsewhere = offline_page(chromium, base)
        page.add_init_script(OPEN_SHADOW_ROOTS)
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        for path in pages:
            url = base + ("" if path == "." else path + "/")
            page.goto(url, wait_until="networkidle")
            name = path.removeprefix("packs/")
            if name in PACK_NAMES:  # a pack's page with its flow (review pages have none)
                page.wait_for_function(f"() => ({DRAWN_NODES})().some(n => n > 0)", timeout=30_000)
                drawn = page.evaluate(DRAWN_NODES)
                assert drawn == [_expected_nodes(name)], f"{path}: drawn nodes {drawn}"
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert elsewhere == [], f"requests that left the site: {elsewhere}"
        assert failed == [], f"requests that failed: {failed}"
    assert sorted(p.stem for p in shots.glob("*.png")) == sorted(PACK_NAMES)
