"""Mail benchmark: messages/s filed from a real IMAP server and peak memory of the
process doing it; messages/s sent to a real SMTP server.

    .venv/bin/python bench/mail_bench.py                  # 10,000 in, 10,000 out
    .venv/bin/python bench/mail_bench.py --messages 2000  # a quicker run

Ingest: a private dovecot (the tests' fixture, tests/mail/dovecot.py) on a free
loopback port gets N messages by IMAP APPEND: bodies of 0.5 to 10 KB, 10 % with a
100 KB PDF attached, from 200 senders (so most are known after their first
message; each new one gets an account), every 25th a reply to an earlier one by
In-Reply-To.  Then one child process (`fetch-child` sub-command, under
`/usr/bin/time -v`) runs the code the worker's fetch task runs
(`helpdesk.mail.fetch.fetch_all`) pass after pass until the mailbox is empty:
messages/s over the whole run and the child's "Maximum resident set size".
Each message is a unit of work of its own (ticket or comment, receipt in the
outbox, the original kept on disk), on a scratch SQLite database.

Send: N outbox rows are queued, then a child (`send-child`) sends every due row the way
the send task does (`helpdesk.mail.outbox.send_one`, rendering text + HTML in the
recipient's language, one SMTP connection per message) to aiosmtpd's Controller
on 127.0.0.1; messages/s, and the count aiosmtpd received.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DESK = "soporte@bench.example"
PDF = b"%PDF-1.4\n" + b"0" * (100 * 1024)


def env_for(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{work / 'mail.db'}",
        HELPDESK_ENV="development",
        SECRET_KEY="bench-" + "x" * 40,
        REDIS_URL="",
        HELPDESK_INSTANCE_DIR=str(work / "instance"),
        UPLOAD_DIR=str(work / "uploads"),
        JOBS_BACKEND="sqlite",
        JOBS_SQLITE_PATH=str(work / "jobs.db"),
        MAIL_FROM=DESK,
        MAIL_SENDER_LIMIT_PER_HOUR="100000",
    )
    return env


def make_message(i: int, rng: random.Random) -> bytes:
    sender = f"customer{i % 200}@example.org"
    words = " ".join(
        rng.choice(["printer", "impresora", "vpn", "correo", "screen"]) for _ in range(8)
    )
    body = f"Message {i}: {words}.\r\n" * rng.randint(8, 160)  # about 0.5 to 10 KB
    headers = (
        f"From: Customer {i % 200} <{sender}>\r\nTo: {DESK}\r\nSubject: Problem {i}: {words[:40]}\r\n"
        f"Message-ID: <bench-{i}@example.org>\r\nMIME-Version: 1.0\r\n"
    )
    if i >= 25 and i % 25 == 0:
        headers += f"In-Reply-To: <bench-{i - 25}@example.org>\r\n"
    if i % 10 == 3:
        attachment = base64.encodebytes(PDF).replace(b"\n", b"\r\n")
        return (
            headers.encode()
            + b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
            + b'Content-Type: text/plain; charset="utf-8"\r\n\r\n'
            + body.encode()
            + b'\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="report.pdf"\r\n'
            + b"Content-Transfer-Encoding: base64\r\n\r\n"
            + attachment
            + b"\r\n--B--\r\n"
        )
    return (headers + 'Content-Type: text/plain; charset="utf-8"\r\n\r\n' + body).encode()


def timed_child(args: list[str], env: dict[str, str]) -> tuple[str, int]:
    """Run a sub-command of this script under /usr/bin/time -v: (its output, peak RSS kB)."""
    command = [sys.executable, __file__, *args]
    if shutil.which("time") or Path("/usr/bin/time").exists():
        command = ["/usr/bin/time", "-v", *command]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stdout}\n{done.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return done.stdout, int(peak.group(1)) if peak else 0


def setup(work: Path, env: dict[str, str], imap_port: int | None, smtp_port: int | None) -> None:
    subprocess.run([str(Path(sys.executable).parent / "helpdesk"), "init-db"], env=env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    code = (
        "from helpdesk import create_app\n"
        "from helpdesk.extensions import db\n"
        "from helpdesk.mail import mailboxes\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        f"    if {imap_port!r}:\n"
        f"        mailboxes.save_mailbox(None, name='Bench', address={DESK!r}, host='127.0.0.1',"
        f" port={imap_port!r}, security='plain', username='desk', password='desk-password')\n"
        f"    if {smtp_port!r}:\n"
        f"        mailboxes.save_relay(None, host='127.0.0.1', port={smtp_port!r}, security='plain',"
        f" from_address={DESK!r})\n"
        "    db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def bench_ingest(n: int) -> None:
    from tests.mail.dovecot import Dovecot

    work = Path(tempfile.mkdtemp(prefix="hd-mailbench-"))
    imap = Dovecot({"desk": "desk-password"}).start()
    try:
        env = env_for(work)
        setup(work, env, imap.port, None)
        rng = random.Random(14)
        import imaplib

        started = time.perf_counter()
        with imaplib.IMAP4("127.0.0.1", imap.port) as conn:
            conn.login("desk", "desk-password")
            for i in range(n):
                conn.append("INBOX", "", None, make_message(i, rng))
        print(f"  delivered {n} messages by IMAP APPEND in {time.perf_counter() - started:.1f} s")
        out, peak = timed_child(["fetch-child"], env)
        count, seconds = (float(x) for x in out.split())
        print(f"ingest: {int(count)} messages in {seconds:.1f} s = {count / seconds:.1f} msgs/s; "
              f"fetching process peak RSS {peak / 1024:.0f} MB")  # fmt: skip
    finally:
        imap.stop()
        shutil.rmtree(work, ignore_errors=True)


def bench_send(n: int) -> None:
    from aiosmtpd.controller import Controller

    from tests.mail.conftest import Captured, free_port

    work = Path(tempfile.mkdtemp(prefix="hd-mailbench-"))
    handler = Captured()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = env_for(work)
        setup(work, env, None, port)
        code = (
            "from helpdesk import create_app\n"
            "from helpdesk.extensions import db\n"
            "from helpdesk.mail import outbox\n"
            "from helpdesk.mail.models import OutboxKind\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            f"    for i in range({n}):\n"
            "        outbox.queue(OutboxKind.TEST, to_address=f'person{i}@example.org', subject='bench')\n"
            "    db.session.commit()\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
        out, peak = timed_child(["send-child"], env)
        count, seconds = (float(x) for x in out.split())
        print(f"send: {int(count)} messages in {seconds:.1f} s = {count / seconds:.1f} msgs/s "
              f"(aiosmtpd received {len(handler.envelopes)}); sending process peak RSS "
              f"{peak / 1024:.0f} MB")  # fmt: skip
    finally:
        controller.stop()
        shutil.rmtree(work, ignore_errors=True)


def child_fetch() -> None:
    from helpdesk import create_app
    from helpdesk.mail import fetch

    app = create_app()
    total = 0
    started = time.perf_counter()
    with app.app_context():
        while True:
            fetched = sum(r.fetched for r in fetch.fetch_all())
            if not fetched:
                break
            total += fetched
    print(total, time.perf_counter() - started)


def child_send() -> None:
    from helpdesk import create_app
    from helpdesk.mail import outbox
    from helpdesk.transaction import unit_of_work

    app = create_app()
    sent = 0
    started = time.perf_counter()
    with app.app_context():
        while True:
            with unit_of_work():
                ids = outbox.due_ids(limit=500)
            if not ids:
                break
            for outbox_id in ids:
                with unit_of_work():
                    sent += bool(outbox.send_one(outbox_id))
    print(sent, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command", nargs="?", default="all",
        choices=["all", "ingest", "send", "fetch-child", "send-child"],
    )  # fmt: skip
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    if args.command == "fetch-child":  # the measured children
        child_fetch()
        return
    if args.command == "send-child":
        child_send()
        return
    print(f"mail bench, {args.messages} messages each way")
    if args.command in ("all", "ingest"):
        bench_ingest(args.messages)
    if args.command in ("all", "send"):
        bench_send(args.messages)


if __name__ == "__main__":
    main()
