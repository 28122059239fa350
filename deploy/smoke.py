"""Production-shaped smoke test on 127.0.0.1: two gunicorn (gevent) processes + two
background workers + Redis + nginx.

    .venv/bin/python deploy/smoke.py [--database-url URL] [--keep]

Starts its own Redis (free port, no persistence), two app processes
(`gunicorn -k gevent -w 1 --no-control-socket`, config deploy/gunicorn.conf.py)
sharing one database and Redis, two `helpdesk worker` processes on the Redis queue,
and nginx from Debian's packages running
deploy/nginx.conf (ports rewritten, non-daemon, files under a temporary folder).
Then, across them: sign in on process A, create a ticket there, read it back on
process B and through nginx, get a static file from nginx, check both
processes listen on the shared Socket.IO Redis channel, and complete a Socket.IO
handshake (WebSocket upgrade) through nginx; start an Excel export job on A, watch it
on B until a worker has built it, download it through nginx, and see both workers
reporting in /healthz.  Everything it started is
stopped at the end; a scratch PostgreSQL database is dropped.

Database: --database-url, else a scratch PostgreSQL database when one answers
on 127.0.0.1:5432, else a SQLite file in the temporary folder.
Installs nginx with apt-get when it is missing (needs root).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Smoke-" + secrets.token_urlsafe(12)  # a fresh one each run


# The Socket.IO channel in Redis: f"{REDIS_PREFIX}-socketio" (helpdesk/__init__.py).
CHANNEL = "helpdesk-socketio"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not listen on {port} within {seconds:.0f} s")


def step(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if found:
        return found
    step("nginx missing: installing Debian's nginx-light")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "nginx-light"], check=True, env=env)
    return "/usr/sbin/nginx"


def nginx_config(tmp: Path, listen: int, app_ports: list[int]) -> Path:
    """deploy/nginx.conf with our ports and paths, wrapped in a minimal main config."""
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in app_ports)
    site, n = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+;\n(    server 127\.0\.0\.1:\d+;\n)*",
                      servers + "\n", site)  # fmt: skip
    assert n == 1, "upstream servers not found in deploy/nginx.conf"
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("/srv/helpdesk/helpdesk/static/", f"{ROOT / 'helpdesk' / 'static'}/")
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the repo's files
    main = f"""{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
"""
    path = tmp / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


class ScratchDatabase:
    def __init__(self, url: str | None, tmp: Path) -> None:
        self._drop: Any = None
        if url:
            self.url = url
            return
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5432), 1):
            from sqlalchemy import create_engine, text

            name = f"helpdesk_smoke_{uuid.uuid4().hex[:8]}"
            admin = create_engine(
                "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                isolation_level="AUTOCOMMIT",
            )
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))

            def drop() -> None:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                admin.dispose()

            self._drop = drop
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            return
        self.url = f"sqlite:///{tmp / 'smoke.db'}"

    def drop(self) -> None:
        if self._drop:
            self._drop()


def prepare_data(env: dict[str, str]) -> int:
    """Schema via the migrations, then a category and a user (through the services)."""
    subprocess.run([str(BIN / "helpdesk"), "init-db"], env=env, check=True, capture_output=True)
    code = f"""
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.tickets.services import create_category
from helpdesk.users.services import create_user
app = create_app()
with app.app_context():
    create_user(None, username="smoke-user", password={PASSWORD!r}, role="user", full_name="Smoke")
    print(create_category(None, "Smoke", "").id)
    db.session.commit()
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', html
    )
    if not m:
        raise SystemExit("no CSRF token on the page")
    return m.group(1)


