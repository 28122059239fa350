"""Socket.IO capacity and delivery time of one gevent server process on 127.0.0.1.

    .venv/bin/python bench/realtime_bench.py                 # 100 and 1,000 clients, idle up to 3,000
    .venv/bin/python bench/realtime_bench.py --idle-max 5000 --clients 100,1000,2000

What it does (bounded in count and time, stops everything it started):
1. a scratch SQLite database with a technician and a user, and one
   `gunicorn -k gevent -w 1 --no-control-socket helpdesk.wsgi:app` on a free port;
2. delivery: N WebSocket clients signed in as the user (every tab of one person,
   so all are in the room `user:<id>`); the technician sends chat messages over
   his own socket (`chat:send`: permission check, insert, commit, emit to both
   people's rooms); for each message, the time from the send until each of the N
   clients has it. p50 / p95 / max over all (message, client) pairs;
3. idle capacity: more clients (same cookie), in batches, until `--idle-max`, a
   connect failure or `--idle-seconds`; held for 5 s, then counted again. The
   server's resident memory is read from /proc.

The clients run in this one process (gevent), so their own scheduling is part of
the measured time: the numbers are an upper bound for what the server adds.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import socketio  # noqa: E402
from gevent.pool import Pool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Bench-" + "x7Q!" * 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def rss_mb(pid: int) -> float:
    """Resident memory of the gunicorn worker (the child doing the work)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        target = int(children[0]) if children else pid
        for line in Path(f"/proc/{target}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return float("nan")


def login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login", timeout=10).text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    r = s.post(
        base + "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        timeout=10,
    )
    assert r.ok and "/login" not in r.url, f"sign-in of {username} failed"
    return s


