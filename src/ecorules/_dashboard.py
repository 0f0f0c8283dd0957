"""A ledger dashboard: one self-contained HTML file a clerk can open from a shared drive.

Government networks are usually cut off, so the page loads nothing: no script, font, image
or stylesheet from anywhere (the styles are inline, the fonts the reader's own). The charts
are SVG drawn here rather than by a charting library: they are bars and a funnel, a few
dozen lines to draw, and a library would have to be inlined into every file (Vega alone is
hundreds of kilobytes) for no better picture. Every number shown carries ``data-figure``,
the path of the value it shows in ``report --format json``, so a test can check the page
against the report number for number. Labels are Chinese; the page prints on A4 portrait.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from ._figures import Figures
from ._model import TIER_NAMES

if TYPE_CHECKING:
    from ._pack import Pack
    from ._report import Report

WIDTH = 680
"""Chart width in CSS pixels: A4 (210 mm) less 15 mm margins each side, at 96 px/inch."""
OVERDUE = "#c62828"
SOON = "#ef8f00"
DONE = "#2e7d32"
WAITING = "#1565c0"
MUTED = "#5f6368"


def tier_name(tier: str) -> str:
    return TIER_NAMES.get(tier, "未明确")


def _term(pack: Pack, section: str, term: str) -> str:
    for entry in getattr(pack.model.vocabulary, section):
        if entry.id == term:
            return str(entry.name)
    return term


def _body(name: str, role: str | None, tier: str) -> str:
    return "未明确责任主体" if role is None else f"{name}（{tier_name(tier)}）"


def _num(
    value: int, path: str, *, x: float, y: float, anchor: str = "start", fill: str = "#202124"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="num" fill="{fill}" '
        f'data-figure="{path}">{value}</text>'
    )


def _label(text: str, *, x: float, y: float, anchor: str = "end", size: int = 12) -> str:
    shown = text if len(text) <= 16 else text[:15] + "…"
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}">'
        f"<title>{escape(text)}</title>{escape(shown)}</text>"
    )


def _svg(height: float, body: Sequence[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-label="{escape(title)}">' + "".join(body) + "</svg>"
    )


def _legend(items: Sequence[tuple[str, str]], y: float) -> list[str]:
    out, x = [], 220.0
    for color, text in items:
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
        out.append(_label(text, x=x + 16, y=y, anchor="start"))
        x += 24 + 13 * len(text)
    return out


def paired_bars(
    rows: Sequence[tuple[str, tuple[int, str], tuple[int, str]]],
    title: str,
) -> str:
    """Horizontal bars, two per row (overdue, due soon): ``(label, (value, path), (value,
    path))``; each value printed at its bar's end."""
    top, row_h, left, right = 26, 34, 210, WIDTH - 50
    scale = max([1] + [v for _, a, b in rows for v in (a[0], b[0])])
    body = _legend([(OVERDUE, "逾期"), (SOON, "两周内到期")], 14)
    for i, (label, (over, over_path), (soon, soon_path)) in enumerate(rows):
        y = top + i * row_h
        body.append(_label(label, x=left - 8, y=y + 18))
        for j, (value, path, color) in enumerate(
            ((over, over_path, OVERDUE), (soon, soon_path, SOON))
        ):
            w = (right - left) * value / scale
            by = y + 4 + j * 13
            body.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="12" fill="{color}"/>')
            body.append(_num(value, path, x=left + w + 4, y=by + 10))
    return _svg(top + len(rows) * row_h + 6, body, title)


def week_bars(figures: Figures) -> str:
    """Vertical bars: pending actions falling due in each of the next weeks."""
    top, bottom, left = 24, 190, 20
    slot = (WIDTH - left) / max(1, len(figures.weeks))
    scale = max([1] + [w.due for w in figures.weeks])
    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}" stroke="{MUTED}"/>']
    for i, week in enumerate(figures.weeks):
        h = (bottom - top - 16) * week.due / scale
        x = left + i * slot + slot * 0.2
        body.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{h:.1f}" fill="{WAITING}"/>'
        )
        body.append(
            _num(
                week.due,
                f"figures.weeks.{i}.due",
                x=x + slot * 0.3,
                y=bottom - h - 4,
                anchor="middle",
            )
        )
        span = f"{week.start.month}/{week.start.day}–{week.end.month}/{week.end.day}"
        body.append(_label(f"第{i + 1}周", x=x + slot * 0.3, y=bottom + 16, anchor="middle"))
        body.append(_label(span, x=x + slot * 0.3, y=bottom + 31, anchor="middle", size=10))
    if not any(w.due for w in figures.weeks):
        body.append(_label("未来八周没有到期事项", x=WIDTH / 2, y=bottom / 2, anchor="middle"))
    return _svg(bottom + 38, body, "未来八周到期事项")


