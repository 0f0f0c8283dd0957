"""A pack with versions, made for the tests from the bundled Shidian pack.

Nothing here is a real document. Version ``2023`` is Shidian's text as bundled with
``case_starts`` added (it runs until the next version starts); version ``2026-test`` is an
invented revision with shorter route-B windows (10 → 7 and 15 → 12 working days) and its
source text edited to match, marked ``test_fixture`` in its metadata. It is written to a
temporary directory per test, never bundled.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ecorules._pack import policies_dir

FIXTURE_NOTE = "invented revision for the tests of pack versions; not a real document"


def _edit(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def write_version(
    root: Path, version: str, pairs: tuple[tuple[str, str], ...] = (), pack: str = "shidian"
) -> Path:
    """Copy a bundled pack (Shidian unless told; without its cases) to
    ``root/versions/<version>`` and edit it."""
    target = root / "versions" / version
    target.mkdir(parents=True)
    source = policies_dir() / pack
    shutil.copy(source / "pack.yaml", target / "pack.yaml")
    shutil.copy(source / "source.txt", target / "source.txt")
    if pairs:
        _edit(target / "pack.yaml", *pairs)
    return target


OLD_META = [
    (
        "  valid_from: 2023-05-17\n",
        "  valid_from: 2023-05-17\n"
        "  case_starts: [reported, transferred]\n"
        "  test_fixture: the bundled text with case_starts added for the tests\n",
    )
]
NEW_META = [
    (
        "  valid_from: 2023-05-17\n",
        "  valid_from: 2026-01-01\n  supersedes: '2023'\n"
        "  case_starts: [reported, transferred]\n"
        f"  test_fixture: {FIXTURE_NOTE}\n",
    ),
    (
        "      - id: b_submit_township_plan\n        title: 整改方案报县级对应的牵头部门审核\n"
        "        actor: sd_township_gov\n        recipient: sd_lead_dept\n"
        "        trigger: transferred\n        window: {working_days: 10}\n",
        "      - id: b_submit_township_plan\n        title: 整改方案报县级对应的牵头部门审核\n"
        "        actor: sd_township_gov\n        recipient: sd_lead_dept\n"
        "        trigger: transferred\n        window: {working_days: 7}\n",
    ),
    (
        "    quote: 在问题移交后10个工作日内报县级对应的牵头部门审核形成县级整改方案\n"
        "    rows: [SD-23",
        "    quote: 在问题移交后7个工作日内报县级对应的牵头部门审核形成县级整改方案\n"
        "    rows: [SD-23",
    ),
    (
        "        window: {working_days: 15}\n        done_when: county_plan_submitted\n"
        "        quote: 于问题移交后15个工作日内",
        "        window: {working_days: 12}\n        done_when: county_plan_submitted\n"
        "        quote: 于问题移交后12个工作日内",
    ),
]


def versioned_shidian(root: Path, starts: str = "2026-01-01", *, later: bool = True) -> Path:
    """``root/shidian`` holding versions ``2023`` and (``later``) ``2026-test``, which starts
    on ``starts``; returns it."""
    pack = root / "shidian"
    write_version(pack, "2023", OLD_META)
    if not later:
        return pack
    meta = [(NEW_META[0][0], NEW_META[0][1].replace("2026-01-01", starts)), *NEW_META[1:]]
    new = write_version(pack, "2026-test", meta)
    _edit(
        new / "source.txt",
        (
            "在问题移交后10个工作日内报县级对应的牵头部门审核形成县级整改方案",
            "在问题移交后7个工作日内报县级对应的牵头部门审核形成县级整改方案",
        ),
        ("于问题移交后15个工作日内", "于问题移交后12个工作日内"),
    )
    return pack


def revision_of_shidian(root: Path) -> Path:
    """A single-version revision of Shidian (the ``2026-test`` text), for diffs."""
    pack = root / "shidian"
    pack.mkdir(parents=True)
    versioned = versioned_shidian(root / "tmp")
    for name in ("pack.yaml", "source.txt"):
        shutil.copy(versioned / "versions" / "2026-test" / name, pack / name)
    return pack
