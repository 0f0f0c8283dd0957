"""Every decision names who is responsible, or says why it cannot (issue 17).

The guarantee, for every bundled pack and every fact it accepts: either a responsible role
and its tier, or no role together with exactly one warning that says why - the pack's stated
reason (`responsible_unspecified`) or the attr that would name the body
(`responsible_needs_attr`). `responsible_undeclared`, the engine's last resort for a pack
with a responsibility gap, never appears for a bundled pack.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import ecorules
from ecorules import PackError
from ecorules._cases import load_cases

from .conftest import PACK_NAMES, load, pack_dir
from .strategies import facts_as_of

REASONS = {"responsible_unspecified", "responsible_needs_attr"}
CORPUS = Path(__file__).parent / "checker_corpus"


def assert_guarantee(pack: ecorules.Pack, fact: dict[str, Any], as_of: date) -> None:
    decision = pack.evaluate(fact, as_of)
    codes = [c for c in decision.warning_codes if c.startswith("responsible_")]
    assert "responsible_undeclared" not in codes, fact
    if decision.responsible is not None:
        roles = {r.id: r.tier for r in pack.model.roles}
        assert decision.responsible_tier == roles[decision.responsible]
        assert codes == [], fact
        return
    assert decision.responsible_tier is None
    assert len(codes) == 1 and codes[0] in REASONS, (fact, decision.warning_codes)
    notice = next(n for n in decision.warnings if n.code == codes[0])
    if notice.code == "responsible_needs_attr":
        # It names attrs the fact does not carry, each with what a host may give.
        named = [a for a in pack.model.vocabulary.attrs if f"`{a.id}`" in notice.message]
        assert named, notice.message
        assert all(a.id not in fact.get("attrs", {}) for a in named), (fact, notice.message)
        for attr in named:
            assert all(v in notice.message for v in attr.values or ()), notice.message


def sweep(pack: ecorules.Pack) -> list[dict[str, Any]]:
    """Every kind × source × category a fact may state (absent where the kind allows it),
    bare and with each flag, each event and each declared attr value in turn."""
    vocab = pack.model.vocabulary
    extras: list[dict[str, Any]] = [{}]
    extras += [{"flags": [f.id]} for f in vocab.flags]
    extras += [{"events": {e.id: "2024-05-20"}} for e in vocab.events]
    extras += [{"events": {e.id: "2024-05-20" for e in vocab.events}}]
    for attr in vocab.attrs:
        if attr.values:
            extras += [{"attrs": {attr.id: v}} for v in attr.values]
        elif attr.type == "string":
            extras.append({"attrs": {attr.id: "x"}})
    facts = []
    for kind in vocab.kinds:
        sources: list[str | None] = [t.id for t in vocab.sources]
        categories: list[str | None] = [t.id for t in vocab.categories]
        if "source" not in kind.requires:
            sources.append(None)
        if "category" not in kind.requires:
            categories.append(None)
        for source, category, extra in itertools.product(sources, categories, extras):
            fact: dict[str, Any] = {"kind": kind.id, **extra}
            if source is not None:
                fact["source"] = source
            if category is not None:
                fact["category"] = category
            facts.append(fact)
    return facts


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_combination_names_a_body_or_says_why(name: str) -> None:
    pack = load(name)
    as_of = date(2024, 6, 3)
    for fact in sweep(pack):
        assert_guarantee(pack, fact, as_of)


@pytest.mark.parametrize("name", PACK_NAMES)
def test_generated_facts_name_a_body_or_say_why(name: str) -> None:
    pack = load(name)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=facts_as_of(pack))
    def check(case: tuple[dict[str, Any], date]) -> None:
        assert_guarantee(pack, *case)

    check()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_cases_assert_who_is_responsible_for_every_source_and_kind(name: str) -> None:
    """Each declared source and kind has a case that asserts the responsible body (or its
    absence) - and, through the exact `warnings`, why."""
    vocab = load(name).model.vocabulary
    asserted = [
        loaded.case.fact
        for loaded in load_cases(pack_dir(name))
        if loaded.case.want is not None
        and loaded.case.want.responsible_tier is not None
        and loaded.case.want.warnings is not None
    ]
    sources = {f.get("source") for f in asserted}
    kinds = {f.get("kind", "problem") for f in asserted}
    assert {t.id for t in vocab.sources} - sources == set()
    assert {k.id for k in vocab.kinds} - kinds == set()


def test_unspecified_carries_the_packs_reason_and_clause() -> None:
    decision = load("xiamen").evaluate(
        {"kind": "matter", "category": "municipal_matter", "flags": ["no_lead_department"]},
        date(2024, 6, 3),
    )
    (notice,) = [n for n in decision.warnings if n.code == "responsible_unspecified"]
    assert "对生态环境保护影响明显" in notice.message
    assert notice.message.endswith("(二(五), rule `matter_owner_unsettled_minor`)")


def test_needs_attr_names_the_attr_and_its_values_and_the_attr_decides() -> None:
    pack = load("chongqing")
    fact: dict[str, Any] = {"source": "petition", "category": "municipal_level"}
    decision = pack.evaluate(fact, date(2024, 6, 3))
    (notice,) = [n for n in decision.warnings if n.code == "responsible_needs_attr"]
    assert "`owner_unit`" in notice.message
    for value in ("district_county", "functional_zone", "municipal_dept", "soe"):
        assert value in notice.message
    given_owner = pack.evaluate({**fact, "attrs": {"owner_unit": "soe"}}, date(2024, 6, 3))
    assert (given_owner.responsible, given_owner.responsible_tier) == ("cq_soe", "provincial")
    assert "responsible_needs_attr" not in given_owner.warning_codes


def test_needs_attr_may_name_several_attrs() -> None:
    decision = load("yantai").evaluate(
        {"kind": "petition_case", "source": "central_inspection"}, date(2018, 10, 30)
    )
    (notice,) = [n for n in decision.warnings if n.code == "responsible_needs_attr"]
    assert "`county`" in notice.message and "`department`" in notice.message


def test_ownership_moves_with_the_lifecycle() -> None:
    """Xiamen 二(五): 市生态环境局 while consulting, 市委编办 after it fails, then the lead
    department once the result is approved."""
    pack = load("xiamen")
    base = {
        "kind": "matter",
        "category": "municipal_matter",
        "flags": ["no_lead_department", "significant_impact"],
    }
    steps = [
        ({}, "xm_eeb"),
        ({"consultation_failed": "2024-05-20"}, "xm_staffing_office"),
        ({"consultation_failed": "2024-05-20", "result_approved": "2024-06-01"}, "lead_dept"),
    ]
    for events, owner in steps:
        assert pack.evaluate({**base, "events": events}, date(2024, 6, 3)).responsible == owner


def test_a_pack_with_a_gap_warns_rather_than_staying_silent() -> None:
    pack = ecorules.load_pack(CORPUS / "responsibility_gap")
    decision = pack.evaluate({"source": "petition", "category": "general"}, date(2024, 6, 3))
    assert decision.responsible_tier is None
    assert decision.warning_codes == ("responsible_undeclared",)
    named = pack.evaluate({"source": "provincial", "category": "general"}, date(2024, 6, 3))
    assert (named.responsible, named.warning_codes) == ("county_gov", ())


@pytest.mark.parametrize(
    ("responsible", "code"),
    [
        ("{needs_attr: ownr}", "undeclared_attr"),
        ("{needs_attr: owner, unspecified: why not}", "invalid_value"),
        ("{}", "invalid_value"),
        ("{unspecified: x}", "invalid_value"),
        ("{unspecifed: why not}", "unknown_key"),
        ("[owner]", "wrong_type"),
    ],
)
def test_a_bad_responsible_declaration_is_a_positioned_diagnostic(
    tmp_path: Path, responsible: str, code: str
) -> None:
    source = CORPUS / "responsibility_gap"
    text = (source / "pack.yaml").read_text("utf-8")
    text = text.replace("responsible: {needs_attr: owner}", f"responsible: {responsible}")
    pack_dir = tmp_path / "responsibility_gap"
    pack_dir.mkdir()
    (pack_dir / "pack.yaml").write_text(text, "utf-8")
    (pack_dir / "source.txt").write_text((source / "source.txt").read_text("utf-8"), "utf-8")
    with pytest.raises(PackError) as info:
        ecorules.load_pack(pack_dir)
    # One message for one mistake, not one per form `responsible` can take.
    assert [d.code for d in info.value.diagnostics] == [code]
