"""Diagrams of a pack's flow, as Mermaid or Graphviz DOT text.

A pack is easier to review as a picture: which facts take which route, what is due when,
how closure climbs the tiers, what a flag sets off. The diagram is drawn from the pack's
model with the evaluator's own specialisation, so it shows what the engine will do: facts
(kind × source × category) are grouped by the routes, chain and lifecycle that apply to
them; routes show their windows; chains and lifecycles are drawn step by step with tiers;
flag- and event-triggered rules hang off the flags that set them off.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from . import _conditions as C
from . import _model as M
from ._errors import EcorulesError

Graph = tuple[list[tuple[str, str, str]], list[tuple[str, str, str, bool]], list[Any]]
"""(nodes: id, label, shape), (edges: from, to, label, dashed), (clusters)."""


def _window(ob: M.Obligation) -> str:
    if ob.window is not None:
        for unit, word in (
            ("working_days", "working days"),
            ("days", "days"),
            ("months", "months"),
        ):
            value = getattr(ob.window, unit)
            if value is not None:
                return f"{value} {word} after {ob.trigger.event if ob.trigger else '?'}"
    if ob.due_attr:
        return f"by attr {ob.due_attr}"
    return ""


def build(model: M.PackModel) -> Graph:
    roles = {r.id: r for r in model.roles}
    nodes: list[tuple[str, str, str]] = []
    edges: list[tuple[str, str, str, bool]] = []
    clusters: list[Any] = []

    # Facts grouped by what statically applies to them.
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = defaultdict(list)
    for key in _static_keys(model):
        routes = tuple(
            r.id
            for r in model.rules
            if C.specialise(r.when, key) is True
            and (r.responsible_role or any(o.window or o.due_attr for o in r.obligations))
        )
        tracks = tuple(t.id for t in _tracks(model, key))
        groups[(routes, tracks)].append(" · ".join(x for x in key[:3] if x))
    for index, ((routes, tracks), labels) in enumerate(sorted(groups.items())):
        node = f"facts_{index}"
        nodes.append((node, "<br/>".join(labels), "facts"))
        for target in (*routes, *tracks):
            edges.append((node, _id(target), "", False))

    for rule in model.rules:
        timed = [ob for ob in rule.obligations if _window(ob)]
        flagged = rule.kind in ("transfer", "measure", "escalation")
        if not (rule.responsible_role or timed or flagged):
            continue
        lines = [f"{rule.id} [{rule.basis}]"]
        if rule.responsible_role:
            role = roles[rule.responsible_role]
            lines.append(f"responsible: {role.name} ({role.tier})")
        lines += [f"{ob.id}: {_window(ob)}" for ob in timed]
        nodes.append((_id(rule.id), "<br/>".join(lines), "rule"))
        if rule.kind in ("transfer", "measure", "escalation") and rule.when is not None:
            triggers = [
                name for field, name, _ in C.references(rule.when) if field in ("flag", "event")
            ]
            for name in triggers:
                nodes.append((f"flag_{name}", name, "flag"))
                edges.append((f"flag_{name}", _id(rule.id), "", True))
            for ob in rule.obligations:
                if ob.recipient:
                    edges.append(
                        (_id(rule.id), _id(f"role_{ob.recipient}"), roles[ob.recipient].name, False)
                    )
                    nodes.append(
                        (
                            _id(f"role_{ob.recipient}"),
                            f"{roles[ob.recipient].name} ({roles[ob.recipient].tier})",
                            "role",
                        )
                    )

    for chain in model.closure_chains:
        steps = [
            (f"{chain.id}__{s.id}", f"{roles[s.actor].name} ({roles[s.actor].tier})<br/>{s.title}")
            for s in chain.steps
        ]
        clusters.append((_id(chain.id), f"{chain.id} [{chain.basis}]", steps))
    for lifecycle in model.lifecycles:
        stages = [
            (f"{lifecycle.id}__{s.id}", f"{s.title}<br/>{roles[s.actor].name}")
            for s in lifecycle.stages
        ]
        clusters.append((_id(lifecycle.id), f"{lifecycle.id} [{lifecycle.basis}]", stages))
    unique = list({n[0]: n for n in nodes}.values())
    return unique, list(dict.fromkeys(edges)), clusters


def _tracks(model: M.PackModel, key: C.StaticKey) -> list[Any]:
    """The closure chain and lifecycle that apply to every fact of ``key``, after overrides."""
    candidates: list[Any] = [*model.closure_chains, *model.lifecycles]
    applying = [c for c in candidates if C.specialise(c.when, key) is True]
    return [c for c in applying if not any(c.id in other.overrides for other in applying)]


def _id(name: str) -> str:
    return name.replace("-", "_")


def mermaid(model: M.PackModel) -> str:
    nodes, edges, clusters = build(model)
    shapes = {
        "facts": ('(["', '"])'),
        "rule": ('["', '"]'),
        "flag": ('{{"', '"}}'),
        "role": ('("', '")'),
    }
    out = ["flowchart LR"]
    for node, label, shape in nodes:
        left, right = shapes[shape]
        out.append(f"  {node}{left}{_mermaid_text(label)}{right}")
    for cluster, title, steps in clusters:
        out.append(f'  subgraph {cluster}["{_mermaid_text(title)}"]')
        out.append("    direction LR")
        for step, label in steps:
            out.append(f'    {_id(step)}["{_mermaid_text(label)}"]')
        for (a, _), (b, _) in itertools.pairwise(steps):
            out.append(f"    {_id(a)} --> {_id(b)}")
        out.append("  end")
    for a, b, label, dashed in edges:
        arrow = "-.->" if dashed else "-->"
        # Quoted: a bare label with brackets, e.g. 县(市、区), is a Mermaid parse error.
        text = f'|"{_mermaid_text(label)}"|' if label else ""
        out.append(f"  {a} {arrow}{text} {b}")
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def dot(model: M.PackModel) -> str:
    nodes, edges, clusters = build(model)
    shapes = {"facts": "note", "rule": "box", "flag": "hexagon", "role": "ellipse"}
    out = [f'digraph "{model.id}" {{', "  rankdir=LR;", '  node [fontname="sans-serif"];']
    for node, label, shape in nodes:
        out.append(f'  {node} [shape={shapes[shape]}, label="{_dot_text(label)}"];')
    for cluster, title, steps in clusters:
        out.append(f'  subgraph cluster_{cluster} {{ label="{_dot_text(title)}";')
        out.append(f"    {cluster} [shape=point];")
        for step, label in steps:
            out.append(f'    {_id(step)} [shape=box, label="{_dot_text(label)}"];')
        chain = [cluster] + [_id(s) for s, _ in steps]
        out.append("    " + " -> ".join(chain) + ";")
        out.append("  }")
    for a, b, label, dashed in edges:
        attrs = [f'label="{_dot_text(label)}"'] if label else []
        if dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        out.append(f"  {a} -> {b}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("<br/>", "\\n")


# --- Drawn diagrams (``diagram --format svg``): Chinese labels, Graphviz, A4 width ---------

_TIER_COLOURS = {
    "national": "#f3e5f5",
    "provincial": "#e3f2fd",
    "municipal": "#e8f5e9",
    "county": "#fff8e1",
    "township": "#fbe9e7",
}
_FONT = "Noto Sans CJK SC"
"""Graphviz measures labels with this font where fontconfig has it (Debian: fonts-noto-cjk);
the SVG falls back to the reader's CJK sans-serif (_SVG_FONTS) where it is missing."""
_SVG_FONTS = "Noto Sans CJK SC,Source Han Sans SC,Microsoft YaHei,PingFang SC,sans-serif"
PART_NODES = 18
"""A pack whose diagram would have more nodes than this is drawn in parts, one per group of
facts that share routes and chains, plus one for the rules flags and events set off."""
WRAP = 14
"""Characters per label line: a box stays narrow enough for four columns across A4."""


