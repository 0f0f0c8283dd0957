"""Packs reload without a restart: a new version is loaded aside and swapped in whole, under
traffic, with no failed request and every answer from exactly one version; a broken edit
keeps the old version serving and is reported; SIGHUP reloads too."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import ecorules
from ecorules._pack import policies_dir

from .live_server import LiveServer, start_server

pytestmark = pytest.mark.slow  # a live uvicorn server under traffic

AS_OF = "2024-02-29"
FACT = {
    "id": "r-1",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2024-02-08"},
}


def _slower(text: str) -> str:
    """The pack with the township plan (route B) due 12 working days after transfer, not 10."""
    start = text.index("- id: b_submit_township_plan")
    at = text.index("working_days: 10", start)
    return text[:at] + "working_days: 12" + text[at + len("working_days: 10") :]


def _copy(root: Path) -> Path:
    target = root / "shidian"
    shutil.copytree(policies_dir() / "shidian", target)
    return target


def _replace(path: Path, text: str) -> None:
    """Write as careful editors do: a temporary file renamed over the old one."""
    temporary = path.with_name(".pack.yaml.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _edited(tmp: Path, pack_yaml: str) -> ecorules.Pack:
    """The pack as it will be after the edit, loaded here to compare answers with."""
    directory = tmp / "expected" / "shidian"
    shutil.copytree(policies_dir() / "shidian", directory)
    (directory / "pack.yaml").write_text(pack_yaml, encoding="utf-8")
    return ecorules.load_pack(directory)


def _wait(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _revision(server: LiveServer) -> str:
    revision: str = httpx.get(server.url + "/packs/shidian", timeout=10).json()["revision"]
    return revision


def test_a_pack_swaps_mid_traffic_with_no_failed_request(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    directory = _copy(packs)
    text = (directory / "pack.yaml").read_text(encoding="utf-8")
    old = ecorules.load_pack(directory)
    new = _edited(tmp_path, _slower(text))
    expected = {
        pack.revision: pack.evaluate(FACT, AS_OF).model_dump(mode="json") for pack in (old, new)
    }
    assert len(expected) == 2 and len({d["actions"][0]["due"] for d in expected.values()}) == 2

    server = start_server(tmp_path, str(packs), "--reload-packs", "--reload-interval", "0.2")
    answers: list[tuple[int, Any]] = []
    failures: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        with server.client() as http:
            while not stop.is_set():
                try:
                    answer = http.post(
                        "/packs/shidian/evaluate", json={"fact": FACT, "as_of": AS_OF}
                    )
                    answers.append((answer.status_code, answer.json()))
                except httpx.HTTPError as exc:  # a failed request is what this test forbids
                    failures.append(repr(exc))

    threads = [threading.Thread(target=traffic) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        assert _wait(lambda: len(answers) > 50)
        _replace(directory / "pack.yaml", _slower(text))
        assert _wait(lambda: bool(answers) and answers[-1][1].get("revision") == new.revision)
        swapped_at = len(answers)
        assert _wait(lambda: len(answers) > swapped_at + 50)

        # A broken edit: the new version keeps serving, the status says why.
        _replace(directory / "pack.yaml", text.replace("id: shidian", "id: [shidian", 1))
        assert _wait(lambda: "reload of shidian refused" in server.output())
        broken_at = len(answers)
        assert _wait(lambda: len(answers) > broken_at + 50)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        server.stop()
    status = {code for code, _ in answers}
    assert failures == [] and status == {200}, (failures[:3], status)
    revisions = [body["revision"] for _, body in answers]
    # Every answer is wholly one version's: its revision, its decision id, its due dates.
    for body in {body["decision_id"]: body for _, body in answers}.values():
        assert body == expected[body["revision"]]
    assert revisions[0] == old.revision and revisions[-1] == new.revision
    # Once swapped, never back: requests started after the swap see the new version.
    first_new = revisions.index(new.revision)
    assert old.revision not in revisions[first_new + 8 :]  # 4 clients may finish in flight
    assert "still serving " + new.revision in server.output()


def test_a_broken_pack_keeps_serving_and_readyz_reports_it(tmp_path: Path) -> None:
    directory = _copy(tmp_path / "packs")
    server = start_server(tmp_path, str(directory), "--reload-packs", "--reload-interval", "0.2")
    try:
        before = _revision(server)
        with (directory / "pack.yaml").open("a", encoding="utf-8") as handle:
            handle.write("\nrules: [\n")
        assert _wait(lambda: "reload of shidian refused" in server.output())
        detail = httpx.get(server.url + "/packs/shidian", timeout=10).json()
        assert detail["revision"] == before
        activation = detail["activation"]
        assert activation["active_revision"] == before and activation["code"]
        assert any("pack.yaml" in error for error in activation["errors"])
        ready = httpx.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["packs"][0]["code"]
        answer = httpx.post(
            server.url + "/packs/shidian/evaluate", json={"fact": FACT, "as_of": AS_OF}
        )
        assert answer.status_code == 200 and answer.json()["revision"] == before
    finally:
        server.stop()


def test_sighup_reloads_the_packs(tmp_path: Path) -> None:
    directory = _copy(tmp_path / "packs")
    server = start_server(tmp_path, str(directory))
    try:
        before = _revision(server)
        (directory / "source.txt").write_text("amended", encoding="utf-8")
        time.sleep(0.5)
        assert _revision(server) == before  # no watching without --reload-packs
        server.hangup()
        assert _wait(lambda: _revision(server) == ecorules.load_pack(directory).revision)
        assert _revision(server) != before
        assert server.process.poll() is None
    finally:
        server.stop()


def test_undoing_a_broken_edit_clears_the_status_without_a_swap(tmp_path: Path) -> None:
    from ecorules._server import Registry

    directory = _copy(tmp_path / "packs")
    registry = Registry([str(directory)])
    registry.load()
    first = registry.snapshot
    assert first is not None
    text = (directory / "pack.yaml").read_text(encoding="utf-8")
    _replace(directory / "pack.yaml", text + "\nrules: [\n")
    assert registry.reload() == []
    assert registry.snapshot is first and registry.status["shidian"].code
    _replace(directory / "pack.yaml", text)
    assert registry.reload() == []
    assert registry.snapshot is first
    assert registry.status["shidian"].code is None and registry.status["shidian"].errors == []
    _replace(directory / "pack.yaml", _slower(text))
    assert registry.reload() == ["shidian"]
    assert registry.snapshot is not first and registry.snapshot.generation == 2
