"""Export benchmark: rows/s and peak memory of the CSV, XLSX and PDF exports.

    .venv/bin/python bench/export_bench.py                 # 100k and 1M rows (CSV, XLSX), PDF at 5k
    .venv/bin/python bench/export_bench.py --sizes 100000  # a quicker run
    .venv/bin/python bench/export_bench.py --keep          # keep the seeded DBs for a rerun

For each size it seeds a scratch SQLite database under /tmp with
`helpdesk init-db` + `helpdesk seed-demo --tickets N` (bulk inserts), then runs
each export in its own process under `/usr/bin/time -v` so "Maximum resident set
size" is the peak memory of that export alone. The export goes through the real
view (`GET /reports/export.<fmt>` as an administrator, Flask test client, body
read chunk by chunk and thrown away), so streaming, batching and the audit row
are all included. Memory flat from 100k to 1M rows means rows are not kept.

The `export` sub-command is the measured child; run it by hand with
`/usr/bin/time -v .venv/bin/python bench/export_bench.py export --db PATH --format csv`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
        return 0.0
    started = time.perf_counter()
    for args in (["init-db"], ["seed-demo", "--tickets", str(tickets)]):
        subprocess.run(
            [HELPDESK, *args], env=env_for(db), check=True, cwd=ROOT, stdout=subprocess.DEVNULL
        )
    return time.perf_counter() - started


def export(db: Path, fmt: str) -> None:
    """The measured child: one export through the view, body streamed and discarded."""
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
        from helpdesk.tickets.models import Ticket

        rows = _db.session.query(Ticket).count()
    print(
        f"RESULT format={fmt} rows={rows} seconds={elapsed:.2f} rows_per_s={rows / elapsed:.0f} "
        f"bytes={size} first_byte_s={first_byte or 0:.2f}"
    )


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
    child.add_argument("--format", choices=("csv", "xlsx", "pdf"), required=True)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--pdf-rows", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    if args.cmd == "export":
        export(args.db, args.format)
        return

    plan = [(int(n), ("csv", "xlsx")) for n in args.sizes.split(",") if n]
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
                f"{fmt:5} {int(r['rows']):>9,} rows  {float(r['seconds']):7.1f} s  "
                f"{int(r['rows_per_s']):>8,} rows/s  peak RSS {r['peak_mb']:>5} MB  "
                f"first byte {float(r['first_byte_s']):.2f} s  {int(r['bytes']) / 1e6:.1f} MB"
            )
            print("  " + line, flush=True)
            lines.append(line)
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    print("\nsummary (peak RSS is the whole export process, Python and Flask included):")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
