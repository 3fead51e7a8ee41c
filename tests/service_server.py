"""A real `agegender serve` in a subprocess on a free loopback port, for the tests and bench/serve_load.py."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: object

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()


def _as_a_background_job() -> None:
    """Start the server with SIGINT ignored, as a shell's background job is: its Ctrl-C must still stop it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def server(*args, env: dict | None = None, wait: float = 120.0, command=None, cwd=REPO):
    """A running `agegender serve ARGS` (its URL, process and log) once /readyz answers 200; stopped afterwards."""
    port = free_port()
    command = command or [sys.executable, "-m", "agegender"]
    log = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), *map(str, args)],
        stdout=log, stderr=log, text=True, env={**os.environ, **(env or {})}, cwd=cwd,
        preexec_fn=_as_a_background_job,
    )
    url = f"http://127.0.0.1:{port}"
    running = Server(url, process, log)
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped: {running.stderr()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not become ready in {wait} s")
            time.sleep(0.25)
        yield running
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    if process.poll() is None:
        process.send_signal(2)  # SIGINT: a clean shutdown (Ray's too)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