def cookie_of(s: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


class Receiver:
    """One WebSocket client; records when each chat message arrived."""

    def __init__(self, base: str, cookie: str) -> None:
        self.arrived: dict[int, float] = {}
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("chat:message", self._on_message)
        self.sio.connect(
            base, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=20
        )

    def _on_message(self, data: dict[str, Any]) -> None:
        self.arrived[data["id"]] = time.perf_counter()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()


def open_clients(base: str, cookie: str, n: int, pool_size: int = 50) -> list[Receiver]:
    clients: list[Receiver] = []
    failures = []

    def one() -> None:
        try:
            clients.append(Receiver(base, cookie))
        except Exception as exc:  # counted, not fatal: capacity is what we measure
            failures.append(exc)

    pool = Pool(pool_size)
    for _ in range(n):
        pool.spawn(one)
    pool.join()
    if failures:
        print(f"  {len(failures)} connects failed: {failures[0]!r}", flush=True)
    return clients


def prepare(env: dict[str, str]) -> None:
    code = f"""
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.users.services import create_user
app = create_app()
with app.app_context():
    db.create_all()
    create_user(None, username="bench-tech", password={PASSWORD!r}, role="technician", full_name="Tech")
    create_user(None, username="bench-user", password={PASSWORD!r}, role="user", full_name="User")
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)


def delivery(
    base: str, sender: socketio.Client, conv_id: int, clients: list[Receiver], messages: int
) -> list[float]:
    """Milliseconds from send to arrival, for every (message, client) pair."""
    times: list[float] = []
    for i in range(messages):
        t0 = time.perf_counter()
        ack = sender.call(
            "chat:send", {"conversation_id": conv_id, "body": f"bench {i}"}, timeout=30
        )
        assert ack["ok"], ack
        mid = ack["message"]["id"]
        deadline = time.monotonic() + 30
        while sum(1 for c in clients if mid in c.arrived) < len(clients):
            if time.monotonic() > deadline:
                print(f"  message {mid}: only {sum(1 for c in clients if mid in c.arrived)}"
                      f"/{len(clients)} clients got it within 30 s", flush=True)  # fmt: skip
                break
            gevent.sleep(0.005)
        times.extend((c.arrived[mid] - t0) * 1000 for c in clients if mid in c.arrived)
        gevent.sleep(0.05)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="100,1000", help="receiver counts, comma-separated")
    parser.add_argument("--messages", type=int, default=20, help="messages per receiver count")
    parser.add_argument("--idle-max", type=int, default=3000, help="stop opening idle clients here")
    parser.add_argument(
        "--idle-seconds", type=float, default=120, help="time limit for opening them"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (server log)")
    args = parser.parse_args()
    counts = sorted(int(c) for c in args.clients.split(","))

    tmp = Path(tempfile.mkdtemp(prefix="helpdesk-rtbench-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "SECRET_KEY": secrets.token_hex(32),
        "HELPDESK_ENV": "development",
        "HELPDESK_INSTANCE_DIR": str(tmp / "instance"),
        "UPLOAD_DIR": str(tmp / "uploads"),
        "SESSION_TIMEOUT_MINUTES": "120",
        "CHAT_RATE_LIMIT": "1000 per second",
        "REALTIME_CHECK_SECONDS": "5",
    }
    env.pop("REDIS_URL", None)
    server = None
    clients: list[Receiver] = []
    rows: list[tuple[str, str]] = []
    try:
        prepare(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1", "--no-control-socket",
             "--worker-connections", str(args.idle_max + 1000), "--log-level", "warning",
             "--timeout", "60",  # as deploy/gunicorn.conf.py
             "-b", f"127.0.0.1:{port}", "helpdesk.wsgi:app"],
            env=env, cwd=ROOT, stdout=(tmp / "server.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        tech_http = login(base, "bench-tech")
        user_http = login(base, "bench-user")
        page = tech_http.get(base + "/chat", timeout=10).text
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        user_id = _user_option(page)
        r = tech_http.post(base + "/chat/start", data={"user_id": user_id, "csrf_token": token},
                           allow_redirects=False, timeout=10)  # fmt: skip
        conv_id = int(r.headers["Location"].rsplit("/", 1)[1])
        sender = socketio.Client(reconnection=False)
        sender.connect(base, headers={"Cookie": cookie_of(tech_http)}, transports=["websocket"])
        assert sender.call("chat:open", {"conversation_id": conv_id}, timeout=10)["ok"]
        cookie = cookie_of(user_http)
        print(f"server pid {server.pid}, idle RSS {rss_mb(server.pid):.0f} MB", flush=True)

        for n in counts:
            t0 = time.perf_counter()
            clients += open_clients(base, cookie, n - len(clients))
            opened = time.perf_counter() - t0
            for _ in range(3):  # warm-up: code paths, the sender's socket
                delivery(base, sender, conv_id, clients, 1)
            times = delivery(base, sender, conv_id, clients, args.messages)
            got = len(times)
            rows.append((
                f"delivery to {len(clients):,} clients",
                f"p50 {percentile(times, 50):7.1f} ms   p95 {percentile(times, 95):7.1f} ms   "
                f"max {max(times):7.1f} ms   ({got:,}/{len(clients) * args.messages:,} arrivals; "
                f"opened in {opened:.1f} s; server RSS {rss_mb(server.pid):.0f} MB)",
            ))  # fmt: skip
            print(rows[-1][0], "→", rows[-1][1], flush=True)

        t0 = time.monotonic()
        while len(clients) < args.idle_max and time.monotonic() - t0 < args.idle_seconds:
            batch = min(250, args.idle_max - len(clients))
            new = open_clients(base, cookie, batch)
            clients += new
            print(f"  idle clients: {len(clients):,}", flush=True)
            if len(new) < batch or server.poll() is not None:
                break
        if server.poll() is not None:
            rows.append(("server", f"worker died with {len(clients):,} clients (see its log)"))
        gevent.sleep(5)
        alive = sum(1 for c in clients if c.sio.connected)
        rows.append((
            "idle connections held",
            f"{alive:,} connected after 5 s (asked up to {args.idle_max:,}, "
            f"{time.monotonic() - t0:.0f} s to open; server RSS {rss_mb(server.pid):.0f} MB)",
        ))  # fmt: skip
        try:
            last = delivery(base, sender, conv_id, [c for c in clients if c.sio.connected], 3)
            rows.append((
                f"delivery to {alive:,} idle clients",
                f"p50 {percentile(last, 50):7.1f} ms   p95 {percentile(last, 95):7.1f} ms (3 messages)",
            ))  # fmt: skip
        except Exception as exc:
            rows.append((f"delivery to {alive:,} idle clients", f"failed: {exc!r}"))
        sender.disconnect()
    finally:
        pool = Pool(100)
        for c in clients:
            pool.spawn(c.close)
        pool.join(timeout=60)
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        log_tail = (
            (tmp / "server.log").read_text(errors="replace")[-2000:]
            if (tmp / "server.log").exists()
            else ""
        )
        if log_tail.strip():
            print("--- server log (tail)\n" + log_tail)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("One gunicorn gevent worker, 127.0.0.1, SQLite, no Redis; clients in one gevent process")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def _user_option(page: str) -> int:
    """The id of `bench-user` in the chat page's "start a chat with" list."""
    marker = ">User</option>"
    head = page.split(marker, 1)[0]
    return int(head.rsplit('value="', 1)[1].split('"', 1)[0])


if __name__ == "__main__":
    sys.exit(main())
