"""The ledger dashboard (`report --format html`): its figures are right, the page shows exactly
the numbers `report --format json` gives, loads nothing from anywhere, and prints on A4."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import ecorules
from ecorules._cli import main
from ecorules._figures import FigureTally

from .browser import ARTEFACTS, browser, offline_page
from .conftest import REPO

LEDGER = REPO / "examples" / "shidian_ledger.jsonl"
AS_OF = "2024-10-25"


def _facts() -> list[dict[str, Any]]:
    lines = LEDGER.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_figures_agree_with_each_decision(shidian: ecorules.Pack) -> None:
    """A second, naive count from the decisions themselves."""
    figures = shidian.report(_facts(), AS_OF).figures
    assert figures is not None
    as_of = date.fromisoformat(AS_OF)
    decisions = [d for d in shidian.evaluate_many(_facts(), AS_OF)]
    open_ = [d for d in decisions if not d.closed]
    overdue = Counter(d.responsible for d in open_ if any(a.status == "overdue" for a in d.actions))
    soon = Counter(
        d.responsible
        for d in open_
        if any(
            a.status == "pending" and a.due and a.due <= as_of + timedelta(days=13)
            for a in d.actions
        )
    )
    assert {b.role: (b.open, b.overdue, b.due_soon) for b in figures.bodies} == {
        role: (n, overdue[role], soon[role])
        for role, n in Counter(d.responsible for d in open_).items()
    }
    assert sum(b.overdue for b in figures.bodies) > 0, "the demo ledger shows overdue bodies"
    due = [a.due for d in open_ for a in d.actions if a.status == "pending" and a.due is not None]
    for i, week in enumerate(figures.weeks):
        assert week.start == as_of + timedelta(days=7 * i)
        assert week.due == sum(week.start <= day <= week.end for day in due)
    assert sum(w.due for w in figures.weeks) > 0
    late = [
        (a.due, d.fact_id, a.id)
        for d in open_
        for a in d.actions
        if a.status == "overdue" and a.due is not None
    ]
    assert figures.overdue_actions_total == len(late)
    rows = [(r.due, r.fact_id, r.action) for r in figures.overdue_actions]
    assert sorted(rows) == sorted(late)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows), "longest overdue first"
    assert all(r.days_overdue == (as_of - r.due).days > 0 for r in figures.overdue_actions)


def test_funnels_count_done_and_waiting_steps(shidian: ecorules.Pack) -> None:
    figures = shidian.report(_facts(), AS_OF).figures
    assert figures is not None
    decisions = list(shidian.evaluate_many(_facts(), AS_OF))
    assert figures.chains, "the demo ledger has facts on closure chains"
    for chain in figures.chains:
        on = [d for d in decisions if d.closure_chain_id == chain.chain]
        assert (chain.total, chain.closed) == (len(on), sum(d.closed for d in on))
        for i, step in enumerate(chain.steps):
            assert step.done == sum(d.closure_chain[i].done for d in on)
            waiting = [
                d
                for d in on
                if not d.closed and next(s for s in d.closure_chain if not s.done).id == step.step
            ]
            assert step.waiting == len(waiting)
        assert sum(s.waiting for s in chain.steps) == chain.total - chain.closed
    assert any(c.closed for c in figures.chains)


def test_the_overdue_table_keeps_the_longest_overdue(shidian: ecorules.Pack) -> None:
    as_of = date.fromisoformat(AS_OF)
    decisions = list(shidian.evaluate_many(_facts(), AS_OF))
    everything = FigureTally(shidian, as_of)
    few = FigureTally(shidian, as_of, max_overdue=3)
    for decision in decisions:
        everything.add(decision)
        few.add(decision)
    full, cut = everything.figures(), few.figures()
    assert cut.overdue_actions_total == full.overdue_actions_total > 3
    assert cut.overdue_actions == full.overdue_actions[:3]


class _Figures(HTMLParser):
    """Collects (data-figure, text) from a page, and anything that would load a resource."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str]] = []
        self.loads: list[str] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.loads.append(tag)
        for name in ("src", "href"):
            if named.get(name):
                self.loads.append(f"{tag} {name}={named[name]}")
        if named.get("data-figure"):
            self._open.append((str(named["data-figure"]), []))

    def handle_data(self, data: str) -> None:
        for _, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("text", "tspan", "span", "b", "td"):
            path, parts = self._open.pop()
            self.figures.append((path, "".join(parts).strip()))


def resolve(report: dict[str, Any], path: str) -> str:
    """A data-figure path's value in the report JSON: dotted keys and indexes;
    ``list[]`` sums over a list; ``list[key=null]`` keeps the items where key is null."""
    values: list[Any] = [report]
    for part in path.split("."):
        match = re.fullmatch(r"(\w+)(?:\[(?:(\w+)=null)?\])?", part)
        assert match, path
        key, filter_key = match.group(1), match.group(2)
        nxt: list[Any] = []
        for value in values:
            item = value[int(key)] if key.isdigit() else value[key]
            if "[" in part:
                nxt += [x for x in item if filter_key is None or x[filter_key] is None]
            else:
                nxt.append(item)
        values = nxt
    if path.endswith("[]"):
        return str(len(values))
    if len(values) == 1 and not any(c in path for c in "[]"):
        return str(values[0])
    return str(sum(values))