FunnelRow = tuple[str, str, tuple[int, str], tuple[int, str]]
"""(title, who, (count done or reached, its path), (count standing there, its path))."""


def funnel(rows: Sequence[FunnelRow], total: int, title: str, done_word: str) -> str:
    """Steps (or stages) as a funnel: per row, facts that have done or reached it (the bar)
    and facts standing at it (the number after 停留)."""
    top, row_h, left, right = 26, 30, 230, WIDTH - 150
    scale = max(1, total)
    body = _legend([(DONE, done_word)], 14)
    body.append(f'<text x="{right + 10}" y="14" fill="{WAITING}">停留：停在此处的问题数</text>')
    for i, (name, who, (done, done_path), (waiting, waiting_path)) in enumerate(rows):
        y = top + i * row_h
        body.append(_label(f"{i + 1}. {name}", x=left - 8, y=y + 13 if who else y + 19))
        if who:
            body.append(_label(who, x=left - 8, y=y + 25, size=10))
        w = (right - left) * done / scale
        x0 = left + (right - left - w) / 2
        body.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="22" fill="{DONE}"/>')
        on_bar = "#ffffff" if w > 30 else "#202124"
        body.append(
            _num(done, done_path, x=(left + right) / 2, y=y + 19, anchor="middle", fill=on_bar)
        )
        body.append(
            f'<text x="{right + 10}" y="{y + 19}" fill="{WAITING}">停留 '
            f'<tspan class="num" data-figure="{waiting_path}">{waiting}</tspan></text>'
        )
    return _svg(top + len(rows) * row_h + 6, body, title)


def chain_funnel(figures: Figures, index: int) -> str:
    chain = figures.chains[index]
    base = f"figures.chains.{index}.steps"
    rows = [
        (
            step.title,
            f"{step.actor}（{tier_name(step.tier)}）",
            (step.done, f"{base}.{i}.done"),
            (step.waiting, f"{base}.{i}.waiting"),
        )
        for i, step in enumerate(chain.steps)
    ]
    return funnel(rows, chain.total, chain.title, "已完成该步的问题数")


STYLE = """
@page { size: A4 portrait; margin: 12mm 15mm; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 180mm; padding: 8px; color: #202124;
  font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
    "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; font-size: 13px; }
h1 { font-size: 20px; margin: 4px 0; } h2 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: #5f6368; margin: 0 0 10px; }
section { break-inside: avoid; page-break-inside: avoid; }
.cards { display: grid; grid-template-columns: repeat(6, 1fr); gap: 6px; }
.card { border: 1px solid #dadce0; border-radius: 4px; padding: 6px; text-align: center; }
.card b { display: block; font-size: 20px; } .card.alert b { color: #c62828; }
svg text { font-family: inherit; font-size: 12px; }
svg text.num { font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 11px; }
th, td { border: 1px solid #dadce0; padding: 3px 4px; text-align: left; vertical-align: top; }
th { background: #f1f3f4; } thead { display: table-header-group; } tr { break-inside: avoid; }
td.n { text-align: right; white-space: nowrap; } .note { color: #5f6368; font-size: 11px; }
"""


