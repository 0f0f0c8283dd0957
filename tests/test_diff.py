"""What a revision changes: `Pack.compare` and `ecorules diff`.

The revision compared is made for the tests (tests/versioning.py): Shidian with route B's
windows shortened from 10 and 15 to 7 and 12 working days. It is not a real document.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecorules
from ecorules import _model as M
from ecorules._diff import PackChange, structural_changes
from tests.strategies import facts_as_of
from tests.versioning import revision_of_shidian, versioned_shidian


@pytest.fixture(scope="module")
def revision(tmp_path_factory: pytest.TempPathFactory) -> ecorules.Pack:
    return ecorules.load_pack(revision_of_shidian(tmp_path_factory.mktemp("rev")))


ROUTE_B = {"source": "national", "category": "general"}
LEDGER = [
    {"id": "B-late", **ROUTE_B, "events": {"transferred": "2025-12-20"}},
    {
        "id": "B-done",
        **ROUTE_B,
        "events": {"transferred": "2025-12-20", "plan_submitted": "2026-01-02"},
    },
    {
        "id": "C-same",
        "source": "municipal",
        "category": "general",
        "events": {"transferred": "2025-12-20"},
    },
    {"id": "bad", "source": "nowhere"},
]


def texts(changes: tuple[PackChange, ...] | list[PackChange]) -> list[str]:
    return [c.text for c in changes]


def test_the_structural_diff_speaks_the_authors_terms(
    shidian: ecorules.Pack, revision: ecorules.Pack
) -> None:
    found = shidian.compare(revision)
    assert found.summary is None and found.facts == ()
    assert texts(found.changes) == [
        'metadata case_starts: none → ["reported", "transferred"]',
        "metadata supersedes: none → 2023",
        "metadata valid_from: 2023-05-17 → 2026-01-01",
        "obligation `b_submit_county_plan` (in route_b_plan): quote "
        "于问题移交后15个工作日内将县级整改方案报市级牵头部门审核 → "
        "于问题移交后12个工作日内将县级整改方案报市级牵头部门审核",
        "obligation `b_submit_county_plan` (in route_b_plan): window 15 → 12 working days",
        "obligation `b_submit_township_plan` (in route_b_plan): window 10 → 7 working days",
        "rule `route_b_plan`: quote "
        "在问题移交后10个工作日内报县级对应的牵头部门审核形成县级整改方案 → "
        "在问题移交后7个工作日内报县级对应的牵头部门审核形成县级整改方案",
    ]


def _edited(model: M.PackModel, **update: Any) -> M.PackModel:
    return model.model_copy(update=update)


def test_rules_roles_tiers_chains_and_assumptions(shidian: ecorules.Pack) -> None:
    model = shidian.model
    roles = [
        r.model_copy(update={"tier": "municipal"}) if r.id == "sd_township_gov" else r
        for r in model.roles
    ]
    chain = model.closure_chains[0]
    steps = list(reversed(chain.steps))
    assumption = model.assumptions[0].model_copy(update={"reading": "another reading"})
    new = _edited(
        model,
        roles=roles,
        rules=model.rules[1:],
        closure_chains=[chain.model_copy(update={"steps": steps}), *model.closure_chains[1:]],
        assumptions=[assumption, *model.assumptions[1:]],
    )
    found = texts(structural_changes(model, new))
    first_rule = model.rules[0]
    assert f"rule `{first_rule.id}` removed" in found
    assert all(
        f"obligation `{ob.id}` (in {first_rule.id}) removed" in found
        for ob in first_rule.obligations
    )
    assert "role `sd_township_gov`: tier township → municipal" in found
    assert (
        f"chain `{chain.id}`: order of steps "
        + " → ".join(s.id for s in chain.steps)
        + " → "
        + " → ".join(s.id for s in steps)
    ) in found
    assert (
        f"assumption `{assumption.id}`: reading {model.assumptions[0].reading} → another reading"
        in found
    )
    # An actor whose role changed tier is shown with its tier on each side.
    actor_changes = [
        t for t in found if "actor sd_township_gov (township) → sd_township_gov (municipal)" in t
    ]
    assert actor_changes


def test_decisions_on_a_ledger(shidian: ecorules.Pack, revision: ecorules.Pack) -> None:
    found = shidian.compare(revision, LEDGER, "2026-01-02")
    assert [(f.position, f.fact_id) for f in found.facts] == [(1, "B-late"), (2, "B-done")]
    late = found.facts[0]
    assert texts_of(late) == [
        "`b_submit_county_plan` due moved: 2026-01-12 → 2026-01-07",
        "`b_submit_township_plan` due moved: 2026-01-05 → 2025-12-30",
        "`b_submit_township_plan` status changed: pending → overdue",
    ]
    assert (late.overdue_before, late.overdue_after) == (False, True)
    done = found.facts[1]
    assert [c.change for c in done.changes] == ["due_moved", "due_moved", "status_changed"]
    assert ("done", "done_late") in [(c.old, c.new) for c in done.changes]
    assert found.summary is not None
    assert found.summary.facts == 4 and found.summary.changed == 2
    assert found.summary.become_overdue == 1 and found.summary.due_earlier == 2
    assert found.summary.text == (
        "2 of 4 problems change, 1 become overdue, 2 have a due date move earlier"
    )


def texts_of(fact: Any) -> list[str]:
    return [c.text for c in fact.changes]


def test_actions_appear_disappear_and_refusals_change(shidian: ecorules.Pack) -> None:
    model = shidian.model
    route_b = next(r for r in model.rules if r.id == "route_b_plan")
    vocabulary = model.vocabulary.model_copy(
        update={"sources": [t for t in model.vocabulary.sources if t.id != "petition"]}
    )
    rules = [r for r in model.rules if r.id != "route_b_plan"]
    # Rules naming `petition` go too, or the edited text would not load.
    rules = [r for r in rules if "petition" not in r.model_dump_json()]
    new = ecorules.Pack(
        _edited(model, rules=rules, vocabulary=vocabulary),
        shidian.path,
        shidian.calendar,
        revision="sha256:test",
    )
    ledger = [
        {"id": "b", **ROUTE_B, "events": {"transferred": "2025-12-20"}},
        {"id": "p", "source": "petition", "category": "general"},
    ]
    found = shidian.compare(new, ledger, "2026-01-02")
    by_id = {f.fact_id: f for f in found.facts}
    gone = [c.action for c in by_id["b"].changes if c.change == "disappears"]
    assert sorted(gone) == sorted(ob.id for ob in route_b.obligations)
    assert [c.text for c in by_id["p"].changes] == ["refused changed: decided → refused"]
    assert found.summary is not None
    assert (found.summary.actions_disappear, found.summary.refused_after_only) == (1, 1)
    back = new.compare(shidian, ledger, "2026-01-02")
    assert back == found.mirrored()
    assert back.summary is not None
    assert (back.summary.actions_appear, back.summary.refused_before_only) == (1, 1)


def test_facts_need_a_date(shidian: ecorules.Pack, revision: ecorules.Pack) -> None:
    with pytest.raises(ValueError, match="as_of"):
        shidian.compare(revision, LEDGER)


def test_versions_of_one_pack_compare_by_as_of_or_by_start(tmp_path: Path) -> None:
    pack = ecorules.load_pack(versioned_shidian(tmp_path))
    old, new = pack.versions
    fact = [{"id": "x", **ROUTE_B, "events": {"transferred": "2025-12-20"}}]
    # By as_of, each side decides with its own text; by start, the versioned pack keeps the
    # case on 2023, so comparing it with its own old version changes nothing.
    assert old.compare(new, fact, "2026-01-02").facts
    assert not old.compare(pack, fact, "2026-01-02", version_on="start").facts
    assert pack.compare(pack, fact, "2026-01-02").empty


def test_json_and_table(shidian: ecorules.Pack, revision: ecorules.Pack) -> None:
    found = shidian.compare(revision, LEDGER, date(2026, 1, 2))
    data = json.loads(json.dumps(found.to_json()))
    assert data["as_of"] == "2026-01-02"
    assert data["summary"]["become_overdue"] == 1
    assert data["summary"]["text"].startswith("2 of 4 problems change")
    assert "window 10 → 7 working days" in [c["text"].split(": ", 1)[1] for c in data["changes"]]
    assert data["facts"][0]["changes"][0] == {
        "change": "due_moved",
        "action": "b_submit_county_plan",
        "old": "2026-01-12",
        "new": "2026-01-07",
    }
    table = found.table()
    assert "  B-late:\n    `b_submit_county_plan` due moved: 2026-01-12 → 2026-01-07" in table
    assert table.endswith(
        "2 of 4 problems change, 1 become overdue, 2 have a due date move earlier"
    )


# -- properties ------------------------------------------------------------------------------


@pytest.mark.slow  # property-based
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_pack_compared_with_itself_is_empty(shidian: ecorules.Pack, data: st.DataObject) -> None:
    ledger = [
        data.draw(st.builds(dict)) if data.draw(st.integers(0, 9)) == 0 else None for _ in range(3)
    ]
    as_of = data.draw(st.dates(date(2023, 1, 1), date(2026, 12, 31)))
    rows = [row if row is not None else data.draw(facts_as_of(shidian))[0] for row in ledger]
    found = shidian.compare(shidian, rows, as_of)
    assert found.empty
    assert found.summary is not None and found.summary.changed == 0 and found.summary.facts == 3


def _mutations(model: M.PackModel) -> st.SearchStrategy[M.PackModel]:
    """Revisions of a pack's text: rules dropped, windows changed, tiers moved."""

    @st.composite
    def build(draw: st.DrawFn) -> M.PackModel:
        rules = []
        for rule in model.rules:
            if draw(st.integers(0, 9)) == 0:
                continue
            obligations = []
            for ob in rule.obligations:
                if ob.window is not None and ob.window.working_days and draw(st.booleans()):
                    days = draw(st.integers(1, 30))
                    ob = ob.model_copy(update={"window": M.Window(working_days=days)})
                obligations.append(ob)
            rules.append(rule.model_copy(update={"obligations": obligations}))
        roles = [
            r.model_copy(update={"tier": draw(st.sampled_from(M.TIERS))})
            if draw(st.integers(0, 9)) == 0
            else r
            for r in model.roles
        ]
        return model.model_copy(update={"rules": rules, "roles": roles})

    return build()