LEDGERS = {
    "shidian": (LEDGER, AS_OF),  # closure chains, overdue actions
    "yantai": (REPO / "tests" / "fixtures" / "yantai_ledger_2018-10-30.jsonl", "2018-10-30"),
}
"""Shidian's demo ledger has chains and overdue actions; Yantai's real one has lifecycles."""


@pytest.fixture(scope="module", params=sorted(LEDGERS))
def outputs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    name = request.param
    ledger, as_of = LEDGERS[name]
    folder = tmp_path_factory.mktemp(name)
    report_json, page = folder / "report.json", folder / f"{name}.html"
    base = ["report", name, str(ledger), "--as-of", as_of]
    assert main([*base, "--format", "json", "-o", str(report_json)]) == 0
    assert main([*base, "--format", "html", "-o", str(page)]) == 0
    return json.loads(report_json.read_text(encoding="utf-8")), page


def test_every_number_on_the_page_is_the_reports(outputs: tuple[dict[str, Any], Path]) -> None:
    report, page = outputs
    parser = _Figures()
    parser.feed(page.read_text(encoding="utf-8"))
    shown = dict(parser.figures)
    assert len(shown) == len(parser.figures), "each figure once"
    for path, text in parser.figures:
        assert text == resolve(report, path), path
    figures = report["figures"]
    expected = {"total", "figures.overdue_actions_total"}
    expected |= {
        f"figures.bodies.{i}.{k}"
        for i in range(len(figures["bodies"]))
        for k in ("overdue", "due_soon")
    }
    expected |= {
        f"figures.tiers.{i}.{k}"
        for i in range(len(figures["tiers"]))
        for k in ("overdue", "due_soon")
    }
    expected |= {f"figures.weeks.{i}.due" for i in range(8)}
    for c, chain in enumerate(figures["chains"]):
        expected |= {f"figures.chains.{c}.total", f"figures.chains.{c}.closed"}
        for s in range(len(chain["steps"])):
            expected |= {f"figures.chains.{c}.steps.{s}.{k}" for k in ("done", "waiting")}
    for g, group in enumerate(report["groups"]):
        if group["category"] is None:
            expected |= {
                f"groups.{g}.stages.{j}.{k}"
                for j in range(len(group["stages"]))
                for k in ("at", "reached")
            }
    for r in range(len(figures["overdue_actions"])):
        expected |= {
            f"figures.overdue_actions.{r}.due",
            f"figures.overdue_actions.{r}.days_overdue",
        }
    assert expected <= set(shown), sorted(expected - set(shown))


def test_the_page_loads_nothing(outputs: tuple[dict[str, Any], Path]) -> None:
    text = outputs[1].read_text(encoding="utf-8")
    parser = _Figures()
    parser.feed(text)
    assert parser.loads == []
    assert "url(" not in text and "@import" not in text
    assert set(re.findall(r"https?://[^\"' ]+", text)) <= {"http://www.w3.org/2000/svg"}


def test_names_and_clauses_are_escaped(tmp_path: Path, shidian: ecorules.Pack) -> None:
    from ecorules._dashboard import render_dashboard

    ledger = [
        {
            "id": "<b>x</b>",
            "source": "provincial",
            "category": "general",
            "events": {"transferred": "2024-09-01"},
        }
    ]
    page = render_dashboard(shidian, shidian.report(ledger, AS_OF))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


@pytest.mark.slow
def test_the_dashboard_draws_offline_and_fits_a4(outputs: tuple[dict[str, Any], Path]) -> None:
    report, page_file = outputs
    url = page_file.as_uri()
    shots = ARTEFACTS / "dashboard"
    shots.mkdir(parents=True, exist_ok=True)
    with browser() as chromium:
        page, elsewhere = offline_page(chromium, url)
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 px/inch
        page.goto(url, wait_until="load")
        drawn = page.evaluate(
            "[...document.querySelectorAll('svg')].map(s => [s.getBBox().width,"
            " s.querySelectorAll('rect').length])"
        )
        staged = [g for g in report["groups"] if g["category"] is None and g["stages"]]
        assert len(drawn) == 3 + len(report["figures"]["chains"]) + len(staged)
        assert all(width > 100 and rects > 0 for width, rects in drawn), drawn
        shown = page.evaluate(
            "[...document.querySelectorAll('[data-figure]')]"
            ".map(e => [e.dataset.figure, e.textContent.trim()])"
        )
        assert shown and all(text == resolve(report, path) for path, text in shown)
        page.screenshot(path=str(shots / page_file.with_suffix(".png").name), full_page=True)
        page.emulate_media(media="print")
        # A4 less 15 mm margins is 180 mm (680 px): the page is no wider, and nothing in it
        # sticks out of it.
        body = page.evaluate("document.body.getBoundingClientRect().toJSON()")
        assert body["width"] <= 180 * 96 / 25.4 + 0.5
        widest = page.evaluate(
            "Math.max(...[...document.body.querySelectorAll('*')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= body["right"] + 0.5
        pdf = page.pdf(format="A4", print_background=True)
        (shots / page_file.with_suffix(".pdf").name).write_bytes(pdf)
        assert pdf.startswith(b"%PDF")
        assert elsewhere == []