class GraphvizMissing(EcorulesError):
    """``dot`` is not on PATH: say which package to install."""


def _wrap(text: str, width: int = WRAP) -> list[str]:
    """Lines of at most ``width`` characters, breaking after punctuation where it can."""
    lines: list[str] = []
    while len(text) > width:
        cut = max((text.rfind(p, 0, width) for p in "，、；：）) "), default=-1)
        cut = cut + 1 if cut >= width // 2 else width
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*lines, text] if text else lines


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _lines(*parts: str, width: int = WRAP) -> str:
    """A Graphviz HTML label of wrapped lines (the first bold), a table row per line: with
    <BR/> Graphviz spaces lines by the font size alone, and CJK glyphs then overlap."""
    out = []
    for index, part in enumerate(parts):
        for line in _wrap(part, width):
            text = f"<B>{_html(line)}</B>" if index == 0 else _html(line)
            out.append(f"<TR><TD>{text}</TD></TR>")
    return '<<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="1">' + "".join(out) + "</TABLE>>"


def _zh_window(model: M.PackModel, ob: M.Obligation) -> str:
    names = {t.id: t.name for t in model.vocabulary.events}
    attrs = {a.id: a.name for a in model.vocabulary.attrs}
    if ob.window is not None and ob.trigger is not None:
        if ob.trigger.event is not None:
            start = f"{names.get(ob.trigger.event, ob.trigger.event)}后"
        else:
            start = f"「{ob.trigger.overdue}」逾期后"
        window = ob.window
        if window.working_days is not None:
            return f"{start}{window.working_days}个工作日内"
        if window.days is not None:
            return f"{start}{window.days}日内"
        return f"{start}{window.months}个月内"
    if ob.due_attr:
        return f"以「{attrs.get(ob.due_attr, ob.due_attr)}」为期"
    return ""


