"""Export benchmark: rows/s and peak memory of the CSV, XLSX and PDF exports.

    .venv/bin/python bench/export_bench.py                 # 100k and 1M rows (CSV, XLSX job), PDF at 5k
    .venv/bin/python bench/export_bench.py --sizes 100000  # a quicker run
    .venv/bin/python bench/export_bench.py --formats csv,xlsx,xlsx-job   # also the direct XLSX
    .venv/bin/python bench/export_bench.py --keep          # keep the seeded DBs for a rerun

For each size it seeds a scratch SQLite database under /tmp with
`helpdesk init-db` + `helpdesk seed-demo --tickets N` (bulk inserts), then runs
each export in its own process under `/usr/bin/time -v` so "Maximum resident set
size" is the peak memory of that export alone. CSV, direct XLSX and PDF go
through the real view (`GET /reports/export.<fmt>` as an administrator, Flask
test client, body read chunk by chunk and thrown away), so streaming, batching
and the audit row are all included. Memory flat from 100k to 1M rows means rows
are not kept.

`xlsx-job` is the Excel export as the reports page runs it beyond
XLSX_SLOW_ROWS: a real gunicorn (gevent worker, deploy/gunicorn.conf.py) on
127.0.0.1, `POST /reports/export.xlsx/jobs`, the job's JSON polled every 0.25 s
until done (as the page's script does every second), then the download. It
reports the time until the first progress update (rows counted, then the first
batch of rows written), the total time, the background worker's peak memory (VmHWM
from /proc; a `helpdesk worker` started beside gunicorn on the same SQLite queue) and
how long `GET /healthz` took on the gunicorn worker meanwhile: it stays free because
the workbook is built in the background worker. The direct `xlsx` refuses
more than XLSX_SLOW_ROWS rows since the jobs exist; the measured child lifts
that limit to show what the job replaced (no byte until the whole file is built).

The `export` sub-command is the measured child; run it by hand with
`/usr/bin/time -v .venv/bin/python bench/export_bench.py export --db PATH --format csv`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HELPDESK = str(Path(sys.executable).parent / "helpdesk")
BENCH_USER = "bench-admin"
BENCH_PASSWORD = "Bench-Export-Pass-1!"  # noqa: S105  scratch database only


def env_for(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        HELPDESK_ENV="development",
        SECRET_KEY="bench-" + "x" * 40,
        REDIS_URL="",
        HELPDESK_INSTANCE_DIR=str(db.parent / (db.stem + "-instance")),
    )
    return env


def seed(db: Path, tickets: int) -> float:
    if db.exists():
        print(f"  reusing {db}")
        # brought to the newest schema (export_jobs came with migration 0007)
        subprocess.run(
            [HELPDESK, "init-db"], env=env_for(db), check=True, cwd=ROOT, stdout=subprocess.DEVNULL
        )
        return 0.0
    started = time.perf_counter()
    for args in (["init-db"], ["seed-demo", "--tickets", str(tickets)]):
        subprocess.run(
            [HELPDESK, *args], env=env_for(db), check=True, cwd=ROOT, stdout=subprocess.DEVNULL
        )
    return time.perf_counter() - started


def bench_app(db: Path) -> Any:
    """The app on the scratch database, with the benchmark's administrator."""
    os.environ.update(env_for(db))
    from helpdesk import create_app
    from helpdesk.extensions import db as _db
    from helpdesk.users.models import User
    from helpdesk.users.services import create_user

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
        }
    )
    with app.app_context():
        if _db.session.query(User).filter_by(username=BENCH_USER).first() is None:
            create_user(
                None,
                username=BENCH_USER,
                password=BENCH_PASSWORD,
                role="admin",
                check_policy=False,
            )
            _db.session.commit()
    return app


def export(db: Path, fmt: str) -> None:
    """The measured child: one export through the view, body streamed and discarded."""
    if fmt == "xlsx-job":
        export_job(db)
        return
    app = bench_app(db)
    from helpdesk.reports.exports import xlsx

    # The direct download refuses large results since the jobs exist; measure it anyway.
    xlsx.XLSX_SLOW_ROWS = 10**9
    client = app.test_client()
    resp = client.post("/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD})
    assert resp.status_code == 302, resp.status_code
    started = time.perf_counter()
    resp = client.get(f"/reports/export.{fmt}", buffered=False)
    assert resp.status_code == 200, resp.status_code
    first_byte = None
    size = 0
    for chunk in resp.response:
        if first_byte is None and chunk:
            first_byte = time.perf_counter() - started
        size += len(chunk)
    resp.close()
    elapsed = time.perf_counter() - started
    with app.app_context():
        from helpdesk.extensions import db as _db
        from helpdesk.tickets.models import Ticket

        rows = _db.session.query(Ticket).count()
    print(
        f"RESULT format={fmt} rows={rows} seconds={elapsed:.2f} rows_per_s={rows / elapsed:.0f} "
        f"bytes={size} first_byte_s={first_byte or 0:.2f}"
    )


def export_job(db: Path) -> None:
    """The measured child for `xlsx-job`: the page's journey against a real gunicorn,
    with a background worker beside it."""
    bench_app(db)  # the administrator
    os.environ["EXPORT_DIR"] = str(db.parent / (db.stem + "-exports"))
    os.environ["JOBS_SQLITE_PATH"] = str(db.parent / (db.stem + "-jobs.db"))
    os.environ["SESSION_TIMEOUT_MINUTES"] = "240"  # a script polls; nobody is idle
    from bench.common import _run_env

    worker = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "worker"],
        env=_run_env(f"sqlite:///{db}"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        export_job_against(db, worker.pid)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)