def run_checks(a: str, b: str, proxy: str, category_id: int, redis_port: int) -> None:
    import requests
    import socketio

    s = requests.Session()
    s.headers["Accept-Language"] = "en"
    for url in (a, b):
        # A gevent worker's first request loads the app's lazy imports: on a busy
        # machine that alone can take longer than the per-request timeouts below.
        requests.get(f"{url}/healthz", timeout=90)
    login = s.get(f"{a}/login", timeout=10)
    r = s.post(
        f"{a}/login",
        data={"username": "smoke-user", "password": PASSWORD, "csrf_token": csrf_token(login.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, f"sign-in on A: {r.status_code}"
    step("signed in on process A")
    form = s.get(f"{a}/tickets/new", timeout=10)
    title = f"Smoke ticket {secrets.token_hex(4)}"
    r = s.post(
        f"{a}/tickets/new",
        data={
            "title": title,
            "description": "Created on process A",
            "category_id": str(category_id),
            "priority": "high",
            "csrf_token": csrf_token(form.text),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, f"create on A: {r.status_code} {r.text[:300]}"
    ticket_url = r.headers["Location"]
    path = ticket_url if ticket_url.startswith("/") else "/" + ticket_url.split("/", 3)[3]
    step(f"created {path} on process A")
    r = s.get(f"{b}{path}", timeout=10)
    assert r.status_code == 200 and title in r.text, f"ticket on B: {r.status_code}"
    step("process B shows it (same session, same database)")
    r = s.get(f"{proxy}{path}", timeout=10)
    assert r.status_code == 200 and title in r.text, f"ticket via nginx: {r.status_code}"
    r = s.get(f"{proxy}/tickets", params={"q": title.split()[-1]}, timeout=10)
    assert title in r.text, "search via nginx"
    step("nginx serves the ticket page and finds it by search")
    r = s.get(f"{proxy}/static/css/app.css", timeout=10)
    assert r.status_code == 200 and "max-age" in r.headers.get("Cache-Control", ""), (
        f"static via nginx: {r.status_code} {r.headers}"
    )
    step("nginx serves static files from disk")

    import redis

    cookie = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
    clients = []
    for url in (proxy, a, b):  # nginx first: the WebSocket upgrade through the proxy
        client = socketio.Client(reconnection=False)
        client.connect(
            url,
            headers={"Cookie": cookie, "Origin": url},
            transports=["websocket"],
            wait_timeout=10,
        )
        assert client.connected and client.transport() == "websocket", url
        clients.append(client)
    step(f"Socket.IO handshake through nginx over WebSocket (sid {clients[0].sid}), and on A and B")
    # python-socketio subscribes to the Redis channel when a process serves its
    # first Socket.IO client; both processes must now be listening there.
    deadline = time.monotonic() + 10
    while True:
        numsub = dict(redis.Redis(host="127.0.0.1", port=redis_port).pubsub_numsub(CHANNEL))
        if numsub.get(CHANNEL.encode(), 0) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert numsub.get(CHANNEL.encode(), 0) >= 2, f"Redis subscribers: {numsub}"
    step("both processes share the Socket.IO message queue in Redis")
    for client in clients:
        client.disconnect()

    page = s.get(f"{a}/reports", timeout=10)
    r = s.post(
        f"{a}/reports/export.xlsx/jobs",
        data={"csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303 and "/reports/jobs/" in r.headers["Location"], (
        f"export job on A: {r.status_code} {r.headers}"
    )
    job = r.headers["Location"].rsplit("/", 1)[-1]
    step(f"export job {job[:8]}… started on process A")
    deadline = time.monotonic() + 60
    while True:
        state = s.get(f"{b}/reports/jobs/{job}.json", timeout=10).json()
        if state["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert state["status"] == "done", f"export job seen on B: {state}"
    r = s.get(f"{proxy}/reports/jobs/{job}/download", timeout=10)
    assert r.status_code == 200 and r.content[:2] == b"PK", f"download via nginx: {r.status_code}"
    step("a worker built it; process B reports it done; nginx serves the file")
    for url in (a, b):
        health = s.get(f"{url}/healthz", timeout=10).json()
        assert health.get("worker") == "ok", f"/healthz on {url}: {health}"
    step("/healthz on A and B: worker ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    nginx = ensure_nginx()
    tmp = Path(tempfile.mkdtemp(prefix="helpdesk-smoke-"))
    tmp.chmod(0o755)
    procs: list[tuple[str, subprocess.Popen[Any]]] = []
    database = ScratchDatabase(args.database_url, tmp)
    step(f"database {database.url.split('@')[-1]}")
    ok = False
    try:
        redis_port = free_port()
        redis_proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(("redis", redis_proc))
        wait_port(redis_port, redis_proc, "redis-server")
        env = {
            **os.environ,
            "DATABASE_URL": database.url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SECRET_KEY": secrets.token_hex(32),
            "HELPDESK_ENV": "development",
            "HELPDESK_PROCESSES": "2",
            "UPLOAD_DIR": str(tmp / "uploads"),
            "EXPORT_DIR": str(tmp / "exports"),
            "GUNICORN_ACCESS_LOG": str(tmp / "access.log"),
        }
        category_id = prepare_data(env)
        ports = [free_port(), free_port()]
        for name, port in zip(("A", "B"), ports, strict=True):
            log = (tmp / f"app-{name}.log").open("w")
            proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                 "-k", "gevent", "-w", "1", "--no-control-socket",
                 "-b", f"127.0.0.1:{port}", "helpdesk.wsgi:app"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            procs.append((f"app {name}", proc))
        for (name, proc), port in zip(procs[1:], ports, strict=True):
            wait_port(port, proc, name)
        step(f"app processes on 127.0.0.1:{ports[0]} and :{ports[1]}")
        for name in ("1", "2"):
            log = (tmp / f"worker-{name}.log").open("w")
            proc = subprocess.Popen(
                [str(BIN / "helpdesk"), "worker", "--workers", "2"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            procs.append((f"worker {name}", proc))
        step("two workers on the Redis queue")
        listen = free_port()
        conf = nginx_config(tmp, listen, ports)
        nginx_proc = subprocess.Popen(
            [nginx, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
            stderr=(tmp / "nginx-stderr.log").open("w"),
        )
        procs.append(("nginx", nginx_proc))
        wait_port(listen, nginx_proc, "nginx")
        step(f"nginx on 127.0.0.1:{listen} (ip_hash upstream)")
        run_checks(
            f"http://127.0.0.1:{ports[0]}",
            f"http://127.0.0.1:{ports[1]}",
            f"http://127.0.0.1:{listen}",
            category_id,
            redis_port,
        )
        ok = True
    finally:
        for name, proc in reversed(procs):
            if name.startswith("worker"):
                proc.send_signal(signal.SIGINT)  # finish what it does, remove its heartbeat
            else:
                proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if not ok:
            for log in sorted(tmp.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        database.drop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    step("PASSED: two processes + two workers + Redis + nginx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
