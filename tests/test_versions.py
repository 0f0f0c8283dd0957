"""Packs with versions: layout, which version decides, what `ecorules check` reports.

The packs here are made by tests/versioning.py from bundled Shidian; the ``2026-test``
version is an invented revision marked as a test fixture, never a real document.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecorules
from ecorules._versions import version_diagnostics
from tests.strategies import facts
from tests.versioning import FIXTURE_NOTE, versioned_shidian, write_version

ROUTE_B = {"id": "B-1", "source": "national", "category": "general"}


def started(day: str, **extra: object) -> dict[str, object]:
    return {**ROUTE_B, "events": {"transferred": day}, **extra}


@pytest.fixture(scope="module")
def versioned(tmp_path_factory: pytest.TempPathFactory) -> ecorules.Pack:
    return ecorules.load_pack(versioned_shidian(tmp_path_factory.mktemp("v")))


def rename_media(pack_dir: Path) -> None:
    """The revision calls source `media` `press`: `media` is removed from its vocabulary."""
    path = pack_dir / "versions" / "2026-test" / "pack.yaml"
    path.write_text(re.sub(r"\bmedia\b", "press", path.read_text("utf-8")), "utf-8")


def codes(pack: ecorules.Pack) -> list[str]:
    return sorted(d.code for d in version_diagnostics(pack))


def test_a_pack_without_versions_is_its_only_version(shidian: ecorules.Pack) -> None:
    assert shidian.versions == (shidian,)
    assert shidian.version is None
    decision = shidian.evaluate(started("2024-03-01"), "2024-03-05")
    assert decision.version is None
    assert decision.revision == shidian.revision


def test_versions_load_oldest_first_and_say_what_they_are(versioned: ecorules.Pack) -> None:
    assert [v.version for v in versioned.versions] == ["2023", "2026-test"]
    assert versioned.case_starts == ("reported", "transferred")
    newest = versioned.versions[-1]
    assert newest.model.metadata.test_fixture == FIXTURE_NOTE
    assert versioned.model is newest.model
    # Each version has the revision of its own directory; the pack, of the whole.
    revisions = {versioned.revision, *(v.revision for v in versioned.versions)}
    assert len(revisions) == 3


def test_a_case_keeps_the_version_it_started_under(versioned: ecorules.Pack) -> None:
    old, new = versioned.versions
    decision = versioned.evaluate(started("2025-12-20"), "2026-02-01")
    assert (decision.version, decision.revision) == ("2023", old.revision)
    # 10 working days after 2025-12-20 under the old text (New Year's Day is off).
    assert decision.action("b_submit_township_plan").due == date(2026, 1, 5)
    assert decision.warnings == ()
    later = versioned.evaluate(started("2026-01-10"), "2026-02-01")
    assert (later.version, later.revision) == ("2026-test", new.revision)
    assert later.action("b_submit_township_plan").due == date(2026, 1, 20)  # 7 working days


def test_the_earliest_start_event_decides(versioned: ecorules.Pack) -> None:
    fact = {**ROUTE_B, "events": {"transferred": "2026-01-10", "reported": "2025-11-03"}}
    assert versioned.evaluate(fact, "2026-02-01").version == "2023"


def test_a_host_can_ask_for_as_of_or_name_a_version(versioned: ecorules.Pack) -> None:
    fact = started("2025-12-20")
    by_as_of = versioned.evaluate(fact, "2026-02-01", version_on="as_of")
    assert by_as_of.version == "2026-test"
    assert by_as_of.action("b_submit_township_plan").due == date(2025, 12, 30)
    named = versioned.evaluate(started("2026-01-10"), "2026-02-01", version="2023")
    assert named.version == "2023"
    assert named.action("b_submit_township_plan").due == date(2026, 1, 23)


def test_without_a_start_event_as_of_decides(versioned: ecorules.Pack) -> None:
    assert versioned.evaluate(ROUTE_B, "2025-06-01").version == "2023"
    assert versioned.evaluate(ROUTE_B, "2026-06-01").version == "2026-test"
    # An event after as_of has not happened yet: it does not start the case.
    assert versioned.evaluate(started("2026-03-01"), "2025-06-01").version == "2023"


def test_a_start_before_every_version_is_warned(versioned: ecorules.Pack) -> None:
    decision = versioned.evaluate(started("2022-03-01"), "2023-06-01")
    assert decision.version == "2023"
    assert decision.warning_codes == ("pack_not_in_force",)
    assert "the case's start (transferred) 2022-03-01" in decision.warnings[0].message


def test_unknown_version_and_choice_are_fact_errors(
    versioned: ecorules.Pack, shidian: ecorules.Pack
) -> None:
    with pytest.raises(ecorules.FactError) as caught:
        versioned.evaluate(ROUTE_B, "2026-01-05", version="2030")
    assert caught.value.problems[0].field == "version"
    assert "2023, 2026-test" in str(caught.value)
    with pytest.raises(ecorules.FactError) as caught:
        versioned.evaluate(ROUTE_B, "2026-01-05", version_on="yesterday")  # type: ignore[arg-type]
    assert caught.value.problems[0].field == "version_on"
    with pytest.raises(ecorules.FactError) as caught:
        shidian.evaluate(ROUTE_B, "2026-01-05", version="2023")
    assert caught.value.problems[0].field == "version"


def test_batches_and_explanations_decide_by_version(versioned: ecorules.Pack) -> None:
    rows = [started("2025-12-20"), started("2026-01-10"), {"source": "nowhere"}]
    results = list(versioned.evaluate_many(rows, "2026-02-01"))
    assert [getattr(r, "version", None) for r in results] == ["2023", "2026-test", None]
    assert isinstance(results[2], ecorules.RefusedFact)
    as_of = list(versioned.evaluate_many(rows[:2], "2026-02-01", version_on="as_of"))
    assert [d.version for d in as_of] == ["2026-test", "2026-test"]  # type: ignore[union-attr]
    explained = versioned.evaluate(started("2025-12-20"), "2026-02-01", explain=True)
    assert explained.version == "2023"
    assert explained.explanation is not None


def test_a_fact_is_checked_against_the_deciding_versions_vocabulary(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    rename_media(pack_dir)
    pack = ecorules.load_pack(pack_dir)
    fact = {"source": "media", "category": "general", "events": {"reported": "2025-10-01"}}
    assert pack.evaluate(fact, "2026-03-01").version == "2023"
    with pytest.raises(ecorules.FactError) as caught:
        pack.evaluate({**fact, "events": {"reported": "2026-02-01"}}, "2026-03-01")
    assert caught.value.problems[0].field == "source"


# -- loading ---------------------------------------------------------------------------------


def test_every_broken_version_is_reported_with_its_file(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    for version in ("2023", "2026-test"):
        path = pack_dir / "versions" / version / "pack.yaml"
        path.write_text(path.read_text("utf-8").replace("id: shidian", "id: shidan", 1), "utf-8")
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(pack_dir)
    found = [(d.code, Path(d.file).parent.name) for d in caught.value.diagnostics]
    assert found == [("pack_id_mismatch", "2023"), ("pack_id_mismatch", "2026-test")]


def test_a_version_directory_needs_a_version_name(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path, later=False)
    shutil.copytree(pack_dir / "versions" / "2023", pack_dir / "versions" / "@bad")
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(pack_dir)
    assert [d.code for d in caught.value.diagnostics] == ["invalid_version_id"]


def test_an_empty_versions_directory_is_no_pack(tmp_path: Path) -> None:
    (tmp_path / "shidian" / "versions").mkdir(parents=True)
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(tmp_path / "shidian")
    assert [d.code for d in caught.value.diagnostics] == ["no_pack_file"]


# -- what `ecorules check` reports -----------------------------------------------------------


def _meta(pack_dir: Path, version: str, old: str, new: str) -> None:
    path = pack_dir / "versions" / version / "pack.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_versions_that_line_up_are_clean(versioned: ecorules.Pack) -> None:
    assert codes(versioned) == []


def test_overlapping_validity_is_an_error(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    _meta(
        pack_dir,
        "2023",
        "  valid_from: 2023-05-17\n",
        "  valid_from: 2023-05-17\n  valid_until: 2026-03-31\n",
    )
    found = list(version_diagnostics(ecorules.load_pack(pack_dir)))
    assert [(d.code, d.severity) for d in found] == [("versions_overlap", "error")]
    assert found[0].help == "end `2023` the day before: valid_until: 2025-12-31"
    assert found[0].file.endswith("2026-test/pack.yaml")


def test_a_gap_between_versions_is_a_warning(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    _meta(
        pack_dir,
        "2023",
        "  valid_from: 2023-05-17\n",
        "  valid_from: 2023-05-17\n  valid_until: 2025-11-30\n",
    )
    found = list(version_diagnostics(ecorules.load_pack(pack_dir)))
    assert [(d.code, d.severity) for d in found] == [("versions_gap", "warning")]
    assert "from 2025-12-01 to 2025-12-31" in found[0].message
    # A start in the gap is decided by the version before it, and warned.
    decision = ecorules.load_pack(pack_dir).evaluate(started("2025-12-10"), "2026-01-10")
    assert (decision.version, decision.warning_codes) == ("2023", ("pack_not_in_force",))


def test_a_supersedes_chain_must_follow_the_dates(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    _meta(pack_dir, "2026-test", "  supersedes: '2023'\n", "  supersedes: '2019'\n")
    _meta(
        pack_dir,
        "2023",
        "  valid_from: 2023-05-17\n",
        "  valid_from: 2023-05-17\n  supersedes: '2019'\n",
    )
    assert codes(ecorules.load_pack(pack_dir)) == ["supersedes_mismatch", "supersedes_mismatch"]


def test_versions_should_agree_on_what_starts_a_case(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    _meta(
        pack_dir,
        "2026-test",
        "  case_starts: [reported, transferred]\n",
        "  case_starts: [transferred]\n",
    )
    assert codes(ecorules.load_pack(pack_dir)) == ["case_starts_differ"]
    _meta(pack_dir, "2026-test", "  case_starts: [transferred]\n", "")
    _meta(pack_dir, "2023", "  case_starts: [reported, transferred]\n", "")
    assert codes(ecorules.load_pack(pack_dir)) == ["no_case_start"]


def test_a_later_version_without_a_start_date(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    _meta(pack_dir, "2026-test", "  valid_from: 2026-01-01\n", "")
    assert "version_without_start" in codes(ecorules.load_pack(pack_dir))


def test_vocabulary_removed_while_the_new_versions_cases_use_it(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    rename_media(pack_dir)
    cases = pack_dir / "versions" / "2026-test" / "cases"
    cases.mkdir()
    (cases / "old.yaml").write_text(
        "cases:\n"
        "  - note: a problem disclosed in the media before the revision keeps its old rules\n"
        "    as_of: 2026-02-01\n"
        "    fact: {source: media, category: general, events: {reported: 2025-10-01}}\n"
        "    want: {version: '2023'}\n",
        "utf-8",
    )
    found = list(version_diagnostics(ecorules.load_pack(pack_dir)))
    assert [(d.code, d.severity, d.line) for d in found] == [
        ("removed_vocabulary_in_use", "warning", 4)
    ]
    assert "source `media` was removed in version `2026-test`" in found[0].message


# -- the command line ------------------------------------------------------------------------


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecorules", *args], capture_output=True, text=True, input=stdin
    )


def test_cli_check_and_test_go_through_every_version(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    cases = pack_dir / "versions" / "2026-test" / "cases"
    cases.mkdir()
    (cases / "pinned.yaml").write_text(
        "cases:\n"
        "  - note: a case transferred before the revision keeps the 10 working days\n"
        "    as_of: 2026-02-01\n"
        "    fact: {source: national, category: general, events: {transferred: 2025-12-20}}\n"
        "    want:\n"
        "      version: '2023'\n"
        "      actions: {b_submit_township_plan: {due: 2026-01-05}}\n"
        "  - note: a case transferred after it has 7\n"
        "    as_of: 2026-02-01\n"
        "    fact: {source: national, category: general, events: {transferred: 2026-01-10}}\n"
        "    want:\n"
        "      version: '2023'\n"
        "      actions: {b_submit_township_plan: {due: 2026-01-20}}\n",
        "utf-8",
    )
    checked = cli("check", str(pack_dir))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = cli("test", str(pack_dir))
    assert tested.returncode == 1
    assert "shidian: 1 passed, 1 failed" in tested.stdout
    assert "version: want '2023', got '2026-test'" in tested.stdout
    _meta(pack_dir, "2026-test", "  supersedes: '2023'\n", "")
    assert cli("check", str(pack_dir)).returncode == 1


def test_cli_evaluate_names_the_version(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    fact = json.dumps(started("2025-12-20"))
    table = cli("evaluate", str(pack_dir), "-", "--as-of", "2026-02-01", stdin=fact)
    assert "版本 (version): 2023" in table.stdout
    for options, version in (
        ((), "2023"),
        (("--version-on", "as_of"), "2026-test"),
        (("--pack-version", "2026-test"), "2026-test"),
    ):
        out = cli(
            "evaluate", str(pack_dir), "-", "--as-of", "2026-02-01", "--format", "json",
            *options, stdin=fact,
        )  # fmt: skip
        assert json.loads(out.stdout)["version"] == version, options
    bad = cli(
        "evaluate", str(pack_dir), "-", "--as-of", "2026-02-01", "--pack-version", "x", stdin=fact
    )
    assert bad.returncode == 1 and "version" in bad.stderr


# -- the property: a later version never changes a case that started before it -------------

LATER_STARTS = ("2024-01-01", "2025-01-01", "2026-01-01")


@pytest.fixture(scope="module")
def with_and_without_later(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ecorules.Pack, dict[str, ecorules.Pack]]:
    alone = ecorules.load_pack(versioned_shidian(tmp_path_factory.mktemp("alone"), later=False))
    later = {
        starts: ecorules.load_pack(versioned_shidian(tmp_path_factory.mktemp("later"), starts))
        for starts in LATER_STARTS
    }
    return alone, later


@pytest.mark.slow  # property-based
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pinning_by_start_survives_a_later_version(
    with_and_without_later: tuple[ecorules.Pack, dict[str, ecorules.Pack]], data: st.DataObject
) -> None:
    alone, later = with_and_without_later
    starts = data.draw(st.sampled_from(LATER_STARTS))
    fact = data.draw(facts(alone))
    begin = data.draw(st.dates(date(2023, 5, 17), date.fromisoformat(starts) - timedelta(days=1)))
    fact.setdefault("events", {})["transferred"] = begin.isoformat()
    fact["events"].pop("reported", None)
    as_of = begin + timedelta(days=data.draw(st.integers(0, 900)))
    try:
        before = alone.evaluate(fact, as_of)
    except ecorules.FactError as exc:
        with pytest.raises(ecorules.FactError) as again:
            later[starts].evaluate(fact, as_of)
        assert str(again.value) == str(exc)
        return
    after = later[starts].evaluate(fact, as_of)
    # Everything, down to the revision and the decision id, is what it was.
    assert after == before
    assert after.version == "2023"


def test_the_fixture_revision_is_not_bundled() -> None:
    for info in ecorules.packs():
        pack = ecorules.load_pack(info.name)
        assert all(v.model.metadata.test_fixture is None for v in pack.versions)


def test_write_version_copies_without_cases(tmp_path: Path) -> None:
    target = write_version(tmp_path, "x")
    assert sorted(p.name for p in target.iterdir()) == ["pack.yaml", "source.txt"]


# -- the HTTP service ------------------------------------------------------------------------


def test_the_service_decides_by_version_and_says_which(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from openapi_spec_validator import validate

    from tests.live_server import start_server

    pack_dir = versioned_shidian(tmp_path)
    live = start_server(tmp_path, str(pack_dir))
    try:
        with live.client() as http:
            body = {"fact": started("2025-12-20"), "as_of": "2026-02-01"}
            url = "/packs/shidian/evaluate"
            default = http.post(url, json=body)
            assert default.status_code == 200, default.text
            assert default.json()["version"] == "2023"
            old_revision = default.json()["revision"]
            assert default.headers["ecorules-revision"] == old_revision
            as_of = http.post(url, params={"version_on": "as_of"}, json=body)
            assert as_of.json()["version"] == "2026-test"
            assert as_of.headers["ecorules-revision"] != old_revision
            named = http.post(url, params={"version": "2026-test"}, json=body)
            assert named.json()["version"] == "2026-test"
            batch = http.post(
                url,
                params={"version": "2026-test"},
                json={"facts": [body["fact"]], "as_of": "2026-02-01"},
            )
            assert batch.json()["results"][0]["decision"]["version"] == "2026-test"
            unknown = http.post(url, params={"version": "1999"}, json=body)
            assert unknown.status_code == 422
            assert unknown.json()["errors"][0]["field"] == "version"
            bad = http.post(url, params={"version_on": "soon"}, json=body)
            assert bad.status_code == 400
            detail = http.get("/packs/shidian").json()
            assert [v["version"] for v in detail["versions"]] == ["2023", "2026-test"]
            assert detail["versions"][0]["revision"] == old_revision
            validate(http.get("/openapi.json").json())
    finally:
        live.stop()


def test_annotate_reviews_the_newest_version_or_a_named_one(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    revised = "在问题移交后7个工作日内报县级对应的牵头部门审核"
    for name, has_revision in ((str(pack_dir), True), (f"{pack_dir}@2023", False)):
        out = cli("annotate", name, "--format", "json")
        assert out.returncode == 0, out.stderr
        assert (revised in out.stdout) is has_revision, name


def test_case_starts_name_declared_events(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path, later=False)
    _meta(
        pack_dir,
        "2023",
        "case_starts: [reported, transferred]",
        "case_starts: [reported, transfered]",
    )
    with pytest.raises(ecorules.PackError) as caught:
        ecorules.load_pack(pack_dir)
    [found] = caught.value.diagnostics
    assert (found.code, found.line) == ("undeclared_event", 18)
    assert found.help is not None and "transferred" in found.help


def test_reports_name_roles_an_old_version_decided_with(tmp_path: Path) -> None:
    pack_dir = versioned_shidian(tmp_path)
    path = pack_dir / "versions" / "2026-test" / "pack.yaml"
    path.write_text(re.sub(r"\bsd_township_gov\b", "sd_township", path.read_text("utf-8")), "utf-8")
    pack = ecorules.load_pack(pack_dir)
    assert pack.role("sd_township_gov").tier == "township"  # only the 2023 version has it
    with pytest.raises(KeyError):
        pack.role("nobody")
    report = pack.report([started("2025-12-20")], "2026-02-01")
    [body] = report.figures.bodies
    assert (body.role, body.name, body.tier) == ("sd_township_gov", "乡镇人民政府", "township")


def test_reports_count_stages_an_old_version_decided_with(tmp_path: Path) -> None:
    root = tmp_path / "xiamen"
    starts = "  document: source.txt\n"
    first = f"{starts}  case_starts: [case_transferred]\n  test_fixture: for the tests\n"
    write_version(root, "a", ((starts, first),), pack="xiamen")
    later = first.replace("for the tests", "invented revision for the tests")
    renamed = (
        (starts, f"{later}  valid_from: 2025-01-01\n  supersedes: a\n"),
        ("{id: stage_filing, title: 立案", "{id: stage_registered, title: 立案"),
    )
    write_version(root, "b", renamed, pack="xiamen")
    pack = ecorules.load_pack(root)
    assert codes(pack) == []
    crime = {"kind": "case", "flags": ["suspected_crime"]}
    old_case = {**crime, "events": {"case_transferred": "2024-06-01", "case_filed": "2024-06-10"}}
    new_case = {**crime, "events": {"case_transferred": "2025-02-01", "case_filed": "2025-02-10"}}
    assert pack.evaluate(old_case, "2025-06-01").stage == "stage_filing"
    report = pack.report([old_case, new_case], "2025-06-01")
    [group] = [g for g in report.groups if g.category is None and g.kind == "case"]
    at = {s.stage: s.at for s in group.stages}
    assert at == {"stage_filing": 1, "stage_registered": 1, "stage_transfer": 0}
