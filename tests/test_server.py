"""The decision service against a live uvicorn on 127.0.0.1: what it answers equals what the
library decides, for every YAML case of every pack; errors are RFC 9457 problems; the
OpenAPI description is valid; the decision log replays."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

import ecorules
from ecorules._calendar import official_horizon_year
from ecorules._calendar_cli import template
from ecorules._cases import load_cases
from ecorules._server import Registry, create_app, problems_json

from .conftest import PACK_NAMES, pack_dir
from .live_server import LiveServer, start_server

pytestmark = pytest.mark.slow  # a live uvicorn server

AS_OF = "2024-06-28"
GOOD = {"source": "provincial", "category": "general", "events": {"transferred": "2024-02-08"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("serve")
    live = start_server(tmp, "--decision-log", str(tmp / "decisions.jsonl"))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def _json(value: Any) -> Any:
    """A case's fact as a host would send it: YAML dates as ISO strings."""
    return json.loads(json.dumps(value, default=lambda day: day.isoformat()))


def test_alive_and_ready(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert [p["name"] for p in ready["packs"]] == PACK_NAMES
    for status in ready["packs"]:
        assert status["active_revision"] == ecorules.load_pack(status["name"]).revision
        assert status["code"] is None and status["errors"] == []


def test_packs_give_metadata_validity_vocabulary_and_revision(client: httpx.Client) -> None:
    listing = client.get("/packs").json()["packs"]
    assert [p["name"] for p in listing] == PACK_NAMES
    for entry in listing:
        pack = ecorules.load_pack(entry["name"])
        meta = pack.model.metadata
        assert entry["revision"] == pack.revision
        assert entry["title"] == meta.title
        assert entry["valid_from"] == (meta.valid_from.isoformat() if meta.valid_from else None)
        detail = client.get(f"/packs/{pack.name}").json()
        assert detail["revision"] == pack.revision
        vocabulary = detail["vocabulary"]
        assert [(s["id"], s["name"]) for s in vocabulary["sources"]] == [
            (s.id, s.name) for s in pack.model.vocabulary.sources
        ]
        assert {r["id"] for r in detail["roles"]} == {r.id for r in pack.model.roles}
        schema = client.get(f"/packs/{pack.name}/schema/fact")
        assert schema.headers["content-type"] == "application/schema+json"
        assert schema.json() == pack.fact_json_schema()


@pytest.mark.parametrize("name", PACK_NAMES)
def test_every_case_is_answered_as_the_library_decides(client: httpx.Client, name: str) -> None:
    pack = ecorules.load_pack(name)
    cases = [loaded.case for loaded in load_cases(pack_dir(name))]
    for case in cases:
        fact, as_of = _json(case.fact), _json(case.as_of)
        answer = client.post(f"/packs/{name}/evaluate", json={"fact": fact, "as_of": as_of})
        if case.want_error is not None:
            assert answer.status_code == 422, case.note
            assert answer.headers["content-type"] == "application/problem+json"
            with pytest.raises(ecorules.FactError) as refused:
                pack.evaluate(fact, as_of)
            assert answer.json()["errors"] == problems_json(refused.value), case.note
            continue
        assert answer.status_code == 200, (case.note, answer.text)
        expected = pack.evaluate(fact, as_of).model_dump(mode="json")
        assert answer.json() == expected, case.note
        assert answer.headers["ecorules-decision-id"] == expected["decision_id"]
        explained = client.post(
            f"/packs/{name}/evaluate?explain=true", json={"fact": fact, "as_of": as_of}
        )
        assert explained.json() == pack.evaluate(fact, as_of, explain=True).model_dump(
            mode="json"
        ), case.note


@pytest.mark.parametrize("name", PACK_NAMES)
def test_a_batch_is_answered_in_order_refusals_at_their_index(
    client: httpx.Client, name: str
) -> None:
    pack = ecorules.load_pack(name)
    facts = [_json(loaded.case.fact) for loaded in load_cases(pack_dir(name))]
    facts.insert(1, {"id": "bad", "colour": "red"})
    answer = client.post(f"/packs/{name}/evaluate", json={"facts": facts, "as_of": AS_OF})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["pack"], body["revision"], body["as_of"]) == (name, pack.revision, AS_OF)
    assert [r["index"] for r in body["results"]] == list(range(len(facts)))
    refused = 0
    for fact, result in zip(facts, body["results"], strict=True):
        try:
            expected = pack.evaluate(fact, AS_OF).model_dump(mode="json")
        except ecorules.FactError as exc:
            refused += 1
            assert result == {
                "index": result["index"],
                "fact_id": exc.fact_id,
                "errors": problems_json(exc),
            }
            continue
        assert result == {"index": result["index"], "decision": expected}
    assert refused >= 1 and (body["decided"], body["refused"]) == (len(facts) - refused, refused)


