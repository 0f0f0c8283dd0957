"""The decision log: masked fields hashed wherever they are echoed, and no torn line, neither
after a torn tail was left by someone else nor when the server is killed mid-traffic."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import ecorules
from ecorules._decisionlog import DecisionLog, masked_value, repair

from .live_server import start_server

AS_OF = "2024-06-28"
FACT = {
    "id": "粤-0001",
    "source": "provincial",
    "category": "general",
    "events": {"transferred": "2024-02-08"},
}


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


@pytest.mark.parametrize(
    ("mask", "fact", "masked", "kept"),
    [
        (["id"], FACT, ["/fact/id", "/decision/fact_id"], ["source"]),
        (
            ["source,category"],
            FACT,
            ["/fact/source", "/fact/category", "/decision/source", "/decision/category"],
            ["id"],
        ),
        (["events.transferred"], FACT, ["/fact/events/transferred"], ["id", "source"]),
        (["attrs.owner"], FACT, [], ["id", "source"]),  # absent: nothing to mask
    ],
)
def test_masking_table(
    tmp_path: Path, mask: list[str], fact: dict[str, Any], masked: list[str], kept: list[str]
) -> None:
    pack = ecorules.load_pack("shidian")
    log = DecisionLog(tmp_path / "d.jsonl", mask)
    decision = pack.evaluate(fact, AS_OF)
    log.decided(("/packs/shidian/evaluate", "r1"), pack, [fact], [decision])
    log.close()
    [line] = _lines(tmp_path / "d.jsonl")
    assert line["masked"] == masked
    for pointer in masked:
        where, *path = pointer.strip("/").split("/")
        node: Any = line[where]
        original: Any = fact if where == "fact" else decision.model_dump(mode="json")
        for key in path:
            node, original = node[key], original[key]
        assert node == masked_value(original) and node.startswith("sha256:")
        expected = hashlib.sha256(json.dumps(original, ensure_ascii=False).encode()).hexdigest()
        assert node == "sha256:" + expected
    for field in kept:
        assert line["fact"][field] == fact[field]
    assert line["decision_id"] == decision.decision_id and line["revision"] == pack.revision


def test_a_refused_facts_masked_value_is_hashed_in_its_problems_too(tmp_path: Path) -> None:
    pack = ecorules.load_pack("shidian")
    log = DecisionLog(tmp_path / "d.jsonl", ["source"])
    bad = {**FACT, "source": "secret-source"}
    with pytest.raises(ecorules.FactError) as refused:
        pack.evaluate(bad, AS_OF)
    from ecorules._server import problems_json

    log.refused(("/p", "r"), pack, bad, AS_OF, problems_json(refused.value))
    log.close()
    text = (tmp_path / "d.jsonl").read_text(encoding="utf-8")
    assert "secret-source" not in text
    [line] = _lines(tmp_path / "d.jsonl")
    assert line["error"]["errors"][0]["value"] == masked_value("secret-source")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"", b""),
        (b'{"a":1}\n', b'{"a":1}\n'),
        (b'{"a":1}\n{"b":', b'{"a":1}\n'),
        (b'{"torn', b""),
    ],
)
def test_opening_the_log_cuts_a_torn_tail(tmp_path: Path, before: bytes, after: bytes) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(before)
    assert repair(path) == len(before) - len(after)
    assert path.read_bytes() == after


@pytest.mark.slow  # a live server, killed mid-traffic
def test_the_live_log_masks_and_survives_a_kill_mid_traffic(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_bytes(b'{"time":"earlier","decision_id":null}\n{"time":"tor')
    server = start_server(tmp_path, "--decision-log", str(path), "--mask", "id")
    assert path.read_bytes() == b'{"time":"earlier","decision_id":null}\n'
    assert "cut a torn last line" in server.output()
    stop = threading.Event()
    sent = [0]

    def traffic() -> None:
        with server.client() as http:
            while not stop.is_set():
                body = {"facts": [FACT] * 50, "as_of": AS_OF}
                try:
                    http.post("/packs/shidian/evaluate", json=body)
                    sent[0] += 1
                except httpx.TransportError:
                    return

    threads = [threading.Thread(target=traffic) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while sent[0] < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    stop.set()
    for thread in threads:
        thread.join(10)
    data = path.read_bytes()
    assert data.endswith(b"\n")
    lines = _lines(path)
    assert len(lines) > 20 * 50
    for line in lines[1:]:
        assert line["fact"]["id"] == masked_value("粤-0001")
        assert line["decision"]["fact_id"] == masked_value("粤-0001")
    assert "粤-0001" not in data.decode("utf-8")
