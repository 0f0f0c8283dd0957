"""Shared fixtures: the bundled packs, discovered from policies/ (never listed by hand)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from hypothesis import settings

import ecorules
from ecorules._pack import bundled_names, policies_dir

# CI runs the same examples every time (a red CI must be reproducible); local runs explore.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The suite runs on the library's own holiday data: a notice file named in the developer's
# environment would move every date past the horizon (tests that need one set it themselves).
os.environ.pop("ECORULES_CALENDAR", None)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PACK_NAMES = bundled_names()


@pytest.fixture(scope="session", params=PACK_NAMES)
def any_pack(request: pytest.FixtureRequest) -> ecorules.Pack:
    return ecorules.load_pack(request.param)


@pytest.fixture(scope="session")
def shidian() -> ecorules.Pack:
    return ecorules.load_pack("shidian")


@functools.cache
def load(name: str) -> ecorules.Pack:
    """A bundled pack, loaded once per test session, when a test first needs it."""
    return ecorules.load_pack(name)


def pack_dir(name: str) -> Path:
    return policies_dir() / name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Property-based and fuzz tests (hypothesis) are `slow`: `pytest -m "not slow"` is the
    quick subset for pack authors (README), everything else stays in it."""
    for item in items:
        function = getattr(item, "function", None)
        if getattr(function, "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
