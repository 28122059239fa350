"""Two gunicorn gevent processes sharing one database and one Redis, all on 127.0.0.1.

Each test gets its own redis-server (so it may stop and restart it) and its own
key prefix / Socket.IO channel; everything started here is stopped by `close()`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds}s")


class RedisServer:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[Any] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port, self.proc, "redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Cluster:
    def __init__(self, database_url: str, tmp: Path) -> None:
        self.tmp = tmp
        self.redis = RedisServer(tmp)
        self.procs: list[subprocess.Popen[Any]] = []
        self.logs: list[Path] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "REDIS_PREFIX": f"hdtest-{secrets.token_hex(4)}",
            "SECRET_KEY": "cluster-test-secret-" + "x" * 32,
            "HELPDESK_ENV": "development",
            "HELPDESK_INSTANCE_DIR": str(tmp / "instance"),
            "UPLOAD_DIR": str(tmp / "uploads"),
            "PRESENCE_GRACE_SECONDS": "1",
            "REALTIME_CHECK_SECONDS": "1",
            "DEFAULT_LOCALE": "en",
        }
        self.urls: list[str] = []
        try:
            for name in ("A", "B"):
                port = free_port()
                log = tmp / f"app-{name}.log"
                self.logs.append(log)
                proc = subprocess.Popen(
                    [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "--no-control-socket",
                     "-b", f"127.0.0.1:{port}", "--log-level", "warning", "helpdesk.wsgi:app"],
                    env=self.env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                )  # fmt: skip
                self.procs.append(proc)
                self.urls.append(f"http://127.0.0.1:{port}")
            for proc, url in zip(self.procs, self.urls, strict=True):
                wait_port(int(url.rsplit(":", 1)[1]), proc, f"gunicorn {url}")
        except Exception:
            self.close()
            raise

    @property
    def a(self) -> str:
        return self.urls[0]

    @property
    def b(self) -> str:
        return self.urls[1]

    def output(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs
        )

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.redis.stop()


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=10)