@pytest.mark.slow  # property-based
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_diff_the_other_way_is_its_mirror(shidian: ecorules.Pack, data: st.DataObject) -> None:
    a = _pack(shidian, data.draw(_mutations(shidian.model)), "sha256:a")
    b = _pack(shidian, data.draw(_mutations(shidian.model)), "sha256:b")
    as_of = data.draw(st.dates(date(2023, 6, 1), date(2026, 12, 31)))
    rows = [data.draw(facts_as_of(shidian))[0] for _ in range(4)]
    forth, back = a.compare(b, rows, as_of), b.compare(a, rows, as_of)
    assert back == forth.mirrored()
    assert forth.mirrored().mirrored() == forth
    assert len(forth.changes) == len(back.changes)


def _pack(base: ecorules.Pack, model: M.PackModel, revision: str) -> ecorules.Pack:
    return ecorules.Pack(model, base.path, base.calendar, revision=revision)


# -- the command line ------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecorules", *args], capture_output=True, text=True)


def test_cli_diff(tmp_path: Path) -> None:
    new = revision_of_shidian(tmp_path / "rev")
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("\n".join(json.dumps(f) for f in LEDGER) + "\n", "utf-8")
    plain = cli("diff", "shidian", str(new))
    assert plain.returncode == 0, plain.stderr
    assert "window 10 → 7 working days" in plain.stdout
    table = cli("diff", "shidian", str(new), str(ledger), "--as-of", "2026-01-02")
    assert table.stdout.rstrip().endswith("1 become overdue, 2 have a due date move earlier")
    out = tmp_path / "diff.json"
    written = cli(
        "diff",
        "shidian",
        str(new),
        str(ledger),
        "--as-of",
        "2026-01-02",
        "--format",
        "json",
        "-o",
        str(out),
    )
    assert written.returncode == 0 and written.stdout == ""
    assert json.loads(out.read_text("utf-8"))["summary"]["changed"] == 2
    missing = cli("diff", "shidian", str(new), str(ledger))
    assert missing.returncode == 1 and "--as-of" in missing.stderr
    same = cli("diff", "shidian", "shidian", str(ledger), "--as-of", "2026-01-02")
    assert "no structural change" in same.stdout and "0 of 4 problems change" in same.stdout