def _problem(answer: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["type"] == (
        kind if kind == "about:blank" else f"https://ecorules.invalid/problems/{kind}"
    )
    assert body["title"] and body["detail"]
    return body


@pytest.mark.parametrize(
    ("body", "status", "kind", "field"),
    [
        ({"fact": GOOD}, 422, "invalid-request", "as_of"),
        ({"fact": GOOD, "facts": [GOOD], "as_of": AS_OF}, 422, "invalid-request", "fact"),
        ({"as_of": AS_OF}, 422, "invalid-request", "fact"),
        ({"fact": GOOD, "as_of": AS_OF, "at": 1}, 422, "invalid-request", "at"),
        ({"facts": {"a": GOOD}, "as_of": AS_OF}, 422, "invalid-request", "facts"),
        ([GOOD], 422, "invalid-request", "body"),
        ({"fact": GOOD, "as_of": "2024-02-30"}, 422, "fact-refused", "as_of"),
        ({"facts": [GOOD], "as_of": "soon"}, 422, "fact-refused", "as_of"),
        ({"fact": "not a fact", "as_of": AS_OF}, 422, "fact-refused", "fact"),
        ({"fact": {**GOOD, "source": "provincal"}, "as_of": AS_OF}, 422, "fact-refused", "source"),
        ({"fact": {**GOOD, "events": {"x": 1}}, "as_of": AS_OF}, 422, "fact-refused", "events.x"),
    ],
)
def test_bad_requests_are_problems_naming_the_field(
    client: httpx.Client, body: Any, status: int, kind: str, field: str
) -> None:
    problem = _problem(client.post("/packs/shidian/evaluate", json=body), status, kind)
    assert problem["errors"][0]["field"] == field


def test_a_refused_fact_carries_what_fact_error_carries(client: httpx.Client) -> None:
    fact = {**GOOD, "id": "p-9", "source": "provincal"}
    problem = _problem(
        client.post("/packs/shidian/evaluate", json={"fact": fact, "as_of": AS_OF}),
        422,
        "fact-refused",
    )
    with pytest.raises(ecorules.FactError) as refused:
        ecorules.load_pack("shidian").evaluate(fact, AS_OF)
    assert problem["detail"] == str(refused.value)
    assert problem["fact_id"] == "p-9"
    [error] = problem["errors"]
    assert error["value"] == "provincal" and "provincial" in error["allowed"]


def test_transport_problems(client: httpx.Client) -> None:
    unknown = _problem(client.get("/packs/shidan"), 404, "unknown-pack")
    assert unknown["known"] == PACK_NAMES and "shidian" in unknown["detail"]
    _problem(
        client.post("/packs/nowhere/evaluate", json={"fact": GOOD, "as_of": AS_OF}),
        404,
        "unknown-pack",
    )
    _problem(client.post("/packs/shidian/evaluate", content=b"{not json"), 400, "malformed-json")
    _problem(
        client.post(
            "/packs/shidian/evaluate",
            content=b"\xff\xfe",
            headers={"content-type": "application/json"},
        ),
        400,
        "malformed-json",
    )
    _problem(
        client.post(
            "/packs/shidian/evaluate",
            content=json.dumps({"fact": GOOD, "as_of": AS_OF}),
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        415,
        "unsupported-media-type",
    )
    explain = _problem(
        client.post("/packs/shidian/evaluate?explain=maybe", json={"fact": GOOD, "as_of": AS_OF}),
        400,
        "invalid-request",
    )
    assert explain["errors"][0]["field"] == "explain"
    big = {"fact": {**GOOD, "id": "x" * (1024 * 1024)}, "as_of": AS_OF}
    too_large = _problem(client.post("/packs/shidian/evaluate", json=big), 413, "body-too-large")
    assert too_large["limit"] == 1024 * 1024
    many = {"facts": [{}] * 1001, "as_of": AS_OF}
    _problem(client.post("/packs/shidian/evaluate", json=many), 413, "batch-too-large")
    _problem(client.get("/nowhere"), 404, "about:blank")
    _problem(client.delete("/packs"), 405, "about:blank")
    assert "GET" in client.delete("/packs").headers["allow"]


def test_a_chunked_body_over_the_limit_is_refused_while_read(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"as_of": "2024-06-28", "fact": {"id": "'
        for _ in range(80):
            yield b"x" * 16384
        yield b'"}}'

    _problem(
        client.post(
            "/packs/shidian/evaluate",
            content=chunks(),
            headers={"content-type": "application/json"},
        ),
        413,
        "body-too-large",
    )


def test_an_unexpected_error_is_a_bare_500_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = Registry(["shidian"])
    registry.load()
    assert registry.snapshot is not None
    pack = registry.snapshot.packs["shidian"].pack

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    pack.evaluate = broken  # type: ignore[method-assign]
    transport = httpx.ASGITransport(create_app(registry), raise_app_exceptions=False)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as http:
            return await http.post("/packs/shidian/evaluate", json={"fact": GOOD, "as_of": AS_OF})

    with caplog.at_level(logging.ERROR, logger="ecorules.server"):
        answer = asyncio.run(call())
    body = _problem(answer, 500, "about:blank")
    assert "secret" not in answer.text and "RuntimeError" not in answer.text
    assert body["instance"].startswith("urn:uuid:")
    incident = body["instance"].removeprefix("urn:uuid:")
    assert any(
        incident in r.getMessage() and r.exc_info and "secret" in str(r.exc_info[1])
        for r in caplog.records
    )


def test_the_openapi_description_is_valid_and_names_every_pack(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    for name in PACK_NAMES:
        operation = document["paths"][f"/packs/{name}/evaluate"]["post"]
        assert operation["operationId"] == f"evaluate_{name}"
        fact = document["components"]["schemas"][f"Fact_{name}"]
        assert (
            fact["properties"]["source"]
            == ecorules.load_pack(name).fact_json_schema()["properties"]["source"]
        )
    assert "/packs/{name}/schema/fact" in document["paths"]
    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text


def test_logged_decisions_replay_offline(server: LiveServer, client: httpx.Client) -> None:
    fact = {**GOOD, "id": "replay-1"}
    client.post("/packs/shidian/evaluate", json={"fact": fact, "as_of": AS_OF})
    client.post("/packs/shidian/evaluate", json={"facts": [fact, {"bad": 1}], "as_of": AS_OF})
    path = Path(server.stderr).parent / "decisions.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    mine = [
        line
        for line in lines
        if isinstance(line["fact"], dict) and line["fact"].get("id") == "replay-1"
    ]
    assert len(mine) == 2
    packs: dict[str, ecorules.Pack] = {}
    replayed = 0
    for line in lines:
        assert set(line) >= {"time", "decision_id", "req_id", "pack", "revision", "as_of", "fact"}
        if "decision" not in line:
            assert line["error"]["errors"] and line["decision_id"] is None
            continue
        if line["pack"] not in packs:
            packs[line["pack"]] = ecorules.load_pack(line["pack"])
        pack = packs[line["pack"]]
        assert line["revision"] == pack.revision
        again = pack.evaluate(line["fact"], line["as_of"]).model_dump(mode="json")
        assert again == line["decision"] and again["decision_id"] == line["decision_id"]
        replayed += 1
    assert replayed >= 2
    assert any(line.get("error") and line["fact"] == {"bad": 1} for line in lines)


def test_a_request_offering_an_http2_upgrade_keeps_its_body(server: LiveServer) -> None:
    """Java's HttpClient offers `Upgrade: h2c` on every plain-HTTP request by default; the
    request must still be read whole (uvicorn's httptools parser would drop the body)."""
    body = json.dumps({"fact": {**GOOD, "id": "h2c"}, "as_of": AS_OF}).encode()
    host, port = server.url.removeprefix("http://").split(":")
    request = (
        b"POST /packs/shidian/evaluate HTTP/1.1\r\n"
        + f"Host: {host}:{port}\r\n".encode()
        + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        + b"HTTP2-Settings: AAEAAEAAAAIAAAAB\r\n"
        + b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b'"h2c"' not in received and b"problem" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received[:300]


def test_serve_refuses_to_start_on_a_broken_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecorules._cli import main
    from ecorules._pack import policies_dir

    broken = tmp_path / "shidian"
    shutil.copytree(policies_dir() / "shidian", broken)
    with (broken / "pack.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\nrules: [\n")
    assert main(["serve", str(broken), "--port", "1"]) == 1
    assert "pack.yaml" in capsys.readouterr().err
    assert main(["serve", "nowhere", "--port", "1"]) == 1
    assert "unknown_pack" in capsys.readouterr().err


def test_behind_a_prefix_the_description_names_its_server() -> None:
    registry = Registry(["shidian"])
    registry.load()
    app = create_app(registry)

    async def call(root: str) -> tuple[dict[str, Any], str]:
        transport = httpx.ASGITransport(app, root_path=root)
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as http:
            document = (await http.get("/openapi.json")).json()
            page = (await http.get("/docs")).text
            return document, page

    document, page = asyncio.run(call("/ecorules"))
    assert document["servers"] == [{"url": "/ecorules"}]
    assert '"/ecorules/openapi.json"' in page
    validate(document)
    plain, _ = asyncio.run(call(""))
    assert "servers" not in plain


def test_the_docs_page_loads_swagger_ui_from_where_it_is_told() -> None:
    registry = Registry(["shidian"])
    registry.load()

    async def page(app: Any) -> str:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as http:
            return (await http.get("/docs")).text

    default = asyncio.run(page(create_app(registry)))
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js" in default
    local = asyncio.run(page(create_app(registry, docs_assets="/swagger-ui/")))
    assert 'src="/swagger-ui/swagger-ui-bundle.js"' in local
    assert 'href="/swagger-ui/swagger-ui.css"' in local and "cdn.jsdelivr" not in local


def test_the_body_limit_is_configurable_and_readyz_waits_for_the_first_load() -> None:
    registry = Registry(["shidian"])

    async def calls(app: Any) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as http:
            before = await http.get("/readyz")
            registry.load()
            small = await http.post("/packs/shidian/evaluate", json={"fact": GOOD, "as_of": AS_OF})
            return [before, small, await http.get("/readyz")]

    before, small, after = asyncio.run(calls(create_app(registry, max_body=64)))
    assert _problem(before, 503, "not-ready")["detail"] == "no pack is loaded yet"
    assert _problem(small, 413, "body-too-large")["limit"] == 64
    assert after.status_code == 200


def _across_new_year(year: int) -> tuple[dict[str, Any], str]:
    """A Shidian fact transferred on 12-24 of ``year`` and its ``as_of``: its 10-working-day
    window always ends in the next year (12-25..12-31 hold at most 5 working days)."""
    events = {"transferred": f"{year}-12-24"}
    fact = {"id": "SD-900", "source": "provincial", "category": "general", "events": events}
    return fact, f"{year}-12-28"


def _decide_on_a_server(tmp_path: Path, fact: Any, as_of: str, *options: str) -> Any:
    """One fact decided by ``ecorules serve shidian *options``, started for it alone."""
    live = start_server(tmp_path, "shidian", *options)
    try:
        with live.client() as client:
            answer = client.post("/packs/shidian/evaluate", json={"fact": fact, "as_of": as_of})
    finally:
        live.stop()
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_service_replays_on_the_data_as_it_stood(tmp_path: Path) -> None:
    """`serve --official-through YEAR`: decisions as before the data's later notices."""
    year = official_horizon_year() - 1  # the data's last notice left out
    fact, as_of = _across_new_year(year)
    decision = _decide_on_a_server(tmp_path, fact, as_of, "--official-through", str(year))
    assert decision["calendar"]["official_through"] == year
    assert "calendar_beyond_horizon" in [w["code"] for w in decision["warnings"]]
    expected = ecorules.load_pack("shidian", official_through=year).evaluate(fact, as_of)
    assert decision == expected.model_dump(mode="json")


def test_the_service_decides_with_the_notice_files_it_is_given(tmp_path: Path) -> None:
    """`serve --calendar FILE`: the notice moves the horizon, and each decision names it."""
    # The year after the installed data's last notice, whichever release is installed: its
    # notice, for the test, is the template of its festivals with a source.
    year = official_horizon_year() + 1
    notice = tmp_path / f"notice-{year}.yaml"
    notice.write_text(
        template(year).replace("  draft: true\n", "").replace('source: ""', "source: for a test"),
        encoding="utf-8",
    )
    fact, as_of = _across_new_year(year - 1)
    without = _decide_on_a_server(tmp_path, fact, as_of)
    decision = _decide_on_a_server(tmp_path, fact, as_of, "--calendar", str(notice))
    assert "calendar_beyond_horizon" in [w["code"] for w in without["warnings"]]
    assert "calendar_beyond_horizon" not in [w["code"] for w in decision["warnings"]]
    (named,) = decision["calendar"]["notices"]
    assert (named["year"], named["file"]) == (year, str(notice))
    assert decision["decision_id"] != without["decision_id"]
    expected = ecorules.load_pack("shidian", calendar_notices=[str(notice)]).evaluate(fact, as_of)
    assert decision == expected.model_dump(mode="json")
