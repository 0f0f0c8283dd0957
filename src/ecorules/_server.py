"""``ecorules serve``: the decision service for hosts not written in Python.

Starlette on uvicorn rather than FastAPI: every document this service answers with — the
pack list, each pack's vocabulary and fact schema, the OpenAPI description — is generated
from the loaded packs (as OpenFisca fills its Web API description from its loaded system),
not from Python type hints; request bodies are read by ecorules' own fact intake so that a
refused fact is the same ``FactError`` a Python host gets, not a framework's 422 shape; and
the evaluate path stays a few microseconds of routing on top of ``Pack.evaluate``.

The parts, after OPA's server: a ``Registry`` holding an immutable ``Snapshot`` of the served
packs (a request reads it once, so it finishes on the pack it started with, and a reload
swaps in a whole new snapshot only when every changed pack loaded clean); one table from
exceptions to RFC 9457 problems plus a catch-all that logs and never echoes; and an opt-in
``DecisionLog`` (see ``_decisionlog``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import math
import os
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from . import __version__
from ._checker import check_pack
from ._decision import Decision
from ._decisionlog import DecisionLog
from ._errors import Diagnostic, FactError, FactProblem, PackError, did_you_mean
from ._fact import parse_as_of
from ._loader import PACK_FILE
from ._openapi import MAX_BATCH, openapi_document
from ._pack import Pack, bundled_names, load_pack, resolve_pack_dir
from ._revision import pack_revision
from ._versions import VERSION_ON, is_versioned, version_diagnostics

log = logging.getLogger("ecorules.server")

PROBLEM = "https://ecorules.invalid/problems/"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
DEFAULT_MAX_BODY = 1024 * 1024
DOCS_ASSETS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
"""Where /docs loads Swagger UI (5.x: the first to render OpenAPI 3.1) from. Networks
without this CDN serve the npm package swagger-ui-dist themselves and pass its URL."""


# ---------------------------------------------------------------------------------------
# Problems (RFC 9457): one exception type, one table, one catch-all.


class Problem(Exception):
    """An error answered as ``application/problem+json``; ``extra`` members go at top level."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = PROBLEM + kind if kind else "about:blank"
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        body = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }
        return Response(_dumps(body), self.status, headers=self.headers, media_type=PROBLEM_JSON)


def jsonable(value: object) -> Any:
    """A value a fact carried, made JSON: problems echo the input, whatever its type."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def problems_json(exc: FactError) -> list[dict[str, Any]]:
    """FactError's structured problems as JSON: field, value, message, allowed."""
    return [
        {
            "field": p.field,
            "value": jsonable(p.value),
            "message": p.message,
            "allowed": list(p.allowed),
        }
        for p in exc.problems
    ]


def fact_refused(exc: FactError) -> Problem:
    return Problem(
        422,
        "Fact refused",
        str(exc),
        "fact-refused",
        errors=problems_json(exc),
        fact_id=exc.fact_id if isinstance(exc.fact_id, str) else None,
    )


def invalid_request(field_name: str, value: object, message: str, status: int = 422) -> Problem:
    problem = FactProblem(field_name, value, message)
    return Problem(
        status,
        "Invalid request",
        str(problem),
        "invalid-request",
        errors=[{"field": field_name, "value": jsonable(value), "message": message, "allowed": []}],
    )


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    phrase = _PHRASES.get(exc.status_code, "Error")
    detail = {404: "no such resource", 405: "method not allowed here"}.get(
        exc.status_code, phrase.lower()
    )
    return Problem(exc.status_code, phrase, detail, headers=exc.headers).response()


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


async def _internal_error(request: Request, exc: Exception) -> Response:
    """The catch-all: the traceback goes to the log under an incident id; the client gets
    the id and nothing of the exception's text."""
    incident = str(uuid.uuid4())
    log.error("incident %s: unexpected error on %s", incident, request.url.path, exc_info=exc)
    return Problem(
        500,
        "Internal Server Error",
        "an unexpected error; it is logged under the incident id",
        instance=f"urn:uuid:{incident}",
    ).response()


_PHRASES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


# ---------------------------------------------------------------------------------------
# What is served: the packs, their precomputed documents, their activation status.


