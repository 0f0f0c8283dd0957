"""Docs that are generated from the packs stay current; diagrams are well formed."""

from __future__ import annotations

import importlib.util
import itertools
import re

import pytest

import ecorules
from ecorules._diagram import dot, mermaid

from .conftest import PACK_NAMES, REPO


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen", REPO / "scripts" / "gen_pack_pages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", PACK_NAMES)
def test_pack_page_is_current(name: str) -> None:
    page = REPO / "docs" / "packs" / f"{name}.md"
    assert page.read_text(encoding="utf-8") == _generator().page(name), (
        f"{page} is stale: run `python scripts/gen_pack_pages.py` and review the diff"
    )


@pytest.mark.parametrize("name", PACK_NAMES)
def test_pack_review_page_is_current(name: str) -> None:
    page = REPO / "docs" / "packs" / f"{name}-review.md"
    assert page.read_text(encoding="utf-8") == _generator().review_page(name), (
        f"{page} is stale: run `python scripts/gen_pack_pages.py` and review the diff"
    )


def test_every_review_page_is_in_the_docs_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for name in PACK_NAMES:
        assert f"packs/{name}-review.md" in nav


@pytest.mark.parametrize("name", PACK_NAMES)
def test_diagrams_name_every_chain_step_and_route(name: str) -> None:
    model = ecorules.load_pack(name).model
    text = mermaid(model)
    assert text.startswith("flowchart LR\n")
    for chain in model.closure_chains:
        assert f"subgraph {chain.id}[" in text
        steps = [f"{chain.id}__{s.id}" for s in chain.steps]
        for a, b in itertools.pairwise(steps):
            assert f"{a} --> {b}" in text
    graph = dot(model)
    assert graph.startswith(f'digraph "{model.id}" {{') and graph.rstrip().endswith("}")
    # Every node that an edge names is declared (or is a cluster anchor).
    declared = set(re.findall(r"^\s+(\w+) \[", graph, re.M))
    for a, b in re.findall(r"^\s+(\w+) -> (\w+)[ ;]", graph, re.M):
        assert a in declared and b in declared, (a, b)


def test_every_docs_page_is_in_the_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {str(p.relative_to(REPO / "docs")) for p in (REPO / "docs").rglob("*.md")}
    assert {p for p in pages if p not in nav} == set()


def test_readme_pack_table_matches_the_bundle() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(\w+)` \|", readme, re.M)
    assert sorted(listed) == sorted(PACK_NAMES)
