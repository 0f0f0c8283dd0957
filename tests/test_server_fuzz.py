"""schemathesis runs the served OpenAPI description against a live server, negative inputs
included: no 5xx, and every response conforms to the description (status, content type,
headers, body schema)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .live_server import LiveServer, start_server

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
        "allow_header_conformance",
    ]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("fuzz")
    live = start_server(tmp, "--log-level", "warning", "--decision-log", str(tmp / "log.jsonl"))
    yield live
    live.stop()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    server: LiveServer, tmp_path: Path
) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        CHECKS,
        "--mode",
        "all",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        "10",
        "--seed",
        "20261130",
        "--generation-database",
        "none",
        # One worker: CPython 3.11's ast.parse is not thread safe ("AST constructor
        # recursion depth mismatch" from hypothesis describing lambdas in two threads).
        "--workers",
        "1",
        # Hypothesis' health checks judge generation speed, which a loaded CI machine can
        # fail; they say nothing about the service.
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert "No issues found" in run.stdout, report
    assert "Server error" not in server.output()
    # The generated facts reached the engine: some were decided, some refused.
    text = (server.stderr.parent / "log.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert sum("decision" in line for line in lines) > 20
    assert sum("error" in line for line in lines) > 20