@dataclass(frozen=True)
class Served:
    """One active pack and every document about it, computed once at activation."""

    pack: Pack
    summary: dict[str, Any]
    detail: dict[str, Any]
    fact_schema: bytes


@dataclass(frozen=True)
class Snapshot:
    """The packs being served; never changed after it is built, replaced whole on reload."""

    packs: Mapping[str, Served]
    generation: int
    openapi: bytes
    listing: bytes


@dataclass
class Activation:
    """Where a pack's last (re)load stands, after OPA's bundle status."""

    name: str
    source: str
    active_revision: str | None = None
    last_successful_activation: str | None = None
    last_attempt: str | None = None
    code: str | None = None
    message: str | None = None
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "active_revision": self.active_revision,
            "last_successful_activation": self.last_successful_activation,
            "last_attempt": self.last_attempt,
            "code": self.code,
            "message": self.message,
            "errors": list(self.errors),
        }


def _now() -> datetime:
    return datetime.now(UTC)


def discover(sources: Sequence[str]) -> dict[str, Path]:
    """Pack name → directory, from bundled names, pack directories and directories of packs
    (rescanned at each reload, so a pack added to such a directory is picked up)."""
    found: dict[str, Path] = {}
    for source in sources or bundled_names():
        candidate = Path(source)
        if (
            candidate.is_dir()
            and not (candidate / PACK_FILE).is_file()
            and not is_versioned(candidate)
        ):
            inner = sorted(
                p for p in candidate.iterdir() if (p / PACK_FILE).is_file() or is_versioned(p)
            )
            if not inner:
                raise PackError(
                    [Diagnostic("no_packs", f"`{source}` holds no pack directory", source)]
                )
            directories = inner
        else:
            directories = [resolve_pack_dir(source)]
        for directory in directories:
            name = directory.name
            if name in found and found[name].resolve() != directory.resolve():
                raise PackError(
                    [
                        Diagnostic(
                            "duplicate_pack",
                            f"two packs named `{name}`: `{found[name]}` and `{directory}`",
                            str(directory),
                        )
                    ]
                )
            found[name] = directory
    return found


def load_checked(
    directory: Path, calendar: Sequence[str] | None = None, official_through: int | None = None
) -> Pack:
    """A pack loaded and checked: PackError unless it loads with no error diagnostic.
    ``calendar``: holiday notice files; None reads ``ECORULES_CALENDAR``, as load_pack does.
    ``official_through``: the holidays data's notices up to that year only (load_pack)."""
    pack = load_pack(directory, calendar_notices=calendar, official_through=official_through)
    found = list(version_diagnostics(pack))
    for part in pack.versions:  # a pack with versions: every version must be clean
        if part.located is not None:
            found += check_pack(part.model, part.located)
    errors = [d for d in found if d.severity == "error"]
    if errors:
        raise PackError(errors)
    return pack


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _served(pack: Pack) -> Served:
    model = pack.model
    meta = model.metadata
    summary = {
        "name": pack.name,
        "title": pack.title,
        "jurisdiction": meta.jurisdiction,
        "tier": meta.tier,
        "document_kind": meta.document_kind,
        "valid_from": meta.valid_from.isoformat() if meta.valid_from else None,
        "valid_until": meta.valid_until.isoformat() if meta.valid_until else None,
        "succeeded_by": meta.succeeded_by,
        "revision": pack.revision,
    }
    detail: dict[str, Any] = {
        **summary,
        "metadata": meta.model_dump(mode="json"),
        "vocabulary": model.vocabulary.model_dump(mode="json"),
        "roles": [{"id": r.id, "name": r.name, "tier": r.tier} for r in model.roles],
        "assumptions": len(model.assumptions),
    }
    if pack.versions != (pack,):
        detail["versions"] = [
            {
                "version": part.version,
                "valid_from": _iso(part.model.metadata.valid_from),
                "valid_until": _iso(part.model.metadata.valid_until),
                "supersedes": part.model.metadata.supersedes,
                "revision": part.revision,
            }
            for part in pack.versions
        ]
    return Served(pack, summary, detail, _dumps(pack.fact_json_schema()))


