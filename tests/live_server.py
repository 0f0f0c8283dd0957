"""A live ``ecorules serve`` for tests: a real uvicorn process on 127.0.0.1, a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    url: str
    stderr: Path

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def output(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def hangup(self) -> None:
        os.kill(self.process.pid, signal.SIGHUP)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_server(tmp: Path, *args: str, timeout: float = 60) -> LiveServer:
    """Start ``python -m ecorules serve ARGS`` and wait until /readyz answers 200."""
    port = free_port()
    stderr = tmp / f"server-{port}.log"
    with open(stderr, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ecorules", "serve", "--port", str(port), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", stderr)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{server.output()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not become ready:\n{server.output()}")
