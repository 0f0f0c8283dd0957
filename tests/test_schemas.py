"""A pack's fact schema and the decision schema: every case fact of every pack validates
against its pack's schema, refused vocabulary does not, and decisions match theirs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

import ecorules
from ecorules._cases import load_cases
from ecorules._cli import main
from ecorules._schemas import decision_json_schema

from .conftest import PACK_NAMES, pack_dir


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda day: day.isoformat()))


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_decided_case_fact_fits_its_packs_schema(name: str) -> None:
    pack = ecorules.load_pack(name)
    facts = _validator(pack.fact_json_schema())
    decisions = _validator(decision_json_schema())
    cases = [c.case for c in load_cases(pack_dir(name)) if c.case.want_error is None]
    assert cases
    for case in cases:
        fact = _json(case.fact)
        errors = [e.message for e in facts.iter_errors(fact)]
        assert not errors, f"{case.note}: {errors}"
        decision = pack.evaluate(fact, case.as_of, explain=True).model_dump(mode="json")
        assert not [e.message for e in decisions.iter_errors(decision)], case.note


def test_the_schema_names_the_vocabulary_and_refuses_what_the_pack_refuses() -> None:
    pack = ecorules.load_pack("shidian")
    schema = pack.fact_json_schema()
    props = schema["properties"]
    assert "provincial" in props["source"]["enum"] and None in props["source"]["enum"]
    assert "省级移交" in props["source"]["description"]
    assert "transferred" in props["events"]["properties"]
    validator = _validator(schema)
    good = {"source": "provincial", "category": "general", "events": {"transferred": "2024-02-08"}}
    assert validator.is_valid(good)
    for bad in (
        {**good, "source": "provincal"},
        {**good, "events": {"transfered": "2024-02-08"}},
        {**good, "flags": ["no_such_flag"]},
        {**good, "colour": "red"},
        {"category": "general"},  # a problem needs its source
        {**good, "source": None},
    ):
        assert not validator.is_valid(bad), bad
        with pytest.raises(ecorules.FactError):
            pack.evaluate(bad, "2024-02-29")


def test_typed_attrs_are_in_the_schema() -> None:
    props = ecorules.load_pack("chongqing").fact_json_schema()["properties"]["attrs"]
    assert props["properties"]["rectification_deadline"]["anyOf"][0] == {"format": "date"}
    assert "soe" in props["properties"]["owner_unit"]["enum"]


def test_schema_command_prints_fact_and_decision_schemas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema", "--fact", "shidian"]) == 0
    assert json.loads(capsys.readouterr().out) == ecorules.load_pack("shidian").fact_json_schema()
    assert main(["schema", "--decision"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "ecorules decision"
    assert main(["schema", "--fact", "nowhere"]) == 1
    assert "unknown_pack" in capsys.readouterr().err