def render_dashboard(pack: Pack, report: Report) -> str:
    """The report as one self-contained HTML page (see the module docstring)."""
    figures = report.figures
    if figures is None:  # pragma: no cover - build_report always sets it
        raise ValueError("the report carries no figures")
    whole = [(i, g) for i, g in enumerate(report.groups) if g.category is None]
    closed = sum(g.closed for _, g in whole)
    open_ = sum(g.open for _, g in whole)
    overdue = sum(g.overdue for _, g in whole)
    soon = sum(b.due_soon for b in figures.bodies)
    cards = [
        ("台账总数", report.total, "total", ""),
        ("已销号", closed, "groups[category=null].closed", ""),
        ("未销号", open_, "groups[category=null].open", ""),
        ("有逾期的问题", overdue, "groups[category=null].overdue", " alert"),
        (f"{figures.due_soon_days}天内有到期的问题", soon, "figures.bodies[].due_soon", ""),
        ("未能读取", len(report.refused), "refused[]", " alert" if report.refused else ""),
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(pack.title)} — 台账统计图 — 截至 {report.as_of.isoformat()}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(pack.title)}</h1>",
        f'<p class="sub">台账统计图 · 截至 <span data-figure="as_of">'
        f"{report.as_of.isoformat()}</span> · 政策包 {escape(report.pack)}</p>",
        '<section><div class="cards">',
    ]
    for title, value, path, cls in cards:
        out.append(
            f'<div class="card{cls}"><b data-figure="{path}">{value}</b>{escape(title)}</div>'
        )
    out.append("</div></section>")

    out.append("<section><h2>各责任主体：逾期与临期（问题数）</h2>")
    if figures.bodies:
        rows = [
            (
                _body(b.name, b.role, b.tier),
                (b.overdue, f"figures.bodies.{i}.overdue"),
                (b.due_soon, f"figures.bodies.{i}.due_soon"),
            )
            for i, b in enumerate(figures.bodies)
        ]
        out.append(paired_bars(rows, "各责任主体逾期与临期"))
    else:
        out.append('<p class="note">没有未销号的问题。</p>')
    out.append("</section><section><h2>各层级：逾期与临期（问题数）</h2>")
    if figures.tiers:
        rows = [
            (
                tier_name(t.tier),
                (t.overdue, f"figures.tiers.{i}.overdue"),
                (t.due_soon, f"figures.tiers.{i}.due_soon"),
            )
            for i, t in enumerate(figures.tiers)
        ]
        out.append(paired_bars(rows, "各层级逾期与临期"))
    else:
        out.append('<p class="note">没有未销号的问题。</p>')
    out.append("</section><section><h2>未来八周到期事项（按周，事项数）</h2>")
    out.append(week_bars(figures))
    out.append("</section>")

    out.append("<section><h2>销号链：各步进度（问题数）</h2>")
    if not figures.chains:
        out.append('<p class="note">台账中没有走销号链的问题。</p>')
    for i, chain in enumerate(figures.chains):
        out.append(
            f"<h3>{escape(chain.title)} <small>[{escape(chain.basis)}]</small> — 共 "
            f'<span data-figure="figures.chains.{i}.total">{chain.total}</span> 件，已销号 '
            f'<span data-figure="figures.chains.{i}.closed">{chain.closed}</span> 件</h3>'
        )
        out.append(chain_funnel(figures, i))
    out.append("</section>")
    staged = [(i, g) for i, g in whole if g.stages]
    if staged:
        # Lifecycle packs (收集 → 甄别 → … → 销号) stand at stages, from the report's groups.
        out.append("<section><h2>生命周期：各阶段（问题数）</h2>")
        for i, group in staged:
            stage_rows: list[FunnelRow] = [
                (
                    stage.title,
                    "",
                    (stage.reached, f"groups.{i}.stages.{j}.reached"),
                    (stage.at, f"groups.{i}.stages.{j}.at"),
                )
                for j, stage in enumerate(group.stages)
            ]
            name = _term(pack, "kinds", group.kind)
            out.append(
                f"<h3>{escape(name)} — 共 "
                f'<span data-figure="groups.{i}.total">{group.total}</span> 件</h3>'
            )
            out.append(funnel(stage_rows, group.total, name, "已到达该阶段的问题数"))
        out.append("</section>")

    out.append("<h2>逾期事项</h2>")
    shown = len(figures.overdue_actions)
    out.append(
        f'<p class="note">共 <span data-figure="figures.overdue_actions_total">'
        f"{figures.overdue_actions_total}</span> 项"
        + (f"，列出逾期最久的 {shown} 项" if shown < figures.overdue_actions_total else "")
        + "。</p>"
    )
    if shown:
        out.append(
            "<table><thead><tr><th>问题</th><th>事项</th><th>执行主体</th><th>层级</th>"
            "<th>截止日期</th><th>逾期天数</th><th>依据</th></tr></thead><tbody>"
        )
        for i, row in enumerate(figures.overdue_actions):
            p = f"figures.overdue_actions.{i}"
            fact = row.fact_id if row.fact_id is not None else f"第{row.position}条"
            out.append(
                f"<tr><td>{escape(fact)}</td><td>{escape(row.title)}</td>"
                f"<td>{escape(row.actor)}</td><td>{tier_name(row.tier)}</td>"
                f'<td data-figure="{p}.due">{row.due.isoformat()}</td>'
                f'<td class="n" data-figure="{p}.days_overdue">{row.days_overdue}</td>'
                f"<td>{escape(row.basis)} <span class=note>{escape(row.rule)}</span></td></tr>"
            )
        out.append("</tbody></table>")
    if report.calendar is not None:
        cal = report.calendar
        out.append(
            '<p class="note">工作日按国务院办公厅放假通知计算（holidays '
            f"{escape(cal.holidays_version)}，通知至 {cal.official_through} 年）。</p>"
        )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
