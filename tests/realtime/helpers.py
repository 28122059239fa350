"""Helpers for socket tests: the Flask-SocketIO test client and real python-socketio clients."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from typing import Any

import requests
import socketio as sio_client

from helpdesk.extensions import socketio
from tests.conftest import PASSWORD

WAIT = 30  # seconds: an upper bound for an event to arrive, never a speed assertion


def socket_for(app, client, origin: str | None = "http://localhost", **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = {"Origin": origin} if origin else {}
    return socketio.test_client(app, flask_test_client=client, headers=headers, **kwargs)


def received(sc, name: str) -> list[Any]:  # type: ignore[no-untyped-def]
    return [e["args"][0] for e in sc.get_received() if e["name"] == name]


def http_login(base_url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """Sign in over real HTTP and keep the session cookie."""
    s = requests.Session()
    page = s.get(base_url + "/login", timeout=WAIT)
    token = page.text.split('name="csrf_token" type="hidden" value="', 1)[-1].split('"', 1)[0]
    if 'name="csrf-token" content="' in page.text:
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    resp = s.post(
        base_url + "/login",
        data={"username": username, "password": password, "csrf_token": token},
        timeout=WAIT,
        allow_redirects=True,
    )
    assert resp.status_code == 200 and "/login" not in resp.url, resp.url
    return s


def csrf_of(session: requests.Session, base_url: str, path: str = "/") -> str:
    page = session.get(base_url + path, timeout=WAIT).text
    return page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


class LiveClient:
    """A real python-socketio client that records every event it receives."""

    def __init__(
        self, base_url: str, session: requests.Session, *, transports=None, origin=None
    ) -> None:  # type: ignore[no-untyped-def]
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.seen: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.sio = sio_client.Client(reconnection=False)
        self.sio.on("*", lambda event, data=None: self.events.put((event, data)))
        self.disconnected = threading.Event()
        self.sio.on("disconnect", lambda *a: self.disconnected.set())
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        transports = transports or ["websocket"]
        headers = {"Cookie": cookie}
        # The WebSocket library sends the page's Origin itself (as a browser does);
        # long-polling requests carry the one we give.
        if transports != ["websocket"]:
            headers["Origin"] = origin or base_url
        elif origin:
            headers["Origin"] = origin
        self.sio.connect(base_url, headers=headers, transports=transports, wait_timeout=WAIT)

    def call(self, event: str, data: Any) -> Any:
        return self.sio.call(event, data, timeout=WAIT)

    def wait_for(self, name: str, pred=lambda d: True, timeout: float = WAIT) -> Any:  # type: ignore[no-untyped-def]
        with self.lock:
            for ev, data in self.seen:
                if ev == name and pred(data):
                    self.seen.remove((ev, data))
                    return data
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} event arrived; got {[e for e, _ in self.seen]}")
            try:
                ev, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if ev == name and pred(data):
                return data
            with self.lock:
                self.seen.append((ev, data))

    def drain(self) -> list[tuple[str, Any]]:
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                break
        with self.lock:
            out = self.seen + out
            self.seen = []
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()