def test_cli_diff_versions_of_a_pack(tmp_path: Path) -> None:
    pack = versioned_shidian(tmp_path)
    found = cli("diff", f"{pack}@2023", f"{pack}@2026-test")
    assert "window 15 → 12 working days" in found.stdout
    unknown = cli("diff", f"{pack}@2023", f"{pack}@2027")
    assert unknown.returncode == 1
    assert "unknown_version" in unknown.stderr and "versions: 2023, 2026-test" in unknown.stderr


def test_a_chain_closed_at_another_tier(shidian: ecorules.Pack) -> None:
    model = shidian.model
    chains = []
    for chain in model.closure_chains:
        if chain.id == "c1_national_provincial":
            last = chain.steps[-1].model_copy(update={"actor": "sd_eeb_branch"})
            chain = chain.model_copy(update={"steps": [*chain.steps[:-1], last]})
        chains.append(chain)
    new = _pack(shidian, _edited(model, closure_chains=chains), "sha256:county-closes")
    found = shidian.compare(new, LEDGER[:1], "2026-01-02")
    assert "step `c1_close` (in c1_national_provincial): actor " in found.changes[0].text
    assert found.changes[0].old == "yn_gov_leader_in_charge (provincial)"
    assert found.changes[0].new == "sd_eeb_branch (county)"
    [fact] = found.facts
    assert [c.text for c in fact.changes] == ["closing tier changed: provincial → county"]
    assert found.summary is not None and found.summary.closing_tier_changes == 1
    assert found.summary.text == "1 of 1 problems change, 1 change closing tier"