def _role(model: M.PackModel, role_id: str) -> str:
    from ._model import TIER_NAMES

    role = next(r for r in model.roles if r.id == role_id)
    return f"{role.name}（{TIER_NAMES[role.tier]}）"


def _chain_table(model: M.PackModel, title: str, basis: str, steps: list[Any]) -> str:
    """A closure chain or lifecycle as one table: a row per step, coloured by tier."""
    from ._model import TIER_NAMES

    roles = {r.id: r for r in model.roles}
    rows = [
        f'<TR><TD COLSPAN="3" BGCOLOR="#eeeeee">{"<BR/>".join(map(_html, _wrap(title, 30)))}'
        f" [{_html(basis)}]</TD></TR>"
    ]
    for number, step in enumerate(steps, 1):
        role = roles[step.actor]
        clause = f" [{_html(step.basis)}]" if step.basis and step.basis != basis else ""
        colour = _TIER_COLOURS[role.tier]
        actor = "<BR/>".join(map(_html, _wrap(role.name, 10)))
        title = "<BR/>".join(map(_html, _wrap(step.title, 14)))
        rows.append(
            f'<TR><TD BGCOLOR="{colour}">{number}. {TIER_NAMES[role.tier]}</TD>'
            f'<TD BGCOLOR="{colour}">{actor}</TD><TD ALIGN="LEFT">{title}{clause}</TD></TR>'
        )
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
        + "".join(rows)
        + "</TABLE>>"
    )


def _fact_label(model: M.PackModel, labels: list[tuple[str, str | None, str | None]]) -> str:
    vocab = model.vocabulary
    names = {
        **{t.id: t.name for t in vocab.kinds},
        **{t.id: t.name for t in vocab.sources},
        **{t.id: t.name for t in vocab.categories},
    }
    # One kind of fact: its name on every line says nothing.
    single = len(vocab.kinds) == 1
    lines = [
        "·".join(names.get(x, x) for x in combo[single:] if x) or names.get(combo[0], combo[0])
        for combo in labels
    ]
    if len(lines) > 6:
        lines = [*lines[:5], f"……等 {len(lines)} 类"]
    return _lines("事实", *lines, width=16)


def _static_keys(model: M.PackModel) -> Iterator[C.StaticKey]:
    """Each kind × source × category a fact can take (no flag set), in vocabulary order."""
    vocab = model.vocabulary
    for kind in vocab.kinds:
        sources = [t.id for t in vocab.sources] if "source" in kind.requires else [None]
        categories = [t.id for t in vocab.categories] if "category" in kind.requires else [None]
        for source in sources:
            for category in categories:
                yield (kind.id, source, category, False)


