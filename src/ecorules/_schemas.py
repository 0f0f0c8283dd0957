"""JSON Schemas of what a host sends and gets back: a pack's fact, and a decision.

``ecorules.Fact`` has one schema for every pack; a host building forms or generating client
types wants the pack's own: which kinds, sources, categories, sectors, flags, events and
attrs it declares, with their Chinese names. That schema is made here from the loaded pack
(as OpenFisca fills its Web API description from the loaded tax-benefit system), and is the
same from Python (``Pack.fact_json_schema()``), the CLI (``ecorules schema --fact PACK``) and
the server (``GET /packs/{name}/schema/fact``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._decision import Decision, _adapter
from ._fact import ACCEPTED_DATE_FORMS

if TYPE_CHECKING:
    from ._model import PackModel, Term

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DATE = {
    "type": "string",
    # A datetime, with or without an offset (naive ones are read as Shanghai time), is
    # reduced to its China date; its exact form is Python's ISO 8601 reading.
    "anyOf": [{"format": "date"}, {"pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"}],
    "description": ACCEPTED_DATE_FORMS,
}


def _named(terms: list[Term] | list[Any]) -> str:
    return "; ".join(f"{t.id}: {t.name}" for t in terms)


def _choice(terms: list[Any], what: str, nullable: bool = True) -> dict[str, Any]:
    values: list[Any] = [t.id for t in terms]
    schema: dict[str, Any] = {"enum": [*values, None] if nullable else values}
    schema["description"] = f"{what} ({_named(terms)})" if terms else f"{what} (none declared)"
    return schema


def fact_json_schema(model: PackModel) -> dict[str, Any]:
    """The JSON Schema of a fact this pack accepts: its vocabulary as enums, its names in
    the descriptions, and each kind's required fields."""
    vocab = model.vocabulary
    attrs: dict[str, Any] = {}
    for attr in vocab.attrs:
        if attr.type == "date":
            prop: dict[str, Any] = dict(DATE)
        elif attr.type == "string" and attr.values:
            prop = {"type": "string", "enum": list(attr.values)}
        else:
            prop = {"type": attr.type}
        prop["description"] = attr.name + (f" — {attr.note}" if attr.note else "")
        attrs[attr.id] = prop
    events = {
        e.id: {**DATE, "description": f"{e.name}: the date it happened"} for e in vocab.events
    }
    kinds = [k.id for k in vocab.kinds]
    conditions = []
    for kind in vocab.kinds:
        if not kind.requires:
            continue
        then = {
            "required": list(kind.requires),
            "properties": {field: {"not": {"type": "null"}} for field in kind.requires},
        }
        # A fact without `kind` is a `problem`, so the rule for `problem` also covers it.
        when: dict[str, Any] = {"properties": {"kind": {"const": kind.id}}}
        if kind.id != "problem":
            when["required"] = ["kind"]
        conditions.append({"if": when, "then": then})
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"https://ecorules.invalid/packs/{model.id}/fact.schema.json",
        "title": f"a fact for {model.id} ({model.metadata.title})",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": {"type": ["string", "null"], "description": "the host's id, echoed back"},
            "kind": {
                "enum": kinds,
                "description": f"what the record is ({_named(vocab.kinds)})",
                **({"default": "problem"} if "problem" in kinds else {}),
            },
            "source": _choice(vocab.sources, "where the problem came from"),
            "category": _choice(vocab.categories, "the problem's category"),
            "sector": _choice(vocab.sectors, "the sector"),
            "flags": {
                "type": ["array", "null"],
                "items": _choice(vocab.flags, "a flag", nullable=False),
                "uniqueItems": True,
            },
            "events": {
                "type": ["object", "null"],
                "properties": events,
                "additionalProperties": False,
                "description": "what has happened, by event id, with its date",
            },
            "attrs": {
                "type": ["object", "null"],
                "properties": attrs,
                "additionalProperties": False,
            },
        },
    }
    if "problem" not in kinds:
        schema["required"] = ["kind"]
    if conditions:
        schema["allOf"] = conditions
    return schema


def decision_json_schema() -> dict[str, Any]:
    """The JSON Schema of a decision as ``model_dump(mode="json")`` and the server give it."""
    schema: dict[str, Any] = _adapter(Decision).json_schema(mode="serialization")
    return {
        "$schema": DIALECT,
        "$id": "https://ecorules.invalid/decision.schema.json",
        **schema,
        "title": "ecorules decision",
    }
