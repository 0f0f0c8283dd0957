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
from collections import defaultdict
from typing import Any

from . import _conditions as C
from . import _model as M

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
    vocab = model.vocabulary
    for kind in vocab.kinds:
        sources = [t.id for t in vocab.sources] if "source" in kind.requires else [None]
        categories = [t.id for t in vocab.categories] if "category" in kind.requires else [None]
        for source in sources:
            for category in categories:
                key: C.StaticKey = (kind.id, source, category, False)
                routes = tuple(
                    r.id
                    for r in model.rules
                    if C.specialise(r.when, key) is True
                    and (r.responsible_role or any(o.window or o.due_attr for o in r.obligations))
                )
                tracks = tuple(t.id for t in _tracks(model, key))
                label = " · ".join(x for x in (kind.id, source, category) if x)
                groups[(routes, tracks)].append(label)
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
