"""Shared fixtures: the bundled packs, discovered from policies/ (never listed by hand)."""

from __future__ import annotations

import functools
import os
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, timedelta
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

WRITTEN_THROUGH = 2026
"""The last year whose holiday notice the holidays data carried when the tests that expect
a prediction for the year after (and its warning) were written: they load with
``official_through=WRITTEN_THROUGH``, so a release carrying the next notice keeps them exact."""

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PACK_NAMES = bundled_names()


@pytest.fixture(scope="module")
def holidays_data_as_written() -> Iterator[None]:
    """The installed holidays data as it stood when the tests using this were written: its
    notices through WRITTEN_THROUGH only (a later release's are hidden) and calendars built
    afresh, for tests that, in one process, need the year after to be a prediction
    everywhere (the command line included). The library's own way is ``official_through``;
    this hides the later notices from ``official_horizon_year`` and the notice checks too."""
    from holidays.countries.china import ChinaStaticHolidays

    from ecorules import _calendar

    with pytest.MonkeyPatch.context() as patch:
        for name, table in list(vars(ChinaStaticHolidays).items()):
            if name.startswith("special_public_holidays") and isinstance(table, dict):
                kept = {year: days for year, days in table.items() if year <= WRITTEN_THROUGH}
                patch.setattr(ChinaStaticHolidays, name, kept)
        patch.setattr(_calendar, "_cache", OrderedDict())
        yield


def release_carrying_a_notice_for(year: int, patch: pytest.MonkeyPatch) -> list[tuple[date, date]]:
    """Make the installed holidays data carry a notice for ``year``, as a later release will
    (made up: in January and in March, a working weekday off, swapped for the Saturday
    after it), and calendars be built afresh. Returns the (day off, make-up day) pairs."""
    import holidays
    from holidays.countries.china import ChinaStaticHolidays

    from ecorules import _calendar

    known = holidays.country_holidays("CN", years=year)
    swaps = []
    for month in (1, 3):
        day = next(
            date(year, month, d)
            for d in range(2, 15)
            if date(year, month, d).weekday() < 5 and date(year, month, d) not in known
        )
        swaps.append((day, day + timedelta(days=5 - day.weekday())))
    entries = tuple((off.month, off.day, on.month, on.day) for off, on in swaps)
    patch.setitem(ChinaStaticHolidays.special_public_holidays, year, entries)
    patch.setattr(_calendar, "_cache", OrderedDict())
    return swaps


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
