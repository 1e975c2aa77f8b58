"""Real services a test starts and stops itself, to prove what the product does when one is down.

`private_redis()` runs a redis-server of the test's own on a free local port, so a test can stop it without touching
the Redis other tests (and other runs) use. A missing redis-server
binary is a failure, never a skip: the outage tests are the point."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import redis


def production_settings(monkeypatch, **environment: str) -> ModuleType:
    """hiboo_connect/settings.py run afresh with these environment variables (and a secret key), as production
    would read them; the test's own settings stay untouched."""
    monkeypatch.setenv("SECRET_KEY", "production-settings-under-test")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    path = Path(__file__).resolve().parent.parent / "hiboo_connect" / "settings.py"
    spec = importlib.util.spec_from_file_location("hiboo_connect.settings_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A local TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PrivateRedis:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def stop(self) -> None:
        """Stop the server for real and wait until its port refuses connections."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        with socket.socket() as probe, contextlib.suppress(OSError):
            probe.settimeout(1)
            probe.connect(("127.0.0.1", self.port))
            pytest.fail(f"Port {self.port} still accepts connections after redis-server stopped.")


@contextlib.contextmanager
def private_redis(port: int | None = None) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own, on a free port or on `port` (to bring a stopped one back)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install -y redis-server): the outage tests need one.")
    port = port or free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = PrivateRedis(process=process, port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                server.client().ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on port {port}.")
                time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