def test_cli_diff_as_a_workbook(tmp_path: Path) -> None:
    """`ecorules diff … -o diff.xlsx`: the summary, the structural changes and each
    problem's changes, one row per change, as the JSON has them."""
    openpyxl = pytest.importorskip("openpyxl")
    new = revision_of_shidian(tmp_path / "rev")
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("\n".join(json.dumps(f) for f in LEDGER) + "\n", "utf-8")
    book_path = tmp_path / "diff.xlsx"
    args = ("diff", "shidian", str(new), str(ledger), "--as-of", "2026-01-02")
    written = cli(*args, "-o", str(book_path))
    assert written.returncode == 0, written.stderr
    as_json = json.loads(cli(*args, "--format", "json").stdout)
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["摘要", "结构变化", "逐件变化"]
    summary = {row[0]: row[1] for row in book["摘要"].iter_rows(values_only=True) if row[0]}
    assert summary["有变化的问题"] == as_json["summary"]["changed"] == 2
    assert summary["变为逾期"] == 1
    structure = list(book["结构变化"].iter_rows(values_only=True))[1:]
    assert [row[7] for row in structure] == [c["text"] for c in as_json["changes"]]
    rows = list(book["逐件变化"].iter_rows(values_only=True))[1:]
    expected = [
        (f["fact_id"], c["change"], c.get("action")) for f in as_json["facts"] for c in f["changes"]
    ]
    assert [(r[0], r[2], r[3]) for r in rows] == expected
    moved = next(r for r in rows if r[2] == "due_moved")
    assert moved[4].year == 2026 and moved[5] < moved[4]  # real dates, earlier after
    refused = cli("diff", "shidian", str(new), "--format", "xlsx")
    assert refused.returncode == 1 and "-o" in refused.stderr
