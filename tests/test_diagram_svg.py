"""`ecorules diagram --format svg`: a drawn diagram with Chinese labels and clause numbers,
in parts for large packs, A4 wide; a clear message where Graphviz is missing."""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import ecorules
from ecorules import _diagram
from ecorules._cli import main
from ecorules._diagram import GraphvizMissing, svg, svg_parts
from ecorules._model import TIER_NAMES

from .conftest import PACK_NAMES
from .test_engine_features import LIFECYCLE
from .test_loader import write_pack

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("ECORULES_REQUIRE_BROWSER"),
    reason="no Graphviz `dot`: install the graphviz package (Debian: apt-get install graphviz)",
)
"""Skips without Graphviz, except in CI (.ci/run sets ECORULES_REQUIRE_BROWSER and installs it)."""
MAX_PART_PT = 800
"""Printed across A4 (510 pt inside 12 mm margins) a part this wide shows its 11 pt labels
at 7 pt: still readable on paper."""
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("name", PACK_NAMES)
def test_parts_show_every_route_obligation_and_chain_in_chinese(name: str) -> None:
    model = ecorules.load_pack(name).model
    dot_text = "\n".join(source for _, source in svg_parts(model))
    for chain in model.closure_chains:
        if f'"{chain.id}" [shape=plain' not in dot_text:
            continue  # a chain no fact statically reaches is not drawn
        for step in chain.steps:
            role = next(r for r in model.roles if r.id == step.actor)
            assert TIER_NAMES[role.tier] in dot_text
    drawn_rules = set(re.findall(r'^  "([a-z0-9_]+)" \[shape=box, style="rounded"', dot_text, re.M))
    assert drawn_rules, name
    for rule in model.rules:
        if rule.id in drawn_rules:
            assert f"[{rule.basis}]" in dot_text, rule.id
            for ob in rule.obligations:
                if ob.window is not None:
                    assert f'"{rule.id}.{ob.id}"' in dot_text, ob.id
                    unit = (
                        "个工作日内"
                        if ob.window.working_days
                        else ("日内" if ob.window.days else "个月内")
                    )
                    assert unit in dot_text
    flagged = [r for r in model.rules if r.kind in ("transfer", "measure", "escalation")]
    assert {r.id for r in flagged} <= drawn_rules
    # Labels are the pack's Chinese names, not ids.
    assert not re.search(r"label=<[^>]*\b(working days|responsible:)", dot_text)


def test_a_large_pack_is_drawn_in_parts_each_rule_once() -> None:
    model = ecorules.load_pack("shidian").model
    parts = svg_parts(model)
    assert len(parts) >= 3
    assert [t.split("：")[0] for t, _ in parts] == [f"第{i}部分" for i in range(1, len(parts) + 1)]
    assert parts[-1][0].endswith("由情形触发的规则（问责、移送、措施）")
    seen: list[str] = []
    for _, source in parts:
        seen += re.findall(r'^  "([a-z0-9_]+)" \[shape=box, style="rounded"', source, re.M)
    assert len(seen) == len(set(seen)), "a rule is drawn in one part only"


def test_a_small_pack_is_one_picture(tmp_path: Path) -> None:
    model = ecorules.load_pack(write_pack(tmp_path, LIFECYCLE)).model
    ((title, _),) = svg_parts(model)
    assert title == model.metadata.title


def test_without_graphviz_the_message_names_the_package(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_diagram.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="graphviz"):
        svg(ecorules.load_pack("yantai").model)
    assert main(["diagram", "yantai", "--format", "svg"]) == 1
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "--format mermaid" in err
    assert "Traceback" not in err


@needs_dot
@pytest.mark.parametrize("name", PACK_NAMES)
def test_the_svg_is_drawn_and_fits_a4(name: str, tmp_path: Path) -> None:
    target = tmp_path / f"{name}.svg"
    assert main(["diagram", name, "--format", "svg", "-o", str(target)]) == 0
    root = ET.parse(target).getroot()
    model = ecorules.load_pack(name).model
    parts = root.findall(f"{SVG}g/{SVG}svg")
    assert len(parts) == len(svg_parts(model))
    for part in parts:
        assert float(part.get("width", "0")) <= MAX_PART_PT, name
        assert part.findall(f".//{SVG}g[@class='node']"), "nodes drawn"
    text = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for chain in model.closure_chains:
        if chain.id in target.read_text(encoding="utf-8"):
            assert chain.basis in text
    assert "时限：" in text or not any(ob.window for r in model.rules for ob in r.obligations)
