"""The service's OpenAPI 3.1 description, generated from the packs it serves.

As OpenFisca fills its Web API description from the loaded system, this one is made from the
loaded packs: besides the generic ``/packs/{name}/evaluate``, each pack has its own
``/packs/<pack>/evaluate`` whose fact schema carries that pack's vocabulary as enums, so
that generated clients (and schemathesis) get real kinds, sources and events. Decisions and
facts come from the same schemas as the library's (``_schemas``); errors are RFC 9457
problems. Rebuilt whenever the served packs change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._fact import Fact
from ._schemas import decision_json_schema

if TYPE_CHECKING:
    from ._pack import Pack

REF = "#/components/schemas/"
MAX_BATCH = 1000
"""Facts in one batch request: bounds the time a request holds (~0.3 s of CPU explained)."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _relocate(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A standalone JSON Schema made a component: its ``$defs`` moved to the components,
    its references pointed there, its ``$schema``/``$id`` dropped (an ``$id`` would change
    the base its references resolve against)."""
    schema = dict(schema)
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    defs = schema.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (v.replace("#/$defs/", REF) if k == "$ref" else rewrite(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for name, definition in defs.items():
        components.setdefault(name, rewrite(definition))
    result: dict[str, Any] = rewrite(schema)
    return result


PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem; `type` says which, extension members give details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": _ref("FactProblem")},
        "fact_id": {"type": ["string", "null"]},
        "known": {"type": "array", "items": {"type": "string"}},
        "limit": {"type": "integer"},
    },
}
FACT_PROBLEM = {
    "type": "object",
    "description": "Why a fact (or the request) was refused: the field, the value, the rule.",
    "required": ["field", "value", "message", "allowed"],
    "properties": {
        "field": {"type": "string"},
        "value": {},
        "message": {"type": "string"},
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
}
ACTIVATION = {
    "type": "object",
    "required": ["name", "active_revision", "code", "errors"],
    "properties": {
        "name": {"type": "string"},
        "source": {"type": "string"},
        "active_revision": {"type": ["string", "null"]},
        "last_successful_activation": {"type": ["string", "null"]},
        "last_attempt": {"type": ["string", "null"]},
        "code": {"type": ["string", "null"]},
        "message": {"type": ["string", "null"]},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
PACK_SUMMARY = {
    "type": "object",
    "required": ["name", "title", "jurisdiction", "revision", "valid_from", "valid_until"],
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "jurisdiction": {"type": "string"},
        "tier": {"type": "string"},
        "document_kind": {"enum": ["policy", "report"]},
        "valid_from": NULLABLE_DATE,
        "valid_until": NULLABLE_DATE,
        "succeeded_by": {"type": ["string", "null"]},
        "revision": {"type": "string", "description": "content hash of the pack directory"},
    },
}
TERM_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
    },
}
PACK_DETAIL = {
    "allOf": [
        _ref("PackSummary"),
        {
            "type": "object",
            "required": ["metadata", "vocabulary", "roles", "activation"],
            "properties": {
                "metadata": {"type": "object"},
                "vocabulary": {
                    "type": "object",
                    "description": "ids with their Chinese names",
                    "properties": {
                        section: TERM_LIST
                        for section in (
                            "kinds",
                            "sources",
                            "categories",
                            "sectors",
                            "flags",
                            "events",
                            "attrs",
                        )
                    },
                },
                "versions": {
                    "type": "array",
                    "description": "in a pack with versions: each, oldest first",
                    "items": {
                        "type": "object",
                        "required": ["version", "revision"],
                        "properties": {
                            "version": {"type": "string"},
                            "valid_from": {"type": ["string", "null"], "format": "date"},
                            "valid_until": {"type": ["string", "null"], "format": "date"},
                            "supersedes": {"type": ["string", "null"]},
                            "revision": {"type": "string"},
                        },
                    },
                },
                "roles": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "name", "tier"],
                        "properties": {
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "tier": {"type": "string"},
                        },
                    },
                },
                "assumptions": {"type": "integer"},
                "activation": _ref("Activation"),
            },
        },
    ]
}


def _problem_responses(*statuses: int) -> dict[str, Any]:
    text = {
        400: "the body is not JSON, or a query parameter is malformed",
        404: "no pack of that name is served (`known` lists those that are)",
        413: "the body is over the size limit, or the batch over its length limit",
        415: "the body is not sent as application/json",
        422: "the request or the fact was refused (`errors`: field, value, message, allowed)",
        503: "no pack is loaded yet",
    }
    return {
        str(status): {
            "description": text[status],
            "content": {"application/problem+json": {"schema": _ref("Problem")}},
        }
        for status in statuses
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "the pack's name, as GET /packs lists it",
}
EXPLAIN = {
    "name": "explain",
    "in": "query",
    "required": False,
    "schema": {"type": "boolean", "default": False},
    "description": "add an explanation: every rule with why it applied or not, and how each "
    "due date was counted",
}


VERSION_ON_PARAM = {
    "name": "version_on",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["start", "as_of"], "default": "start"},
    "description": "in a pack with versions: decide by the version in force on the case's "
    "start (its earliest `case_starts` event; the default) or on `as_of`",
}
VERSION_PARAM = {
    "name": "version",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "in a pack with versions: decide by this version (a name GET /packs/{name} "
    "lists); an unknown one is refused (422)",
}


def _evaluate(fact: str, summary: str, operation: str, with_name: bool) -> dict[str, Any]:
    as_of = {
        "type": "string",
        "format": "date",
        "description": "the evaluation date (YYYY-MM-DD); also an ISO datetime, read in China time",
    }
    one = {
        "type": "object",
        "required": ["fact", "as_of"],
        "additionalProperties": False,
        "properties": {"fact": _ref(fact), "as_of": as_of},
    }
    many = {
        "type": "object",
        "required": ["facts", "as_of"],
        "additionalProperties": False,
        "properties": {
            "facts": {"type": "array", "items": _ref(fact), "maxItems": MAX_BATCH},
            "as_of": as_of,
        },
    }
    return {
        "post": {
            "operationId": operation,
            "summary": summary,
            "description": "One fact (`fact`) is answered with its decision; a batch "
            "(`facts`) with the results in order, a refused fact reported at its index "
            "and the others decided. Every decision carries its `decision_id` and the "
            "pack's `revision`.",
            "parameters": ([NAME] if with_name else [])
            + [EXPLAIN, VERSION_ON_PARAM, VERSION_PARAM],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": [one, many]}}},
            },
            "responses": {
                "200": {
                    **_json(
                        {"oneOf": [_ref("Decision"), _ref("BatchResult")]},
                        "the decision, or the batch's results",
                    ),
                    "headers": {
                        "ecorules-decision-id": {
                            "description": "the decision's id (one fact only)",
                            "schema": {"type": "string"},
                        },
                        "ecorules-revision": {
                            "description": "the deciding pack's revision; in a pack with "
                            "versions, the deciding version's (one fact only)",
                            "schema": {"type": "string"},
                        },
                    },
                },
                **_problem_responses(400, 404, 413, 415, 422),
            },
        }
    }


def _get(operation: str, summary: str, ok: dict[str, Any], *problems: int) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "parameters": [],
            "responses": {"200": ok, **_problem_responses(*problems)},
        }
    }


def openapi_document(packs: Mapping[str, Pack], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a service serving ``packs``."""
    components: dict[str, Any] = {}
    components["Decision"] = _relocate(decision_json_schema(), components)
    components["Fact"] = _relocate(Fact.model_json_schema(), components)
    components["Problem"] = PROBLEM
    components["FactProblem"] = FACT_PROBLEM
    components["Activation"] = ACTIVATION
    components["PackSummary"] = PACK_SUMMARY
    components["PackDetail"] = PACK_DETAIL
    components["BatchResult"] = {
        "type": "object",
        "required": ["pack", "revision", "as_of", "decided", "refused", "results"],
        "properties": {
            "pack": {"type": "string"},
            "revision": {"type": "string"},
            "as_of": {"type": "string", "format": "date"},
            "decided": {"type": "integer"},
            "refused": {"type": "integer"},
            "results": {
                "type": "array",
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["index", "decision"],
                            "additionalProperties": False,
                            "properties": {
                                "index": {"type": "integer"},
                                "decision": _ref("Decision"),
                            },
                        },
                        {
                            "type": "object",
                            "required": ["index", "fact_id", "errors"],
                            "additionalProperties": False,
                            "properties": {
                                "index": {"type": "integer"},
                                "fact_id": {"type": ["string", "null"]},
                                "errors": {"type": "array", "items": _ref("FactProblem")},
                            },
                        },
                    ]
                },
            },
        },
    }
    paths: dict[str, Any] = {
        "/healthz": _get(
            "healthz",
            "alive",
            _json(
                {"type": "object", "required": ["status"], "properties": {"status": {}}},
                "the process is up",
            ),
        ),
        "/readyz": _get(
            "readyz",
            "packs loaded",
            _json(
                {
                    "type": "object",
                    "required": ["status", "generation", "packs"],
                    "properties": {
                        "status": {"const": "ready"},
                        "generation": {"type": "integer"},
                        "packs": {"type": "array", "items": _ref("Activation")},
                    },
                },
                "every pack has an active version; `packs` gives each one's last (re)load",
            ),
            503,
        ),
        "/packs": _get(
            "list_packs",
            "the served packs",
            _json(
                {
                    "type": "object",
                    "required": ["packs"],
                    "properties": {"packs": {"type": "array", "items": _ref("PackSummary")}},
                },
                "name, title, jurisdiction, validity and revision of each",
            ),
        ),
        "/packs/{name}": _get(
            "get_pack",
            "a pack's metadata, validity, vocabulary, roles and revision",
            _json(_ref("PackDetail"), "the pack"),
            404,
        ),
        "/packs/{name}/schema/fact": _get(
            "get_fact_schema",
            "the JSON Schema of a fact for this pack, its vocabulary as enums",
            {
                "description": "a JSON Schema (2020-12)",
                "content": {"application/schema+json": {"schema": {"type": "object"}}},
            },
            404,
        ),
        "/packs/{name}/evaluate": _evaluate(
            "Fact", "decide one fact or a batch, for any served pack", "evaluate", True
        ),
    }
    for path in ("/packs/{name}", "/packs/{name}/schema/fact"):
        paths[path]["get"]["parameters"] = [NAME]
    for name, pack in packs.items():
        component = f"Fact_{name}"
        components[component] = _relocate(pack.fact_json_schema(), components)
        paths[f"/packs/{name}/evaluate"] = _evaluate(
            component, f"decide for {name} ({pack.title})", f"evaluate_{name}", False
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ecorules decision service",
            "version": version,
            "description": "Chinese ecological-environment supervision policies as "
            "executable rules: send a problem fact and an as-of date, get the next actions, "
            "due dates, responsible bodies and the clause behind each. Errors are RFC 9457 "
            "problems (application/problem+json).",
        },
        "paths": paths,
        "components": {"schemas": components},
    }