class Registry:
    """The served packs. ``snapshot`` is read once per request; ``reload`` builds a new one
    aside and swaps it in with one assignment, only for packs that loaded clean."""

    def __init__(self, sources: Sequence[str], loader: Callable[[Path], Pack] = load_checked):
        self.sources = list(sources)
        self._loader = loader
        self._lock = threading.Lock()
        self.status: dict[str, Activation] = {}
        self.snapshot: Snapshot | None = None

    def load(self) -> None:
        """The first activation: every pack must load clean, or PackError with all found."""
        directories = discover(self.sources)
        packs: dict[str, Served] = {}
        diagnostics: list[Diagnostic] = []
        for name, directory in directories.items():
            status = self.status[name] = Activation(name, str(directory))
            try:
                pack = self._loader(directory)
            except PackError as exc:
                diagnostics.extend(exc.diagnostics)
                continue
            self._activated(status, pack)
            packs[name] = _served(pack)
        if diagnostics:
            raise PackError(diagnostics)
        self.snapshot = build_snapshot(packs, 1)

    def _activated(self, status: Activation, pack: Pack) -> None:
        stamp = _now().isoformat()
        status.active_revision = pack.revision
        status.last_successful_activation = status.last_attempt = stamp
        status.code = status.message = None
        status.errors = []

    def reload(self) -> list[str]:
        """Load every changed pack aside; swap in those that loaded clean, keep the old
        version of those that did not (their status says why). Returns what was swapped."""
        with self._lock:
            old = self.snapshot
            assert old is not None, "load() first"
            try:
                directories = discover(self.sources)
            except PackError as exc:
                log.error("reload: %s", exc)
                return []
            packs = dict(old.packs)
            swapped = []
            for name, directory in directories.items():
                status = self.status.setdefault(name, Activation(name, str(directory)))
                current = packs.get(name)
                try:
                    revision = pack_revision(directory)
                    if current is not None and revision == current.pack.revision:
                        # Back to the active text (a broken edit undone): nothing is wrong.
                        status.code = status.message = None
                        status.errors = []
                        continue
                    status.last_attempt = _now().isoformat()
                    pack = self._loader(directory)
                    if pack_revision(directory) != pack.revision:
                        raise PackError(
                            [
                                Diagnostic(
                                    "changed_while_loading",
                                    "edited while loading; will load again at the next reload",
                                    str(directory),
                                )
                            ]
                        )
                except PackError as exc:
                    status.code = exc.diagnostics[0].code if exc.diagnostics else "pack_error"
                    status.message = "the new version did not load; the old one keeps serving"
                    status.errors = [str(d) for d in exc.diagnostics]
                    log.error(
                        "reload of %s refused, still serving %s:\n%s",
                        name,
                        current.pack.revision if current else "nothing",
                        exc,
                    )
                    continue
                self._activated(status, pack)
                packs[name] = _served(pack)
                swapped.append(name)
                log.info("reloaded %s at revision %s", name, pack.revision)
            for name in set(old.packs) - set(directories):
                status = self.status[name]
                status.code, status.message = "pack_missing", "the directory is gone; still serving"
            if swapped:
                # One assignment: a request holds either the old snapshot or the new one.
                self.snapshot = build_snapshot(packs, old.generation + 1)
            return swapped

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """Cheap change detection for --reload-packs: every file's path, size and mtime."""
        found = []
        with contextlib.suppress(PackError):
            for directory in discover(self.sources).values():
                for path in sorted(directory.rglob("*")):
                    with contextlib.suppress(OSError):
                        stat = path.stat()
                        found.append((str(path), stat.st_size, stat.st_mtime_ns))
        return tuple(found)


def build_snapshot(packs: Mapping[str, Served], generation: int) -> Snapshot:
    ordered = dict(sorted(packs.items()))
    listing = _dumps({"packs": [s.summary for s in ordered.values()]})
    document = openapi_document({n: s.pack for n, s in ordered.items()}, __version__)
    return Snapshot(ordered, generation, _dumps(document), listing)


# ---------------------------------------------------------------------------------------
# Handlers.


