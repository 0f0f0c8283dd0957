"""The review page: the document, sentence by sentence, with the pack laid over it.

Policy staff and lawyers certify a pack, not programmers; they read the law, not YAML. Like
Catala's literate output, the page is the document itself, in its own clause order, each
sentence marked encoded (linked to what quotes it), covered by an assumption, listed as not
encoded (with the pack's reason) or untouched, with the decision-relevant words highlighted,
and a panel per rule with its actor, tier, window, trigger, basis, quote and assumptions.
Data first (``review_data``, which is also the JSON form), rendered to one self-contained
HTML file (no network, no script, printable) or to Markdown for the docs site.
"""

from __future__ import annotations

import argparse
import html
import json
import re
from pathlib import Path
from typing import Any

from . import _model as M
from ._faithfulness import _to_simplified
from ._output import write_text_output
from ._sentences import MARKERS, Link, Sentence, annotate_pack, figures

_NUMBERS = {n: i for i, n in enumerate("一二三四五六七八九", start=1)}
STATUS_TITLES = {
    "encoded": "encoded",
    "assumption": "by assumption",
    "not_encoded": "not encoded",
    "untouched": "untouched",
}


def _numeral(text: str) -> int:
    """一 → 1, 十二 → 12, 二十四 → 24 (the numbering of the bundled documents)."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_NUMBERS.get(tens, 1) if tens else 1) * 10 + _NUMBERS.get(units, 0)
    return _NUMBERS.get(text, 0)


def clause_anchor(clause: str) -> str:
    """A stable ASCII anchor from a clause number: 二(一) → clause-2-1, ¶3 → clause-p3."""
    if not clause:
        return "clause-0"
    if clause.startswith("¶"):
        return "clause-p" + re.sub(r"\W", "", clause[1:])
    match = re.fullmatch(r"([一二三四五六七八九十]+)(?:\(([一二三四五六七八九十]+)\))?", clause)
    if not match:
        # A named part (文头, 序): stable across runs, unlike hash().
        return "clause-x" + clause.encode("utf-8").hex()
    section, item = match.groups()
    return f"clause-{_numeral(section)}" + (f"-{_numeral(item)}" if item else "")


def item_anchor(kind: str, item_id: str) -> str:
    return f"{kind.replace(' ', '-')}-{item_id}"


def _link_anchor(link: Link) -> str:
    # Obligations, steps and stages are shown in their parent's panel.
    if link.parent is not None:
        parent_kind = {"obligation": "rule", "step": "closure chain", "stage": "lifecycle"}
        return item_anchor(parent_kind[link.kind], link.parent)
    return item_anchor(link.kind, link.id)


# -- data ------------------------------------------------------------------------------


def _window(window: M.Window | None) -> str | None:
    if window is None:
        return None
    if window.working_days is not None:
        return f"{window.working_days} working days"
    if window.days is not None:
        return f"{window.days} days"
    return f"{window.months} months"


def _trigger(trigger: M.Trigger | None) -> str | None:
    if trigger is None:
        return None
    return f"event {trigger.event}" if trigger.event else f"{trigger.overdue} overdue"


def _highlights(text: str) -> list[tuple[int, int]]:
    """Character spans of the decision-relevant words in the sentence as written. Searched
    in its simplified form, which has the same length (traditional→simplified is char for
    char); where it does not, nothing is highlighted rather than the wrong words."""
    simplified = _to_simplified().convert(text)
    if len(simplified) != len(text):  # pragma: no cover - no bundled document does this
        return []
    spans = sorted(
        (m.start(), m.end()) for _k, pattern in MARKERS for m in pattern.finditer(simplified)
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def review_data(model: M.PackModel, pack_dir: Path) -> dict[str, Any]:
    """Everything the review page shows, as plain JSON-able data."""
    sentences = annotate_pack(model, pack_dir)
    roles = {r.id: r for r in model.roles}
    assumptions = {a.id: a for a in model.assumptions}

    def role(role_id: str | None) -> dict[str, str] | None:
        if role_id is None:
            return None
        r = roles[role_id]
        return {"id": r.id, "name": r.name, "tier": r.tier, "tier_name": M.TIER_NAMES[r.tier]}

    def responsible(rule: M.Rule) -> str | None:
        spec = rule.responsible
        if spec is None:
            return None
        if isinstance(spec, str):
            r = roles[spec]
            return f"{r.name} ({r.tier})"
        if spec.unspecified is not None:
            return f"not named: {spec.unspecified}"
        return "named by the fact's " + " or ".join(spec.attrs)

    items: list[dict[str, Any]] = []
    for rule in model.rules:
        items.append(
            {
                "anchor": item_anchor("rule", rule.id),
                "kind": "rule",
                "subkind": rule.kind,
                "id": rule.id,
                "title": rule.title,
                "basis": rule.basis,
                "quote": rule.quote,
                "provenance": rule.provenance,
                "responsible": responsible(rule),
                "assumptions": list(rule.assumptions),
                "parts": [
                    {
                        "id": ob.id,
                        "title": ob.title,
                        "actor": role(ob.actor),
                        "recipient": role(ob.recipient),
                        "trigger": _trigger(ob.trigger),
                        "window": _window(ob.window)
                        or (f"due on the fact's {ob.due_attr}" if ob.due_attr else None),
                        "done_when": ob.done_when,
                        "basis": ob.basis,
                        "quote": ob.quote,
                        "assumptions": list(ob.assumptions),
                    }
                    for ob in rule.obligations
                ],
            }
        )
    for chain in model.closure_chains:
        items.append(
            {
                "anchor": item_anchor("closure chain", chain.id),
                "kind": "closure chain",
                "subkind": "closure",
                "id": chain.id,
                "title": chain.title,
                "basis": chain.basis,
                "quote": chain.quote,
                "provenance": chain.provenance,
                "responsible": None,
                "assumptions": list(chain.assumptions),
                "parts": [
                    {
                        "id": step.id,
                        "title": step.title,
                        "actor": role(step.actor),
                        "recipient": role(step.recipient),
                        "trigger": f"after event {chain.starts_when}"
                        if i == 0
                        else "the step before",
                        "window": None,
                        "done_when": step.done_when,
                        "basis": step.basis,
                        "quote": step.quote,
                        "assumptions": list(step.assumptions),
                    }
                    for i, step in enumerate(chain.steps)
                ],
            }
        )
    for cycle in model.lifecycles:
        items.append(
            {
                "anchor": item_anchor("lifecycle", cycle.id),
                "kind": "lifecycle",
                "subkind": "lifecycle",
                "id": cycle.id,
                "title": cycle.title,
                "basis": cycle.basis,
                "quote": cycle.quote,
                "provenance": cycle.provenance,
                "responsible": None,
                "assumptions": list(cycle.assumptions),
                "parts": [
                    {
                        "id": stage.id,
                        "title": stage.title,
                        "actor": role(stage.actor),
                        "recipient": role(stage.recipient),
                        "trigger": f"event {stage.entered_when}",
                        "window": None,
                        "done_when": None,
                        "basis": stage.basis,
                        "quote": stage.quote,
                        "assumptions": list(stage.assumptions),
                    }
                    for stage in cycle.stages
                ],
            }
        )
    for duty in model.recurring:
        items.append(
            {
                "anchor": item_anchor("recurring", duty.id),
                "kind": "recurring",
                "subkind": "recurring",
                "id": duty.id,
                "title": duty.title,
                "basis": duty.basis,
                "quote": duty.quote,
                "provenance": duty.provenance,
                "responsible": None,
                "assumptions": list(duty.assumptions),
                "parts": [
                    {
                        "id": duty.id,
                        "title": duty.title,
                        "actor": role(duty.actor),
                        "recipient": role(duty.recipient),
                        "trigger": f"calendar: {duty.rrule}",
                        "window": None,
                        "done_when": None,
                        "basis": None,
                        "quote": None,
                        "assumptions": [],
                    }
                ],
            }
        )

    def sentence_data(s: Sentence) -> dict[str, Any]:
        linked: list[dict[str, str]] = []
        for link in s.encoded_by:
            entry = {"kind": link.kind, "id": link.id, "anchor": _link_anchor(link)}
            if entry not in linked:
                linked.append(entry)
        return {
            "index": s.index,
            "line": s.line,
            "col": s.col,
            "text": s.text,
            "clause": s.clause,
            "heading": s.heading,
            "status": s.status,
            "relevant": s.relevant,
            "highlights": _highlights(s.text),
            "encoded_by": linked,
            "assumed_by": [{"id": a, "anchor": item_anchor("assumption", a)} for a in s.assumed_by],
            "not_encoded_by": [
                {"index": i, "anchor": f"not-encoded-{i}", "reason": model.not_encoded[i].reason}
                for i in s.not_encoded_by
            ],
        }

    clauses: list[dict[str, Any]] = []
    for s in sentences:
        if not clauses or clauses[-1]["clause"] != s.clause:
            clauses.append({"clause": s.clause, "anchor": "", "sentences": []})
        clauses[-1]["sentences"].append(sentence_data(s))
    # What cites each clause by its basis, whether or not it quotes a sentence of it.
    citing: dict[str, list[dict[str, str]]] = {}
    for item in items:
        bases = [(item["basis"], item["id"])]
        bases += [(part["basis"], part["id"]) for part in item["parts"] if part["basis"]]
        for basis, item_id in bases:
            entry = {"id": item_id, "anchor": item["anchor"]}
            if entry not in citing.setdefault(basis, []):
                citing[basis].append(entry)
    seen: dict[str, int] = {}
    for block in clauses:
        block["cited_by"] = citing.get(block["clause"], []) if block["clause"] else []
        # A clause can recur (¶ numbering inferred line by line); anchors stay unique.
        base = clause_anchor(block["clause"])
        seen[base] = seen.get(base, 0) + 1
        block["anchor"] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return {
        "pack": model.id,
        "title": model.metadata.title,
        "document": model.metadata.document,
        "document_kind": model.metadata.document_kind,
        "figures": figures(sentences),
        "clauses": clauses,
        "items": items,
        "assumptions": [
            {
                "anchor": item_anchor("assumption", a.id),
                "id": a.id,
                "about": a.about,
                "reading": a.reading,
                "alternatives": list(a.alternatives),
                "rows": list(a.rows),
            }
            for a in assumptions.values()
        ],
        "not_encoded": [
            {
                "anchor": f"not-encoded-{i}",
                "index": i,
                "rows": list(n.rows),
                "basis": n.basis,
                "reason": n.reason,
            }
            for i, n in enumerate(model.not_encoded)
        ],
    }


# -- HTML --------------------------------------------------------------------------------

_CSS = """
:root { --enc: #d8f0dc; --asm: #fff1c2; --not: #e4e4ef; --unt: #ffd9d2; --ink: #1d1d1f; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.7 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", sans-serif; color: var(--ink); background: #fafafa; }
header { padding: 1rem 2rem; background: #24364b; color: #fff; }
header h1 { margin: 0 0 .3rem; font-size: 1.4rem; }
header p { margin: .2rem 0; }
.figures { display: flex; flex-wrap: wrap; gap: .6rem; margin: .6rem 0 0; padding: 0;
  list-style: none; }
.figures li { padding: .2rem .7rem; border-radius: 1rem; color: var(--ink); }
.figures .n { font-weight: 700; font-size: 1.15rem; }
.layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(18rem, 2fr); gap: 1.5rem;
  padding: 1rem 2rem; }
main h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; border-bottom: 1px solid #ccc; }
main h2 a { color: inherit; text-decoration: none; }
.s { padding: .05rem .15rem; border-radius: .2rem; }
.encoded { background: var(--enc); }
.assumption { background: var(--asm); }
.not_encoded { background: var(--not); }
.untouched { background: transparent; }
.untouched.relevant { background: var(--unt); }
.heading-s { font-weight: 700; }
mark { background: #ffe066; padding: 0 .1rem; font-weight: 700; }
.refs { font-size: .72rem; vertical-align: super; line-height: 0; }
.cited { font-size: .8rem; color: #555; margin: 0 0 .3rem; }
details { margin: 0; }
details p, details ul { margin: .1rem 0 .2rem; }
.refs a { margin-left: .2rem; color: #0b4f8a; }
aside { font-size: .88rem; }
aside h2 { font-size: 1.05rem; }
.panel { background: #fff; border: 1px solid #ccd; border-radius: .4rem; padding: .5rem .8rem;
  margin: 0 0 .8rem; }
.panel h3 { margin: 0 0 .3rem; font-size: .95rem; }
.panel dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 0 .6rem; }
.panel dt { color: #555; }
.panel dd { margin: 0; }
.panel ol { margin: .3rem 0 0; padding-left: 1.2rem; }
.panel:target, .s:target { outline: 3px solid #f59f00; }
q { quotes: "「" "」"; }
.legend span { display: inline-block; padding: 0 .4rem; margin-right: .4rem;
  border-radius: .2rem; color: var(--ink); }
@media print {
  body { background: #fff; font-size: 11pt; }
  header { background: #fff; color: #000; border-bottom: 2px solid #000; }
  .layout { display: block; padding: 0; }
  .panel { break-inside: avoid; }
  a { color: inherit; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(_e(text[last:start]))
        out.append(f"<mark>{_e(text[start:end])}</mark>")
        last = end
    out.append(_e(text[last:]))
    return "".join(out)


def _sentence_html(s: dict[str, Any]) -> str:
    classes = ["s", s["status"]]
    if s["relevant"]:
        classes.append("relevant")
    if s["heading"]:
        classes.append("heading-s")
    refs = [f'<a href="#{_e(r["anchor"])}">{_e(r["id"])}</a>' for r in s["encoded_by"]]
    refs += [f'<a href="#{_e(r["anchor"])}">{_e(r["id"])}</a>' for r in s["assumed_by"]]
    refs += [
        f'<a href="#{_e(r["anchor"])}" title="{_e(r["reason"])}">not encoded #{r["index"] + 1}</a>'
        for r in s["not_encoded_by"]
    ]
    title = STATUS_TITLES[s["status"]] + (" · decision-relevant" if s["relevant"] else "")
    body = _marked(s["text"], s["highlights"])
    sup = f'<sup class="refs">{"".join(refs)}</sup>' if refs else ""
    return (
        f'<span class="{" ".join(classes)}" id="s-{s["index"]}" '
        f'data-status="{s["status"]}" title="{_e(title)}">{body}</span>{sup}'
    )


def _role_html(role: dict[str, str] | None) -> str:
    if role is None:
        return "—"
    return f"{_e(role['name'])} <small>({_e(role['tier'])} · {_e(role['tier_name'])})</small>"


def _assumption_refs(ids: list[str], assumptions: dict[str, dict[str, Any]]) -> str:
    """Each assumption with its reading and alternatives, folded, and a link to its panel."""
    out = []
    for a in ids:
        found = assumptions[a]
        alternatives = "".join(f"<li>{_e(x)}</li>" for x in found["alternatives"])
        out.append(
            f'<details><summary><a href="#{_e(item_anchor("assumption", a))}">{_e(a)}</a>'
            f"</summary><p>{_e(found['reading'])}</p>"
            + (f"<p>alternatives:</p><ul>{alternatives}</ul>" if alternatives else "")
            + "</details>"
        )
    return "".join(out)


def _basis_html(basis: str, anchors: dict[str, str]) -> str:
    anchor = anchors.get(basis)
    return f'<a href="#{_e(anchor)}">{_e(basis)}</a>' if anchor else _e(basis)


def _item_html(
    item: dict[str, Any], anchors: dict[str, str], assumptions: dict[str, dict[str, Any]]
) -> str:
    rows = [
        ("basis", _basis_html(item["basis"], anchors)),
        ("quote", f"<q>{_e(item['quote'])}</q>"),
    ]
    if item["responsible"]:
        rows.append(("responsible", _e(item["responsible"])))
    if item["provenance"] != "provision":
        rows.append(("provenance", _e(item["provenance"])))
    if item["assumptions"]:
        rows.append(("assumptions", _assumption_refs(item["assumptions"], assumptions)))
    parts = []
    for part in item["parts"]:
        facts = [("actor", _role_html(part["actor"]))]
        if part["recipient"]:
            facts.append(("to", _role_html(part["recipient"])))
        if part["trigger"]:
            facts.append(("trigger", _e(part["trigger"])))
        if part["window"]:
            facts.append(("window", f"<mark>{_e(part['window'])}</mark>"))
        if part["done_when"]:
            facts.append(("done when", _e(part["done_when"])))
        if part["basis"]:
            facts.append(("basis", _basis_html(part["basis"], anchors)))
        if part["quote"]:
            facts.append(("quote", f"<q>{_e(part['quote'])}</q>"))
        if part["assumptions"]:
            facts.append(("assumptions", _assumption_refs(part["assumptions"], assumptions)))
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
        parts.append(
            f"<li><b>{_e(part['title'])}</b> <code>{_e(part['id'])}</code><dl>{dl}</dl></li>"
        )
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    label = item["subkind"] if item["kind"] == "rule" else item["kind"]
    return (
        f'<section class="panel" id="{_e(item["anchor"])}">'
        f"<h3>{_e(item['title'])} <code>{_e(item['id'])}</code> <small>{_e(label)}</small></h3>"
        f"<dl>{dl}</dl><ol>{''.join(parts)}</ol></section>"
    )


def _basis_anchors(data: dict[str, Any]) -> dict[str, str]:
    """Basis → the anchor of the first block it covers (二 links to 二(一) when the
    section's sentences all sit in items)."""
    anchors: dict[str, str] = {}
    for block in data["clauses"]:
        clause = block["clause"]
        if not clause:
            continue
        anchors.setdefault(clause, block["anchor"])
        anchors.setdefault(clause.split("(")[0], block["anchor"])
    return anchors


_LEGEND = (
    '<p class="legend"><span class="encoded">encoded</span>'
    '<span class="assumption">by assumption</span><span class="not_encoded">not encoded</span>'
    '<span class="untouched relevant">untouched, decision-relevant</span>'
    "<mark>decision-relevant words</mark></p>"
)


def render_html(data: dict[str, Any]) -> str:
    """One self-contained page: no script, no external resource."""
    anchors = _basis_anchors(data)
    f = data["figures"]
    encoded = f["encoded"] + f["assumption"]
    figures_html = (
        '<ul class="figures">'
        f'<li class="encoded" id="figure-encoded"><span class="n">{encoded}</span> encoded'
        f" (of which {f['assumption']} by assumption)</li>"
        f'<li class="not_encoded" id="figure-not-encoded"><span class="n">{f["not_encoded"]}</span>'
        " not encoded</li>"
        f'<li class="untouched relevant" id="figure-untouched"><span class="n">{f["untouched"]}'
        f"</span> untouched ({f['untouched_relevant']} decision-relevant)</li>"
        f'<li style="background:#fff"><span class="n">{f["total"]}</span> sentences</li></ul>'
    )
    body = []
    for block in data["clauses"]:
        sentences = block["sentences"]
        heading = _e(block["clause"] or "文头")
        if (
            sentences
            and sentences[0]["heading"]
            and sentences[0]["text"].startswith(block["clause"].split("(")[0] + "、")
        ):
            # A section heading line (一、问题发现机制) is the block's title.
            heading = f'<span id="s-{sentences[0]["index"]}">{_e(sentences[0]["text"])}</span>'
            sentences = sentences[1:]
        text = " ".join(_sentence_html(s) for s in sentences)
        cited = ", ".join(
            f'<a href="#{_e(c["anchor"])}">{_e(c["id"])}</a>' for c in block["cited_by"]
        )
        body.append(
            f'<section id="{_e(block["anchor"])}"><h2><a href="#{_e(block["anchor"])}">'
            f"{heading}</a></h2>"
            + (f'<p class="cited">cited by {cited}</p>' if cited else "")
            + (f"<p>{text}</p>" if text else "")
            + "</section>"
        )
    by_id = {a["id"]: a for a in data["assumptions"]}
    panels = [_item_html(item, anchors, by_id) for item in data["items"]]
    assumption_panels = []
    for a in data["assumptions"]:
        alternatives = (
            "".join(f"<li>{_e(x)}</li>" for x in a["alternatives"]) or "<li>none given</li>"
        )
        assumption_panels.append(
            f'<section class="panel" id="{_e(a["anchor"])}"><h3>assumption <code>{_e(a["id"])}'
            f"</code></h3><dl><dt>question</dt><dd>{_e(a['about'])}</dd><dt>reading</dt>"
            f"<dd>{_e(a['reading'])}</dd><dt>alternatives</dt><dd><ul>{alternatives}</ul></dd>"
            + (f"<dt>rows</dt><dd>{_e(', '.join(a['rows']))}</dd>" if a["rows"] else "")
            + "</dl></section>"
        )
    not_panels = [
        f'<section class="panel" id="{_e(n["anchor"])}"><h3>#{n["index"] + 1} not encoded: '
        f"{_basis_html(n['basis'], anchors)}</h3>"
        f"<dl><dt>why</dt><dd>{_e(n['reason'])}</dd><dt>rows</dt>"
        f"<dd>{_e(', '.join(n['rows']))}</dd></dl></section>"
        for n in data["not_encoded"]
    ]
    report = (
        " (a news report: what it encodes is reported practice)"
        if data["document_kind"] == "report"
        else ""
    )
    html_text = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(data["title"])} — review of pack {_e(data["pack"])}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_e(data["title"])}</h1>
<p>Review of pack <code>{_e(data["pack"])}</code> against <code>{_e(data["document"])}</code>,
sentence by sentence{report}.</p>
{figures_html}
{_LEGEND}
</header>
<div class="layout">
<main id="document">
{"".join(body)}
</main>
<aside>
<h2 id="rules">Rules, chains, lifecycles, duties</h2>
{"".join(panels)}
<h2 id="assumptions">Assumptions</h2>
{"".join(assumption_panels)}
<h2 id="not-encoded">Not encoded</h2>
{"".join(not_panels)}
</aside>
</div>
</body>
</html>
"""
    return html_text


# -- Markdown ----------------------------------------------------------------------------


def _md(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|").replace("*", "\\*")


def _md_marked(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in spans:
        out.append(_md(text[last:start]))
        out.append(f"**{_md(text[start:end])}**")
        last = end
    out.append(_md(text[last:]))
    return "".join(out)


# Words, not emoji: they print, they read aloud, and they need no emoji font.
_BADGES = {
    "encoded": "`encoded`",
    "assumption": "`assumption`",
    "not_encoded": "`not encoded`",
    "untouched": "`untouched`",
}


def render_markdown(data: dict[str, Any]) -> str:
    """The review as a page of the docs site (Markdown, tables and plain links)."""
    f = data["figures"]
    out = [
        f"# Review: {data['title']}",
        "",
        f"The document of pack `{data['pack']}`, sentence by sentence, with what the pack "
        "does with each: `encoded` (the items quoting it are named), `assumption` (read "
        "through an assumption), `not encoded` (with the pack's reason) or `untouched`. "
        "Decision-relevant words are in bold. `ecorules annotate "
        f"{data['pack']} -o review.html` writes the same review as one printable HTML page.",
        "",
        "| encoded | by assumption | not encoded | untouched | decision-relevant untouched "
        "| sentences |",
        "|---|---|---|---|---|---|",
        f"| {f['encoded'] + f['assumption']} | {f['assumption']} | {f['not_encoded']} | "
        f"{f['untouched']} | {f['untouched_relevant']} | {f['total']} |",
        "",
    ]
    for block in data["clauses"]:
        out += [f"## {block['clause'] or '文头'}", ""]
        for s in block["sentences"]:
            text = _md_marked(s["text"], s["highlights"])
            if s["heading"]:
                out.append(f"- **{_md(s['text'])}**")
                continue
            said = []
            if s["encoded_by"]:
                said.append("encoded by " + ", ".join(f"`{r['id']}`" for r in s["encoded_by"]))
            if s["assumed_by"]:
                said.append("assumption " + ", ".join(f"`{r['id']}`" for r in s["assumed_by"]))
            if s["not_encoded_by"]:
                said.append(
                    "not encoded: " + "; ".join(_md(r["reason"]) for r in s["not_encoded_by"])
                )
            note = f" — *{'; '.join(said)}*" if said else ""
            badge = _BADGES[s["status"]]
            if s["status"] == "untouched" and s["relevant"]:
                badge = "`untouched, decision-relevant`"
            out.append(f"- {badge} {text}{note}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# -- command ---------------------------------------------------------------------------


def add_annotate_command(sub: Any) -> None:
    """The ``ecorules annotate`` subcommand."""
    an = sub.add_parser(
        "annotate", help="the document sentence by sentence with the pack laid over it"
    )
    an.add_argument("pack", help="a bundled pack name or a pack directory [@VERSION]")
    an.add_argument("-o", "--output", help="write to this file (default: standard output)")
    an.add_argument("--format", choices=("html", "md", "json"), default="html")
    an.set_defaults(run=_annotate)


def _annotate(args: argparse.Namespace) -> int:
    from ._diff_cli import load_version

    # A pack with versions: its newest version, or the one named as PACK@VERSION.
    pack = load_version(args.pack).versions[-1]
    data = review_data(pack.model, pack.path)
    if args.format == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "md":
        text = render_markdown(data)
    else:
        text = render_html(data)
    write_text_output(text, args.output)
    return 0