def svg_parts(model: M.PackModel) -> list[tuple[str, str]]:
    """(title, DOT source) for each part of the drawn diagram: facts → routing → obligations
    with their windows → closure chain by tier; flag-set rules apart."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Any]] = defaultdict(list)
    for key in _static_keys(model):
        routes = tuple(
            r.id
            for r in model.rules
            if r.kind not in ("transfer", "measure", "escalation")
            and C.specialise(r.when, key) is True
            and (r.responsible is not None or any(o.window or o.due_attr for o in r.obligations))
        )
        tracks = tuple(t.id for t in _tracks(model, key))
        if routes or tracks:
            groups[(routes, tracks)].append(key[:3])

    # Connected groups of facts (sharing a route or a chain) are drawn together.
    components: list[list[tuple[tuple[str, ...], tuple[str, ...]]]] = []
    for group in sorted(groups):
        linked = set(group[0] + group[1])
        touching = [c for c in components if any(linked & set(k[0] + k[1]) for k in c)]
        merged = [group] + [k for c in touching for k in c]
        components = [c for c in components if c not in touching] + [merged]
    sizes = [
        len(c)
        + len({x for k in c for x in k[0] + k[1]})
        + sum(len(_timed(model, r)) for r in {x for k in c for x in k[0]})
        for c in components
    ]
    flagged = [r for r in model.rules if r.kind in ("transfer", "measure", "escalation")]
    if sum(sizes) + 2 * len(flagged) <= PART_NODES:
        parts = [[k for c in components for k in c]] if components else []
        return [
            (model.metadata.title, _dot_part(model, parts[0] if parts else [], groups, flagged))
        ]
    # Pack small components together up to the budget, in order.
    packed: list[list[Any]] = []
    budget = 0
    for component, size in zip(components, sizes, strict=True):
        if packed and budget + size <= PART_NODES:
            packed[-1] += component
            budget += size
        else:
            packed.append(list(component))
            budget = size
    out = [
        (f"第{i}部分：{_part_title(model, part, groups)}", _dot_part(model, part, groups, []))
        for i, part in enumerate(packed, 1)
    ]
    if flagged:
        out.append(
            (
                f"第{len(out) + 1}部分：由情形触发的规则（问责、移送、措施）",
                _dot_part(model, [], groups, flagged),
            )
        )
    return out


def _timed(model: M.PackModel, rule_id: str) -> list[M.Obligation]:
    rule = next(r for r in model.rules if r.id == rule_id)
    return [ob for ob in rule.obligations if _zh_window(model, ob)]


def _part_title(model: M.PackModel, part: list[Any], groups: dict[Any, list[Any]]) -> str:
    names = {t.id: t.name for t in (*model.vocabulary.kinds, *model.vocabulary.sources)}
    seen: dict[str, None] = {}
    for key in part:
        for kind, source, _ in groups[key]:
            seen[names.get(source or kind, source or kind)] = None
    shown = list(seen)
    head = "、".join(shown[:3])
    head = head if len(head) <= 30 else head[:29] + "…"
    return head + (f"等 {len(shown)} 类" if len(shown) > 3 else "")


def _dot_part(
    model: M.PackModel, part: list[Any], groups: dict[Any, list[Any]], flagged: list[M.Rule]
) -> str:
    rules = {r.id: r for r in model.rules}
    roles = {r.id: r for r in model.roles}
    tracks: dict[str, Any] = {c.id: c for c in model.closure_chains}
    tracks.update({c.id: c for c in model.lifecycles})
    out = [
        f'digraph "{_dot_text(model.id)}" {{',
        "  rankdir=LR; nodesep=0.12; ranksep=0.3; newrank=true;",
        f'  node [fontname="{_FONT}", fontsize=11, margin="0.08,0.04"];',
        f'  edge [fontname="{_FONT}", fontsize=10, color="#555555"];',
    ]
    drawn: set[str] = set()

    def rule_node(rule: M.Rule) -> None:
        if rule.id in drawn:
            return
        drawn.add(rule.id)
        lines = [rule.title, f"[{rule.basis}]"]
        if rule.responsible_role:
            lines.append("责任：" + _role(model, rule.responsible_role))
        elif isinstance(rule.responsible, M.Unassigned) and rule.responsible.needs_attr:
            lines.append("责任：由事实的属性确定")
        out.append(f'  "{rule.id}" [shape=box, style="rounded", label={_lines(*lines)}];')
        for ob in rule.obligations:
            window = _zh_window(model, ob)
            if not window:
                continue
            node = f"{rule.id}.{ob.id}"
            basis = f"[{ob.basis}]" if ob.basis and ob.basis != rule.basis else ""
            who = _role(model, ob.actor)
            colour = _TIER_COLOURS[roles[ob.actor].tier]
            label = _lines(ob.title, who, "时限：" + window, basis)
            out.append(
                f'  "{node}" [shape=box, style=filled, fillcolor="{colour}", label={label}];'
            )
            out.append(f'  "{rule.id}" -> "{node}";')

    for index, key in enumerate(part):
        routes, chain_ids = key
        node = f"facts_{index}"
        out.append(f'  "{node}" [shape=note, label={_fact_label(model, groups[key])}];')
        for route in routes:
            rule_node(rules[route])
            out.append(f'  "{node}" -> "{route}";')
        for chain_id in chain_ids:
            chain = tracks[chain_id]
            if chain_id not in drawn:
                drawn.add(chain_id)
                steps = list(getattr(chain, "steps", None) or chain.stages)
                table = _chain_table(model, chain.title, chain.basis, steps)
                out.append(f'  "{chain_id}" [shape=plain, label={table}];')
            out.append(f'  "{node}" -> "{chain_id}" [style=bold, label="销号链"];')
    for rule in flagged:
        rule_node(rule)
        for field, name, _ in C.references(rule.when) if rule.when is not None else []:
            if field not in ("flag", "event"):
                continue
            terms = model.vocabulary.flags if field == "flag" else model.vocabulary.events
            label = next((t.name for t in terms if t.id == name), name)
            flag = f"{field}_{name}"
            if flag not in drawn:
                drawn.add(flag)
                out.append(f'  "{flag}" [shape=hexagon, label={_lines(label, width=8)}];')
            out.append(f'  "{flag}" -> "{rule.id}" [style=dashed];')
        for ob in rule.obligations:
            if ob.recipient:
                target = f"role_{ob.recipient}"
                if target not in drawn:
                    drawn.add(target)
                    label = _lines(_role(model, ob.recipient), width=10)
                    out.append(f'  "{target}" [shape=ellipse, label={label}];')
                out.append(f'  "{rule.id}" -> "{target}" [label={_lines(ob.title, width=9)}];')
    out.append("}")
    return "\n".join(out) + "\n"


def run_dot(source: str) -> str:
    """SVG from DOT text through the Graphviz ``dot`` program."""
    dot_program = shutil.which("dot")
    if dot_program is None:
        raise GraphvizMissing(
            "drawing a diagram needs Graphviz's `dot`, which is not installed: install the "
            "`graphviz` package (Debian/Ubuntu: apt-get install graphviz; Windows: winget "
            "install graphviz; macOS: brew install graphviz), or use --format mermaid or dot"
        )
    done = subprocess.run(
        [dot_program, "-Tsvg"], input=source, capture_output=True, text=True, encoding="utf-8"
    )
    if done.returncode != 0:
        raise EcorulesError(f"Graphviz could not draw the diagram: {done.stderr.strip()}")
    return done.stdout


_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"\s+viewBox="([^"]+)"')


def svg(model: M.PackModel) -> str:
    """The drawn diagram: every part, stacked under its title, in one SVG document."""
    parts = svg_parts(model)
    drawn = []
    for title, source in parts:
        text = run_dot(source)
        found = _SIZE.search(text)
        if found is None:
            raise EcorulesError("Graphviz wrote an SVG without a size")
        width, height = float(found.group(1)), float(found.group(2))
        body = text[found.start() :]
        body = body.replace(
            found.group(0), f'<svg width="{width}" height="{height}" viewBox="{found.group(3)}"', 1
        )
        body = body.replace(f'font-family="{_FONT}"', f'font-family="{_SVG_FONTS}"')
        drawn.append((title, width, height, body))
    title_h = 24.0 if len(parts) > 1 else 0.0
    total_w = max(w for _, w, _, _ in drawn)
    total_h = sum(h + title_h for _, _, h, _ in drawn)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{total_w:.0f}pt" height="{total_h:.0f}pt" '
        f'viewBox="0 0 {total_w:.1f} {total_h:.1f}">',
        f"<title>{_html(model.metadata.title)}</title>",
    ]
    y = 0.0
    for title, _width, height, body in drawn:
        if title_h:
            out.append(
                f'<text x="4" y="{y + 17:.1f}" font-family="{_SVG_FONTS}" font-size="14" '
                f'font-weight="bold" class="part-title">{_html(title)}</text>'
            )
            y += title_h
        out.append(f'<g class="part" transform="translate(0 {y:.1f})">{body}</g>')
        y += height
    out.append("</svg>")
    return "\n".join(out) + "\n"