def _served_pack(request: Request, snapshot: Snapshot) -> Served:
    name = request.path_params["name"]
    served = snapshot.packs.get(name)
    if served is None:
        known = sorted(snapshot.packs)
        hint = did_you_mean(name, known)
        raise Problem(
            404,
            "Unknown pack",
            f"no pack named `{name}` is served" + (f"; {hint}" if hint else ""),
            "unknown-pack",
            known=known,
        )
    return served


def _json_response(body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, 200, headers=headers, media_type=JSON)


class Service:
    """The handlers, over one registry, with the request limits and the decision log."""

    def __init__(
        self,
        registry: Registry,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        decision_log: DecisionLog | None = None,
        docs_assets: str = DOCS_ASSETS,
    ):
        self.registry = registry
        self.docs_assets = docs_assets
        self.max_body = max_body
        self.decision_log = decision_log

    def snapshot(self) -> Snapshot:
        snapshot = self.registry.snapshot
        if snapshot is None:
            raise Problem(503, "Service Unavailable", "no pack is loaded yet", "not-ready")
        return snapshot

    async def healthz(self, request: Request) -> Response:
        return _json_response(b'{"status":"ok"}')

    async def readyz(self, request: Request) -> Response:
        snapshot = self.snapshot()
        body = {
            "status": "ready",
            "generation": snapshot.generation,
            "packs": [self.registry.status[n].to_json() for n in sorted(self.registry.status)],
        }
        return _json_response(_dumps(body))

    async def list_packs(self, request: Request) -> Response:
        return _json_response(self.snapshot().listing)

    async def pack(self, request: Request) -> Response:
        served = _served_pack(request, self.snapshot())
        # The activation is read now: it also reports reloads that were refused.
        activation = self.registry.status[served.pack.name].to_json()
        return _json_response(_dumps({**served.detail, "activation": activation}))

    async def fact_schema(self, request: Request) -> Response:
        served = _served_pack(request, self.snapshot())
        return Response(served.fact_schema, media_type="application/schema+json")

    async def openapi(self, request: Request) -> Response:
        document = self.snapshot().openapi
        root = request.scope.get("root_path", "")
        if root:  # behind a proxy's prefix: clients must call the paths under it
            described = json.loads(document)
            described["servers"] = [{"url": root}]
            document = _dumps(described)
        return _json_response(document)

    async def docs(self, request: Request) -> Response:
        root = request.scope.get("root_path", "")
        page = _DOCS_PAGE.replace("{openapi}", f"{root}/openapi.json")
        return HTMLResponse(page.replace("{assets}", self.docs_assets.rstrip("/")))

    async def evaluate(self, request: Request) -> Response:
        # Read once: this request decides on this pack even if a reload swaps it meanwhile.
        snapshot = self.snapshot()
        served = _served_pack(request, snapshot)
        explain = _flag(request, "explain")
        choice = _version_choice(request)
        payload = await self._payload(request)
        as_of = payload.get("as_of")
        where = (request.url.path, str(uuid.uuid4()) if self.decision_log else "")
        if "fact" in payload:
            return self._evaluate_one(where, served, payload["fact"], as_of, explain, choice)
        facts = payload["facts"]
        # A batch may take a while: off the event loop, so other requests keep being served.
        body = await run_in_threadpool(
            self._evaluate_batch, where, served, facts, as_of, explain, choice
        )
        return _json_response(body)

    def _evaluate_one(
        self,
        where: tuple[str, str],
        served: Served,
        fact: Any,
        as_of: Any,
        explain: bool,
        choice: dict[str, Any] | None = None,
    ) -> Response:
        pack = served.pack
        try:
            decision = pack.evaluate(fact, as_of, explain=explain, **(choice or {}))
        except FactError as exc:
            if self.decision_log is not None:
                self.decision_log.refused(where, pack, fact, as_of, problems_json(exc))
            raise fact_refused(exc) from None
        answered = decision.model_dump_json()
        if self.decision_log is not None:
            self.decision_log.decided(where, pack, [fact], [decision], [answered])
        return _json_response(
            answered.encode("utf-8"),
            {
                "ecorules-decision-id": decision.decision_id or "",
                "ecorules-revision": decision.revision or pack.revision,
            },
        )

    def _evaluate_batch(
        self,
        where: tuple[str, str],
        served: Served,
        facts: list[Any],
        as_of: Any,
        explain: bool,
        choice: dict[str, Any] | None = None,
    ) -> bytes:
        pack = served.pack
        parts: list[bytes] = []
        decided: list[Decision] = []
        decided_facts: list[Any] = []
        answers: list[str] = []
        refused = 0
        try:
            day = parse_as_of(as_of)
        except FactError as exc:
            raise fact_refused(exc) from None
        for index, fact in enumerate(facts):
            try:
                decision = pack.evaluate(fact, day, explain=explain, **(choice or {}))
            except FactError as exc:
                refused += 1
                errors = problems_json(exc)
                fact_id = exc.fact_id if isinstance(exc.fact_id, str) else None
                parts.append(_dumps({"index": index, "fact_id": fact_id, "errors": errors}))
                if self.decision_log is not None:
                    self.decision_log.refused(where, pack, fact, as_of, errors)
                continue
            answered = decision.model_dump_json()
            decided.append(decision)
            decided_facts.append(fact)
            answers.append(answered)
            parts.append(b'{"index":%d,"decision":%s}' % (index, answered.encode()))
        if self.decision_log is not None and decided:
            self.decision_log.decided(where, pack, decided_facts, decided, answers)
        head = _dumps(
            {
                "pack": pack.name,
                "revision": pack.revision,
                "as_of": day.isoformat(),
                "decided": len(decided),
                "refused": refused,
            }
        )
        return head[:-1] + b',"results":[' + b",".join(parts) + b"]}"

    async def _payload(self, request: Request) -> dict[str, Any]:
        """The request body: JSON, within the size limit, ``as_of`` and one of ``fact`` or
        ``facts``; anything else is a problem naming what is wrong."""
        media = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
        if media != JSON and not (media.startswith("application/") and media.endswith("+json")):
            raise Problem(
                415,
                "Unsupported Media Type",
                f"send the request as `{JSON}` (got `{media}`)",
                "unsupported-media-type",
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise self._too_large()
            chunks.append(chunk)
        try:
            payload = json.loads(b"".join(chunks))
        except (ValueError, RecursionError):
            raise Problem(
                400, "Bad Request", "the body is not JSON (UTF-8)", "malformed-json"
            ) from None
        if not isinstance(payload, dict):
            raise invalid_request("body", type(payload).__name__, "a JSON object is expected")
        unknown = sorted(set(payload) - {"fact", "facts", "as_of"})
        if unknown:
            raise invalid_request(unknown[0], None, "unknown field; allowed: as_of, fact, facts")
        if "as_of" not in payload:
            raise invalid_request("as_of", None, "required: the evaluation date, YYYY-MM-DD")
        if ("fact" in payload) == ("facts" in payload):
            raise invalid_request("fact", None, "give exactly one of `fact` or `facts`")
        facts = payload.get("facts", [])
        if not isinstance(facts, list):
            raise invalid_request("facts", type(facts).__name__, "a JSON array of facts")
        if len(facts) > MAX_BATCH:
            raise Problem(
                413,
                "Content Too Large",
                f"a batch holds at most {MAX_BATCH} facts (got {len(facts)})",
                "batch-too-large",
                limit=MAX_BATCH,
            )
        return payload

    def _too_large(self) -> Problem:
        return Problem(
            413,
            "Content Too Large",
            f"the body is over the {self.max_body}-byte limit",
            "body-too-large",
            limit=self.max_body,
        )


def _version_choice(request: Request) -> dict[str, Any] | None:
    """``version_on`` and ``version`` from the query: which version of a pack decides.
    Checked here, before the body is read, so a bad choice is one 400 for the request."""
    on = request.query_params.get("version_on")
    version = request.query_params.get("version")
    if on is None and version is None:
        return None
    if on is not None and on not in VERSION_ON:
        raise invalid_request("version_on", on, "one of: " + ", ".join(VERSION_ON), status=400)
    return {"version_on": on or "start", "version": version}


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("true", "1", "yes", ""):
        return True
    if value in ("false", "0", "no"):
        return False
    raise invalid_request(name, raw, "a boolean: true or false", status=400)


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecorules decision service</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head><body>
<noscript>The interactive documentation needs JavaScript and the Swagger UI files;
the description itself is at <a href="{openapi}">{openapi}</a>.</noscript>
<div id="ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "{openapi}", dom_id: "#ui"});</script>
</body></html>
"""


def create_app(
    registry: Registry,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    decision_log: DecisionLog | None = None,
    reload_interval: float | None = None,
    docs_assets: str = DOCS_ASSETS,
) -> Starlette:
    """The ASGI application over a loaded registry. With ``reload_interval`` the pack
    directories are polled and reloaded when a file changes; SIGHUP reloads them too."""
    service = Service(
        registry, max_body=max_body, decision_log=decision_log, docs_assets=docs_assets
    )

    async def reload_now() -> None:
        await _reload(registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()

        def on_hangup() -> None:
            task = loop.create_task(reload_now())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        hangup = getattr(signal, "SIGHUP", None)
        if hangup is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(hangup, on_hangup)
        watcher = loop.create_task(_watch(registry, reload_interval)) if reload_interval else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if hangup is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(hangup)
            if decision_log is not None:
                decision_log.close()

    routes = [
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/readyz", service.readyz, methods=["GET"]),
        Route("/openapi.json", service.openapi, methods=["GET"]),
        Route("/docs", service.docs, methods=["GET"]),
        Route("/packs", service.list_packs, methods=["GET"]),
        Route("/packs/{name}", service.pack, methods=["GET"]),
        Route("/packs/{name}/schema/fact", service.fact_schema, methods=["GET"]),
        Route("/packs/{name}/evaluate", service.evaluate, methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            Problem: _problem,
            HTTPException: _http_problem,
            Exception: _internal_error,
        },
    )


async def _reload(registry: Registry) -> None:
    """A reload off the event loop; a fault in it is logged, and the service goes on."""
    try:
        await asyncio.to_thread(registry.reload)
    except Exception:
        log.exception("reload failed; the packs being served are unchanged")


async def _watch(registry: Registry, interval: float) -> None:
    last = await asyncio.to_thread(registry.fingerprint)
    while True:
        await asyncio.sleep(interval)
        current = await asyncio.to_thread(registry.fingerprint)
        if current != last:
            last = current
            await _reload(registry)


def serve(
    sources: Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    decision_log: str | None = None,
    mask: Sequence[str] = (),
    max_body: int = DEFAULT_MAX_BODY,
    reload_interval: float | None = None,
    root_path: str = "",
    log_level: str = "info",
    http: str = "h11",
    docs_assets: str | None = None,
    calendar: Sequence[str] | None = None,
    official_through: int | None = None,
) -> int:
    """Load the packs (every one must load clean), then serve until interrupted.
    ``calendar``: holiday notice files every pack is loaded with (and reloaded with);
    ``official_through``: the year the holidays data's notices are used up to (a server
    that replays decisions made before a later release).

    ``http="h11"`` by default: uvicorn's faster httptools parser drops the body of a request
    that offers an HTTP/2 upgrade (``Upgrade: h2c``), which is what Java's HttpClient sends
    by default; behind a reverse proxy, which does not pass that header on, httptools is
    safe and faster."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s: %(name)s: %(message)s")
    registry = Registry(
        sources,
        loader=functools.partial(
            load_checked, calendar=calendar, official_through=official_through
        ),
    )
    registry.load()
    log_file = DecisionLog(Path(decision_log), mask) if decision_log else None
    app = create_app(
        registry,
        max_body=max_body,
        decision_log=log_file,
        reload_interval=reload_interval,
        docs_assets=docs_assets or DOCS_ASSETS,
    )
    assert registry.snapshot is not None
    log.info(
        "serving %s on http://%s:%d (pid %d)",
        ", ".join(f"{n}@{s.pack.revision[7:19]}" for n, s in registry.snapshot.packs.items()),
        host,
        port,
        os.getpid(),
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        root_path=root_path,
        log_level=log_level,
        access_log=False,
        http=http,
    )
    uvicorn.Server(config).run()
    return 0
