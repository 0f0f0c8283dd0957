"""Write docs/packs/<name>.md (and <name>-review.md) for every bundled pack, from the pack.

    .venv/bin/python scripts/gen_pack_pages.py          # rewrite the pages
    .venv/bin/python scripts/gen_pack_pages.py --check  # exit 1 if a page is stale

Each page says what the pack encodes (rules, chains, lifecycles, duties, each with its
clause) and who each rule makes responsible (or why no one), shows its diagram, lists its
assumptions and what it does not encode. The review page is the document sentence by
sentence with what the pack does with each (`ecorules annotate --format md`). The pages are
committed so the docs build needs no Python hooks; a test fails when one is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import ecorules
from ecorules._annotate import render_markdown, review_data
from ecorules._diagram import mermaid
from ecorules._pack import bundled_names

DOCS = Path(__file__).resolve().parents[1] / "docs" / "packs"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _responsibility(model: Any) -> list[str]:
    """Who each rule makes responsible, or why it names no one (issue 17)."""
    roles = {r.id: r for r in model.roles}
    attrs = {a.id: a for a in model.vocabulary.attrs}
    rows = []
    for rule in model.rules:
        spec = rule.responsible
        if spec is None:
            continue
        if isinstance(spec, str):
            said = f"{roles[spec].name} (`{spec}`, {roles[spec].tier})"
        elif spec.unspecified is not None:
            said = f"not named: {spec.unspecified}"
        else:
            named = [f"`{a}` ({', '.join(attrs[a].values or ['free text'])})" for a in spec.attrs]
            said = "named by attr " + " or ".join(named)
        rows.append(f"| `{rule.id}` | {rule.basis} | {_cell(said)} |")
    return [
        "## Who is responsible",
        "",
        "Each rule that decides responsibility, with the body it names or why it names none.",
        "",
        "| rule | clause | responsible |",
        "|---|---|---|",
        *rows,
        "",
    ]


def page(name: str) -> str:
    pack = ecorules.load_pack(name)
    model = pack.model
    meta = model.metadata
    out = [f"# {meta.title}", ""]
    facts = [
        ("pack", f"`{model.id}`"),
        ("issuer", meta.issuer),
        ("jurisdiction", f"{meta.jurisdiction} ({meta.tier})"),
        ("published", meta.published.isoformat() if meta.published else "not stated"),
        ("in force", f"{meta.valid_from or '—'} to {meta.valid_until or 'no end date'}"),
        (
            "document",
            "a news report of practice (provenance: reported)"
            if meta.document_kind == "report"
            else "a policy document",
        ),
    ]
    if meta.title_inferred:
        facts.append(("title", "inferred: the document states none"))
    out += ["| | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in facts), ""]
    counts = (
        f"{len(model.rules)} rules, {len(model.closure_chains)} closure chains, "
        f"{len(model.lifecycles)} lifecycles, {len(model.recurring)} recurring duties, "
        f"{len(model.assumptions)} assumptions, {len(model.not_encoded)} provisions not "
        "encoded"
    )
    out += [f"It encodes {counts}.", ""]
    out += ["## Flow", "", "```mermaid", mermaid(model).rstrip(), "```", ""]
    out += _responsibility(model)
    out += [
        "## What it encodes",
        "",
        "| id | kind | clause | quote | inventory rows |",
        "|---|---|---|---|---|",
    ]
    items: list[tuple[str, str, str, str, list[str]]] = [
        (r.id, r.kind, r.basis, r.quote, r.rows) for r in model.rules
    ]
    items += [(c.id, "closure chain", c.basis, c.quote, c.rows) for c in model.closure_chains]
    items += [(c.id, "lifecycle", c.basis, c.quote, c.rows) for c in model.lifecycles]
    items += [(d.id, f"recurring `{d.rrule}`", d.basis, d.quote, d.rows) for d in model.recurring]
    out += [
        f"| `{i}` | {_cell(k)} | {b} | 「{_cell(q)}」 | {', '.join(rows)} |"
        for i, k, b, q, rows in items
    ]
    out += [
        "",
        "## Assumptions",
        "",
        "Readings the text does not give, chosen and stated.",
        "",
        "| id | the question | the reading | rows |",
        "|---|---|---|---|",
    ]
    out += [
        f"| `{a.id}` | {_cell(a.about)} | {_cell(a.reading)} | {', '.join(a.rows)} |"
        for a in model.assumptions
    ]
    out += ["", "## Not encoded", "", "| rows | clause | why |", "|---|---|---|"]
    out += [f"| {', '.join(n.rows)} | {n.basis} | {_cell(n.reason)} |" for n in model.not_encoded]
    return "\n".join(out) + "\n"


def review_page(name: str) -> str:
    """The document sentence by sentence, with what the pack does with each (issue 14)."""
    pack = ecorules.load_pack(name)
    return render_markdown(review_data(pack.model, pack.path))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in bundled_names():
        for target, text in (
            (DOCS / f"{name}.md", page(name)),
            (DOCS / f"{name}-review.md", review_page(name)),
        ):
            if args.check:
                if not target.is_file() or target.read_text(encoding="utf-8") != text:
                    stale.append(str(target))
            else:
                target.write_text(text, encoding="utf-8")
    if stale:
        print("stale (run scripts/gen_pack_pages.py):", *stale, sep="\n  ", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