def export_job_against(db: Path, worker_pid: int) -> None:
    import requests

    from bench.common import Server, signed_in

    with Server(f"sqlite:///{db}") as server:
        session = signed_in(server.base, BENCH_USER, BENCH_PASSWORD)
        started = time.perf_counter()
        resp = session.post(
            f"{server.base}/reports/export.xlsx/jobs",
            data={"csrf_token": session.csrf},
            allow_redirects=False,
            timeout=60,
        )
        assert resp.status_code == 303, resp.status_code
        job_url = server.base + resp.headers["Location"]
        posted = time.perf_counter() - started
        first_update = first_rows = None
        health: list[float] = []
        peak_kb = 0
        state: dict[str, Any] = {}
        while True:
            state = session.get(job_url + ".json", timeout=60).json()
            now = time.perf_counter() - started
            if first_update is None and (state["rows_total"] is not None or state["rows_done"]):
                first_update = now
            if first_rows is None and state["rows_done"]:
                first_rows = now
            if state["status"] in ("done", "failed"):
                break
            peak_kb = max(peak_kb, peak_memory_kb(worker_pid))
            probe = time.perf_counter()
            requests.get(f"{server.base}/healthz", timeout=60)
            health.append(time.perf_counter() - probe)
            time.sleep(0.25)
        built = time.perf_counter() - started
        if state["status"] != "done":
            sys.exit(f"the job failed: {state['error']}")
        size = 0
        with session.get(server.base + state["download_url"], stream=True, timeout=600) as dl:
            for chunk in dl.iter_content(1 << 16):
                size += len(chunk)
        elapsed = time.perf_counter() - started
    rows = state["rows_done"]
    health.sort()
    p95 = health[max(0, int(len(health) * 0.95) - 1)] if health else 0.0
    print(
        f"RESULT format=xlsx-job rows={rows} seconds={elapsed:.2f} "
        f"rows_per_s={rows / built:.0f} bytes={size} first_byte_s={posted:.2f} "
        f"first_progress_s={first_update or 0:.2f} first_rows_s={first_rows or 0:.2f} "
        f"built_s={built:.2f} worker_peak_mb={peak_kb / 1024:.0f} "
        f"healthz_p95_ms={p95 * 1000:.0f} healthz_max_ms={(health[-1] if health else 0) * 1000:.0f}"
    )


def peak_memory_kb(pid: int) -> int:
    """VmHWM of process `pid` (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def measure(db: Path, fmt: str) -> dict[str, str]:
    proc = subprocess.run(
        [
            "/usr/bin/time",
            "-v",
            sys.executable,
            __file__,
            "export",
            "--db",
            str(db),
            "--format",
            fmt,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        sys.exit(f"export {fmt} failed:\n{proc.stdout}\n{proc.stderr}")
    result = dict(
        re.findall(
            r"(\w+)=(\S+)", next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
        )
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    result["peak_mb"] = f"{int(rss.group(1)) / 1024:.0f}" if rss else "?"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd")
    child = sub.add_parser("export")
    child.add_argument("--db", type=Path, required=True)
    child.add_argument("--format", choices=("csv", "xlsx", "xlsx-job", "pdf"), required=True)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--formats",
        default="csv,xlsx-job",
        help="at each size, among csv, xlsx (direct, the whole file before the first byte), "
        "xlsx-job",
    )
    parser.add_argument("--pdf-rows", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    if args.cmd == "export":
        export(args.db, args.format)
        return

    formats = tuple(f for f in args.formats.split(",") if f)
    plan = [(int(n), formats) for n in args.sizes.split(",") if n]
    plan.append((args.pdf_rows, ("pdf",)))
    lines = []
    for tickets, formats in plan:
        db = args.dir / f"helpdesk-export-bench-{tickets}.db"
        print(f"seeding {tickets:,} tickets into {db} …", flush=True)
        seconds = seed(db, tickets)
        if seconds:
            print(f"  seeded in {seconds:.0f} s", flush=True)
        for fmt in formats:
            r = measure(db, fmt)
            line = (
                f"{fmt:8} {int(r['rows']):>9,} rows  {float(r['seconds']):7.1f} s  "
                f"{int(r['rows_per_s']):>8,} rows/s  peak RSS {r['peak_mb']:>5} MB  "
                f"first byte {float(r['first_byte_s']):.2f} s  {int(r['bytes']) / 1e6:.1f} MB"
            )
            if fmt == "xlsx-job":
                line += (
                    f"\n         first progress {float(r['first_progress_s']):.2f} s "
                    f"(rows counted), first rows {float(r['first_rows_s']):.2f} s, "
                    f"file ready {float(r['built_s']):.1f} s, worker peak RSS "
                    f"{r['worker_peak_mb']} MB; GET /healthz meanwhile p95 "
                    f"{r['healthz_p95_ms']} ms, max {r['healthz_max_ms']} ms"
                )
            print("  " + line, flush=True)
            lines.append(line)
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            shutil.rmtree(args.dir / f"{db.stem}-exports", ignore_errors=True)
            shutil.rmtree(args.dir / f"{db.stem}-instance", ignore_errors=True)
    print("\nsummary (peak RSS is the whole export process, Python and Flask included):")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
