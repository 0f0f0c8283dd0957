"""Load on the decision service: 8 concurrent clients on loopback for 30 s, single-fact
evaluate. Prints requests/s, p50/p99/max latency and errors; asserts nothing.

    .venv/bin/python benchmarks/bench_server.py [--seconds 30] [--clients 8] [--decision-log]
                                                [--batch N]

The server is a real ``ecorules serve`` (one uvicorn process) on 127.0.0.1 and a free port;
the clients are httpx.AsyncClient tasks in this process. On a 2-core machine client and
server share the cores, so the figures include the client's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ecorules._cases import load_cases
from ecorules._pack import policies_dir


def _facts() -> list[dict[str, object]]:
    """Shidian's case facts that decide (not the refused ones), as a host would send them."""
    cases = [c.case for c in load_cases(policies_dir() / "shidian") if c.case.want_error is None]
    return [json.loads(json.dumps(c.fact, default=lambda d: d.isoformat())) for c in cases]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _client(
    url: str, bodies: list[bytes], until: float, latencies: list[float], errors: list[str]
) -> None:
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        index = 0
        while time.perf_counter() < until:
            body = bodies[index % len(bodies)]
            index += 1
            start = time.perf_counter()
            try:
                answer = await http.post("/packs/shidian/evaluate", content=body, headers=headers)
                if answer.status_code != 200:
                    errors.append(str(answer.status_code))
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append(time.perf_counter() - start)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(url: str, bodies: list[bytes], clients: int, seconds: float, pid: int) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    # A short warm-up, not counted.
    await asyncio.gather(
        *[_client(url, bodies, time.perf_counter() + 2, [], []) for _ in range(clients)]
    )
    start = time.perf_counter()
    server_cpu, client_cpu = _cpu_seconds(pid), time.process_time()
    until = start + seconds
    await asyncio.gather(*[_client(url, bodies, until, latencies, errors) for _ in range(clients)])
    elapsed = time.perf_counter() - start
    server_cpu = _cpu_seconds(pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"requests: {len(ordered):,} in {elapsed:.1f} s = {len(ordered) / elapsed:,.0f}/s")
    print(f"latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {ordered[-1] * 1000:.2f} ms")
    print(f"errors: {len(errors)}" + (f" ({sorted(set(errors))})" if errors else ""))
    count = max(len(ordered), 1)
    print(
        f"CPU per request: server {server_cpu / count * 1e3:.2f} ms, "
        f"clients {client_cpu / count * 1e3:.2f} ms; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=0, help="facts per request (0: single)")
    parser.add_argument("--decision-log", action="store_true", help="serve with a decision log")
    parser.add_argument("--http", choices=("h11", "httptools"), default="h11")
    args = parser.parse_args()
    facts = _facts()
    if args.batch:
        bodies = [
            json.dumps({"facts": (facts * args.batch)[i : i + args.batch], "as_of": "2024-10-15"})
            for i in range(0, len(facts), 7)
        ]
    else:
        bodies = [json.dumps({"fact": fact, "as_of": "2024-10-15"}) for fact in facts]
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "ecorules", "serve", "shidian", "--port", str(port)]
        command += ["--log-level", "warning", "--http", args.http]
        if args.decision_log:
            command += ["--decision-log", str(Path(tmp) / "decisions.jsonl")]
        server = subprocess.Popen(command)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(url + "/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(
                f"ecorules serve shidian, {args.clients} clients, {args.seconds:.0f} s, "
                + (f"batches of {args.batch}" if args.batch else "one fact per request")
                + (", decision log on" if args.decision_log else "")
                + f", {args.http}"
                + f"; {os.cpu_count()} cores, Python {sys.version.split()[0]}"
            )
            asyncio.run(
                _run(url, [b.encode() for b in bodies], args.clients, args.seconds, server.pid)
            )
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
